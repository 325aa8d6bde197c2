"""NESTML plastic synapses against each simulator's own, in one 4000-cell network for 10 s.

Not part of the test suite. The network is seed 002's (3200 E + 800 I conductance-based LIF
cells driven by a constant current, every cell receiving from each E cell with p_e and from
each I cell with p_i, one network drawn from one seed) with static synapses, except for one
plastic pathway per rule:

- ``stdp_pair`` (``nestml/stdp_pair_synapse.nestml``) and ``stdp_symmetric``
  (``stdp_symmetric_synapse.nestml``) on every excitatory connection;
- ``vogels_sprekeler`` (``vogels_sprekeler_synapse.nestml``, inhibitory STDP) on every
  inhibitory connection.

Each rule runs with the NESTML synapse (``sim.nestml_synapse_type``) and with the simulator's
own implementation of the same rule, the only difference between the two runs:

- NEST: ``stdp_synapse`` through PyNN's ``STDPMechanism(SpikePairRule,
  AdditiveWeightDependence)`` (pair; symmetric as ``A_minus = -A_plus``, NEST's ``alpha = -1``),
  ``vogels_sprekeler_synapse`` as a native synapse type. NESTML synapses with a postsynaptic
  port need a NESTML target cell on NEST, so both sides use NESTML's ``iaf_cond_exp`` there;
- NEURON: PyNN's STDP weight adjusters (``StdwaSA`` for both pair rules, ``StdwaVogels2011``)
  onto PyNN's ``IF_cond_exp``. ``StdwaVogels2011`` pairs each spike with the other side's
  last spike only, where NEST's synapse and the NESTML file sum over all earlier ones (traces),
  so its weights differ from theirs by the pairs it leaves out;
- Brian2: a native Brian2 ``Synapses`` with the rule as equations (event-driven traces), added
  to pyNN.brian2's network, onto PyNN's ``IF_cond_exp``; the NESTML side onto the same cells.

Before anything is timed, every side runs once at a tiny size, so that NESTML's builds and
Brian2's and NEURON's compiled code are cached. A static run (no plasticity) gives the cost of
the network itself. The two sides of a rule run alternated, ``--repeat`` times (default 3),
each in a fresh process; reported are medians of CPU time of the run phase, of the build
phase and of the whole process, wall time of the whole process, peak memory, and the ratios
NESTML / own.

A fast synapse is worth nothing if it is wrong, so each side's final weights are checked, in
one more run per side that is not timed (reading 10^5-10^6 weights out through PyNN costs
more time and memory than some runs), against the rule itself: the weight change every connection should have from
the spikes that run recorded, every pre/post pair summed (``reference_change``), on a sample
of the connections, outside the measured process. Simulators order a pre- and a postsynaptic
spike that reach the synapse at the same time differently, delay one or the other, and apply
a postsynaptic spike's potentiation at once or at the next presynaptic spike, so the check
tries those conventions and reports the one that fits and its relative error (summed
absolute difference over summed expected change): an implementation of the rule gives about
0 under one of them; a wrong rule, factor or trace gives a large error under all. Results:
``benchmarks/results/plasticity_vs_native/<commit>-<duration>s.json``, rewritten after every
rule. ``--no-check`` leaves the checking runs out (they double a long benchmark's time).

Usage: ``nice -n 10 python benchmarks/plasticity_vs_native.py [--backends ...]
[--rules ...] [--scale 1] [--duration 10000] [--repeat 3] [--no-check]``
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from measure import REPEAT, measure, medians, ratios, write_results

BACKENDS = ("nest", "neuron", "brian2")
RULES = ("stdp_pair", "stdp_symmetric", "vogels_sprekeler")
SIDES = ("nestml", "own")

# seed 002's cells (PyNN units: mV, uS, nF, nA, ms) and connection probabilities
CELL = {"E_L": -60.0, "g_L": 0.00999, "C_m": 0.198, "E_exc": 0.0, "E_inh": -80.0,
        "tau_syn_exc": 5.0, "tau_syn_inh": 10.0, "refr_T": 5.0, "I_e": 0.15, "V_th": -50.0,
        "V_reset": -60.0}
N_EXC, N_INH, P_E, P_I = 3200, 800, 0.05, 0.2
# static weights: seed 002's times the efficacy its depressing synapses settle at (~0.3)
W_E, W_I, DELAY = 0.000015, 0.0003, 0.1
INITIAL = {"E": W_E, "I": W_I}
SEED = 11922
# the rules, in the NESTML files' parameter names; weights in uS
RULE_PARAMETERS = {
    "stdp_pair": {"tau_pre_trace": 20.0, "tau_post_trace": 20.0, "A_plus": 0.01,
                  "A_minus": 0.012, "Wmin": 0.0, "Wmax": 2 * W_E},
    "stdp_symmetric": {"tau": 20.0, "A": 0.002 * W_E, "Wmax": 2 * W_E},
    "vogels_sprekeler": {"tau": 20.0, "eta": 0.01 * W_I, "alpha": 0.2, "Wmax": 3 * W_I},
}
NESTML_FILES = {"stdp_pair": "stdp_pair_synapse", "stdp_symmetric": "stdp_symmetric_synapse",
                "vogels_sprekeler": "vogels_sprekeler_synapse"}


def _own_pynn_synapse(sim, rule, weight):
    """The simulator's own synapse for ``rule`` as a PyNN synapse type (NEST and NEURON)."""
    p = RULE_PARAMETERS[rule]
    if rule == "stdp_pair":
        timing = sim.SpikePairRule(tau_plus=p["tau_pre_trace"], tau_minus=p["tau_post_trace"],
                                   A_plus=p["A_plus"], A_minus=p["A_minus"])
        return sim.STDPMechanism(timing_dependence=timing, weight=weight, delay=DELAY,
                                 weight_dependence=sim.AdditiveWeightDependence(
                                     w_min=p["Wmin"], w_max=p["Wmax"]))
    if rule == "stdp_symmetric":  # potentiation at both orders: a negative depression
        a = p["A"] / p["Wmax"]
        timing = sim.SpikePairRule(tau_plus=p["tau"], tau_minus=p["tau"], A_plus=a, A_minus=-a)
        return sim.STDPMechanism(timing_dependence=timing, weight=weight, delay=DELAY,
                                 weight_dependence=sim.AdditiveWeightDependence(
                                     w_min=0.0, w_max=p["Wmax"]))
    if sim.name == "nest":  # a native synapse type takes NEST's units: nS
        return sim.native_synapse_type("vogels_sprekeler_synapse")(
            weight=1000 * weight, delay=DELAY, tau=p["tau"], eta=1000 * p["eta"],
            alpha=p["alpha"], Wmax=1000 * p["Wmax"])
    timing = sim.Vogels2011Rule(tau=p["tau"], eta=p["eta"], rho=p["alpha"] / (2 * p["tau"]))
    return sim.STDPMechanism(timing_dependence=timing, weight=weight, delay=DELAY,
                             weight_dependence=sim.AdditiveWeightDependence(
                                 w_min=0.0, w_max=p["Wmax"]))


