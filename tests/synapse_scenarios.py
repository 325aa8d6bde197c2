"""Scenarios of NESTML models in networks, run in a fresh process per backend.

``python tests/synapse_scenarios.py NAME BACKEND`` prints the scenario's result as JSON. The
synapse scenarios are the conformance suite's (trisim.runners.synapse_probe).
"""

import json
import sys

import numpy as np

from trisim import backends
from trisim.runners import synapse_probe


def initial_values(backend_name):
    """The first recorded membrane potential of NESTML cells given initial values (PyNN's
    ``initialize``)."""
    from trisim.runners.conformance import shipped_path
    sim = backends.load(backend_name)
    sim.setup(0.1, 1)
    cells = sim.Population(3, sim.nestml_cell_type(shipped_path("iaf_cond_exp"))())
    cells.initialize(V_m=np.array([-61.5, -52.25, -66.0]))
    cells.record("V_m")
    sim.run(1.0)
    return np.asarray(cells.get_data().segments[0].analogsignals[0].magnitude)[0].tolist()


SCENARIOS = {**synapse_probe.SCENARIOS, "initial_values": initial_values}

if __name__ == "__main__":
    name, backend_name, *arguments = sys.argv[1:]
    print(json.dumps(SCENARIOS[name](backend_name, *arguments)))
