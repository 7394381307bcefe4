"""Run modules in-process against the fake registry, the way Ansible calls main().

Use it from a test with pytest's ``monkeypatch`` fixture::

    harness = ModuleHarness(monkeypatch)
    out = harness.run(registry_verify.main, {"registry_url": BASE})

Every RegistryClient a module builds then talks to ``harness.fake``; with
``ModuleHarness(monkeypatch, fake=False)`` it talks to real servers instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.dockyard.registry.plugins.module_utils import registry_api

from support.fake_registry import FakeRegistry


class ModuleExit(Exception):
    """exit_json or fail_json was called; ``result`` holds what it got."""

    def __init__(self, result: dict[str, Any], failed: bool) -> None:
        super().__init__(result.get("msg", ""))
        self.result = result
        self.failed = failed


class ModuleHarness:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, fake: bool = True) -> None:
        self.fake = FakeRegistry()
        # The keyword arguments each Request was built with (TLS and timeout settings).
        self.request_settings: list[dict[str, Any]] = []
        if fake:
            monkeypatch.setattr(registry_api, "Request", self._transport)
        monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
        monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)

    def _transport(self, **kwargs: Any) -> FakeRegistry:
        self.request_settings.append(kwargs)
        return self.fake

    def run(
        self, main: Callable[[], None], args: dict[str, Any], check_mode: bool = False
    ) -> ModuleExit:
        """Call MAIN with ARGS as module arguments; return how it ended."""
        if check_mode:
            args = dict(args, _ansible_check_mode=True)
        with patch_module_args(args), pytest.raises(ModuleExit) as info:
            main()
        return info.value


def _exit_json(self: basic.AnsibleModule, **kwargs: Any) -> None:
    kwargs.setdefault("changed", False)
    raise ModuleExit(kwargs, failed=False)


def _fail_json(self: basic.AnsibleModule, msg: str, **kwargs: Any) -> None:
    kwargs["msg"] = msg
    raise ModuleExit(kwargs, failed=True)
