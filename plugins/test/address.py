# Copyright: dockyard.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Jinja tests for addresses: dockyard.registry.ip_address and dockyard.registry.hostname."""

from __future__ import annotations

import ipaddress
import re

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def ip_address(value: object) -> bool:
    """True for an IPv4 or IPv6 address written as text (no brackets, no port)."""
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def hostname(value: object) -> bool:
    """True for a DNS name made of letters, digits and inner hyphens (RFC 1123)."""
    text = str(value)
    if text.endswith("."):
        text = text[:-1]
    if not text or len(text) > 253:
        return False
    labels = text.split(".")
    if all(label.isdigit() for label in labels):
        return False  # looks like a malformed IPv4 address
    return all(_LABEL.match(label) for label in labels)


class TestModule:
    def tests(self):
        return {"ip_address": ip_address, "hostname": hostname}
