"""Unit tests for the dockyard.registry.htpasswd action: ActionModule.run with fakes.

The target is a dict of path -> bytes. slurp is answered by a fake _execute_module;
the copy action is a fake that records its task and, like the real one, returns a diff
and an invocation holding the content, so the tests can check that none of it leaks.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from ansible_collections.dockyard.registry.plugins.action.htpasswd import ActionModule
from ansible_collections.dockyard.registry.plugins.modules import htpasswd as module_docs
from ansible_collections.dockyard.registry.plugins.plugin_utils import htpasswd as ht
from passlib.hash import apr_md5_crypt, ldap_sha1

PATH = "/etc/registry/htpasswd"


@dataclasses.dataclass
class FakeTask:
    args: dict[str, Any]
    check_mode: bool = False
    diff: bool = False
    no_log: bool = False
    async_val: int = 0
    action: str = "dockyard.registry.htpasswd"

    def copy(self) -> FakeTask:
        return dataclasses.replace(self, args=dict(self.args))


class FakeCopy:
    """Stands in for the ansible.legacy.copy action."""

    def __init__(self, target: Target, task: FakeTask) -> None:
        self.target = target
        self.task = task

    def run(self, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        self.target.copy_tasks.append(self.task)
        args = self.task.args
        if self.target.copy_failure:
            return {"failed": True, "msg": self.target.copy_failure}
        new = args["content"].encode()
        old = self.target.files.get(args["dest"])
        changed = new != old or args.get("mode") != self.target.modes.get(args["dest"])
        if changed and not self.task.check_mode:
            self.target.files[args["dest"]] = new
            self.target.modes[args["dest"]] = args.get("mode")
        return {
            "changed": changed,
            "dest": args["dest"],
            "diff": [{"before": (old or b"").decode(), "after": args["content"]}],
            "invocation": {"module_args": dict(args)},
        }


@dataclasses.dataclass
class Target:
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)
    modes: dict[str, Any] = dataclasses.field(default_factory=dict)
    copy_tasks: list[FakeTask] = dataclasses.field(default_factory=list)
    slurped: list[str] = dataclasses.field(default_factory=list)
    slurp_failure: str | None = None
    copy_failure: str | None = None

    def execute_module(
        self, module_name: str, module_args: dict[str, Any], task_vars: Any = None, **_: Any
    ) -> dict[str, Any]:
        assert module_name == "ansible.legacy.slurp"
        path = module_args["src"]
        self.slurped.append(path)
        if self.slurp_failure:
            return {"failed": True, "msg": self.slurp_failure}
        if path not in self.files:
            return {"failed": True, "msg": f"File not found: {path}"}
        return {"content": base64.b64encode(self.files[path]).decode(), "encoding": "base64"}

    def run(self, args: dict[str, Any], check_mode: bool = False, diff: bool = False):
        task = FakeTask(args=args, check_mode=check_mode, diff=diff)
        connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir=None))
        action = ActionModule(task, connection, None, None, None, None)
        action._execute_module = self.execute_module
        action._shared_loader_obj = SimpleNamespace(
            action_loader=SimpleNamespace(
                get=lambda name, task, **_: self._copy_action(name, task),
            )
        )
        return action.run(task_vars={})

    def _copy_action(self, name: str, task: FakeTask) -> FakeCopy:
        assert name == "ansible.legacy.copy"
        return FakeCopy(self, task)

    def lines(self, path: str = PATH) -> list[str]:
        return self.files[path].decode().splitlines()


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash at the lowest cost; everything else is the real backend."""
    monkeypatch.setattr(ht, "DEFAULT_ROUNDS", 4)


@pytest.fixture
def target() -> Target:
    return Target()


@pytest.fixture
def verify() -> ht.BcryptHasher:
    return ht.load_bcrypt(rounds=4)


def hashes(target: Target) -> dict[str, str]:
    return dict(line.split(":", 1) for line in target.lines())


def assert_no_secrets(result: dict[str, Any], *secrets: str) -> None:
    """No bcrypt or apr1 hash and none of SECRETS (passwords, other hashes) in RESULT."""
    dumped = json.dumps(result)
    assert "$2y$" not in dumped and "$apr1$" not in dumped
    for secret in secrets:
        assert secret not in dumped