BRIAN2_RULES = {  # (model, on_pre, on_post) of a native Brian2 Synapses; w in uS
    "stdp_pair": ("""w : 1
                     dpre_trace/dt = -pre_trace/tau_pre_trace : 1 (event-driven)
                     dpost_trace/dt = -post_trace/tau_post_trace : 1 (event-driven)""",
                  """pre_trace += 1
                     w = clip(w - A_minus*Wmax*post_trace, Wmin, Wmax)""",
                  """post_trace += 1
                     w = clip(w + A_plus*Wmax*pre_trace, Wmin, Wmax)"""),
    "stdp_symmetric": ("""w : 1
                          dpre_trace/dt = -pre_trace/tau : 1 (event-driven)
                          dpost_trace/dt = -post_trace/tau : 1 (event-driven)""",
                       """pre_trace += 1
                          w = clip(w + A*post_trace, 0, Wmax)""",
                       """post_trace += 1
                          w = clip(w + A*pre_trace, 0, Wmax)"""),
    "vogels_sprekeler": ("""w : 1
                            dpre_trace/dt = -pre_trace/tau : 1 (event-driven)
                            dpost_trace/dt = -post_trace/tau : 1 (event-driven)""",
                         """pre_trace += 1
                            w = clip(w + eta*(post_trace - alpha), 0, Wmax)""",
                         """post_trace += 1
                            w = clip(w + eta*pre_trace, 0, Wmax)"""),
}


