"""Seed 003: gamma rhythm by mutual inhibition in an interneuron network (Wang & Buzsaki 1996).

100 Wang-Buzsaki interneurons (``nestml/wang_buzsaki_neuron.nestml``), all-to-all GABA_A
synapses without self-connections, each cell driven by a constant current. Parameters are
written per unit membrane area, as published; the cell model takes absolute values, for a
membrane of ``area``.

The published synapse is driven by the presynaptic voltage (``ds/dt = alpha F(V_pre)(1 - s)
- beta s``); here each presynaptic spike adds the time course one spike produces in that
scheme (the cell's ``gaba_spikes`` port; ``trisim experiment wang_buzsaki derive`` fits it and
plots the match), after ``delay`` from the -20 mV crossing that marks the spike. Each connection has
conductance ``g_syn / n_cells``, as in the published network (total ``g_syn`` over N). With
``saturation`` (the default), the connections are ``nestml/wang_buzsaki_gaba_synapse.nestml``,
which scales each spike's kernel by ``1 - s`` of its presynaptic cell, as the published
``(1 - s)`` factor does; without it, kernels add linearly (a plain static synapse), which
gives more inhibition when cells fire again within a few decay times (2.5% lower population
frequency at the default drive).

Initial state as in the seed: V ~ N(-70, 20) mV, h = 0.6, n = 0.3. The drive is ``I_app``
plus, per cell, a normal deviate of SD ``I_sigma`` (heterogeneous drive).
"""

from functools import partial

import numpy as np
import quantities as pq
from pydantic import Field

from trisim import configs, nestml
from trisim.analysis.fi import FICurve
from trisim.analysis.oscillation import chance_kappa, coherence_kappa, population_frequency
from trisim.analysis.checks import finite_or_none
from trisim.analysis.statistics import firing_rates
from trisim.analysis.summary import spiketrains_by_population
from trisim.analysis.validation import SCALAR, Statistic
from trisim.config import Strict, quantity
from trisim.experiment import Experiment
from trisim.pynn_models.single_cells import fi_experiment

DESCRIPTION = "Wang-Buzsaki interneuron gamma, 100 HH cells, all-to-all GABA (1996)"
TRACES = ("V_m",)
CONFIGS = configs.DIRECTORY  # trisim's own configs folder
POPULATION = "WB"
#: Bin of the binary spike trains of the coherence measure kappa (the published 2 ms).
KAPPA_BIN = 2 * pq.ms
#: Single-cell f-I curve (experiment ``fi``; run and counted as ``configs/wang_buzsaki_fi.yaml``
#: says): drives in uA/cm2.
FI_DRIVES = (0.2, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0)
#: What ``trisim sweep`` plots (keys of the run summary).
SWEEP_STATISTICS = ("model_statistics.population_frequency_hz", "model_statistics.mean_rate_hz",
                    "model_statistics.kappa", "model_statistics.settled.kappa")


class Parameters(Strict):
    """Published values (per unit area); the synapse kernel comes from experiment ``derive``."""

    n_cells: int = Field(100, ge=2)
    area: quantity("cm**2") = 1e-4
    C_m: quantity("uF/cm**2") = 1.0
    g_Na: quantity("mS/cm**2") = 35.0
    g_K: quantity("mS/cm**2") = 9.0
    g_L: quantity("mS/cm**2") = 0.1
    E_Na: quantity("mV") = 55.0
    E_K: quantity("mV") = -90.0
    E_L: quantity("mV") = -65.0
    phi: float = Field(5.0, gt=0, description="temperature factor of the gating kinetics")
    I_app: quantity("uA/cm**2") = 1.0
    I_sigma: quantity("uA/cm**2", ge=0, why="a standard deviation") = 0.0
    g_syn: quantity("mS/cm**2") = 0.1
    E_syn: quantity("mV") = -75.0
    s_amplitude: float = Field(1.0273, ge=0)
    tau_rise: quantity("ms", gt=0) = 0.0871
    tau_decay: quantity("ms", gt=0) = 10.0
    delay: quantity("ms") = 0.05
    saturation: bool = True
    V_spike: quantity("mV") = -20.0
    V_init_mean: quantity("mV") = -70.0
    V_init_sd: quantity("mV", ge=0, why="a standard deviation") = 20.0
    h_init: float = Field(0.6, ge=0, le=1, json_schema_extra={"why": "a gating variable"})
    n_init: float = Field(0.3, ge=0, le=1, json_schema_extra={"why": "a gating variable"})
    settled_after: quantity("ms") = 200.0