def two_users(bob: str = "bob-pw") -> dict[str, Any]:
    return {
        "path": PATH,
        "users": [{"name": "alice", "password": "alice-pw"}, {"name": "bob", "password": bob}],
    }


def test_creates_missing_file_and_hands_copy_the_right_args(
    target: Target, verify: ht.BcryptHasher
) -> None:
    result = target.run({**two_users(), "owner": "root", "group": "registry", "mode": "0640"})
    assert result["changed"] is True
    assert result["added"] == ["alice", "bob"]
    assert result["users"] == ["alice", "bob"]
    assert (result["updated"], result["removed"]) == ([], [])
    assert result["path"] == PATH
    assert "failed" not in result
    found = hashes(target)
    assert verify.verify("alice-pw", found["alice"]) and found["alice"].startswith("$2y$04$")
    assert verify.verify("bob-pw", found["bob"])
    (copy_task,) = target.copy_tasks
    assert copy_task.args["dest"] == PATH
    assert copy_task.args["owner"] == "root"
    assert copy_task.args["group"] == "registry"
    assert copy_task.args["mode"] == "0640"
    assert copy_task.args["follow"] is True
    assert copy_task.diff is False and copy_task.no_log is True
    assert target.slurped == [PATH]


def test_result_keys_are_the_documented_ones(target: Target) -> None:
    result = target.run(two_users(), diff=True)
    documented = set(yaml.safe_load(module_docs.RETURN))
    assert set(result) - {"changed", "diff"} == documented


def test_mode_defaults_to_0600(target: Target) -> None:
    target.run(two_users())
    assert target.copy_tasks[0].args["mode"] == "0600"
    assert "owner" not in target.copy_tasks[0].args


def test_second_run_reports_no_change(target: Target) -> None:
    target.run(two_users())
    before = target.files[PATH]
    result = target.run(two_users())
    assert result["changed"] is False
    assert (result["added"], result["updated"], result["removed"]) == ([], [], [])
    assert target.files[PATH] == before


def test_changed_password_rewrites_only_that_line(target: Target, verify: ht.BcryptHasher) -> None:
    target.run(two_users())
    before = target.lines()
    result = target.run(two_users(bob="new-bob-pw"))
    after = target.lines()
    assert result["changed"] is True
    assert result["updated"] == ["bob"]
    assert after[0] == before[0]
    assert after[1] != before[1]
    assert verify.verify("new-bob-pw", hashes(target)["bob"])


def test_unlisted_user_is_removed_or_kept(target: Target) -> None:
    target.run(two_users())
    alice_only = {"path": PATH, "users": [{"name": "alice", "password": "alice-pw"}]}
    kept = target.run({**alice_only, "keep_unlisted": True})
    assert kept["changed"] is False
    assert kept["users"] == ["alice", "bob"]
    removed = target.run(alice_only)
    assert removed["changed"] is True
    assert removed["removed"] == ["bob"]
    assert removed["users"] == ["alice"]
    assert list(hashes(target)) == ["alice"]


def test_other_schemes_are_rewritten_or_warned_about(
    target: Target, verify: ht.BcryptHasher
) -> None:
    apr1 = apr_md5_crypt.hash("legacy-pw")
    sha = ldap_sha1.hash("sha-pw")
    target.files[PATH] = f"legacy:{apr1}\nsha:{sha}\n".encode()
    result = target.run(
        {
            "path": PATH,
            "users": [{"name": "legacy", "password": "legacy-pw"}],
            "keep_unlisted": True,
        }
    )
    assert result["updated"] == ["legacy"]
    assert verify.verify("legacy-pw", hashes(target)["legacy"])
    assert hashes(target)["sha"] == sha  # kept as it was
    (warning,) = result["warnings"]
    assert "sha ({SHA})" in warning and "cannot log in" in warning
    assert_no_secrets(result, "legacy-pw", "sha-pw", sha, apr1)


