"""Seed 000: CA3 replay with inhibitory plasticity (Liao et al., Nat Neurosci 2024).

260 pyramidal cells (place cells with probability 0.8, cue cells otherwise) and 30 PV basket
cells, driven on a virtual linear track by mossy fibres (place fields), medial entorhinal grid
cells, lateral entorhinal cue cells (a cue moved every lap, onto cue cells) and background
input. Training laps let the synapses learn (symmetric nearest-spike STDP on E->E, PVBC->PYR,
MF, MEC and LEC by default; switches per pathway); the offline phase replays the trained
circuit under random input. The published claim: with PVBC->PYR plasticity, cue cells are
suppressed during spontaneous population events and place and cue firing are negatively
correlated offline; with E->E plasticity alone they are not.

- :mod:`.circuit`: cells, synapses and the parameters (``configs/ca3*.yaml``);
- :mod:`.track`: position, rate maps and input spikes; :mod:`.wiring`: connectivity;
- :mod:`.protocol`: training in checkpointed blocks, the offline phase; :mod:`.plasticity`:
  weights read as of a time on every backend.

``trisim run ca3`` runs the configured phase (``phase: training | offline``) through this
model's own ``simulate``; ``trisim run ca3 --resume`` continues an interrupted training run.
"""

from trisim import configs
from trisim.errors import ConfigError
from trisim.pynn_models.ca3 import circuit, protocol, wiring
from trisim.pynn_models.ca3.circuit import Parameters
from trisim.pynn_models.ca3.experiments import EXPERIMENTS

DESCRIPTION = "CA3 place/cue circuit with plastic inhibition: training laps, offline replay " \
              "(Liao et al. 2024)"
TRACES = (protocol.TRACE,)
CONFIGS = configs.DIRECTORY

__all__ = ["DESCRIPTION", "TRACES", "CONFIGS", "Parameters", "build", "simulate", "size",
           "EXPERIMENTS"]


def build(sim, parameters, simulation, rng):
    """The circuit of the configured phase in one piece (no blocks, no weight read-outs):
    its two cell populations by name. ``trisim run`` uses :func:`simulate` instead."""
    del rng  # every draw comes from the seed, in numbered streams (see wiring and track)
    if parameters.phase == "protocol":
        raise ConfigError("phase: build makes one phase; a protocol run is simulate's")
    p = circuit.scaled(parameters, simulation.scale)
    network = circuit.build_network(sim, p, simulation, simulation.seed,
                                    protocol.offline_weights(p))
    return network.populations


def simulate(sim, parameters, simulation, run):
    """The configured phase, in checkpointed blocks (see :mod:`.protocol`)."""
    checkpoint = run.stem.with_name(run.stem.name + ".checkpoint.npz")
    return protocol.simulate(sim, parameters, simulation, checkpoint, run.resume,
                             run.progress)


def size(parameters, simulation):
    """Cells (inputs included) and at most as many connections as the in-degrees give (every
    excitatory connection onto a pyramidal cell has an NMDA synapse too)."""
    sizes = circuit.population_sizes(parameters, simulation.scale)
    connections = 0
    for pathway, (_, target, _) in wiring.PATHWAYS.items():
        k = getattr(parameters, f"k_{pathway}")
        connections += k * sizes[target] * (2 if pathway in circuit.NMDA_PATHWAYS else 1)
    return {"cells": sum(sizes.values()), "connections": connections}
