"""The quality gates the collection is held to, run as tests.

Linters run on this checkout; ansible-doc, ansible-test sanity and
ansible-test units run on the collection built and installed with
ansible-galaxy (the installed_collection fixture in tests/conftest.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.collection import ROOT, VENV_BIN

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py"))
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta").is_dir())
PYTHON_TREES = ["plugins", "tests", "bench"]


def run(cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: int = 600):
    full_env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "NO_COLOR": "1", **(env or {})}
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = (proc.stdout + proc.stderr)[-20000:]
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{output}"
    return proc


def tool(name: str) -> str:
    return str(VENV_BIN / name)


def test_ruff_check() -> None:
    run([tool("ruff"), "check", *PYTHON_TREES])


def test_ruff_format() -> None:
    run([tool("ruff"), "format", "--check", *PYTHON_TREES])


def test_yamllint() -> None:
    run([tool("yamllint"), "--strict", "."])


def test_ansible_lint_production_profile() -> None:
    env = {"ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".cache" / "collections")}
    run([tool("ansible-lint"), "--profile", "production", "--nocolor"], env=env, timeout=900)


def test_changelog_fragments() -> None:
    run([tool("antsibull-changelog"), "lint"])


def test_lint_skips_carry_reasons() -> None:
    """Every skip in .ansible-lint and tests/sanity/ignore-*.txt says why."""
    lines = (ROOT / ".ansible-lint").read_text().splitlines()
    in_skips = False
    bare = []
    for line in lines:
        if re.match(r"^\w", line):
            in_skips = line.startswith(("skip_list:", "warn_list:"))
            continue
        if in_skips and line.strip().startswith("- ") and "#" not in line:
            bare.append(line.strip())
    for ignore in (ROOT / "tests" / "sanity").glob("ignore-*.txt"):
        bare += [ln for ln in ignore.read_text().splitlines() if ln.strip() and "#" not in ln]
    assert not bare, f"lint skips without a reason: {bare}"


def test_collection_installs(installed_collection: Path) -> None:
    for name in ("MANIFEST.json", "FILES.json", "meta/runtime.yml", "README.md"):
        assert (installed_collection / name).exists(), f"{name} missing from the installed tree"
    for role in ROLES:
        assert (installed_collection / "roles" / role / "tasks" / "main.yml").exists()
    for module in MODULES:
        assert (installed_collection / "plugins" / "modules" / f"{module}.py").exists()
    assert not (installed_collection / ".cache").exists(), "build_ignore let .cache in"


@pytest.mark.parametrize("module", MODULES)
def test_module_docs_render(installed_collection: Path, module: str) -> None:
    env = {"ANSIBLE_COLLECTIONS_PATH": str(installed_collection.parents[2])}
    out = run([tool("ansible-doc"), f"dockyard.registry.{module}"], env=env).stdout
    assert f"dockyard.registry.{module}" in out
    assert "EXAMPLES" in out and "RETURN VALUES" in out


@pytest.mark.parametrize("role", ROLES)
def test_role_argument_specs_render(installed_collection: Path, role: str) -> None:
    env = {"ANSIBLE_COLLECTIONS_PATH": str(installed_collection.parents[2])}
    out = run([tool("ansible-doc"), "-t", "role", f"dockyard.registry.{role}"], env=env).stdout
    assert re.search(r"ENTRY POINT: \W*main", out), out[:2000]


def _prepare_ansible_test() -> None:
    """Put the offline pip bootstrap where ansible-test looks for its download."""
    # The pip version ansible-test pins for its virtualenvs is internal to it.
    from ansible_test._internal.python_requirements import get_venv_packages

    class _Py:
        version = PYTHON

    pip_version = get_venv_packages(_Py())["pip"]  # type: ignore[arg-type]
    cache = Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"get_pip_{pip_version.replace('.', '_')}.py"
    shutil.copyfile(ROOT / "scripts" / "ansible-test-get-pip.py", target)


def test_ansible_test_sanity(installed_collection: Path) -> None:
    _prepare_ansible_test()
    run(
        [tool("ansible-test"), "sanity", "--python", PYTHON, "--color", "no"],
        cwd=installed_collection,
        timeout=2400,
    )


def test_ansible_test_units(installed_collection: Path) -> None:
    _prepare_ansible_test()
    proc = run(
        [tool("ansible-test"), "units", "--venv", "--python", PYTHON, "--requirements"],
        cwd=installed_collection,
        timeout=1800,
    )
    assert re.search(r"\d+ passed", proc.stdout), proc.stdout[-3000:]
