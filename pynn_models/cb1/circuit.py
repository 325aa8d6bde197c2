"""Seed 001: the L4-L2/3 circuit with CB1-modulated GABA release (Zerlaut et al.).

Four populations of conductance-based LIF cells with exponential synapses: L2/3 pyramidal
cells (L23Exc), PV+ and CB1+ interneurons (PvInh, CB1Inh) and L4 pyramidal cells (L4Exc). The
CB1+ synapses onto pyramidal cells release transmitter with probability ``psyn`` per spike
(all or none: ``nestml/stochastic_release_synapse.nestml``), which is what the visual area
changes. One module, three settings that differ only in config values
(``configs/cb1_v1.yaml``, ``cb1_v2m.yaml``, ``cb1_v2m_ko.yaml``): V2M has twice the CB1 -> L4
connectivity and half the CB1 -> L2/3 release probability of V1; V2M-CB1-KO keeps V2M's
connectivity but V1's release probability.

Wiring follows the published code: each target gets exactly ``int(p * N_pre)`` inputs from a
presynaptic population (full-size ``N_pre``, so ``--scale`` keeps in-degrees), drawn with
replacement and without self-connections. Afferents are not simulated cells: every target gets
its own spike train at rate ``p * N_aff * F(t)`` (background ``F`` constant; the time-varying
input, onto L4 only, a sum of Gaussian events), drawn by :mod:`trisim.inputs` from the run's
seed with at most one spike per step, as the published code draws them; every backend gets the
same trains.

Departures from the published code, each small: synaptic delays are one time step (0.1 ms)
instead of zero (NEST and NEURON need at least one step); an afferent spike drawn in step k is
at the end of the step; the published afferent trains of different targets and of the
background and time-varying input come from one re-seeded random stream (so that, e.g., a L4
cell's time-varying spikes repeat its background spikes), here they are independent, as the
paper describes them.
"""

from typing import Literal

import numpy as np
import quantities as pq
from pydantic import Field, model_validator

from trisim import configs, nestml
from trisim.analysis.statistics import sttc_sample
from trisim.analysis.validation import SAMPLE, Statistic, same_cells
from trisim.config import Delay, Strict, quantity
from trisim.connectivity import fixed_indegree
from trisim.inputs import connect_trains, step_spike_times

DESCRIPTION = "L4-L2/3 circuit, CB1 release probability; V1 / V2M / KO (Zerlaut et al.)"
TRACES = ("v", "gsyn_exc", "gsyn_inh")
CONFIGS = configs.DIRECTORY  # trisim's own configs folder

#: Recurrent populations in the published order, whether each is excitatory.
POPULATIONS = {"L23Exc": True, "PvInh": False, "CB1Inh": False, "L4Exc": True}
#: Afferent inputs: each target gets its own train (not simulated as a population of cells).
AFFERENTS = ("AffExcBG", "AffExcTV")
#: Where a release probability applies (the CB1+ synapses onto pyramidal cells).
STOCHASTIC = (("CB1Inh", "L23Exc"), ("CB1Inh", "L4Exc"))

#: Coincidence window and window of the published STTC of L2/3 pairs.
STTC_WINDOW_MS = 300.0


