"""A NESTML cell against the simulator's built-in equivalent, in seed 002's 4000-cell network.

Not part of the test suite. The network is seed 002's (COBA, Tsodyks-Markram synapses, drawn
once from one seed), built either with PyNN's ``IF_cond_exp`` (NEST's ``iaf_cond_exp``,
pyNN.neuron's and pyNN.brian2's mechanisms) or with NESTML's shipped ``iaf_cond_exp_neuron``
through ``sim.nestml_cell_type``, same parameters. Each run is a fresh process; both cell
kinds run alternated per backend (medians of ``--repeat``, default 3), and the script prints
build and run times (CPU and wall-clock) and the ratios NESTML/built-in, and the first (cold
cache) and cached start times of the NESTML cell.

``--equal-accuracy`` also compares the two cells at equal accuracy. One cell per drive of
``trisim conformance``'s runs of ``iaf_cond_exp`` (400, 500 and 1500 pA; 400 and 500 pA with
input trains on both ports), 500 ms, NESTML's parameters on both cells, gives each cell's
spike-time error: the largest difference of the n-th spike times to a reference (NESTML's
cell on NEST at dt 0.002 ms, where its refractory timer counts exactly 2 ms), worst over the
drives. The built-in cell's equal-accuracy time step is the largest of
``ACCURACY_DTS`` at which its error is at most the NESTML cell's at 0.1 ms; the network then
also runs with the built-in cell at that step, and the ratio NESTML (0.1 ms) / built-in (that
step) is reported beside the ratio at equal steps. On Brian2 it also runs pyNN.brian2's cell
integrated by Brian2's RK4 at 0.1 ms (the NESTML step integrates V by RK4 too, its
conductances exactly), errors and network.
Results: ``benchmarks/results/nestml_vs_builtin/<commit>.json``.

Usage: ``nice -n 10 python benchmarks/nestml_vs_builtin.py [--scale F] [--duration MS]
[--repeat N] [--backends ...] [--no-starts] [--equal-accuracy]``
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from measure import REPEAT, environment, measure, medians, ratios, write_results
from trisim.backends import BACKENDS

# starts from one initially empty cache: the first builds, the last is cached (Brian2
# compiles two spike-monitor code objects again at its second start)
STARTS = 3
#: time steps (ms) tried for the built-in cell, coarsest first; each divides seed 002's delay
ACCURACY_DTS = (0.1, 0.05, 0.025, 0.02, 0.01)
#: the reference's time step (ms): the NESTML cell's refractory timer, counting down from
#: 2 ms by this step, reaches 0 exactly after 2 ms (by 0.025 or 0.001 ms it takes one step more)
REFERENCE_DT = 0.002

# PyNN's IF_cond_exp, or (kind "builtin_rk4", Brian2 only) the same cell integrated by Brian2's
# RK4: pyNN.brian2 lets Brian2 choose, and it takes Euler (V times a conductance is not linear)
BUILTIN = """
def builtin_celltype(sim, kind):
    if kind != "builtin_rk4":
        return sim.IF_cond_exp
    class RK4Group(sim.IF_cond_exp.brian2_model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, method="rk4", **kwargs)
    return type("IF_cond_exp", (sim.IF_cond_exp,), {"brian2_model": RK4Group})
"""

RUN = BUILTIN + """
import json, sys, time
import numpy as np
from trisim import backends, nestml
from trisim.connectivity import random_indegree
from trisim.nestml import shipped_path
from trisim.runners.run import resolve_config

backend, kind, scale, duration, dt = (sys.argv[1], sys.argv[2], float(sys.argv[3]),
                                      float(sys.argv[4]), float(sys.argv[5]))
if backend == "brian2" and len(sys.argv) > 6:  # a cold start: Brian2's own Cython cache too
    import brian2
    brian2.prefs.codegen.runtime.cython.cache_dir = sys.argv[6]
