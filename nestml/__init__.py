"""trisim's own NESTML models: cells and synapses, each one .nestml file run on every backend."""

import sys
from pathlib import Path

from trisim.errors import NestmlError


def path(name):
    """The file of the NESTML model ``name`` (e.g. "tsodyks_markram_synapse")."""
    return Path(__file__).with_name(f"{name}.nestml")


def library_path(kind="neurons"):
    """The folder where the installed NESTML keeps its shipped models of ``kind``
    ("neurons" or "synapses")."""
    return Path(sys.prefix) / "models" / kind


def shipped_path(name):
    """The .nestml file NESTML installs for one of its shipped neurons (e.g. "iaf_psc_exp")."""
    path = library_path("neurons") / f"{name}_neuron.nestml"
    if not path.is_file():
        raise NestmlError(f"{path}: NESTML's shipped model {name!r} is not installed")
    return path
