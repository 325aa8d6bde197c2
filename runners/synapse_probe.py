"""The synapse conformance probe: one NESTML synapse under a fixed spike pattern on one backend.

``python -m trisim.runners.synapse_probe SCENARIO BACKEND [ARGUMENT ...]`` prints the
scenario's result as JSON, one process per backend (NEST and NEURON keep global state):

- ``plasticity MODEL DT``: the weight of one plastic connection after each presynaptic spike
  (the STDP rules in :data:`PLASTIC_PARAMETERS`), and the postsynaptic spikes;
- ``transmission MODEL DT``: what a synapse without plasticity of its weight transmits per
  presynaptic spike (:data:`TRANSMISSION`), read off the jump of its target's synaptic current;
- ``stochastic_release SEED DT``: which presynaptic spikes each of three all-or-none
  connections (release probabilities :data:`RELEASE_P`) transmitted.

``trisim conformance`` compares these across backends; ``tests/test_synapses.py`` runs them too.
"""

import json
import sys

import numpy as np

from trisim import backends, nestml
from trisim.quiet import quiet_stdout

# plasticity: a fixed presynaptic train and a strong drive that makes the postsynaptic cell
# (NESTML's iaf_psc_exp) fire shortly after each drive spike, so that both orders of pre- and
# postsynaptic spikes occur
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

# transmission: presynaptic spike times and connection parameters per synapse
STP = {"U": 0.6, "tau_rec": 500.0, "tau_facil": 300.3}
STP_SPIKES = [10.0, 30.0, 50.0, 70.0, 300.0, 320.0, 900.0]
GABA_SPIKES = [10.0, 15.0, 18.0, 19.0, 60.0, 90.0, 92.0]
TRANSMISSION = {
    "tsodyks_markram_synapse": (STP_SPIKES, {"weight": 0.1, **STP}),
    "wang_buzsaki_gaba_synapse": (GABA_SPIKES, {"weight": 0.1}),
}
TRANSMISSION_DELAY = 1.0
TARGET_TAU = 2.0  # ms, iaf_psc_exp's tau_syn_exc: the target current's decay between steps

# stochastic release
RELEASE_SPIKES = np.arange(5.0, 2000.0, 5.0)  # 399 presynaptic spikes
RELEASE_P = (0.3, 1.0, 0.0)  # onto cells 0, 1 (inhibitory) and 2
RELEASE_WEIGHT = 0.002  # uS
RELEASE_DELAY = 1.0
RELEASE_SEED = 7


def _target_type(sim, synapses=()):
    return sim.nestml_cell_type(nestml.shipped_path("iaf_psc_exp"), synapses=list(synapses))


def plasticity(backend_name, model, dt=0.1):
    """The weight of one plastic connection after each presynaptic spike, and the spikes.

    The postsynaptic cell (NESTML's iaf_psc_exp) fires shortly after each strong input
    from a second source; the run stops one step after each presynaptic arrival to read the
    weight, which then includes every earlier event on every backend.
    """
    sim = backends.load(backend_name)
    dt = float(dt)
    sim.setup(timestep=dt, min_delay=dt, rng_seed=1)
    synapse_path = nestml.path(model)
    synapse = sim.nestml_synapse_type(synapse_path)
    post = sim.Population(1, _target_type(sim, [synapse_path])())
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
    sim.end()
    return {"weights": weights, "post": spikes}


def transmission(backend_name, model, dt=0.1):
    """What one connection transmits at each presynaptic spike, in units of its weight.

    The target is NESTML's iaf_psc_exp, whose synaptic current decays exactly by
    exp(-dt / tau) a step; a transmission is a step where the current exceeds that decay
    (by more than 1e-6 of the weight). Returns the steps' end times (ms) and the jumps.
    """
    sim = backends.load(backend_name)
    dt = float(dt)
    sim.setup(timestep=dt, min_delay=dt, rng_seed=1)
    spikes, parameters = TRANSMISSION[model]
    synapse = sim.nestml_synapse_type(nestml.path(model))
    post = sim.Population(1, _target_type(sim)(tau_syn_exc=TARGET_TAU))
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=spikes))
    sim.Projection(pre, post, sim.IndexConnector([0], [0]),
                   synapse(delay=TRANSMISSION_DELAY, **parameters), receptor_type="exc_spikes")
    post.record("I_syn_exc")
    sim.run(spikes[-1] + TRANSMISSION_DELAY + 5.0)
    signal = post.get_data().segments[0].filter(name="I_syn_exc")[0]
    current = np.asarray(signal.rescale("nA").magnitude)[:, 0] / parameters["weight"]
    times = signal.times.rescale("ms").magnitude
    sim.end()
    jumps = current[1:] - current[:-1] * np.exp(-dt / TARGET_TAU)
    steps = np.flatnonzero(np.abs(jumps) > 1e-6)
    return {"t": [round(float(t), 6) for t in times[steps + 1]],
            "efficacy": jumps[steps].tolist()}


def _releases(sim, seed, dt):
    """Per target cell, which presynaptic spikes were transmitted (a conductance jump)."""
    sim.setup(timestep=dt, min_delay=dt, rng_seed=seed)
    synapse = sim.nestml_synapse_type(nestml.path("stochastic_release_synapse"))
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=RELEASE_SPIKES))
    targets = sim.Population(len(RELEASE_P), sim.IF_cond_exp(v_thresh=1000.0, tau_syn_E=5.0,
                                                             tau_syn_I=5.0))
    projections = []
    for index, p in enumerate(RELEASE_P):
        receptor = "inhibitory" if index == 1 else "excitatory"
        projections.append(sim.Projection(
            source, targets, sim.IndexConnector([0], [index]),
            synapse(weight=RELEASE_WEIGHT, p=p, delay=RELEASE_DELAY), receptor_type=receptor))
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
    sim.end()
    return released, read


def stochastic_release(backend_name, seed=RELEASE_SEED, dt=0.1):
    """Release steps per target (indices into the recorded conductance), the connection
    values read back, and which presynaptic spikes (indices into RELEASE_SPIKES) released."""
    dt = float(dt)
    released, read = _releases(backends.load(backend_name), int(seed), dt)
    arrival = RELEASE_SPIKES + RELEASE_DELAY
    spikes = [sorted({int(np.argmin(np.abs(arrival - (step + 1) * dt))) for step in steps})
              for steps in released]
    return {"released": released, "read": read, "n_spikes": len(RELEASE_SPIKES),
            "released_spikes": spikes}


SCENARIOS = {"plasticity": plasticity, "transmission": transmission,
             "stochastic_release": stochastic_release}


def main(argv):
    name, backend_name, *arguments = argv
    with quiet_stdout():  # simulators print banners; stdout is the JSON result
        result = SCENARIOS[name](backend_name, *arguments)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
