"""Make this checkout importable as ansible_collections.dockyard.registry."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".cache" / "collections"


def _link_collection() -> None:
    link = COLLECTIONS / "ansible_collections" / "dockyard" / "registry"
    if link.is_symlink() and link.resolve() == ROOT:
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink():
        link.unlink()
    os.symlink(ROOT, link, target_is_directory=True)


_link_collection()
