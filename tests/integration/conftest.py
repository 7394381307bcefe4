"""Fixtures that run the real registry binary on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.registry import RegistryProcess, registry_binary, start_registry


@pytest.fixture
def registry_factory(tmp_path: Path) -> Iterator[Callable[..., RegistryProcess]]:
    """Start registries on free loopback ports; all are stopped at teardown.

    Call it as ``registry_factory(tls=(cert, key), htpasswd=path, extra={...})``.
    """
    if registry_binary() is None:
        pytest.fail("the registry binary is missing: apt-get install docker-registry")
    started: list[RegistryProcess] = []

    def factory(name: str = "registry", **kwargs) -> RegistryProcess:
        reg = start_registry(tmp_path / name, **kwargs)
        started.append(reg)
        return reg

    try:
        yield factory
    finally:
        for reg in started:
            reg.stop()