def _absolute(density, unit, area, pynn_unit):
    """``density`` (a number in ``unit``) times the membrane area, in ``pynn_unit``."""
    return float((pq.Quantity(density, unit) * pq.Quantity(area, "cm**2")).rescale(pynn_unit))


def cell_parameters(p):
    """The NESTML cell's parameters (PyNN units) for the per-area values of ``p``."""
    return {"C_m": _absolute(p.C_m, "uF/cm**2", p.area, "nF"),
            "g_Na": _absolute(p.g_Na, "mS/cm**2", p.area, "uS"),
            "g_K": _absolute(p.g_K, "mS/cm**2", p.area, "uS"),
            "g_L": _absolute(p.g_L, "mS/cm**2", p.area, "uS"),
            "E_Na": p.E_Na, "E_K": p.E_K, "E_L": p.E_L, "phi": p.phi,
            "I_e": _absolute(p.I_app, "uA/cm**2", p.area, "nA"),
            "V_spike": p.V_spike, "E_gaba": p.E_syn, "s_amplitude": p.s_amplitude,
            "tau_rise": p.tau_rise, "tau_decay": p.tau_decay}


def fi_curves(duration=None, count_from=None):
    """The uncoupled cell's f-I curve against the published equations integrated by SciPy
    over ``duration`` ms, counted from ``count_from`` ms (no targets if not given: they take
    SciPy about 2 s per drive)."""
    from trisim.pynn_models.wang_buzsaki.reference import firing_rate
    p = Parameters()
    parameters = cell_parameters(p)
    del parameters["I_e"]
    currents = [_absolute(drive, "uA/cm**2", p.area, "nA") * 1000.0 for drive in FI_DRIVES]
    targets = (None if duration is None else
               [firing_rate(drive, duration, count_from) for drive in FI_DRIVES])
    return [FICurve("Wang-Buzsaki cell", "wang_buzsaki_neuron", parameters, currents, targets,
                    tolerance=0.01, source="the published equations integrated by SciPy "
                    "(pynn_models/wang_buzsaki/reference.py)")]


def size(parameters, simulation):
    """Cells and connections at ``simulation.scale`` (all-to-all when coupled)."""
    n = max(2, round(parameters.n_cells * simulation.scale))
    return {"cells": n, "connections": n * (n - 1) if parameters.g_syn > 0 else 0}


def build(sim, parameters, simulation, rng):
    """Create the network on backend ``sim``; return its one population by name."""
    p = parameters
    # NESTML types first: NEST loads their modules only into an empty network
    if p.saturation:
        gaba = sim.nestml_synapse_type(nestml.path("wang_buzsaki_gaba_synapse"))
    cell_type = sim.nestml_cell_type(nestml.path("wang_buzsaki_neuron"))
    n = max(2, round(p.n_cells * simulation.scale))
    values = cell_parameters(p)
    values["I_e"] = values["I_e"] + _absolute(p.I_sigma, "uA/cm**2", p.area, "nA") \
        * rng.standard_normal(n)
    cells = sim.Population(n, cell_type(**values), label=POPULATION)
    v_init = rng.normal(p.V_init_mean, p.V_init_sd, n)
    cells.initialize(V_m=v_init, V_m_old=v_init, h=p.h_init, n=p.n_init)
    if p.g_syn > 0:
        pre, post = np.nonzero(~np.eye(n, dtype=bool))  # all pairs, no self-connections
        connection = {"weight": _absolute(p.g_syn, "mS/cm**2", p.area, "uS") / n,
                      "delay": max(p.delay, simulation.dt)}
        synapse = (gaba(jump=p.s_amplitude, tau_s=p.tau_decay, **connection)
                   if p.saturation else sim.StaticSynapse(**connection))
        sim.Projection(cells, cells, sim.IndexConnector(pre, post), synapse,
                       receptor_type="gaba_spikes", label=f"{POPULATION}->{POPULATION}")
    return {POPULATION: cells}


