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
  onto PyNN's ``IF_cond_exp``;
- Brian2: a native Brian2 ``Synapses`` with the rule as equations (event-driven traces), added
  to pyNN.brian2's network, onto PyNN's ``IF_cond_exp``; the NESTML side onto the same cells.

A static run (no plasticity) gives the cost of the network itself. The two sides of a rule run
alternated, ``--repeat`` times (default 3), each in a fresh process; reported are medians of
CPU time of the run phase, of the build phase and of the whole process, peak memory, and the
ratios NESTML / own, plus each run's mean rate and mean final weight of the plastic pathway
(the rules are the same, so these should be close; the simulators' rules differ in details
stated in README). Results: ``benchmarks/results/plasticity_vs_native/<commit>.json``.

Usage: ``nice -n 10 python benchmarks/plasticity_vs_native.py [--backends ...]
[--rules ...] [--scale 1] [--duration 10000] [--repeat 3]``
"""

import argparse
import json
import sys
import time

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


def one_run(backend, rule, side, scale, duration):
    """Build and run the network once in this process; print one JSON line."""
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
                learning.append(_brian2_own(pre, post, rule, receptor, sources, targets,
                                            weight))
                continue
            else:
                synapse = _own_pynn_synapse(sim, rule, weight)
            projection = sim.Projection(pre, post, sim.IndexConnector(sources, targets),
                                        synapse, receptor_type=receptors[receptor])
            if plastic and source == plastic_source:
                learning.append(projection)
    built, built_cpu = time.perf_counter(), time.process_time()
    sim.run(duration)
    ran, ran_cpu = time.perf_counter(), time.process_time()
    spikes = sum(len(t) for p in populations.values()
                 for t in p.get_data().segments[0].spiketrains)
    final = np.abs(np.concatenate([
        np.asarray(p.w if not hasattr(p, "get") else  # a native Brian2 Synapses
                   p.get("weight", format="list", with_address=False), dtype=float).ravel()
        for p in learning])) if learning else []
    cells = sum(p.size for p in populations.values())
    print(json.dumps({"build_s": built - wall, "run_s": ran - built,
                      "cpu_build_s": built_cpu - cpu, "cpu_run_s": ran_cpu - built_cpu,
                      "mean_rate_hz": spikes / cells / (duration / 1000.0),
                      "mean_weight": float(np.mean(final)) if len(final) else None,
                      "plastic_synapses": int(len(final))}))


def run(backend, rule, side, scale, duration):
    """One run in a fresh process: its own timings and the whole process's."""
    measured = measure([sys.executable, __file__, "--one", backend, rule, side, scale,
                        duration])
    result = json.loads(measured["stdout"].strip().splitlines()[-1])
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
    parser.add_argument("--one", nargs=5, metavar=("BACKEND", "RULE", "SIDE", "SCALE", "MS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        backend, rule, side, scale, duration = args.one
        one_run(backend, rule, side, float(scale), float(duration))
        return
    rows = []
    keys = ("cpu_run_s", "cpu_build_s", "process_cpu_s", "run_s", "peak_memory_mb")
    print(f"{'backend':7s} {'rule':17s} | {'run CPU s':>9s} {'build':>6s} {'process':>7s} "
          f"{'MB':>5s} {'rate Hz':>7s} {'mean w':>9s} | NESTML / own: run, process")
    for backend in args.backends:
        static = medians([run(backend, "static", "own", args.scale, args.duration)])
        print(f"{backend:7s} {'static':17s} | {static['cpu_run_s']:9.2f} "
              f"{static['cpu_build_s']:6.2f} {static['process_cpu_s']:7.2f} "
              f"{static['peak_memory_mb']:5.0f} {static['mean_rate_hz']:7.3f}", flush=True)
        rows.append({"backend": backend, "rule": "static", "own": static})
        for rule in args.rules:
            runs = {side: [] for side in SIDES}
            for _ in range(args.repeat):
                for side in SIDES:
                    runs[side].append(run(backend, rule, side, args.scale, args.duration))
            row = {"backend": backend, "rule": rule, "runs": runs,
                   **{side: medians(results) for side, results in runs.items()}}
            row["ratio"] = ratios(row["nestml"], row["own"], keys)
            rows.append(row)
            for side in SIDES:
                m = row[side]
                print(f"{backend:7s} {rule + ' ' + side:17s} | {m['cpu_run_s']:9.2f} "
                      f"{m['cpu_build_s']:6.2f} {m['process_cpu_s']:7.2f} "
                      f"{m['peak_memory_mb']:5.0f} {m['mean_rate_hz']:7.3f} "
                      f"{m['mean_weight']:9.3g} |", flush=True)
            print(f"{'':25s} ratio {row['ratio']['cpu_run_s']:.2f}, "
                  f"{row['ratio']['process_cpu_s']:.2f}", flush=True)
    path = write_results("plasticity_vs_native", {
        "scale": args.scale, "duration_ms": args.duration, "repeat": args.repeat,
        "rule_parameters": RULE_PARAMETERS, "static_weights_uS": {"E": W_E, "I": W_I},
        "rows": rows})
    print(f"written {path}")


if __name__ == "__main__":
    main()
