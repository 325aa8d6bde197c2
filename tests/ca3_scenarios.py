"""Scenarios of the CA3 model run in a fresh process per backend.

``python tests/ca3_scenarios.py NAME BACKEND [ARGUMENT ...]`` prints the result as JSON.
"""

import json
import sys
import weakref

import numpy as np

from trisim import backends, model, nestml
from trisim.pynn_models.ca3 import circuit, plasticity, protocol, wiring
from trisim.quiet import quiet_stdout

#: A presynaptic train and a drive that makes the pyramidal cell fire around it, so that
#: pre-post and post-pre pairs of several intervals occur, and reads at times between events.
READOUT_PRE = [20.0, 45.0, 52.0, 90.0, 130.0, 132.0, 170.0, 240.0, 247.0, 300.0]
READOUT_DRIVE = [10.0, 40.0, 60.0, 95.0, 128.0, 165.0, 180.0, 245.0, 250.0, 290.0, 330.0]
READOUT_STOPS = [30.0, 47.0, 62.5, 100.0, 131.0, 140.0, 185.0, 246.0, 260.0, 340.0]
READOUT_SYNAPSE = {"weight": 0.001, "A": 0.0004, "tau": 20.0, "Wmax": 0.0027}
READOUT_DELAY = 1.0


def readout(backend_name):
    """The plastic synapse's state read at each stop, and the postsynaptic spikes."""
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    stdp = nestml.path("ca3_stdp_synapse")
    cell = sim.nestml_cell_type(nestml.path("ca3_pyramidal_neuron"), synapses=[stdp])
    post = sim.Population(1, cell())
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=READOUT_PRE))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=READOUT_DRIVE))
    sim.Projection(drive, post, sim.IndexConnector([0], [0]),
                   sim.StaticSynapse(weight=0.05, delay=1.0), receptor_type="AMPA")
    projection = sim.Projection(pre, post, sim.IndexConnector([0], [0]),
                                sim.nestml_synapse_type(stdp)(delay=READOUT_DELAY,
                                                              **READOUT_SYNAPSE),
                                receptor_type="AMPA")
    post.record("spikes")
    reads = []
    for stop in READOUT_STOPS:
        sim.run_until(stop)
        row = projection.get(list(plasticity.STATE), format="list", with_address=False)
        reads.append([float(x) for x in row[0]])
    spikes = post.get_data().segments[0].spiketrains[0].magnitude.tolist()
    sim.end()
    return {"reads": reads, "post": spikes}


def blocks_alive(backend_name, *overrides):
    """The protocol run with config ``overrides``: at each block's set-up, how many
    populations of the blocks before it are still alive."""
    config = model.load("ca3").config(overrides=overrides)
    sim = backends.load(backend_name)
    built, alive = [], []
    build_network, setup = circuit.build_network, protocol.setup

    def counting_setup(*arguments):
        alive.append(sum(ref() is not None for ref in built))
        return setup(*arguments)

    def recording_build(*arguments, **keywords):
        network = build_network(*arguments, **keywords)
        built.extend(weakref.ref(p) for p in network.populations.values())
        return network

    circuit.build_network, protocol.setup = recording_build, counting_setup
    protocol.simulate(sim, config.parameters, config.simulation)
    sim.end()
    return {"alive": alive}


def trained(p, seed):
    """Made-up trained weights of every plastic pathway (pathway -> (weights, sources,
    targets), as a training run's file gives them): each connection its own value, between
    1 and 3 times its initial weight."""
    connections, place, _, factors = wiring.draw(p, circuit.population_sizes(p), seed)
    rng = np.random.default_rng(seed)
    found = {}
    for pathway in circuit.PLASTIC_PATHWAYS:
        links = connections[pathway]
        w0 = circuit.initial_weights(p, pathway, links, place, factors)
        found[pathway] = (w0 * rng.uniform(1.0, 3.0, len(links)), links.sources, links.targets)
    return found


def offline_weights(backend_name, *overrides):
    """The weights the synapses of an offline network hold, built with config ``overrides``
    from :func:`trained` weights: pathway -> weight per connection (uS)."""
    config = model.load("ca3").config(overrides=overrides)
    p, seed = config.parameters, config.simulation.seed
    sim = backends.load(backend_name)
    protocol.setup(sim, config.simulation)
    network = circuit.build_network(sim, p, config.simulation, seed, trained(p, seed))
    read = {pathway: circuit.read_weights(network, pathway).tolist()
            for pathway, made in network.projections.items() if made}
    sim.end()
    return read


SCENARIOS = {"readout": readout, "blocks_alive": blocks_alive, "offline_weights": offline_weights}

if __name__ == "__main__":
    name, backend_name, *arguments = sys.argv[1:]
    with quiet_stdout():
        result = SCENARIOS[name](backend_name, *arguments)
    print(json.dumps(result))