def test_check_mode_decides_without_writing(target: Target) -> None:
    target.run(two_users())
    before = target.files[PATH]
    result = target.run(
        {"path": PATH, "users": [{"name": "bob", "password": "new-bob-pw"}]}, check_mode=True
    )
    assert result["changed"] is True
    assert result["updated"] == ["bob"]
    assert result["removed"] == ["alice"]
    assert target.copy_tasks[-1].check_mode is True
    assert target.files[PATH] == before
    # Check mode on an up-to-date file reports no change.
    assert target.run(two_users(), check_mode=True)["changed"] is False


def test_diff_has_names_but_no_hashes_or_passwords(target: Target) -> None:
    target.run(two_users())
    result = target.run(
        {
            "path": PATH,
            "users": [
                {"name": "alice", "password": "alice-new-pw"},
                {"name": "carol", "password": "carol-pw"},
            ],
        },
        diff=True,
    )
    diff = result["diff"]
    assert diff["before"] == "alice\nbob\n"
    assert diff["after"] == "alice\ncarol\n"
    assert "added: carol" in diff["prepared"]
    assert "updated: alice (password changed)" in diff["prepared"]
    assert "removed: bob" in diff["prepared"]
    assert "invocation" not in result
    assert target.copy_tasks[-1].diff is False  # copy's own diff would show the hashes
    assert_no_secrets(result, "alice-pw", "alice-new-pw", "bob-pw", "carol-pw")


def test_no_diff_outside_diff_mode(target: Target) -> None:
    assert "diff" not in target.run(two_users())


def test_attribute_change_alone_reports_changed(target: Target) -> None:
    target.run(two_users())
    result = target.run({**two_users(), "mode": "0640"})
    assert result["changed"] is True
    assert (result["added"], result["updated"], result["removed"]) == ([], [], [])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"path": PATH, "users": "alice"}, "users must be a list"),
        ({"path": PATH, "users": [{"name": "a:b", "password": "pw"}]}, "users[0].name 'a:b'"),
        (
            {"path": PATH, "users": [{"name": "alice", "password": "\u20ac" * 25}]},
            "users[0].password for user 'alice' is 75 bytes long in UTF-8",
        ),
        ({"path": PATH}, "users is required"),
        ({"users": []}, "path"),
        ({"path": "", "users": []}, "path is empty"),
        ({"path": PATH, "users": [], "keep_unlisted": "maybe"}, "keep_unlisted"),
    ],
)
def test_invalid_options_fail_before_reading_or_writing(
    target: Target, args: dict[str, Any], expected: str
) -> None:
    result = target.run(args)
    assert result["failed"] is True
    assert result["changed"] is False
    assert expected in result["msg"]
    assert target.slurped == [] and target.copy_tasks == []


def test_unknown_option_is_rejected(target: Target) -> None:
    with pytest.raises(Exception, match="Invalid options for dockyard.registry.htpasswd: pass"):
        target.run({"path": PATH, "users": [], "pass": "x"})


def test_backend_failure_stops_before_reading(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> ht.BcryptHasher:
        raise ht.HtpasswdError("passlib 1.7.4 and bcrypt 9.9 on the controller do not work")

    monkeypatch.setattr(
        "ansible_collections.dockyard.registry.plugins.action.htpasswd.load_bcrypt", broken
    )
    result = target.run(two_users())
    assert result["failed"] is True
    assert "bcrypt 9.9" in result["msg"]
    assert target.slurped == [] and target.copy_tasks == []


def test_unreadable_file_fails_with_slurp_message(target: Target) -> None:
    target.slurp_failure = f"File is not readable: {PATH}"
    result = target.run(two_users())
    assert result["failed"] is True
    assert result["msg"] == f"could not read {PATH} on the target: File is not readable: {PATH}"
    assert target.copy_tasks == []


def test_binary_file_is_not_overwritten(target: Target) -> None:
    target.files[PATH] = b"\xff\xfe\x00binary"
    result = target.run(two_users())
    assert result["failed"] is True
    assert "is not UTF-8 text" in result["msg"]
    assert target.copy_tasks == []


def test_copy_failure_is_reported_without_content(target: Target) -> None:
    target.copy_failure = "chown failed: failed to look up user registry"
    result = target.run({**two_users(), "owner": "registry"})
    assert result["failed"] is True
    assert result["msg"] == f"could not write {PATH}: chown failed: failed to look up user registry"
    assert_no_secrets(result, "alice-pw", "bob-pw")
