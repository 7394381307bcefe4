"""Where the collection lives for the tests, and how it is built and installed."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"
VENV_BIN = Path(sys.executable).parent


def link_collection() -> None:
    """Make this checkout importable as ansible_collections.dockyard.registry."""
    link = COLLECTIONS / "ansible_collections" / "dockyard" / "registry"
    if link.is_symlink() and link.resolve() == ROOT:
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink():
        link.unlink()
    os.symlink(ROOT, link, target_is_directory=True)
    # pytest put COLLECTIONS on sys.path before it existed: forget that it was missing,
    # and change sys.path so that an already imported ansible_collections namespace
    # package looks at its portions again.
    sys.path_importer_cache.pop(str(COLLECTIONS), None)
    if str(COLLECTIONS) in sys.path:
        sys.path.remove(str(COLLECTIONS))
    sys.path.insert(0, str(COLLECTIONS))
    importlib.invalidate_caches()


def build_and_install(destination: Path) -> Path:
    """Build the collection tarball and install it into the collections path DESTINATION.

    DESTINATION must lie outside this git checkout: ansible-test lists the files of
    the git repository around the content it tests, and would see none there.
    """
    build_dir = ROOT / ".cache" / "build"
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir(parents=True)
    galaxy = str(VENV_BIN / "ansible-galaxy")
    build = [galaxy, "collection", "build", "--output-path", str(build_dir), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True, text=True)
    (tarball,) = build_dir.glob("dockyard-registry-*.tar.gz")
    # The dependencies come with the ansible package; Galaxy is not reachable.
    install = [galaxy, "collection", "install", "--no-deps", "--force", "-p", str(destination)]
    subprocess.run([*install, str(tarball)], check=True, capture_output=True, text=True)
    return destination / "ansible_collections" / "dockyard" / "registry"