_, cfg = resolve_config("coba_stp")
p = cfg.parameters
sim = backends.load(backend)
rng = np.random.default_rng(cfg.simulation.seed)
wall, cpu = time.perf_counter(), time.process_time()
sim.setup(timestep=dt, min_delay=0.1, rng_seed=cfg.simulation.seed)
stp = sim.nestml_synapse_type(nestml.path("tsodyks_markram_synapse"))
if kind == "nestml":
    started = time.perf_counter()
    celltype = sim.nestml_cell_type(shipped_path("iaf_cond_exp"))
    compile_s = time.perf_counter() - started
    cell = celltype(C_m=p.C_m, g_L=p.g_l, E_L=p.E_l, V_th=p.V_th, V_reset=p.V_r,
                    refr_T=p.tau_r, I_e=p.I_ex, E_exc=p.E_e, E_inh=p.E_i,
                    tau_syn_exc=p.tau_e, tau_syn_inh=p.tau_i)
    receptors, voltage = {"excitatory": "exc_spikes", "inhibitory": "inh_spikes"}, "V_m"
else:
    compile_s = 0.0
    cell = builtin_celltype(sim, kind)(cm=p.C_m, tau_m=p.C_m / p.g_l, v_rest=p.E_l, v_thresh=p.V_th,
                           v_reset=p.V_r, tau_refrac=p.tau_r, i_offset=p.I_ex,
                           e_rev_E=p.E_e, e_rev_I=p.E_i, tau_syn_E=p.tau_e, tau_syn_I=p.tau_i)
    receptors, voltage = {"excitatory": "excitatory", "inhibitory": "inhibitory"}, "v"
sizes = {"E": p.n_exc, "I": p.n_inh}
populations = {name: sim.Population(round(n * scale), cell, label=name)
               for name, n in sizes.items()}
for population in populations.values():
    population.initialize(**{voltage: rng.uniform(p.E_l, p.V_th, population.size)})
    population.record("spikes")
for source, probability, weight, receptor in (("E", p.p_e, p.w_e, "excitatory"),
                                              ("I", p.p_i, p.w_i, "inhibitory")):
    pre = populations[source]
    for post in populations.values():
        sources, targets = random_indegree(pre.size, post.size, probability,
                                           pre.size / sizes[source], rng)
        sim.Projection(pre, post, sim.IndexConnector(sources, targets),
                       stp(weight=weight, delay=p.delay, U=p.U_0, tau_rec=p.tau_rec,
                           tau_facil=p.tau_facil), receptor_type=receptors[receptor])
built, built_cpu = time.perf_counter(), time.process_time()
sim.run(duration)
ran, ran_cpu = time.perf_counter(), time.process_time()
spikes = sum(len(t) for pop in populations.values() for t in pop.get_data().segments[0].spiketrains)
cells = sum(pop.size for pop in populations.values())
print(json.dumps({"build_s": built - wall, "run_s": ran - built, "cpu_build_s": built_cpu - cpu,
                  "cpu_run_s": ran_cpu - built_cpu, "compile_s": compile_s,
                  "mean_rate_hz": spikes / cells / (duration / 1000.0)}))
"""

# One cell per drive of trisim conformance's iaf_cond_exp runs, either kind, NESTML's
# parameters on both; prints the spike times
CELLS = BUILTIN + """
import json, sys
from trisim import backends
from trisim.nestml import shipped_path
from trisim.runners.cell import INPUT_DELAY
from trisim.runners.conformance import drives

backend, kind, dt = sys.argv[1], sys.argv[2], float(sys.argv[3])
path = shipped_path("iaf_cond_exp")
cases = [drive for _, drive in drives(path) + drives(path, library=True)]
sim = backends.load(backend)
sim.setup(timestep=dt, min_delay=dt)
nestml = sim.nestml_cell_type(path)
p = nestml.default_parameters
currents = [case["current_pa"] / 1000.0 for case in cases]
if kind == "nestml":
    cell, receptors = nestml(I_e=currents), ("exc_spikes", "inh_spikes")
else:
    cell = builtin_celltype(sim, kind)(cm=p["C_m"], tau_m=p["C_m"] / p["g_L"], v_rest=p["E_L"],
        v_thresh=p["V_th"], v_reset=p["V_reset"], tau_refrac=p["refr_T"], e_rev_E=p["E_exc"],
        e_rev_I=p["E_inh"], tau_syn_E=p["tau_syn_exc"], tau_syn_I=p["tau_syn_inh"],
        i_offset=currents)
    receptors = ("excitatory", "inhibitory")
