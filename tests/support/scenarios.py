"""Building blocks for integration scenarios around the real registry binary."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from passlib.hash import bcrypt

from support.pki import CA, Pair, make_ca

ROOT = Path(__file__).resolve().parent.parent.parent
COLLECTIONS = ROOT / ".cache" / "collections"


def write_htpasswd(path: Path, users: dict[str, str]) -> Path:
    """An htpasswd file with bcrypt hashes, as distribution requires.

    The lowest bcrypt cost keeps the registry fast: it checks the hash on every request.
    """
    hasher = bcrypt.using(rounds=4)
    path.write_text("".join(f"{user}:{hasher.hash(pw)}\n" for user, pw in users.items()))
    return path


def tls_material(directory: Path, sans: list[str] | None = None) -> tuple[CA, Pair]:
    """A CA and a server certificate it signed for SANS (127.0.0.1 and localhost)."""
    ca = make_ca(directory)
    return ca, ca.issue(directory, "registry", sans or ["127.0.0.1", "localhost"])


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]
    finally:
        sock.close()


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str = "384k") -> Iterator[Path]:
    """Mount a tiny tmpfs at PATH (needs root and CAP_SYS_ADMIN); unmount afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        raise PermissionError("mounting a tmpfs needs root")
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise PermissionError(done.stderr.strip() or "mount failed")
    try:
        yield path
    finally:
        umount = subprocess.run(["umount", str(path)], capture_output=True, check=False)
        if umount.returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def target_python() -> str:
    """Interpreter for modules run through Ansible: Python 3.9, the oldest supported, if present.

    DOCKYARD_TARGET_PYTHON overrides; else Python 3.9 from pyenv or PATH (checked by
    running it, since a pyenv shim may exist without working); else this Python.
    """
    wanted = os.environ.get("DOCKYARD_TARGET_PYTHON")
    if wanted:
        return wanted
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9.*/bin/python3.9")))
    candidates += [found for found in [shutil.which("python3.9")] if found]
    for candidate in candidates:
        probe = subprocess.run(
            [candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 9))"],
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            return candidate
    return sys.executable


def ansible_env(tmp_path: Path) -> dict[str, str]:
    """Environment for ansible and ansible-playbook run from the test virtualenv."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"),
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"),
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    return env


def venv_bin(name: str) -> str:
    """Path of an executable next to the running Python (the project virtualenv)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)
