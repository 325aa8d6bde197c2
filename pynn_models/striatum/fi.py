"""The striatal cells' input-output curves as a model of its own (``striatum_fi``).

One population per curve (f-I under currents, f-f under the fit's Poisson afferents), run by
the ``fi`` experiment of ``striatum``.
"""

from trisim import configs
from trisim.pynn_models import single_cells
from trisim.pynn_models.striatum import fi_curves

DESCRIPTION = "Striatal MSN and FSI cells, one population per f-I or f-f curve"
TRACES = ()
CONFIGS = configs.DIRECTORY
Parameters = single_cells.Parameters


def build(sim, parameters, simulation, rng):
    """One population per curve of :func:`~trisim.pynn_models.striatum.fi_curves`."""
    return single_cells.build(sim, fi_curves(), simulation, rng)
