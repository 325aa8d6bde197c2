"""The CA3 circuit on a PyNN backend: cells, synapses, input sources and their connections.

Reference circuit: the biophysical model of Liao et al. (2024) (soltesz-lab/ca3_biophysical),
with point cells. Pyramidal cells (PYR) and PV basket cells (PVBC) are the NESTML cells
``ca3_pyramidal_neuron`` and ``ca3_basket_neuron``. Every excitatory connection onto a PYR has
an AMPA synapse (plastic or static) and an NMDA synapse with the same initial weight and its own
short-term plasticity (``ca3_nmda_synapse``); PVBC -> PYR is GABA-A. Plastic pathways use
``ca3_stdp_synapse`` (nearest-spike symmetric potentiation, capped at ``k_cap`` times the
initial weight); which pathways learn is a config switch per pathway.

The published weights are those of dendritic synapses of multi-compartment cells; on a point
cell the same conductance acts at the soma. Each pathway's weight (and its potentiation per
pairing, so that learning keeps its size relative to the weight) is the published value times a
point-cell gain ``gain_<pathway>``; each pathway's potentiation per pairing is also scaled by
its ``learning_gain_<pathway>``: the published potentiation counts pairings with the spikes a
synapse's own dendritic location saw, which on a point cell are the soma's. The defaults are
the calibration (``docs/models/ca3.md`` says against what, and what it measured).

Phases: ``training`` (inputs of the virtual track, plastic synapses as configured) and
``offline`` (the offline inputs, every synapse static at the weights of a training checkpoint,
``weights``, or at its initial weight without one; with ``shuffle_PYR_PYR_offline`` the
PYR -> PYR weights permuted among its connections, :func:`shuffled`).
"""

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from trisim import nestml
from trisim.config import Delay, Probability, Strict, quantity
from trisim.errors import ConfigError
from trisim.pynn_models.ca3 import track, wiring

#: Pathways that may learn: their ``plastic_<pathway>`` switch and STDP values.
PLASTIC_PATHWAYS = ("PYR_PYR", "PVBC_PYR", "MF_PYR", "MEC_PYR", "LEC_PYR", "PYR_PVBC")
#: Excitatory pathways onto PYR: each connection also has an NMDA synapse.
NMDA_PATHWAYS = ("PYR_PYR", "MF_PYR", "MEC_PYR", "LEC_PYR", "background_PYR")
#: The receptor port of each pathway (the background's per connection: wiring.BACKGROUND_PORTS).
PORTS = {"PYR_PYR": "AMPA", "PVBC_PYR": "GABA_A", "MF_PYR": "AMPA_mf", "MEC_PYR": "AMPA_lm",
         "LEC_PYR": "AMPA_lm", "PYR_PVBC": "AMPA", "PVBC_PVBC": "GABA_A",
         "MF_PVBC": "AMPA_ext", "MEC_PVBC": "AMPA_ext", "LEC_PVBC": "AMPA_ext"}
POPULATIONS = ("PYR", "PVBC")
CELL_FILES = {"PYR": "ca3_pyramidal_neuron", "PVBC": "ca3_basket_neuron"}