cells = sim.Population(len(cases), cell)
cells.initialize(**{"V_m" if kind == "nestml" else "v": p["E_L"]})
for receptor, port in zip(receptors, ("exc_spikes", "inh_spikes")):
    driven = [(i, case) for i, case in enumerate(cases) if case.get("spikes_in")]
    for i, case in driven:
        weight = case["weight"]
        source = sim.Population(1, sim.SpikeSourceArray(spike_times=case["spikes_in"][port]))
        sim.Projection(source, cells[[i]], sim.AllToAllConnector(), sim.StaticSynapse(
            weight=weight["uS"] if isinstance(weight, dict) else weight, delay=INPUT_DELAY),
            receptor_type=receptor)
cells.record("spikes")
sim.run(500.0)
print(json.dumps([[float(t) for t in train.magnitude]
                  for train in cells.get_data().segments[0].spiketrains]))
"""


def run(backend, kind, scale, duration, cache=None, dt=0.1):
    """One run in a fresh process at time step ``dt`` (ms); with ``cache``, trisim's model
    cache and Brian2's Cython cache are in that directory (empty: a first build)."""
    env = environment(**({"TRISIM_CACHE": str(cache)} if cache else {}))
    cython = [str(Path(cache) / "cython")] if cache else []
    measured = measure([sys.executable, "-c", RUN, backend, kind, scale, duration, dt] + cython,
                       env=env)
    result = json.loads(measured["stdout"].strip().splitlines()[-1])
    result.update({"process_" + key: measured[key] for key in ("cpu_s", "wall_s")})
    result.update({key: measured[key] for key in ("peak_memory_mb", "load")})
    return result


def startup_s(backend, cache):
    """Build and run time of 40 NESTML cells for 10 ms: from empty caches, the model's build
    (NEST, NEURON) or the first run's Cython compilation (Brian2)."""
    timing = run(backend, "nestml", 0.01, 10.0, cache=cache)
    return {"wall_s": round(timing["build_s"] + timing["run_s"], 2),
            "cpu_s": round(timing["cpu_build_s"] + timing["cpu_run_s"], 2),
            "process_cpu_s": timing["process_cpu_s"]}


def spike_times(backend, kind, dt):
    """Spike times (ms) of one cell per drive (:data:`CELLS`), in a fresh process."""
    measured = measure([sys.executable, "-c", CELLS, backend, kind, dt])
    return json.loads(measured["stdout"].strip().splitlines()[-1])


def spike_errors(reference, trains):
    """Per drive: (spikes - the reference's, the largest difference of the n-th spike times
    (ms) over the spikes both have)."""
    errors = []
    for expected, found in zip(reference, trains):
        both = min(len(expected), len(found))
        shift = np.abs(np.subtract(expected[:both], found[:both]))
        errors.append((len(found) - len(expected), round(float(shift.max(initial=0.0)), 3)))
    return errors


