"""Shared test set-up.

- Make this checkout importable as ansible_collections.dockyard.registry
  (through a link in .cache/collections) for the unit and integration tests.
- Build the collection with ansible-galaxy and install it into a clean path,
  as users get it, for the quality gates and the molecule scenarios.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.collection import build_and_install, link_collection  # noqa: E402

link_collection()


@pytest.fixture(scope="session")
def installed_collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the installed collection (COLLECTIONS_PATH/ansible_collections/dockyard/registry).

    It is installed outside the checkout, in pytest's temporary directory.
    """
    try:
        return build_and_install(tmp_path_factory.mktemp("collections"))
    except subprocess.CalledProcessError as err:
        pytest.fail(f"{' '.join(err.cmd)} failed:\n{err.stdout}\n{err.stderr}")
