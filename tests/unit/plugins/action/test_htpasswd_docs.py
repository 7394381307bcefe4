"""The htpasswd module documentation parses and matches what the action accepts.

That RETURN matches the result is checked in tests/unit/plugins/action.
"""

from __future__ import annotations

import yaml
from ansible_collections.dockyard.registry.plugins.action import htpasswd as action
from ansible_collections.dockyard.registry.plugins.modules import htpasswd as docs

DOCUMENTATION = yaml.safe_load(docs.DOCUMENTATION)
EXAMPLES = yaml.safe_load(docs.EXAMPLES)


def test_documented_options_are_the_accepted_ones() -> None:
    assert set(DOCUMENTATION["options"]) == set(action.ActionModule._VALID_ARGS)


def test_documented_defaults_and_required_match_the_action() -> None:
    options = DOCUMENTATION["options"]
    for name, spec in action._OPTIONS_SPEC.items():
        assert options[name].get("default") == spec.get("default"), name
        assert options[name].get("required", False) == spec.get("required", False), name
    assert options["users"]["required"] is True
    assert set(options["users"]["suboptions"]) == {"name", "password"}


def test_check_and_diff_mode_are_declared() -> None:
    attributes = DOCUMENTATION["attributes"]
    assert attributes["check_mode"]["support"] == "full"
    assert attributes["diff_mode"]["support"] == "full"
    assert attributes["action"]["support"] == "full"


def test_examples_use_only_documented_options() -> None:
    assert docs.EXAMPLES.lstrip().startswith("---")
    options = set(DOCUMENTATION["options"])
    for task in EXAMPLES:
        args = task["dockyard.registry.htpasswd"]
        assert set(args) <= options, task["name"]
        assert "path" in args and "users" in args, task["name"]
