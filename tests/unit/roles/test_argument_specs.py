"""Each role's meta/argument_specs.yml and defaults/main.yml describe the same variables."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[3] / "roles"
ROLE_NAMES = sorted(p.name for p in ROLES.iterdir() if (p / "tasks" / "main.yml").exists())


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def _spec(role: str) -> dict:
    path = ROLES / role / "meta" / "argument_specs.yml"
    assert path.exists(), f"role {role} has no meta/argument_specs.yml"
    return _load(path)["argument_specs"]["main"]["options"]


def _defaults(role: str) -> dict:
    path = ROLES / role / "defaults" / "main.yml"
    return _load(path) if path.exists() else {}


def _is_placeholder(value: object) -> bool:
    """Spec defaults written for readers, such as "{{ inventory_hostname }}" or "<...>"."""
    return isinstance(value, str) and ("{{" in value or "<" in value)


def test_every_role_is_checked() -> None:
    assert {"docker", "server", "client", "verify"} <= set(ROLE_NAMES)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_public_variables_carry_the_role_prefix(role: str) -> None:
    prefix = {"docker": "docker_", "server": "registry_"}.get(role, f"registry_{role}_")
    wrong = [name for name in _spec(role) if not name.startswith(prefix)]
    assert not wrong, f"{role}: variables without the prefix {prefix}: {wrong}"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_defaults_and_spec_name_the_same_variables(role: str) -> None:
    spec = _spec(role)
    defaults = _defaults(role)
    optional = {name for name, opt in spec.items() if not opt.get("required")}
    required = set(spec) - optional
    assert not set(defaults) - set(spec), f"{role}: in defaults only: {set(defaults) - set(spec)}"
    assert not optional - set(defaults), f"{role}: in the spec only: {optional - set(defaults)}"
    assert not required & set(defaults), (
        f"{role}: required yet defaulted: {required & set(defaults)}"
    )


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_spec_defaults_match_defaults(role: str) -> None:
    spec = _spec(role)
    defaults = _defaults(role)
    for name, opt in spec.items():
        if opt.get("required"):
            assert "default" not in opt, f"{role}: {name} is required and has a default"
            continue
        assert "default" in opt, f"{role}: {name} has no default in the spec"
        assert opt.get("description"), f"{role}: {name} has no description"
        if _is_placeholder(opt["default"]) or _is_placeholder(defaults[name]):
            continue
        assert opt["default"] == defaults[name], (
            f"{role}: {name} defaults to {defaults[name]!r} but the spec says {opt['default']!r}"
        )