class Parameters(Strict):
    """The circuit and its track; defaults are the published values (uS, ms, cm, Hz)."""

    phase: Literal["training", "offline", "protocol"] = Field(
        "training", description="what a run simulates: training laps, the offline phase, or "
        "both (protocol)")
    weights: str = Field("", description="offline: a training run's .nix file whose weights "
                         "the synapses keep; empty: initial weights")
    weights_lap: int = Field(-1, description="offline and protocol: the training lap whose "
                             "weights are used (-1: the last read)")
    offline_laps: int = Field(30, ge=0, description="protocol: laps of the offline phase")
    shuffle_PYR_PYR_offline: bool = Field(
        False, description="offline and protocol: the offline phase's PYR -> PYR weights "
        "permuted among the PYR -> PYR connections (drawn from the run's seed)")
    checkpoint_laps: int = Field(5, ge=1, description="training: laps between weight "
                                 "read-outs (and resume points)")
    record_inputs: bool = Field(True, description="save the input cells' spikes")
    # populations
    n_PYR: int = Field(260, ge=2)
    n_PVBC: int = Field(30, ge=1)
    n_MF: int = Field(400, ge=1)
    n_MEC: int = Field(200, ge=1)
    n_LEC: int = Field(250, ge=1)
    n_background: int = Field(2000, ge=1)
    place_fraction: Probability = 0.8
    # in-degrees (per target) and topography
    k_PYR_PYR: int = Field(20, ge=0)
    k_PVBC_PYR: int = Field(20, ge=0)
    k_MF_PYR: int = Field(32, ge=0)
    k_MEC_PYR: int = Field(20, ge=0)
    k_LEC_PYR: int = Field(20, ge=0)
    k_background_PYR: int = Field(160, ge=0)
    k_PYR_PVBC: int = Field(140, ge=0)
    k_PVBC_PVBC: int = Field(4, ge=0)
    k_MF_PVBC: int = Field(840, ge=0)
    k_MEC_PVBC: int = Field(8, ge=0)
    k_LEC_PVBC: int = Field(8, ge=0)
    sigma2_recurrent: float = Field(0.0125, gt=0, description="PYR -> PYR: exp(-d^2/this)")
    sigma2_afferent: float = Field(0.00075, gt=0, description="MF, MEC -> PYR")
    edge: float = Field(0.1, ge=0, le=0.5)
    edge_factor: Probability = 0.75
    # weights: published (dendritic) values and the point-cell gains
    w_PYR_PYR: quantity("uS") = 1.8e-3
    w_PVBC_PYR: quantity("uS") = 9.0e-4
    w_MF_PYR: quantity("uS") = 1.0e-4
    w_MEC_PYR: quantity("uS") = 7.5e-5
    w_LEC_PYR: quantity("uS") = 2.5e-3
    w_background_PYR: quantity("uS") = 4.275e-4
    w_PYR_PVBC: quantity("uS") = 5.0e-2
    w_PVBC_PVBC: quantity("uS") = 9.0e-5
    w_MF_PVBC: quantity("uS") = 1.7e-4
    w_MEC_PVBC: quantity("uS") = 5.0e-5
    w_LEC_PVBC: quantity("uS") = 6.75e-4
    cue_source_factor: float = Field(0.3, ge=0, description="PYR -> PYR from cue cells")
    # weight factors of the entorhinal and mossy fibre inputs by target class (the published
    # weight "gradient"): mean onto place and onto cue cells, scatter between target cells
    place_factor_MF_PYR: float = Field(1.0, ge=0)
    cue_factor_MF_PYR: float = Field(0.0, ge=0)
    factor_sd_MF_PYR: float = Field(0.0, ge=0)
    place_factor_MEC_PYR: float = Field(1.0, ge=0)
    cue_factor_MEC_PYR: float = Field(0.0, ge=0)
    factor_sd_MEC_PYR: float = Field(0.0, ge=0)
    place_factor_LEC_PYR: float = Field(0.0, ge=0)
    cue_factor_LEC_PYR: float = Field(1.0, ge=0)
    factor_sd_LEC_PYR: float = Field(0.0, ge=0)
    gain_PYR_PYR: float = Field(1.0, ge=0)
    gain_PVBC_PYR: float = Field(1.0, ge=0)
    gain_MF_PYR: float = Field(3.0, ge=0)
    gain_MEC_PYR: float = Field(1.0, ge=0)
    gain_LEC_PYR: float = Field(2.0, ge=0)
    gain_background_PYR: float = Field(0.3, ge=0)
    gain_background_PYR_offline: float = Field(0.33, ge=0, description="the background's "
                                               "gain in the offline phase")
    gain_PYR_PVBC: float = Field(0.6, ge=0)
    gain_PVBC_PVBC: float = Field(1.0, ge=0)
    gain_MF_PVBC: float = Field(0.3, ge=0)
    gain_MEC_PVBC: float = Field(1.0, ge=0)
    gain_LEC_PVBC: float = Field(3.0, ge=0)
    delay: Delay = 1.0
    # plasticity: switch, potentiation per pairing (published value), window, cap (x w0)
    plastic_PYR_PYR: bool = True
    plastic_PVBC_PYR: bool = True
    plastic_MF_PYR: bool = True
    plastic_MEC_PYR: bool = True
    plastic_LEC_PYR: bool = True
    plastic_PYR_PVBC: bool = False
    A_PYR_PYR: quantity("uS") = 3.0e-4
    A_PVBC_PYR: quantity("uS") = 6.25e-5
    A_MF_PYR: quantity("uS") = 1.25e-5
    A_MEC_PYR: quantity("uS") = 7.5e-5
    A_LEC_PYR: quantity("uS") = 7.5e-5
    A_PYR_PVBC: quantity("uS") = 4.5e-4
    tau_PYR_PYR: quantity("ms") = 65.0
    tau_PVBC_PYR: quantity("ms") = 65.0
    tau_MF_PYR: quantity("ms") = 17.0
    tau_MEC_PYR: quantity("ms") = 65.0
    tau_LEC_PYR: quantity("ms") = 65.0
    tau_PYR_PVBC: quantity("ms") = 65.0
    k_cap_PYR_PYR: float = Field(20.0, ge=1)
    k_cap_PVBC_PYR: float = Field(7.0, ge=1)
    k_cap_MF_PYR: float = Field(20.0, ge=1)
    k_cap_MEC_PYR: float = Field(12.0, ge=1)
    k_cap_LEC_PYR: float = Field(20.0, ge=1)
    k_cap_PYR_PVBC: float = Field(20.0, ge=1)
    learning_gain_PYR_PYR: float = Field(0.15, ge=0)
    learning_gain_PVBC_PYR: float = Field(0.04, ge=0)
    learning_gain_MF_PYR: float = Field(0.04, ge=0)
    learning_gain_MEC_PYR: float = Field(0.04, ge=0)
    learning_gain_LEC_PYR: float = Field(0.4, ge=0)
    learning_gain_PYR_PVBC: float = Field(0.04, ge=0)
    # NMDA short-term plasticity
    nmda_U: float = Field(0.3, gt=0, le=1)
    nmda_tau_D: quantity("ms") = 800.0
    nmda_tau_F: quantity("ms") = 800.0
    # track
    track_length: quantity("cm") = 200.0
    speed: quantity("cm/s") = 30.0
    bin_size: quantity("cm") = 0.1
    lead_in: quantity("ms") = 500.0
    lead_in_rate: quantity("Hz") = 2.0
    field_peak: quantity("Hz") = 20.0
    field_floor: quantity("Hz") = 0.1
    field_diameter: quantity("cm") = 25.0
    grid_gap: quantity("cm") = 50.0
    lec_cue_fraction: Probability = 1.0
    lec_noise_rate: quantity("Hz") = 1.0
    background_rate: quantity("Hz") = 3.0
    n_cue_positions: int = Field(88, ge=1)
    cue_margin: quantity("cm") = 12.5
    dead_time: quantity("ms") = 3.0
    # offline inputs
    offline_spatial_laps: int = Field(1, ge=0)
    offline_mf_rate: quantity("Hz") = 1.0
    offline_ec_rate: quantity("Hz") = 0.1
    offline_ec_rate_sd: quantity("Hz") = 0.1
    offline_grid_floor: quantity("Hz") = 1.0
    offline_background_rate: quantity("Hz") = 1.33