def _brian2_own(pre, post, rule, receptor, sources, targets, weight):
    """A native Brian2 Synapses with ``rule`` from ``pre`` to ``post``, added to the network."""
    import brian2
    from pyNN.brian2 import simulator
    model, on_pre, on_post = BRIAN2_RULES[rule]
    variable = post.celltype.post_synaptic_variables[receptor]
    namespace = {key: (brian2.Quantity(value, dim=brian2.second.dim) * 1e-3
                       if key.startswith("tau") else value)
                 for key, value in RULE_PARAMETERS[rule].items()}
    synapses = brian2.Synapses(pre.brian2_group, post.brian2_group, model=model,
                               on_pre=on_pre + f"\n{variable}_post += w*usiemens",
                               on_post=on_post, namespace=namespace,
                               delay={"pre": DELAY * brian2.ms})
    synapses.connect(i=sources, j=targets)
    synapses.w = weight
    simulator.state.network.add(synapses)
    return synapses


def _last_before(times, starts, counts, cells, at, simultaneous=False):
    """Index into ``times`` of each ``cells[k]``'s last spike before ``at[k]`` (-1: none);
    with ``simultaneous``, a spike at ``at[k]`` counts as before it.

    ``times`` holds every cell's sorted spike times one cell after another, cell ``c`` at
    ``starts[c]:starts[c] + counts[c]``. Times are compared in whole 0.1 us, so that a spike
    and a delayed one on the same time step are simultaneous despite rounding."""
    ticks, at_ticks = np.rint(times * 1e4).astype(np.int64), np.rint(at * 1e4).astype(np.int64)
    span = 2 * max(ticks.max(initial=0), at_ticks.max(initial=0)) + 1
    keys = np.repeat(np.arange(len(counts), dtype=np.int64), counts) * span + ticks
    found = np.searchsorted(keys, cells * span + at_ticks,
                            side="right" if simultaneous else "left") - 1
    return np.where(found >= starts[cells], found, -1)


def _trace_sums(times, starts, counts, tau, sources, at_times, at_starts, at_counts, targets,
                until=None, simultaneous=False):
    """Per connection ``k``: the sum, over the spikes of ``targets[k]`` (at ``at_times``), of
    the trace of ``sources[k]`` (its spikes at ``times``, each adding 1 and decaying with
    ``tau``), taken just before each spike (a spike at the same time counts only if
    ``simultaneous``); with ``until``, only spikes at or before ``until[k]`` count."""
    if not len(times) or not len(at_times):
        return np.zeros(len(targets))
    # each spike's trace value just after it, by the trace's recurrence, all cells at once
    after = np.zeros(len(times))
    for n in range(counts.max(initial=0)):
        cells = np.flatnonzero(counts > n)
        here = starts[cells] + n
        previous = after[here - 1] * np.exp(-(times[here] - times[here - 1]) / tau) if n else 0
        after[here] = previous + 1.0
    # one row per (connection, spike of its target)
    n_at = at_counts[targets]
    connection = np.repeat(np.arange(len(targets)), n_at)
    first = np.repeat(at_starts[targets] - (np.cumsum(n_at) - n_at), n_at)
    when = at_times[first + np.arange(n_at.sum())]
    cell = sources[connection]
    last = _last_before(times, starts, counts, cell, when, simultaneous)
    known = np.maximum(last, 0)
    value = np.where(last >= 0, after[known] * np.exp(-(when - times[known]) / tau), 0.0)
    if until is not None:
        value = np.where(when <= until[connection] + 1e-6, value, 0.0)
    return np.bincount(connection, weights=value, minlength=len(targets))


