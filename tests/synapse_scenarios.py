"""Scenarios of NESTML models in networks, run in a fresh process per backend.

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


PLASTIC_PRE = [20.0, 45.0, 52.0, 90.0, 130.0, 132.0, 170.0, 240.0, 247.0, 300.0]
PLASTIC_DRIVE = [10.0, 40.0, 60.0, 95.0, 128.0, 165.0, 180.0, 245.0, 250.0, 290.0]
PLASTIC_DELAY = 1.5
PLASTIC_PARAMETERS = {
    "stdp_pair_synapse": {"weight": 0.005, "tau_pre_trace": 16.8, "tau_post_trace": 33.7,
                          "A_plus": 0.05, "A_minus": 0.03, "Wmin": 0.0, "Wmax": 0.01},
    "stdp_symmetric_synapse": {"weight": 0.001, "tau": 62.5, "A": 0.0002, "Wmax": 0.02},
    "vogels_sprekeler_synapse": {"weight": 0.004, "tau": 20.0, "eta": 0.0005, "alpha": 0.4,
                                 "Wmax": 0.01},
}


def plasticity(backend_name, model):
    """The weight of one plastic connection after each presynaptic spike, and the spikes.

    The postsynaptic cell (NESTML's iaf_psc_exp) fires shortly after each strong input
    from a second source; the run stops one step after each presynaptic arrival to read the
    weight, which then includes every earlier event on every backend.
    """
    from trisim.runners.conformance import shipped_path
    sim = backends.load(backend_name)
    dt = 0.1
    sim.setup(dt, 1)
    synapse_path = NESTML / f"{model}.nestml"
    synapse = sim.nestml_synapse_type(synapse_path)
    cell = sim.nestml_cell_type(shipped_path("iaf_psc_exp"), synapses=[synapse_path])
    post = sim.Population(1, cell())
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=PLASTIC_PRE))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=PLASTIC_DRIVE))
    sim.Projection(drive, post, sim.IndexConnector([0], [0]),
                   sim.StaticSynapse(weight=5.0, delay=dt), receptor_type="exc_spikes")
    projection = sim.Projection(pre, post, sim.IndexConnector([0], [0]),
                                synapse(delay=PLASTIC_DELAY, **PLASTIC_PARAMETERS[model]),
                                receptor_type="exc_spikes")
    post.record("spikes")
    weights = []
    for t in PLASTIC_PRE:
        sim.run_until(t + PLASTIC_DELAY + dt)
        weights.append(float(projection.get("weight", format="array")[0, 0]))
    spikes = post.get_data().segments[0].spiketrains[0].magnitude.tolist()
    return {"weights": weights, "post": spikes}


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


SCENARIOS = {"stochastic_release": stochastic_release, "plasticity": plasticity,
             "initial_values": initial_values}

if __name__ == "__main__":
    name, backend_name, *arguments = sys.argv[1:]
    print(json.dumps(SCENARIOS[name](backend_name, *arguments)))
