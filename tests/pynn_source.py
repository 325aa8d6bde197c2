"""Where PyNN's own test scenarios and example scripts are on this machine.

They are not part of PyNN's wheel; scripts/setup.sh unpacks them from PyNN's source
distribution on the package index (the pinned version) into the virtual environment.
"""

import sys
from importlib.metadata import version
from pathlib import Path

import pytest


def pynn_source():
    """The unpacked PyNN source distribution; fails (not skips) the test if it is missing."""
    path = Path(sys.prefix) / "share" / "trisim" / f"pynn-{version('PyNN')}"
    if not (path / "test" / "system" / "scenarios").is_dir():
        pytest.fail(f"PyNN's test scenarios are not in {path}: run 'make setup'")
    return path