def _spikes(trains):
    """(times of every cell's sorted spikes one cell after another, start and count per cell)."""
    counts = np.array([len(train) for train in trains], dtype=np.int64)
    times = (np.concatenate([np.sort(np.asarray(train, dtype=float)) for train in trains])
             if len(trains) else np.zeros(0))
    return times, np.cumsum(counts) - counts, counts


def reference_change(rule, pre_trains, post_trains, sources, targets, lazy, post_delay=DELAY,
                     first=None, chunk=50000):
    """Weight change of each connection ``sources[k] -> targets[k]`` that ``rule`` makes from
    the recorded spikes (ms), without the weight bounds.

    Every pair of a pre- and a postsynaptic spike counts (all-to-all, as the traces of the
    NESTML files and NEST's synapses). Timing conventions, where simulators differ:
    ``post_delay``, when a postsynaptic spike reaches the synapse relative to a presynaptic
    one at the same time (NEST: one delay later, its dendritic delay; Brian2's ``Synapses``:
    one delay earlier, as the presynaptic spike is delayed); ``first``, which of a pre- and a
    postsynaptic spike reaching the synapse at the same time comes first (``"pre"``,
    ``"post"``, or None: they do not pair). With ``lazy`` the postsynaptic spikes after a
    connection's last presynaptic spike are left out: NEST (and PyNN's NEURON weight
    adjusters) apply them at the next presynaptic spike, so the weights at the end of a run do
    not hold them yet.
    """
    p = RULE_PARAMETERS[rule]
    pre = _spikes(pre_trains)
    post_times, post_starts, post_counts = _spikes(post_trains)
    post = (post_times + post_delay, post_starts, post_counts)
    tau_plus, tau_minus = ((p["tau_pre_trace"], p["tau_post_trace"]) if rule == "stdp_pair"
                           else (p["tau"], p["tau"]))
    last_pre = np.where(pre[2] > 0, pre[0][np.maximum(pre[1] + pre[2] - 1, 0)], -np.inf)
    change = np.empty(len(sources))
    for begin in range(0, len(sources), chunk):
        i, j = sources[begin:begin + chunk], targets[begin:begin + chunk]
        potentiating = _trace_sums(*pre, tau_plus, i, *post, j,  # post after pre
                                   until=last_pre[i] if lazy else None,
                                   simultaneous=first == "pre")
        depressing = _trace_sums(*post, tau_minus, j, *pre, i,  # pre after post
                                 simultaneous=first == "post")
        if rule == "stdp_pair":
            change[begin:begin + chunk] = p["Wmax"] * (p["A_plus"] * potentiating
                                                       - p["A_minus"] * depressing)
        elif rule == "stdp_symmetric":
            change[begin:begin + chunk] = p["A"] * (potentiating + depressing)
        else:
            change[begin:begin + chunk] = p["eta"] * (potentiating + depressing
                                                      - p["alpha"] * pre[2][i])
    return change


#: Conventions tried by the weight check: (postsynaptic delay, which spike is first, lazy)
CONVENTIONS = {f"post {delay:+g} ms, {first or 'neither'} first{', lazy' * lazy}":
               (delay, first, lazy)
               for delay in (DELAY, 0.0, -DELAY) for first in (None, "pre", "post")
               for lazy in (False, True)}


