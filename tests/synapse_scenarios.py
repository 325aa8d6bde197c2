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
    and on Brian2 which parameters are stored once and what setting differing values to one
    of those says."""
    from trisim import nestml
    from trisim.errors import BackendError
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
        variables = projection._brian2_synapses[0][0].variables
        result["stored_once"] = {name: bool(variables[name].scalar) for name in ("U", "tau_rec")}
        try:
            projection.set(tau_rec=sim.RandomDistribution("uniform", (100.0, 200.0)))
        except BackendError as error:
            result["set_error"] = str(error)
    sim.end()
    return result


def delays_set_after_creation(backend_name):
    """When one spike at 5 ms reaches a NESTML cell through a connection created with a 3 ms
    delay, and through one created with 1 ms and then set to 3 ms (Projection.set): by a
    Tsodyks-Markram synapse (cells 0, 1) and a static one (cells 2, 3). Also the delays read
    back, and the errors for what a backend refuses: on NEURON, new delays on a synapse with a
    postsynaptic port (pair STDP);
    on Brian2, differing delays on a projection created with one delay, and a synapse with a
    variable of the cell's (U)."""
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
        try:
            later.set(delay=3.0)
        except BackendError as error:
            result["set_error"] = str(error)
        result.setdefault("delays", []).append(float(np.nanmax(later.get("delay",
                                                                         format="array"))))
    cells.record("V_m")
    sim.run(12.0)
    signal = cells.get_data().segments[0].analogsignals[0]
    times, v = signal.times.rescale("ms").magnitude, signal.magnitude.T
    result["arrivals"] = [float(times[np.argmax(v[cell] != v[4])]) for cell in range(4)]
    if backend_name == "neuron":
        stdp = sim.nestml_synapse_type(nestml.path("stdp_pair_synapse"))
        try:
            sim.Projection(source, cells, sim.IndexConnector([0], [0]), stdp(delay=1.0),
                           receptor_type="gaba_spikes").set(delay=3.0)
        except BackendError as error:
            result["set_error"] = str(error)
    if backend_name == "brian2":
        both = sim.Projection(source, cells, sim.IndexConnector([0, 0], [0, 1]),
                              synapse(weight=0.001, delay=1.0), receptor_type="gaba_spikes")
        try:
            both.set(delay=np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]))
        except BackendError as error:
            result["set_error"] = str(error)
        try:
            sim.Projection(source, sim.Population(1, izhikevich()), sim.IndexConnector([0], [0]),
                           synapse(weight=0.001, delay=1.0), receptor_type="ampa_spikes")
        except BackendError as error:
            result["name_error"] = str(error)
    sim.end()
    return result


SCENARIOS = {**synapse_probe.SCENARIOS, "initial_values": initial_values,
             "per_connection_parameters": per_connection_parameters,
             "delays_set_after_creation": delays_set_after_creation,
             "parameters_set_between_runs": parameters_set_between_runs}

if __name__ == "__main__":
    name, backend_name, *arguments = sys.argv[1:]
    print(json.dumps(SCENARIOS[name](backend_name, *arguments)))
