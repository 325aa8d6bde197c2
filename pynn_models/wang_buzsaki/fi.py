"""The Wang-Buzsaki cell's f-I curve as a model of its own (``wang_buzsaki_fi``).

One uncoupled cell per drive, run by the ``fi`` experiment of ``wang_buzsaki``.
"""

from trisim import configs
from trisim.pynn_models import single_cells
from trisim.pynn_models.wang_buzsaki import fi_curves

DESCRIPTION = "Wang-Buzsaki cell, one per drive: its f-I curve"
TRACES = ()
CONFIGS = configs.DIRECTORY
Parameters = single_cells.Parameters


def build(sim, parameters, simulation, rng):
    """One cell per drive of :data:`~trisim.pynn_models.wang_buzsaki.FI_DRIVES`."""
    return single_cells.build(sim, fi_curves(), simulation, rng)
