"""Uses a call only pyNN.nest has."""
import sys

import pyNN.nest as sim

sim.setup()
cells = sim.Population(2, sim.IF_cond_exp())
if sys.argv[1:] == ["native"]:
    cells = sim.Population(2, sim.native_cell_type("iaf_psc_alpha")())
elif sys.argv[1:] == ["import"]:
    import nest
    nest.GetKernelStatus()
elif sys.argv[1:] == ["from"]:
    from pyNN.neuron import h  # noqa: F401
elif sys.argv[1:] == ["guarded"]:
    try:  # a script's own fallback for a simulator that is not installed
        import nest
    except ImportError:
        nest = None
cells.record("spikes")
sim.run(10.0)
