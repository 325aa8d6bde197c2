"""Scenarios of NESTML models in networks, run in a fresh process per backend.

``python tests/synapse_scenarios.py NAME BACKEND`` prints the scenario's result as JSON.
Besides the generic probe ``trisim conformance`` runs (trisim.runners.synapse_probe), trisim's
own synapses have scenarios here whose results the tests check against each rule's
published definition (plasticity, transmission, stochastic release).
"""

import json
import sys

import numpy as np

from trisim import backends, nestml


def initial_values(backend_name):
    """The first recorded membrane potential of NESTML cells given initial values (PyNN's
    ``initialize``)."""
    from trisim.nestml import shipped_path
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    cells = sim.Population(3, sim.nestml_cell_type(shipped_path("iaf_cond_exp"))())
    cells.initialize(V_m=np.array([-61.5, -52.25, -66.0]))
    cells.record("V_m")
    sim.run(1.0)
    return np.asarray(cells.get_data().segments[0].analogsignals[0].magnitude)[0].tolist()


def parameters_set_between_runs(backend_name, change="yes"):
    """Spike times of a driven NESTML iaf_psc_exp over two runs, with its membrane and
    synaptic time constants changed between them (``change``): the model's internals
    (propagators) must follow, as NEST recomputes them."""
    from trisim.nestml import shipped_path
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    cell = sim.Population(1, sim.nestml_cell_type(shipped_path("iaf_psc_exp"))(I_e=0.4))
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(5.0, 200.0, 7.0)))
    sim.Projection(source, cell, sim.IndexConnector([0], [0]),
                   sim.StaticSynapse(weight=0.3, delay=1.0), receptor_type="exc_spikes")
    cell.record("spikes")
    sim.run(100.0)
    if change == "yes":
        cell.set(tau_m=20.0, tau_syn_exc=1.0)
    sim.run(100.0)
    times = cell.get_data().segments[0].spiketrains[0].magnitude.tolist()
    sim.end()
    return times


def per_connection_parameters(backend_name):
    """One spike through three Tsodyks-Markram connections with U given per connection and
    tau_rec the same for all: each cell's conductance jump (in weights), the values read back,
    and on Brian2 which values are stored once, and the values of one of them after setting
    values that differ."""
    from trisim import nestml
    sim = backends.load(backend_name)
    dt, weight, tau_syn = 0.1, 0.001, 5.0
    sim.setup(timestep=dt, min_delay=dt, rng_seed=1)
    synapse = sim.nestml_synapse_type(nestml.path("tsodyks_markram_synapse"))
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    cells = sim.Population(3, sim.IF_cond_exp(v_thresh=1000.0, tau_syn_E=tau_syn))
    projection = sim.Projection(
        source, cells, sim.IndexConnector([0, 0, 0], [0, 1, 2]),
        synapse(weight=weight, delay=dt, U=np.array([0.2, 0.5, 0.8]), tau_rec=300.0),
        receptor_type="excitatory")
    cells.record("gsyn_exc")
    sim.run(8.0)
    g = np.asarray(cells.get_data().segments[0].analogsignals[0].magnitude)
    result = {"jumps": (np.max(g[1:] - g[:-1] * np.exp(-dt / tau_syn), axis=0) / weight).tolist(),
              "read": [[float(x) for x in row]
                       for row in sorted(projection.get(["U", "tau_rec"], format="list",
                                                     with_address=False))]}
    if backend_name == "brian2":
        synapses = projection._brian2_synapses[0][0]
        result["stored_once"] = {name: bool(synapses.variables[name].scalar)
                                 for name in ("U", "tau_rec", "weight")}
        result["delay_stored_once"] = bool(synapses.pre.variables["delay"].scalar)
        projection.set(tau_rec=sim.RandomDistribution("uniform", (100.0, 200.0)))
        result["set_tau_rec"] = [row[0] for row in projection.get(["tau_rec"], format="list",
                                                                   with_address=False)]
        result["set_stored_once"] = bool(synapses.variables["tau_rec"].scalar)
    sim.end()
    return result


