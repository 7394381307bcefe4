"""Shared test set-up.

- Make this checkout importable as ansible_collections.dockyard.registry
  (through a link in .cache/collections) for the unit and integration tests.
- Build the collection with ansible-galaxy and install it into a clean path,
  as users get it, for the quality gates and the molecule scenarios.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".cache" / "collections"
INSTALLED = ROOT / ".cache" / "installed"
VENV_BIN = Path(sys.executable).parent


def _link_collection() -> None:
    link = COLLECTIONS / "ansible_collections" / "dockyard" / "registry"
    if link.is_symlink() and link.resolve() == ROOT:
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink():
        link.unlink()
    os.symlink(ROOT, link, target_is_directory=True)


_link_collection()


def build_and_install() -> Path:
    """Build the collection tarball and install it under .cache/installed."""
    build_dir = ROOT / ".cache" / "build"
    shutil.rmtree(build_dir, ignore_errors=True)
    shutil.rmtree(INSTALLED, ignore_errors=True)
    build_dir.mkdir(parents=True)
    galaxy = str(VENV_BIN / "ansible-galaxy")
    build = [galaxy, "collection", "build", "--output-path", str(build_dir), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True, text=True)
    (tarball,) = build_dir.glob("dockyard-registry-*.tar.gz")
    # The dependencies come with the ansible package; Galaxy is not reachable.
    install = [galaxy, "collection", "install", "--no-deps", "--force", "-p", str(INSTALLED)]
    subprocess.run([*install, str(tarball)], check=True, capture_output=True, text=True)
    return INSTALLED / "ansible_collections" / "dockyard" / "registry"


@pytest.fixture(scope="session")
def installed_collection() -> Path:
    """Path of the installed collection (…/ansible_collections/dockyard/registry)."""
    try:
        return build_and_install()
    except subprocess.CalledProcessError as err:
        pytest.fail(f"{' '.join(err.cmd)} failed:\n{err.stdout}\n{err.stderr}")