def weight_check(rule, saved, sample=20000, seed=1):
    """How far a run's final weights are from the rule's own on the run's recorded spikes.

    ``saved`` holds, per plastic projection ``k``, its connections (``sources_k``,
    ``targets_k``), initial and final weights (``weight_k``, ``final_k``) and the spike trains
    of both populations (``pre_k``/``post_k``: times, and cells per spike). On a random
    ``sample`` of the connections, for each timing convention of :data:`CONVENTIONS`: the
    summed absolute difference between the measured and the expected weight changes over the
    summed expected change (connections whose expected weight leaves the bounds are left out
    and counted). Returned: the convention that fits best, its error and mean changes, and
    every convention's error."""
    p = RULE_PARAMETERS[rule]
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(int(saved["projections"])):
        trains = {}
        for side in ("pre", "post"):
            times, cells = saved[f"{side}_times_{k}"], saved[f"{side}_cells_{k}"]
            order = np.argsort(cells, kind="stable")
            counts = np.bincount(cells, minlength=int(saved[f"{side}_size_{k}"]))
            trains[side] = np.split(times[order], np.cumsum(counts)[:-1])
        picked = rng.permutation(len(saved[f"final_{k}"]))[:sample]
        parts.append((trains, saved[f"sources_{k}"][picked], saved[f"targets_{k}"][picked],
                      saved[f"weight_{k}"][picked], saved[f"final_{k}"][picked]))
    weight = np.concatenate([part[3] for part in parts])
    measured = np.concatenate([part[4] for part in parts]) - weight
    errors, changes = {}, {}
    for name, (post_delay, first, lazy) in CONVENTIONS.items():
        expected = np.concatenate([
            reference_change(rule, trains["pre"], trains["post"], sources, targets,
                             lazy, post_delay=post_delay, first=first)
            for trains, sources, targets, _, _ in parts])
        inside = ((weight + expected >= p.get("Wmin", 0.0))
                  & (weight + expected <= p["Wmax"]))
        errors[name] = round(float(np.abs(measured - expected)[inside].sum()
                                   / np.abs(expected)[inside].sum()), 5)
        changes[name] = (float(np.mean(expected)), int(np.sum(~inside)))
    best = min(errors, key=errors.get)
    return {"connections": int(len(measured)), "convention": best,
            "relative_error": errors[best], "mean_change": float(np.mean(measured)),
            "expected_mean_change": changes[best][0], "outside_bounds": changes[best][1],
            "errors": errors}