def delays_set_after_creation(backend_name):
    """When one spike at 5 ms reaches a NESTML cell through a connection created with a 3 ms
    delay, and through one created with 1 ms and then set to 3 ms (Projection.set): by a
    Tsodyks-Markram synapse (cells 0, 1) and a static one (cells 2, 3). Also the delays read
    back, and on Brian2 the error for a synapse with a variable of the cell's (U) and the
    delays read back after setting differing delays on a projection created with one delay."""
    from trisim import nestml
    from trisim.errors import BackendError
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    synapse = sim.nestml_synapse_type(nestml.path("tsodyks_markram_synapse"))
    cell = sim.nestml_cell_type(nestml.path("wang_buzsaki_neuron"))
    izhikevich = sim.nestml_cell_type(nestml.path("striatal_msn_neuron"))
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    cells = sim.Population(5, cell())  # the last has no input: the others leave it on arrival
    result = {}
    for first, kind in ((0, synapse), (2, sim.StaticSynapse)):
        sim.Projection(source, cells, sim.IndexConnector([0], [first]),
                       kind(weight=0.001, delay=3.0), receptor_type="gaba_spikes")
        later = sim.Projection(source, cells, sim.IndexConnector([0], [first + 1]),
                               kind(weight=0.001, delay=1.0), receptor_type="gaba_spikes")
        later.set(delay=3.0)
        result.setdefault("delays", []).append(float(np.nanmax(later.get("delay",
                                                                         format="array"))))
    cells.record("V_m")
    sim.run(12.0)
    signal = cells.get_data().segments[0].analogsignals[0]
    times, v = signal.times.rescale("ms").magnitude, signal.magnitude.T
    result["arrivals"] = [float(times[np.argmax(v[cell] != v[4])]) for cell in range(4)]
    if backend_name == "brian2":
        both = sim.Projection(source, cells, sim.IndexConnector([0, 0], [0, 1]),
                              synapse(weight=0.001, delay=1.0), receptor_type="gaba_spikes")
        both.set(delay=np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]))
        result["differing_delays"] = sorted(both.get("delay", format="list",
                                                     with_address=False))
        try:
            sim.Projection(source, sim.Population(1, izhikevich()), sim.IndexConnector([0], [0]),
                           synapse(weight=0.001, delay=1.0), receptor_type="ampa_spikes")
        except BackendError as error:
            result["name_error"] = str(error)
    sim.end()
    return result


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


def paired_while_the_generator_changes(backend_name):
    """A pair STDP synapse onto the probe cell built with it, in a process that builds both
    (run it with an empty TRISIM_CACHE), while the generator's files change between the cell
    type and the synapse type (as a checkout during a long first build does): whether the
    process built its models, and the weight before and after pre-post pairs."""
    from pathlib import Path

    from trisim.codegen import cache
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    synapse_path = nestml.path("stdp_pair_synapse")
    cell = sim.nestml_cell_type(nestml.path("synapse_probe_neuron"), synapses=[synapse_path])
    package, read_bytes = Path(cache.__file__).parent, Path.read_bytes
    Path.read_bytes = lambda self: read_bytes(self) + (b"# edited" if package in self.parents
                                                         else b"")
    synapse = sim.nestml_synapse_type(synapse_path)
    post = sim.Population(1, cell())
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0, 30.0, 50.0]))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=[15.0, 35.0, 55.0]))
    sim.Projection(drive, post, sim.IndexConnector([0], [0]),
                   sim.StaticSynapse(weight=1.0, delay=0.1), receptor_type="drive")
    parameters = PLASTIC_PARAMETERS["stdp_pair_synapse"]
    projection = sim.Projection(pre, post, sim.IndexConnector([0], [0]),
                                synapse(delay=1.0, **parameters), receptor_type="in_spikes")
    sim.run(60.0)
    weight = float(projection.get("weight", format="array")[0, 0])
    sim.end()
    return {"built": len(cache.built_here), "weights": [parameters["weight"], weight]}


def plastic_delays(backend_name):
    """STDP (stdp_pair_synapse) onto cells driven to fire at known times (PLASTIC_PRE,
    PLASTIC_DRIVE), one cell per way of giving the connection its delay of 3 ms: at creation,
    by ``Projection.set`` and through a Connection (each made with 1 ms first), and one left
    at 1 ms. Returns each one's weight after the run and its delay read back."""
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    synapse_path = nestml.path("stdp_pair_synapse")
    cell = sim.nestml_cell_type(nestml.path("synapse_probe_neuron"), synapses=[synapse_path])
    synapse = sim.nestml_synapse_type(synapse_path)
    ways = ("at creation", "by set", "through a connection", "left at 1 ms")
    post = sim.Population(len(ways), cell())
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=PLASTIC_PRE))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=PLASTIC_DRIVE))
    sim.Projection(drive, post, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=1.0, delay=0.1), receptor_type="drive")
    parameters = PLASTIC_PARAMETERS["stdp_pair_synapse"]
    projections = []
    for cell_index, way in enumerate(ways):
        projection = sim.Projection(
            pre, post, sim.IndexConnector([0], [cell_index]),
            synapse(delay=3.0 if way == "at creation" else 1.0, **parameters),
            receptor_type="in_spikes")
        if way == "by set":
            projection.set(delay=3.0)
        elif way == "through a connection":
            next(iter(projection.connections)).delay = 3.0
        projections.append(projection)
    sim.run(310.0)
    result = {way: [float(projection.get("weight", format="list")[0][2]),
                    float(projection.get("delay", format="list")[0][2])]
              for way, projection in zip(ways, projections)}
    sim.end()
    return result


SCENARIOS = {"plasticity": plasticity, "transmission": transmission,
             "stochastic_release": stochastic_release, "initial_values": initial_values,
             "per_connection_parameters": per_connection_parameters,
             "delays_set_after_creation": delays_set_after_creation,
             "plastic_delays": plastic_delays,
             "parameters_set_between_runs": parameters_set_between_runs,
             "paired_while_the_generator_changes": paired_while_the_generator_changes}

if __name__ == "__main__":
    name, backend_name, *arguments = sys.argv[1:]
    print(json.dumps(SCENARIOS[name](backend_name, *arguments)))
