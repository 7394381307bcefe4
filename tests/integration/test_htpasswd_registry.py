"""dockyard.registry.htpasswd end to end: a real ansible-playbook writes the file,
the real registry binary reads it, HTTP requests log in.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from passlib.hash import apr_md5_crypt

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent.parent
ANSIBLE_PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"
COLLECTIONS = ROOT / ".cache" / "collections"

PLAYBOOK = """\
---
- name: Manage the registry users
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Write the registry htpasswd file
      dockyard.registry.htpasswd:
        path: "{{ htpasswd_path }}"
        users: "{{ registry_users }}"
"""

# bob's password is exactly 72 bytes in UTF-8 (24 three-byte characters): the whole of it
# must count, both here and in the registry.
PASSWORDS = {
    "alice": "alice-Secret-1",
    "bob": "\u20ac" * 24,
    "carol": "carol pass with spaces",
}


class Playbook:
    """Runs the playbook above with the JSON callback; one instance per test."""

    def __init__(self, directory: Path, htpasswd: Path) -> None:
        if not ANSIBLE_PLAYBOOK.exists():
            pytest.fail(f"{ANSIBLE_PLAYBOOK} is missing: run bash scripts/setup-controller.sh")
        self.directory = directory
        self.htpasswd = htpasswd
        self.playbook = directory / "users.yml"
        self.playbook.write_text(PLAYBOOK)
        self.runs = 0

    def run(self, users: dict[str, str], *options: str) -> dict[str, Any]:
        """Run with USERS (name -> password); return the task result, stats and stdout."""
        self.runs += 1
        extra = self.directory / f"vars-{self.runs}.json"
        extra.write_text(
            json.dumps(
                {
                    "htpasswd_path": str(self.htpasswd),
                    "registry_users": [{"name": n, "password": p} for n, p in users.items()],
                    "ansible_python_interpreter": sys.executable,
                }
            )
        )
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("ANSIBLE_") or key == "ANSIBLE_LOCAL_TEMP"
        }
        env.update(
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_NOCOLOR="1",
        )
        proc = subprocess.run(
            [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-e", f"@{extra}", *options, "users.yml"],
            cwd=self.directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, f"ansible-playbook failed:\n{proc.stdout}\n{proc.stderr}"
        output = json.loads(proc.stdout)
        (task,) = output["plays"][0]["tasks"]
        return {
            "result": task["hosts"]["localhost"],
            "stats": output["stats"]["localhost"],
            "stdout": proc.stdout,
            "stderr": proc.stderr,
        }


def status(url: str, user: str | None = None, password: str | None = None) -> int:
    """HTTP status of GET URL/v2/, with basic auth in UTF-8 as the docker CLI sends it."""
    request = urllib.request.Request(f"{url}/v2/")
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def htpasswd(tmp_path: Path) -> Path:
    auth = tmp_path / "auth"
    auth.mkdir()
    return auth / "htpasswd"


def test_playbook_users_log_in_and_reruns_change_nothing(
    tmp_path: Path, htpasswd: Path, registry_factory
) -> None:
    playbook = Playbook(tmp_path, htpasswd)

    # Check mode on a missing file: reports the change, writes nothing.
    preview = playbook.run(PASSWORDS, "--check")
    assert preview["stats"]["changed"] == 1
    assert preview["result"]["added"] == ["alice", "bob", "carol"]
    assert not htpasswd.exists()

    first = playbook.run(PASSWORDS)
    assert first["stats"]["changed"] == 1
    assert first["result"]["added"] == ["alice", "bob", "carol"]
    assert first["result"]["users"] == ["alice", "bob", "carol"]
    assert stat.S_IMODE(htpasswd.stat().st_mode) == 0o600
    lines = htpasswd.read_text().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["alice", "bob", "carol"]
    assert all(line.split(":", 1)[1].startswith("$2y$") for line in lines)

    registry = registry_factory(htpasswd=htpasswd)
    assert status(registry.url) == 401
    for user, password in PASSWORDS.items():
        assert status(registry.url, user, password) == 200, registry.log()
    assert status(registry.url, "alice", "wrong-password") == 401
    assert status(registry.url, "bob", "\u20ac" * 23 + "e") == 401  # only the last byte differs
    assert status(registry.url, "mallory", "alice-Secret-1") == 401

    # Same users again, for real and in check mode: nothing changes, not even a salt.
    written = htpasswd.read_bytes()
    again = playbook.run(PASSWORDS)
    assert again["stats"]["changed"] == 0
    assert (again["result"]["added"], again["result"]["updated"]) == ([], [])
    assert playbook.run(PASSWORDS, "--check")["stats"]["changed"] == 0
    assert htpasswd.read_bytes() == written

    # Remove bob: check mode first, then for real, in diff mode.
    without_bob = {name: pw for name, pw in PASSWORDS.items() if name != "bob"}
    preview = playbook.run(without_bob, "--check", "--diff")
    assert preview["stats"]["changed"] == 1
    assert preview["result"]["removed"] == ["bob"]
    assert htpasswd.read_bytes() == written

    removal = playbook.run(without_bob, "--diff")
    assert removal["stats"]["changed"] == 1
    assert removal["result"]["removed"] == ["bob"]
    assert removal["result"]["users"] == ["alice", "carol"]
    assert removal["result"]["diff"]["before"] == "alice\nbob\ncarol\n"
    assert removal["result"]["diff"]["after"] == "alice\ncarol\n"
    assert htpasswd.read_text().splitlines() == [lines[0], lines[2]]
    assert stat.S_IMODE(htpasswd.stat().st_mode) == 0o600
    for run in (preview, removal):
        output = run["stdout"] + run["stderr"]
        assert "$2y$" not in output
        for password in PASSWORDS.values():
            assert password not in output

    # The registry reads htpasswd when it starts.
    registry.restart()
    assert status(registry.url, "bob", PASSWORDS["bob"]) == 401
    assert status(registry.url, "alice", PASSWORDS["alice"]) == 200
    assert status(registry.url, "carol", PASSWORDS["carol"]) == 200


def test_apr1_entry_the_registry_ignores_is_rewritten(
    tmp_path: Path, htpasswd: Path, registry_factory
) -> None:
    # Apache's default scheme: the registry keeps the entry but nobody can log in with it.
    htpasswd.write_text(f"legacy:{apr_md5_crypt.hash('legacy-pw')}\n")
    htpasswd.chmod(0o644)
    registry = registry_factory(htpasswd=htpasswd)
    assert status(registry.url, "legacy", "legacy-pw") == 401

    playbook = Playbook(tmp_path, htpasswd)
    run = playbook.run({"legacy": "legacy-pw"})
    assert run["stats"]["changed"] == 1
    assert run["result"]["updated"] == ["legacy"]
    assert htpasswd.read_text().startswith("legacy:$2y$")
    assert stat.S_IMODE(htpasswd.stat().st_mode) == 0o600

    registry.restart()
    assert status(registry.url, "legacy", "legacy-pw") == 200
    assert status(registry.url, "legacy", "other-pw") == 401
    assert playbook.run({"legacy": "legacy-pw"})["stats"]["changed"] == 0