def one_run(backend, rule, side, scale, duration, weights=None):
    """Build and run the network once in this process; print one JSON line, and save the
    plastic connections' weights and the spikes to ``weights`` (.npz) if given."""
    from trisim import backends, nestml
    from trisim.connectivity import random_indegree
    sim = backends.load(backend)
    rng = np.random.default_rng(SEED)
    wall, cpu = time.perf_counter(), time.process_time()
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=SEED)
    plastic = rule != "static"
    nestml_synapse = (sim.nestml_synapse_type(nestml.path(NESTML_FILES[rule]))
                      if plastic and side == "nestml" else None)
    if backend == "nest":  # a NESTML plastic synapse needs a NESTML target cell on NEST
        synapses = [nestml.path(NESTML_FILES[rule])] if nestml_synapse else []
        cell = sim.nestml_cell_type(nestml.shipped_path("iaf_cond_exp"),
                                    synapses=synapses)(**CELL)
        receptors, voltage = {"excitatory": "exc_spikes", "inhibitory": "inh_spikes"}, "V_m"
    else:
        c = CELL
        cell = sim.IF_cond_exp(cm=c["C_m"], tau_m=c["C_m"] / c["g_L"], v_rest=c["E_L"],
                               v_thresh=c["V_th"], v_reset=c["V_reset"], tau_refrac=c["refr_T"],
                               i_offset=c["I_e"], e_rev_E=c["E_exc"], e_rev_I=c["E_inh"],
                               tau_syn_E=c["tau_syn_exc"], tau_syn_I=c["tau_syn_inh"])
        receptors, voltage = {"excitatory": "excitatory", "inhibitory": "inhibitory"}, "v"
    sizes = {"E": N_EXC, "I": N_INH}
    populations = {name: sim.Population(max(1, round(n * scale)), cell, label=name)
                   for name, n in sizes.items()}
    for population in populations.values():
        population.initialize(**{voltage: rng.uniform(CELL["E_L"], CELL["V_th"],
                                                       population.size)})
        population.record("spikes")
    plastic_source = "I" if rule == "vogels_sprekeler" else "E"
    learning = []
    for source, probability, weight, receptor in (("E", P_E, W_E, "excitatory"),
                                                  ("I", P_I, W_I, "inhibitory")):
        pre = populations[source]
        for post in populations.values():
            sources, targets = random_indegree(pre.size, post.size, probability,
                                               pre.size / sizes[source], rng)
            if not plastic or source != plastic_source:
                synapse = sim.StaticSynapse(weight=weight, delay=DELAY)
            elif side == "nestml":
                parameters = dict(RULE_PARAMETERS[rule])
                synapse = nestml_synapse(weight=weight, delay=DELAY, **parameters)
            elif backend == "brian2":
                learning.append((_brian2_own(pre, post, rule, receptor, sources, targets,
                                             weight), pre, post))
                continue
            else:
                synapse = _own_pynn_synapse(sim, rule, weight)
            projection = sim.Projection(pre, post, sim.IndexConnector(sources, targets),
                                        synapse, receptor_type=receptors[receptor])
            if plastic and source == plastic_source:
                learning.append((projection, pre, post))
    built, built_cpu = time.perf_counter(), time.process_time()
    sim.run(duration)
    ran, ran_cpu = time.perf_counter(), time.process_time()
    data = {label: p.get_data().segments[0].spiketrains for label, p in populations.items()}
    spikes = sum(len(train) for trains in data.values() for train in trains)
    cells = sum(p.size for p in populations.values())
    print(json.dumps({"build_s": built - wall, "run_s": ran - built,
                      "cpu_build_s": built_cpu - cpu, "cpu_run_s": ran_cpu - built_cpu,
                      "mean_rate_hz": spikes / cells / (duration / 1000.0)}), flush=True)
    if weights:
        _save_weights(weights, learning, data)


def _save_weights(path, learning, data):
    """Save the plastic connections, their initial and final weights and the spikes of their
    populations (``data``: spike trains by label) for :func:`weight_check`."""
    saved = {"projections": len(learning)}
    for k, (connections, pre, post) in enumerate(learning):
        if hasattr(connections, "get"):  # a PyNN Projection
            i, j, w = np.asarray(connections.get("weight", format="list", with_address=True),
                                 dtype=float).reshape(-1, 3).T
        else:  # a native Brian2 Synapses
            i, j, w = connections.i[:], connections.j[:], np.asarray(connections.w[:])
        saved.update({f"sources_{k}": i.astype(np.int64), f"targets_{k}": j.astype(np.int64),
                      f"final_{k}": np.abs(w), f"weight_{k}": np.full(len(w), INITIAL[pre.label])})
        for side, population in (("pre", pre), ("post", post)):
            trains = data[population.label]
            saved[f"{side}_times_{k}"] = np.concatenate([np.asarray(train.magnitude, float)
                                                         for train in trains] or [[]])
            saved[f"{side}_cells_{k}"] = np.repeat(
                [train.annotations.get("source_index", n) for n, train in enumerate(trains)],
                [len(train) for train in trains])
            saved[f"{side}_size_{k}"] = population.size
    np.savez(path, **saved)


