"""dockyard.registry.user_problems names the role variable and never a password."""

from __future__ import annotations

from ansible_collections.dockyard.registry.plugins.filter.users import FilterModule, user_problems


def test_usable_users_have_no_problems() -> None:
    assert user_problems([{"name": "alice", "password": "secret-1"}]) == []


def test_problems_name_the_variable_and_user_but_not_the_password() -> None:
    users = [
        {"name": "a:b", "password": "first-secret"},
        {"name": "bob", "password": "x" * 80},
        {"name": "bob", "password": "second-secret"},
        {"name": "carol", "password": 12345678},
    ]
    problems = user_problems(users)
    text = " ".join(problems)
    assert "registry_users[0].name 'a:b'" in text
    assert "registry_users[1].password" in text and "72" in text
    assert "registry_users[2].name 'bob' repeats registry_users[1].name" in text
    assert "registry_users[3].password" in text
    for secret in ("first-secret", "second-secret", "x" * 80, "12345678"):
        assert secret not in text


def test_a_mapping_is_not_a_list_of_users() -> None:
    (problem,) = user_problems({"alice": "pw"}, variable="my_users")
    assert problem.startswith("my_users must be a list")


def test_the_filter_is_registered() -> None:
    assert FilterModule().filters()["user_problems"] is user_problems
