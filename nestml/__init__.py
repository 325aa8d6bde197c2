"""trisim's own NESTML models: cells and synapses, each one .nestml file run on every backend."""

from pathlib import Path


def path(name):
    """The file of the NESTML model ``name`` (e.g. "tsodyks_markram_synapse")."""
    return Path(__file__).with_name(f"{name}.nestml")