def run(backend, rule, side, scale, duration, check=False):
    """One run in a fresh process: its own timings and the whole process's; with ``check``,
    the run also reads its plastic weights out (which costs time and memory, so such a run
    is not timed) and here, outside it, they are checked (:func:`weight_check`)."""
    with tempfile.TemporaryDirectory() as workdir:
        weights = Path(workdir) / "weights.npz"
        measured = measure([sys.executable, __file__, "--one", backend, rule, side, scale,
                            duration, weights if check else ""])
        result = json.loads(measured["stdout"].strip().splitlines()[-1])
        if check:
            with np.load(weights) as saved:
                result["weights"] = weight_check(rule, saved)
    result.update({"process_cpu_s": measured["cpu_s"], "process_wall_s": measured["wall_s"],
                   "peak_memory_mb": measured["peak_memory_mb"], "load": measured["load"]})
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--rules", nargs="+", default=list(RULES), choices=RULES)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=10000.0, help="ms")
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--no-check", action="store_true",
                        help="skip the untimed runs that check the final weights (long runs)")
    parser.add_argument("--one", nargs=6,
                        metavar=("BACKEND", "RULE", "SIDE", "SCALE", "MS", "NPZ"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        backend, rule, side, scale, duration, weights = args.one
        one_run(backend, rule, side, float(scale), float(duration), weights)
        return
    rows = []
    keys = ("cpu_run_s", "cpu_build_s", "process_cpu_s", "process_wall_s", "run_s",
            "peak_memory_mb")
    print(f"{'backend':7s} {'rule':17s} | {'run CPU s':>9s} {'build':>6s} {'process':>7s} "
          f"{'MB':>5s} {'rate Hz':>7s} | weights: error, mean change / expected")
    for backend in args.backends:
        for rule in args.rules:  # compiled code built and cached before anything is timed
            for side in SIDES:
                run(backend, rule, side, 0.02, 20.0)
        static = medians([run(backend, "static", "own", args.scale, args.duration)])
        print(f"{backend:7s} {'static':17s} | {static['cpu_run_s']:9.2f} "
              f"{static['cpu_build_s']:6.2f} {static['process_cpu_s']:7.2f} "
              f"{static['peak_memory_mb']:5.0f} {static['mean_rate_hz']:7.3f}", flush=True)
        rows.append({"backend": backend, "rule": "static", "own": static})
        for rule in args.rules:
            checks = {side: run(backend, rule, side, args.scale, args.duration, check=True)
                      for side in SIDES if not args.no_check}
            runs = {side: [] for side in SIDES}
            for _ in range(args.repeat):
                for side in SIDES:
                    runs[side].append(run(backend, rule, side, args.scale, args.duration))
            row = {"backend": backend, "rule": rule, "runs": runs, "checks": checks,
                   **{side: medians(results) for side, results in runs.items()}}
            row["ratio"] = ratios(row["nestml"], row["own"], keys)
            rows.append(row)
            for side in SIDES:
                m = row[side]
                w = checks[side]["weights"] if checks else None
                print(f"{backend:7s} {rule + ' ' + side:17s} | {m['cpu_run_s']:9.2f} "
                      f"{m['cpu_build_s']:6.2f} {m['process_cpu_s']:7.2f} "
                      f"{m['peak_memory_mb']:5.0f} {m['mean_rate_hz']:7.3f} | " +
                      (f"{w['relative_error']:.4f}, {w['mean_change']:.3g} / "
                       f"{w['expected_mean_change']:.3g} ({w['convention']})" if w else
                       "not checked"), flush=True)
            print(f"{'':25s} NESTML / own: run {row['ratio']['cpu_run_s']:.2f}, build "
                  f"{row['ratio']['cpu_build_s']:.2f}, process CPU "
                  f"{row['ratio']['process_cpu_s']:.2f}, wall {row['ratio']['process_wall_s']:.2f},"
                  f" memory {row['ratio']['peak_memory_mb']:.2f}", flush=True)
            save(args, rows)  # after every rule: a long run cut short keeps its rows
    print(f"written {save(args, rows)}")


def save(args, rows):
    """Write the rows measured so far; returns the path."""
    return write_results("plasticity_vs_native", {
        "scale": args.scale, "duration_ms": args.duration, "repeat": args.repeat,
        "weights_checked": not args.no_check, "rule_parameters": RULE_PARAMETERS,
        "static_weights_uS": {"E": W_E, "I": W_I}, "rows": rows},
        label=f"{args.duration / 1000:g}s")


if __name__ == "__main__":
    main()
