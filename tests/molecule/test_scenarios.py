"""Run the molecule scenarios on systemd target containers.

Each scenario creates its hosts, converges, checks idempotence, verifies and
destroys them; molecule's output streams to the terminal as it runs. The
target hosts are Debian system containers (dockyard-test/debian:<suite>, made
by scripts/build-test-images.sh): a scenario runs once per suite it lists in
SUITES, and scenarios not listed there run on DEFAULT_SUITES.
DOCKYARD_TEST_SUITES (for example "bookworm") limits the run to those suites;
a scenario none of whose suites is selected is skipped, with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (ROOT / "extensions" / "molecule").glob("*/molecule.yml"))
# Compose v2 is packaged from Debian 13 (trixie) on only.
SUITES = {"default": ["bookworm", "trixie"], "compose": ["trixie"]}
DEFAULT_SUITES = ["bookworm"]
RUNS = [
    (scenario, suite) for scenario in SCENARIOS for suite in SUITES.get(scenario, DEFAULT_SUITES)
]


def _selected_suites() -> set[str] | None:
    wanted = os.environ.get("DOCKYARD_TEST_SUITES", "").replace(",", " ").split()
    return set(wanted) or None


def _archive() -> str:
    marker = ROOT / ".cache" / "images" / "registry-archive.path"
    if not marker.exists():
        pytest.fail(f"{marker} is missing: run scripts/build-test-images.sh first")
    return marker.read_text().strip()


@pytest.mark.molecule
@pytest.mark.parametrize(("scenario", "suite"), RUNS, ids=[f"{sc}-{su}" for sc, su in RUNS])
def test_scenario(
    scenario: str, suite: str, installed_collection: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run one scenario against the collection as built and installed for users."""
    selected = _selected_suites()
    if selected is not None and suite not in selected:
        pytest.skip(f"{scenario} on {suite}: DOCKYARD_TEST_SUITES is {' '.join(sorted(selected))}")
    env = dict(os.environ)
    env.setdefault("DOCKYARD_REGISTRY_ARCHIVE", _archive())
    env["DOCKYARD_TEST_IMAGE"] = f"dockyard-test/debian:{suite}"
    env["DOCKYARD_COLLECTIONS_PATH"] = str(installed_collection.parents[2])
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