def _frequency(spiketrains):
    return float(population_frequency(spiketrains))


def _kappa(spiketrains):
    return coherence_kappa(spiketrains, KAPPA_BIN)


VALIDATION_STATISTICS = (
    Statistic("population_frequency", "population frequency (Hz)", SCALAR, _frequency),
    Statistic("kappa", f"coherence kappa ({KAPPA_BIN.item():g} ms bins)", SCALAR, _kappa),
)


def summarize(block, parameters):
    """The rhythm of a run: population frequency, mean rate, spikes per cycle, kappa and its
    chance level, over the whole run (as published) and from ``settled_after`` on (the
    network has synchronised by then; how long that takes depends on the initial state;
    None if the run ends before)."""
    spiketrains = spiketrains_by_population(block)[POPULATION]
    start = parameters.settled_after * pq.ms
    if start >= spiketrains[0].t_stop:  # a run too short to settle
        return {**_rhythm(spiketrains), "settled": None}
    settled = [train.time_slice(start, train.t_stop) for train in spiketrains]
    return {**_rhythm(spiketrains),
            "settled": {"from_ms": parameters.settled_after, **_rhythm(settled)}}


def _rhythm(spiketrains):
    frequency = _frequency(spiketrains)
    rate = float(np.mean(firing_rates(spiketrains).magnitude))
    return {"population_frequency_hz": finite_or_none(frequency),
            "mean_rate_hz": rate,
            "spikes_per_cycle": finite_or_none(rate / frequency),
            "kappa": finite_or_none(_kappa(spiketrains)),
            "kappa_chance": finite_or_none(chance_kappa(spiketrains, KAPPA_BIN)),
            "kappa_bin_ms": float(KAPPA_BIN)}


def derive(seeds=(1, 2, 3)):
    """Fit the GABA kernel to the published synapse, from the published equations, and run
    the published network (voltage-driven synapses) from the initial states of ``seeds``.

    Returns
    -------
    dict
        The files of experiment ``derive``: ``wang_buzsaki_kernel.json`` (the fit, how far it
        is from the published time course, the defaults it gives), ``wang_buzsaki_kernel.png``
        (both time courses) and ``wang_buzsaki_published_network.json`` (its rhythm, as
        ``trisim run`` summarises it).
    """
    import neo

    from trisim.pynn_models.wang_buzsaki import reference
    defaults = Parameters()
    report, curves = reference.kernel_report(current=defaults.I_app)
    report["defaults"] = {"s_amplitude": defaults.s_amplitude, "tau_rise_ms": defaults.tau_rise,
                          "tau_decay_ms": defaults.tau_decay, "delay_ms": defaults.delay}
    duration = 500.0
    network = {"duration_ms": duration, "dt_ms": 0.01, "method": "classic RK4",
               "runs": []}
    for seed in seeds:
        trains = [neo.SpikeTrain(times, units="ms", t_stop=duration)
                  for times in reference.network_spikes(seed, duration=duration)]
        block = neo.Block()
        block.segments.append(neo.Segment())
        block.groups.append(neo.Group(trains, name=POPULATION))
        network["runs"].append({"seed": seed, **summarize(block, defaults)})
    return {"wang_buzsaki_kernel.json": report,
            "wang_buzsaki_kernel.png": partial(reference.plot_kernel_report, report, curves),
            "wang_buzsaki_published_network.json": network}


def _derive_report(request, results):
    """Experiment ``derive``: :func:`derive` from the config's seed and the ones after it."""
    first = request.model.config(None, request.overrides).simulation.seed
    return derive(tuple(range(first, first + request.n_seeds)))


EXPERIMENTS = {
    "fi": fi_experiment(fi_curves, "wang_buzsaki_fi", "the single cell's f-I curve (one "
                        "simulation per backend) against the published equations "
                        "integrated by SciPy"),
    "derive": Experiment("recompute from the published equations what the model's GABA "
                         "synapse was fitted to (the event-triggered conductance against the "
                         "voltage-driven synapse) and run the published network from the "
                         "initial states of --seeds seeds", report=_derive_report, seeds=3),
}
