"""Let unit tests import the shared helpers in tests/support.

pytest's pythonpath setting in pyproject.toml does this for plain pytest;
ansible-test units runs pytest with its own configuration instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
