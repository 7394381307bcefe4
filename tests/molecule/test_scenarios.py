"""Run the molecule scenarios on systemd target containers.

Each scenario creates its hosts, converges, checks idempotence, verifies and
destroys them; molecule's output streams to the terminal as it runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (ROOT / "extensions" / "molecule").glob("*/molecule.yml"))


def _archive() -> str:
    marker = ROOT / ".cache" / "images" / "registry-archive.path"
    if not marker.exists():
        pytest.fail(f"{marker} is missing: run scripts/build-test-images.sh first")
    return marker.read_text().strip()


@pytest.mark.molecule
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    env = dict(os.environ)
    env.setdefault("DOCKYARD_REGISTRY_ARCHIVE", _archive())
    env.setdefault("DOCKYARD_TEST_IMAGE", "dockyard-test/debian:bookworm")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_FORCE_COLOR"] = "false"
    env["PY_COLORS"] = "0"
    molecule = Path(sys.executable).parent / "molecule"
    with capsys.disabled():
        print(f"\n=== molecule test -s {scenario} ({env['DOCKYARD_TEST_IMAGE']})", flush=True)
        result = subprocess.run(
            [str(molecule), "test", "-s", scenario],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    assert result.returncode == 0, f"molecule test -s {scenario} exited {result.returncode}"