class Parameters(Strict):
    """Values of the published code (V1 setting); units are PyNN's."""

    n_L23Exc: int = Field(4000, ge=2)
    n_PvInh: int = Field(500, ge=2)
    n_CB1Inh: int = Field(500, ge=2)
    n_L4Exc: int = Field(4000, ge=2)
    n_AffExcBG: int = Field(4000, ge=1, description="afferents a background rate is scaled by")
    n_AffExcTV: int = Field(4000, ge=1)
    g_l: quantity("uS", gt=0) = 0.010
    C_m: quantity("nF") = 0.200
    E_l: quantity("mV") = -70.0
    V_reset: quantity("mV") = -70.0
    t_refrac: quantity("ms") = 5.0
    V_th_Exc: quantity("mV") = -50.0
    V_th_Inh: quantity("mV") = -53.0
    E_e: quantity("mV") = 0.0
    E_i: quantity("mV") = -80.0
    tau_e: quantity("ms", gt=0) = 5.0
    tau_i: quantity("ms", gt=0) = 5.0
    Q_e: quantity("uS") = 0.002
    Q_i: quantity("uS") = 0.010
    delay: Delay = 0.1
    p_L23Exc_L23Exc: float = Field(0.05, ge=0, le=1)
    p_L23Exc_PvInh: float = Field(0.05, ge=0, le=1)
    p_L23Exc_CB1Inh: float = Field(0.05, ge=0, le=1)
    p_PvInh_L23Exc: float = Field(0.067, ge=0, le=1)
    p_PvInh_PvInh: float = Field(0.075, ge=0, le=1)
    p_CB1Inh_L23Exc: float = Field(0.067, ge=0, le=1)
    p_CB1Inh_CB1Inh: float = Field(0.025, ge=0, le=1)
    p_CB1Inh_L4Exc: float = Field(0.025, ge=0, le=1)
    p_L4Exc_L23Exc: float = Field(0.01, ge=0, le=1)
    p_AffExcBG_L23Exc: float = Field(0.075, ge=0, le=1)
    p_AffExcBG_PvInh: float = Field(0.1, ge=0, le=1)
    p_AffExcBG_CB1Inh: float = Field(0.025, ge=0, le=1)
    p_AffExcBG_L4Exc: float = Field(0.01, ge=0, le=1)
    p_AffExcTV_L4Exc: float = Field(0.025, ge=0, le=1)
    psyn_CB1Inh_L23Exc: float = Field(0.5, ge=0, le=1)
    psyn_CB1Inh_L4Exc: float = Field(0.5, ge=0, le=1)
    F_AffExcBG: quantity("Hz") = 4.0
    input: Literal["none", "events", "gain"] = Field(
        "none", description="time-varying input F(t): none (spontaneous activity), random "
        "events, or the gain protocol's pulses of increasing amplitude")
    event_start: quantity("ms") = 4000.0
    event_width: quantity("ms", gt=0) = 200.0
    event_mean_interval: quantity("ms") = Field(
        1000.0, description="mean of the exponential part of the interval between events, "
        "which adds to event_width")
    event_max: quantity("Hz") = 4.5
    input_seed: int = Field(4, ge=0, description="seed of the event times and amplitudes")
    gain_pulses: int = Field(40, ge=2)
    gain_max: quantity("Hz") = 8.0
    gain_start: quantity("ms") = 200.0
    gain_period: quantity("ms", gt=0) = 1000.0

    @model_validator(mode="after")
    def _reset_below_thresholds(self):
        threshold = min(self.V_th_Exc, self.V_th_Inh)
        if self.V_reset >= threshold:
            raise ValueError(f"V_reset: {self.V_reset:g} mV is not below the thresholds "
                             f"V_th_Exc and V_th_Inh ({threshold:g} mV)")
        return self


def size(parameters, simulation):
    """Cells, connections and background input spikes at ``simulation.scale`` (in-degrees
    keep their full-size values; the time-varying input is left out: a lower estimate)."""
    p = parameters
    cells = {name: max(2, round(full_size(p, name) * simulation.scale)) for name in POPULATIONS}
    connections = sum(int(getattr(p, f"p_{pre}_{post}", 0.0) * full_size(p, pre)) * cells[post]
                      for pre in POPULATIONS for post in POPULATIONS)
    spikes = sum(getattr(p, f"p_AffExcBG_{post}", 0.0) * p.n_AffExcBG * p.F_AffExcBG * n
                 for post, n in cells.items()) * simulation.duration / 1000.0
    return {"cells": sum(cells.values()), "connections": connections, "spikes": round(spikes)}


def release_synapse_type(sim):
    """The synapse type of the CB1+ synapses onto pyramidal cells: all-or-none release with
    probability ``p`` per presynaptic spike (not a weight scaled by ``p``: that would keep the
    mean but remove the variance of release)."""
    return sim.nestml_synapse_type(nestml.path("stochastic_release_synapse"))


def input_events(parameters, duration):
    """Times (ms) and amplitudes (Hz) of the time-varying input's events before ``duration``.

    ``events``: from ``event_start``, intervals of ``event_width`` plus an exponential with mean
    ``event_mean_interval``, amplitudes uniform in [0, ``event_max``], drawn from
    ``input_seed`` in blocks of 200 (so a seed gives the same events whatever the duration).
    ``gain``: ``gain_pulses`` amplitudes from 0 to ``gain_max``, one per ``gain_period`` from
    ``gain_start``.
    """
    p = parameters
    if p.input == "gain":
        times = p.gain_start + p.gain_period * np.arange(p.gain_pulses)
        amplitudes = np.linspace(0.0, p.gain_max, p.gain_pulses)
    elif p.input == "events":
        rng = np.random.default_rng(p.input_seed)
        times, amplitudes, last = [np.empty(0)], [np.empty(0)], p.event_start
        while last < duration:
            block = last + np.cumsum(p.event_width + rng.exponential(p.event_mean_interval, 200))
            times.append(block)
            amplitudes.append(rng.uniform(0.0, p.event_max, 200))
            last = block[-1]
        times, amplitudes = np.concatenate(times), np.concatenate(amplitudes)
    else:
        times = amplitudes = np.empty(0)
    keep = times < duration
    return times[keep], amplitudes[keep]


