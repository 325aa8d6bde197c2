"""Seed 001's CB1 synapse on one backend, run in a fresh process per backend.

``python tests/cb1_scenarios.py BACKEND`` prints, as JSON, which spikes of a known presynaptic
train each setting's CB1 -> L2/3 synapse transmitted, and the conductance jump of each release.
"""

import json
import sys

import numpy as np

from trisim import backends
from trisim.pynn_models.cb1 import circuit
from trisim.runners.run import resolve_config

PRESYNAPTIC = np.arange(5.0, 2005.0, 5.0)  # 400 spikes, 5 ms apart
SETTINGS = ("cb1_v1", "cb1_v2m")


def releases(backend_name, seed=3):
    """Per setting: the release probability used, the indices of the transmitted spikes and
    the conductance jump of each, onto one L2/3-like target cell per setting."""
    parameters = {name: resolve_config(name)[1].parameters for name in SETTINGS}
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=seed)
    synapse = circuit.release_synapse_type(sim)
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=PRESYNAPTIC))
    v1 = parameters["cb1_v1"]
    targets = sim.Population(len(SETTINGS), sim.IF_cond_exp(
        v_thresh=1000.0, tau_syn_I=v1.tau_i, e_rev_I=v1.E_i))
    for index, name in enumerate(SETTINGS):
        p = parameters[name]
        sim.Projection(source, targets, sim.IndexConnector([0], [index]),
                       synapse(weight=p.Q_i, delay=p.delay, p=p.psyn_CB1Inh_L23Exc),
                       receptor_type="inhibitory")
    targets.record("gsyn_inh")
    sim.run(PRESYNAPTIC[-1] + 2.0)
    g = np.asarray(targets.get_data().segments[0].analogsignals[0].magnitude)
    result = {}
    for index, name in enumerate(SETTINGS):
        jumps = np.diff(g[:, index])
        steps = np.flatnonzero(jumps > parameters[name].Q_i / 2)
        # each release follows its spike by the delay: the spike it belongs to is the last one
        # emitted before the jump
        spikes = np.searchsorted(PRESYNAPTIC, (steps + 1) * 0.1, side="right") - 1
        result[name] = {"p": parameters[name].psyn_CB1Inh_L23Exc, "weight": parameters[name].Q_i,
                        "released": spikes.tolist(), "jumps": jumps[steps].tolist()}
    return {"n_spikes": len(PRESYNAPTIC), "settings": result}


if __name__ == "__main__":
    print(json.dumps(releases(sys.argv[1])))
