"""Wang-Buzsaki scenarios run in a fresh process per backend.

``python tests/wang_buzsaki_scenarios.py NAME BACKEND`` prints the scenario's result as JSON.
"""

import json
import sys

import numpy as np

from trisim import backends, nestml
from synapse_scenarios import GABA_SPIKES  # the pattern of the synapse tests
GABA_WEIGHT = 0.001  # uS
GABA_DELAY = 1.0


def gaba_saturation(backend_name):
    """The GABA conductance (nS) of a cell whose one input is the saturating synapse."""
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    synapse = sim.nestml_synapse_type(nestml.path("wang_buzsaki_gaba_synapse"))
    cell_type = sim.nestml_cell_type(nestml.path("wang_buzsaki_neuron"))
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=GABA_SPIKES))
    cell = sim.Population(1, cell_type())
    sim.Projection(source, cell, sim.IndexConnector([0], [0]),
                   synapse(weight=GABA_WEIGHT, delay=GABA_DELAY), receptor_type="gaba_spikes")
    cell.record("s_gaba_X_gaba_spikes")
    sim.run(150.0)
    signal = cell.get_data().segments[0].analogsignals[0]
    result = {"t": signal.times.rescale("ms").magnitude.tolist(),
              "g": np.asarray(signal.magnitude)[:, 0].tolist()}
    sim.end()
    return result


SCENARIOS = {"gaba_saturation": gaba_saturation}

if __name__ == "__main__":
    name, backend_name = sys.argv[1:]
    print(json.dumps(SCENARIOS[name](backend_name)))