def input_rate(parameters, times_ms, duration):
    """F(t) in Hz at ``times_ms``: each event a Gaussian of s.d. ``event_width`` and peak its
    amplitude (events past ``duration`` are not drawn)."""
    event_times, amplitudes = input_events(parameters, duration)
    t = np.asarray(times_ms, dtype=float)
    rate = np.zeros_like(t)
    for t_k, amplitude in zip(event_times, amplitudes):
        rate += amplitude * np.exp(-0.5 * ((t - t_k) / parameters.event_width) ** 2)
    return rate


def full_size(parameters, population):
    return getattr(parameters, f"n_{population}")


def build(sim, parameters, simulation, rng):
    """Create the circuit and its afferent trains on ``sim``; return the populations by name."""
    p = parameters
    release = release_synapse_type(sim)  # NESTML types first: NEST loads them into an empty network
    populations = {}
    for name, excitatory in POPULATIONS.items():
        cell = sim.IF_cond_exp(cm=p.C_m, tau_m=p.C_m / p.g_l, v_rest=p.E_l, v_reset=p.V_reset,
                               v_thresh=p.V_th_Exc if excitatory else p.V_th_Inh,
                               tau_refrac=p.t_refrac, e_rev_E=p.E_e, e_rev_I=p.E_i,
                               tau_syn_E=p.tau_e, tau_syn_I=p.tau_i, i_offset=0.0)
        size = max(2, round(full_size(p, name) * simulation.scale))
        populations[name] = sim.Population(size, cell, label=name)
        populations[name].initialize(v=p.E_l, gsyn_exc=0.0, gsyn_inh=0.0)  # at rest
    for pre, excitatory in POPULATIONS.items():
        for post in POPULATIONS:
            probability = getattr(p, f"p_{pre}_{post}", 0.0)
            indegree = int(probability * full_size(p, pre))  # the published rounding
            if indegree == 0:
                continue
            sources, targets = fixed_indegree(populations[pre].size, populations[post].size,
                                              indegree, rng, allow_self=pre != post)
            weight = p.Q_e if excitatory else p.Q_i
            if (pre, post) in STOCHASTIC:
                synapse = release(weight=weight, delay=p.delay,
                                  p=getattr(p, f"psyn_{pre}_{post}"))
            else:
                synapse = sim.StaticSynapse(weight=weight, delay=p.delay)
            sim.Projection(populations[pre], populations[post],
                           sim.IndexConnector(sources, targets), synapse,
                           receptor_type="excitatory" if excitatory else "inhibitory",
                           label=f"{pre}->{post}")
    steps = int(round(simulation.duration / simulation.dt))
    step_starts = np.arange(steps) * simulation.dt
    rates = {"AffExcBG": np.full(steps, p.F_AffExcBG),
             "AffExcTV": input_rate(p, step_starts, simulation.duration)}
    for rate in rates.values():
        # no spike in the first step: kept so that a seed draws the trains it always has (a
        # first-step spike was once impossible on NEST)
        rate[:1] = 0.0
    for afferent in AFFERENTS:
        for post, target in populations.items():
            n_inputs = getattr(p, f"p_{afferent}_{post}", 0.0) * full_size(p, afferent)
            if n_inputs == 0 or not rates[afferent].any():
                continue
            trains = step_spike_times(n_inputs * rates[afferent], target.size, simulation.dt,
                                      rng)
            connect_trains(sim, trains, target, np.arange(target.size),
                           {"excitatory": p.Q_e}, p.delay, f"{afferent}->{post}")
    return populations


def _sttc_published_window(spiketrains):
    cells = same_cells(spiketrains, 50)  # the same cells on every backend (see same_cells)
    return sttc_sample(cells, STTC_WINDOW_MS * pq.ms, n_pairs=50 * 49 // 2)


#: Compared by ``trisim validate`` besides the default statistics: the published STTC
#: (300 ms window) of L2/3 pyramidal pairs, the measure the settings are told apart by.
VALIDATION_STATISTICS = (
    Statistic("sttc_300ms", f"STTC ({STTC_WINDOW_MS:g} ms window)", SAMPLE,
              _sttc_published_window, populations=("L23Exc",)),
)
