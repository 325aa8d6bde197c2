"""Scenarios of NESTML synapses, run in a fresh process per backend.

``python tests/synapse_scenarios.py NAME BACKEND`` prints the scenario's result as JSON.
"""

import json
import sys
from pathlib import Path

import numpy as np

from trisim import backends

NESTML = Path(__file__).resolve().parents[1] / "nestml"
STOCHASTIC = NESTML / "stochastic_release_synapse.nestml"
RELEASE_SPIKES = np.arange(5.0, 2000.0, 5.0)  # 399 presynaptic spikes
RELEASE_P = (0.3, 1.0, 0.0)  # onto cells 0, 1 (inhibitory) and 2
RELEASE_WEIGHT = 0.002  # uS


def _releases(sim, seed):
    """Per target cell, which presynaptic spikes were transmitted (a conductance jump)."""
    sim.setup(0.1, seed)
    synapse = sim.nestml_synapse_type(STOCHASTIC)
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=RELEASE_SPIKES))
    targets = sim.Population(len(RELEASE_P), sim.IF_cond_exp(v_thresh=1000.0, tau_syn_E=5.0,
                                                             tau_syn_I=5.0))
    projections = []
    for index, p in enumerate(RELEASE_P):
        receptor = "inhibitory" if index == 1 else "excitatory"
        projections.append(sim.Projection(
            source, targets, sim.IndexConnector([0], [index]),
            synapse(weight=RELEASE_WEIGHT, p=p, delay=1.0), receptor_type=receptor))
    targets.record(["gsyn_exc", "gsyn_inh"])
    sim.run(RELEASE_SPIKES[-1] + 3.0)
    signals = {s.name: np.asarray(s.magnitude) for s in targets.get_data().segments[0].analogsignals}
    released = []
    for index in range(len(RELEASE_P)):
        g = signals["gsyn_inh" if index == 1 else "gsyn_exc"][:, index]
        jumps = np.flatnonzero(np.diff(g) > RELEASE_WEIGHT / 2)
        released.append(jumps.tolist())
    read = [[float(np.nansum(prj.get(name, format="array"))) for name in ("weight", "p")]
            for prj in projections]
    return released, read


def stochastic_release(backend_name, seed=7):
    """Release times per target and the connection values read back."""
    released, read = _releases(backends.load(backend_name), int(seed))
    return {"released": released, "read": read, "n_spikes": len(RELEASE_SPIKES)}


SCENARIOS = {"stochastic_release": stochastic_release}

if __name__ == "__main__":
    name, backend_name, *arguments = sys.argv[1:]
    print(json.dumps(SCENARIOS[name](backend_name, *arguments)))
