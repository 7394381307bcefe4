"""The address tests accept DNS names and IP addresses and nothing else."""

from __future__ import annotations

import pytest
from ansible_collections.dockyard.registry.plugins.test import address


@pytest.mark.parametrize("value", ["10.0.0.5", "0.0.0.0", "::", "2001:db8::1", "::ffff:10.0.0.1"])
def test_ip_addresses(value: str) -> None:
    assert address.ip_address(value)


@pytest.mark.parametrize(
    "value", ["", "10.0.0", "10.0.0.256", "[::1]", "localhost", "1.2.3.4:5000"]
)
def test_not_ip_addresses(value: str) -> None:
    assert not address.ip_address(value)


@pytest.mark.parametrize(
    "value", ["registry", "registry.example.net", "registry.example.net.", "a-b.c", "x" * 63]
)
def test_host_names(value: str) -> None:
    assert address.hostname(value)


@pytest.mark.parametrize(
    "value",
    ["", "bad_name", "-a.example", "a-.example", "a..b", "reg istry", "1.2.3", "x" * 64, "a:5000"],
)
def test_not_host_names(value: str) -> None:
    assert not address.hostname(value)


def test_the_tests_are_registered() -> None:
    assert set(address.TestModule().tests()) == {"ip_address", "hostname"}