def population_sizes(p, scale=1.0):
    """Sizes of the cell populations and input classes at ``scale``."""
    names = POPULATIONS + track.CLASSES
    return {name: max(1 if name != "PYR" else 2, int(round(getattr(p, f"n_{name}") * scale)))
            for name in names}


def scaled(p, scale):
    """``p`` with its population sizes at ``scale`` (in-degrees stay)."""
    return p.model_copy(update={f"n_{name}": size
                                for name, size in population_sizes(p, scale).items()})


def weight(p, pathway):
    """Initial weight (uS) of a pathway on the point cells.

    The background has a gain of its own offline: its published synapses are spread over
    six dendritic layers, whose summed drive on the soma of the published cells need not
    scale with the input rate as one point-cell conductance does (3 Hz in training, 1.33 Hz
    offline), so each phase's gain is calibrated against that phase's published activity.
    """
    if pathway == "background_PYR" and p.phase == "offline":
        return p.w_background_PYR * p.gain_background_PYR_offline
    return getattr(p, f"w_{pathway}") * getattr(p, f"gain_{pathway}")


def potentiation(p, pathway):
    """Potentiation per pairing 0 ms apart (uS) of a plastic pathway on the point cells: the
    published value, scaled with the pathway's weight (its gain) and by its
    ``learning_gain_<pathway>``."""
    return (getattr(p, f"A_{pathway}") * getattr(p, f"gain_{pathway}")
            * getattr(p, f"learning_gain_{pathway}"))