def equal_accuracy_dt(backend, reference):
    """The built-in cell's time step at which its spike-time error, worst over the drives, is
    at most the NESTML cell's at 0.1 ms: ``(dt, {"nestml 0.1": errors, "builtin DT": errors,
    ...})`` (None if no step of :data:`ACCURACY_DTS` reaches it)."""
    nestml = spike_errors(reference, spike_times(backend, "nestml", 0.1))
    errors, target = {"nestml 0.1": nestml}, max(error for _, error in nestml)
    for dt in ACCURACY_DTS:
        builtin = spike_errors(reference, spike_times(backend, "builtin", dt))
        errors[f"builtin {dt:g}"] = builtin
        if max(error for _, error in builtin) <= target:
            return dt, errors
    return None, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=1000.0)
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--no-starts", action="store_true", help="skip the cold-cache starts")
    parser.add_argument("--equal-accuracy", action="store_true",
                        help="also run the built-in cell at its equal-accuracy time step")
    args = parser.parse_args()
    rows = []
    reference = spike_times("nest", "nestml", REFERENCE_DT) if args.equal_accuracy else None
    for backend in args.backends:
        accurate_dt, errors = equal_accuracy_dt(backend, reference) if reference else (None, {})
        if reference and backend == "brian2":
            errors["builtin_rk4 0.1"] = spike_errors(reference,
                                                     spike_times(backend, "builtin_rk4", 0.1))
        startups = []
        if not args.no_starts:
            with tempfile.TemporaryDirectory() as cold:
                startups = [startup_s(backend, Path(cold)) for _ in range(STARTS)]
        steps = {"builtin": ("builtin", 0.1), "nestml": ("nestml", 0.1)}
        if accurate_dt not in (None, 0.1):
            steps["builtin_equal_accuracy"] = ("builtin", accurate_dt)
        if args.equal_accuracy and backend == "brian2":
            steps["builtin_rk4"] = ("builtin_rk4", 0.1)
        runs = {name: [] for name in steps}
        for _ in range(args.repeat):
            for name, (kind, dt) in steps.items():
                runs[name].append(run(backend, kind, args.scale, args.duration, dt=dt))
        builtin, nestml = medians(runs["builtin"]), medians(runs["nestml"])
        keys = ("cpu_run_s", "run_s", "cpu_build_s", "build_s", "process_cpu_s",
                "peak_memory_mb")
        ratio = ratios(nestml, builtin, keys)
        row = {"backend": backend, "builtin": builtin, "nestml": nestml, "ratio": ratio,
               "runs": runs, "starts": startups}
        if args.equal_accuracy:
            accurate = medians(runs.get("builtin_equal_accuracy", runs["builtin"]))
            row["equal_accuracy"] = {
                "builtin_dt_ms": accurate_dt, "spike_errors": errors, "builtin": accurate,
                "ratio": ratios(nestml, accurate, keys) if accurate_dt else None}
            if "builtin_rk4" in runs:
                rk4 = medians(runs["builtin_rk4"])
                row["builtin_rk4"] = {"builtin": rk4, "ratio": ratios(nestml, rk4, keys)}
        rows.append(row)
        line = (f"{backend:7s} run CPU {builtin['cpu_run_s']:6.2f} s built-in, "
                f"{nestml['cpu_run_s']:6.2f} s NESTML (x{ratio['cpu_run_s']}, wall "
                f"x{ratio['run_s']}); build CPU x{ratio['cpu_build_s']}; rates "
                f"{builtin['mean_rate_hz']:.3f} / {nestml['mean_rate_hz']:.3f} Hz")
        if startups:
            line += (f"; NESTML cell first start {startups[0]['wall_s']:.1f} s wall "
                     f"({startups[0]['process_cpu_s']:.1f} s CPU), cached "
                     f"{startups[-1]['wall_s']:.2f} s")
        if args.equal_accuracy:
            worst = {name: max(e for _, e in errs) for name, errs in errors.items()}
            line += f"\n        largest spike-time error (ms) against the reference: {worst}"
            if accurate_dt:
                equal = row["equal_accuracy"]
                line += (f"\n        at equal accuracy (built-in at dt {accurate_dt:g} ms): run "
                         f"CPU {equal['builtin']['cpu_run_s']:6.2f} s built-in, NESTML / "
                         f"built-in x{equal['ratio']['cpu_run_s']}")
            if "builtin_rk4" in row:
                rk4 = row["builtin_rk4"]
                line += (f"\n        built-in by Brian2's RK4 at 0.1 ms: run CPU "
                         f"{rk4['builtin']['cpu_run_s']:6.2f} s, NESTML / built-in "
                         f"x{rk4['ratio']['cpu_run_s']}")
        print(line, flush=True)
    path = write_results("nestml_vs_builtin", {"scale": args.scale, "duration_ms": args.duration,
                                               "repeat": args.repeat, "rows": rows,
                                               "reference_dt_ms": REFERENCE_DT})
    print(f"written {path}")


if __name__ == "__main__":
    main()