def initial_weights(p, pathway, connections, place, factors):
    """Initial weight of each connection of ``pathway`` (uS)."""
    w = np.full(len(connections), weight(p, pathway))
    if pathway == "PYR_PYR":
        w[~place[connections.sources]] *= p.cue_source_factor
    if pathway in factors:
        w *= factors[pathway]
    return w


def is_plastic(p, pathway):
    return p.phase == "training" and getattr(p, f"plastic_{pathway}", False)


def _nestml(name):
    return nestml.path(name)


def cell_types(sim):
    """The two NESTML cell types, compiled (on NEST) with the plastic synapse they receive."""
    stdp = _nestml("ca3_stdp_synapse")
    return {population: sim.nestml_cell_type(_nestml(CELL_FILES[population]), synapses=[stdp])
            for population in POPULATIONS}


class Network:
    """What :func:`build` made: populations, projections and the data they were made from."""

    def __init__(self, populations, inputs, projections, connections, place, layers, trains,
                 cues, weights0):
        self.populations = populations
        self.inputs = inputs
        self.projections = projections  # pathway -> list of (Projection, connection indices)
        self.connections = connections
        self.place = place
        self.layers = layers
        self.trains = trains
        self.cues = cues
        self.weights0 = weights0  # pathway -> initial weight per connection


def build_network(sim, p, simulation, seed, weights=None, t_offset=0.0, duration=None):
    """Create the circuit on ``sim``; return a :class:`Network`.

    ``weights`` (pathway -> weight per connection, uS) replaces the initial weights where
    given: the AMPA/GABA synapse transmits it (static offline, or plastic from it), the NMDA
    synapse keeps the initial weight, as in the published model. The inputs are the phase's
    trains from ``t_offset`` to ``t_offset + duration`` (ms), shifted to start at 0.
    """
    duration = simulation.duration if duration is None else duration
    types = cell_types(sim)
    stdp = sim.nestml_synapse_type(_nestml("ca3_stdp_synapse"))
    nmda = sim.nestml_synapse_type(_nestml("ca3_nmda_synapse"))
    sizes = population_sizes(p)
    connections, place, layers, factors = wiring.draw(p, sizes, seed)
    populations = {name: sim.Population(sizes[name], types[name](), label=name)
                   for name in POPULATIONS}
    all_trains, cues = track.draw_phase(p, p.phase, seed, t_offset + duration, simulation.dt)
    trains = {name: [_window(train, t_offset, duration) for train in all_trains[name]]
              for name in track.CLASSES}
    from pyNN.parameters import Sequence  # scipy with it: not for commands that only list
    inputs = {name: sim.Population(len(trains[name]), sim.SpikeSourceArray(
        spike_times=[Sequence(train) for train in trains[name]]), label=name)
        for name in track.CLASSES}
    cells = {**populations, **inputs}
    projections, weights0 = {}, {}
    for pathway, (source, target, _) in wiring.PATHWAYS.items():
        links = connections[pathway]
        w0 = initial_weights(p, pathway, links, place, factors)
        weights0[pathway] = w0
        if len(links) == 0 or not np.any(w0):
            projections[pathway] = []
            continue
        w = w0 if weights is None or pathway not in weights else \
            _given_weights(weights[pathway], links, pathway)
        if pathway == "PYR_PYR" and p.phase == "offline" and p.shuffle_PYR_PYR_offline:
            w = shuffled(w, seed)
        ports = (np.asarray(wiring.BACKGROUND_PORTS)[layers] if pathway == "background_PYR"
                 else np.full(len(links), PORTS[pathway]))
        made = []
        # one projection per port, in the ports' sorted order: in the order the draw first
        # meets them, the seed decided which Brian2 Synapses group each port's code went to
        # (their names number them), and a run of another seed compiled it again
        for port in np.unique(ports):
            index = np.flatnonzero(ports == port)
            connector = sim.IndexConnector(links.sources[index], links.targets[index])
            if is_plastic(p, pathway):
                synapse = stdp(weight=w[index], delay=p.delay,
                               A=potentiation(p, pathway),
                               tau=getattr(p, f"tau_{pathway}"),
                               Wmax=getattr(p, f"k_cap_{pathway}") * w0[index])
            else:
                synapse = sim.StaticSynapse(weight=w[index], delay=p.delay)
            made.append((sim.Projection(cells[source], cells[target], connector, synapse,
                                        receptor_type=port, label=f"{pathway} {port}"), index))
        if pathway in NMDA_PATHWAYS:
            sim.Projection(cells[source], cells[target],
                           sim.IndexConnector(links.sources, links.targets),
                           nmda(weight=w0, delay=p.delay, U=p.nmda_U, tau_D=p.nmda_tau_D,
                                tau_F=p.nmda_tau_F),
                           receptor_type="NMDA", label=f"{pathway} NMDA")
        projections[pathway] = made
    return Network(populations, inputs, projections, connections, place, layers, trains, cues,
                   weights0)


def shuffled(w, seed):
    """``w``, one weight per connection, permuted among the connections with the run's seed.

    The control ``shuffle_PYR_PYR_offline``: the offline phase keeps the values of the trained
    E->E weights and loses which connection holds which (every connection keeps its source,
    target and delay; multapses are permuted as connections of their own). numpy draws it,
    so every backend gets the same permutation.
    """
    return np.random.default_rng([seed, 13]).permutation(w)


def _given_weights(given, links, pathway):
    """Weights given for a pathway: an array, or (weights, sources, targets) as a training run
    saved them, which must be this network's connections."""
    if isinstance(given, tuple):
        given, sources, targets = given
        if not (np.array_equal(sources, links.sources)
                and np.array_equal(targets, links.targets)):
            raise ConfigError(f"weights: the {pathway} weights were trained on other "
                              "connections (another seed or other wiring parameters)")
    given = np.asarray(given, dtype=float)
    if given.shape != (len(links),):
        raise ConfigError(f"weights: {given.size} {pathway} weights for {len(links)} "
                          "connections")
    return given


def _window(train, t_offset, duration):
    """Spikes of ``train`` in (t_offset, t_offset + duration), shifted by ``-t_offset``."""
    inside = train[(train > t_offset + 1e-9) & (train < t_offset + duration - 1e-9)]
    return np.round(inside - t_offset, 10)


def read_weights(network, pathway):
    """Current weight (uS) of every connection of a pathway, in the order of its
    connections (multapses each their own)."""
    w = np.array(network.weights0[pathway], dtype=float)
    for projection, index in network.projections[pathway]:
        w[index] = connection_values(projection, "weight", index.size)
    return w


def connection_values(projection, name, n):
    """One value per connection of ``projection``, in the order its connector listed them.

    PyNN lists connections by target (or by source); repeated (source, target) pairs are
    multapses, told apart by their order of creation, which every backend keeps.
    """
    rows = np.array(projection.get(name, format="list", with_address=True, gather="all"),
                    dtype=float).reshape(-1, 3)
    if rows.shape[0] != n:
        raise RuntimeError(f"{projection.label}: read {rows.shape[0]} connections of {n}")
    connector = projection._connector
    order = np.lexsort((np.arange(n), connector.targets, connector.sources))
    read_order = np.lexsort((np.arange(n), rows[:, 1], rows[:, 0]))
    values = np.empty(n)
    values[order] = rows[read_order, 2]
    return values
