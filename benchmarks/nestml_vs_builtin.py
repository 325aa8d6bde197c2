"""A NESTML cell against the simulator's built-in equivalent, in seed 002's 4000-cell network.

Not part of the test suite. The network is seed 002's (COBA, Tsodyks-Markram synapses, drawn
once from one seed), built either with PyNN's ``IF_cond_exp`` (NEST's ``iaf_cond_exp``,
pyNN.neuron's and pyNN.brian2's mechanisms) or with NESTML's shipped ``iaf_cond_exp_neuron``
through ``sim.nestml_cell_type``, same parameters. Each run is a fresh process; both cell
kinds run alternated per backend (medians of ``--repeat``, default 3), and the script prints
build and run times (CPU and wall-clock) and the ratios NESTML/built-in, and the first (cold
cache) and cached start times of the NESTML cell.

``--equal-accuracy`` also compares the two cells at equal accuracy, each cell's spike times
against a reference (NESTML's cell on NEST at dt 0.002 ms) under two sets of drives:

- ``drives``: one cell per drive of ``trisim conformance``'s runs of ``iaf_cond_exp`` (400, 500
  and 1500 pA; 400 and 500 pA with input trains on both ports), NESTML's parameters, 500 ms.
  The cells fire regularly and errors add up from spike to spike, so the error is the largest
  difference of the n-th spike times, worst over the drives;
- ``irregular``: seed 002's cell (its parameters and drive) under Poisson input at the
  network's rates, 5 cells for 2 s, firing irregularly. The error is the mean distance from
  each spike (of either train) to the nearest one of the other train, at most
  ``NEAREST_CAP_MS`` (a missing or extra spike counts that much).

For each set, the built-in cell's equal-accuracy time step is the largest of ``ACCURACY_DTS``
at which its error is at most the NESTML cell's at 0.1 ms; the network then also runs with the
built-in cell at that step, and the ratios NESTML (0.1 ms) / built-in (that step) are reported
beside the ratio at equal steps. The errors also cover the NESTML cell held a whole number of
steps (``refr_T`` half a step short: its timer, counted down in floating point, holds one step
more when ``refr_T`` is a whole number of steps, e.g. 5 ms at 0.1 ms) and, on Brian2,
pyNN.brian2's cell integrated by Brian2's RK4, which also runs in the network.
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
#: ms: the largest distance to the nearest spike that the irregular drive's error counts
NEAREST_CAP_MS = 2.0
CASES = ("drives", "irregular")

# The cell of either kind from seed 002's parameter names: NESTML's iaf_cond_exp ("nestml",
# or "nestml_whole_steps" with refr_T half a step short), PyNN's IF_cond_exp ("builtin"), or
# (Brian2) the latter integrated by Brian2's RK4 ("builtin_rk4"): pyNN.brian2 lets Brian2
# choose, and it takes Euler (V times a conductance is not linear for its exact solver)
CELL = """
from trisim.nestml import shipped_path


def make_cell(sim, kind, p, i_offset, dt):
    if kind.startswith("nestml"):
        refractory = p.tau_r - dt / 2 if kind == "nestml_whole_steps" else p.tau_r
        cell = sim.nestml_cell_type(shipped_path("iaf_cond_exp"))(
            C_m=p.C_m, g_L=p.g_l, E_L=p.E_l, V_th=p.V_th, V_reset=p.V_r, refr_T=refractory,
            I_e=i_offset, E_exc=p.E_e, E_inh=p.E_i, tau_syn_exc=p.tau_e, tau_syn_inh=p.tau_i)
        return cell, {"excitatory": "exc_spikes", "inhibitory": "inh_spikes"}, "V_m"
    celltype = sim.IF_cond_exp
    if kind == "builtin_rk4":
        class RK4Group(celltype.brian2_model):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, method="rk4", **kwargs)
        celltype = type("IF_cond_exp", (celltype,), {"brian2_model": RK4Group})
    cell = celltype(cm=p.C_m, tau_m=p.C_m / p.g_l, v_rest=p.E_l, v_thresh=p.V_th,
                    v_reset=p.V_r, tau_refrac=p.tau_r, i_offset=i_offset, e_rev_E=p.E_e,
                    e_rev_I=p.E_i, tau_syn_E=p.tau_e, tau_syn_I=p.tau_i)
    return cell, {"excitatory": "excitatory", "inhibitory": "inhibitory"}, "v"
"""

RUN = CELL + """
import json, sys, time
import numpy as np
from trisim import backends, nestml
from trisim.connectivity import random_indegree
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
started = time.perf_counter()
cell, receptors, voltage = make_cell(sim, kind, p, p.I_ex, dt)
compile_s = time.perf_counter() - started  # the NESTML cell's build, if not cached
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

# One cell per drive of a case (CASES) of either kind; prints the spike times
CELLS = CELL + """
import json, sys
from types import SimpleNamespace
import numpy as np
from trisim import backends
from trisim.runners.cell import INPUT_DELAY
from trisim.runners.conformance import drives
from trisim.runners.run import resolve_config

backend, kind, dt, case = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
sim = backends.load(backend)
sim.setup(timestep=dt, min_delay=dt)
if case == "drives":  # NESTML's parameters, trisim conformance's drives
    path = shipped_path("iaf_cond_exp")
    d = sim.nestml_cell_type(path).default_parameters
    p = SimpleNamespace(C_m=d["C_m"], g_l=d["g_L"], E_l=d["E_L"], V_th=d["V_th"],
                        V_r=d["V_reset"], tau_r=d["refr_T"], E_e=d["E_exc"], E_i=d["E_inh"],
                        tau_e=d["tau_syn_exc"], tau_i=d["tau_syn_inh"])
    cases = [drive for _, drive in drives(path) + drives(path, library=True)]
    currents, duration = [case["current_pa"] / 1000.0 for case in cases], 500.0
    inputs = []  # (cell, receptor, [train per source], weight in uS)
    for i, case in enumerate(cases):
        for receptor, port in (("excitatory", "exc_spikes"), ("inhibitory", "inh_spikes")):
            if case.get("spikes_in"):
                weight = case["weight"]
                weight = weight["uS"] if isinstance(weight, dict) else weight
                inputs.append((i, receptor, [case["spikes_in"][port]], weight))
else:  # seed 002's cell, Poisson input from as many cells as converge on one in the
    # network, firing at its rate (4 Hz); each input on the 0.1 ms grid, at most one spike
    # per step and source (Brian2's spike sources take no more), 32 sources per receptor.
    # Inhibition is 0.3 nS per spike (w_i U_0 = 0.6 nS, undepressed, silences a lone cell;
    # at 0.3 nS it fires irregularly, about 13 Hz)
    _, cfg = resolve_config("coba_stp")
    p = cfg.parameters
    rng = np.random.default_rng(cfg.simulation.seed)
    currents, duration, sources = [p.I_ex] * 5, 2000.0, 32
    inputs = []
    for i in range(len(currents)):
        for receptor, size, weight in (("excitatory", p.n_exc * p.p_e, p.w_e),
                                       ("inhibitory", p.n_inh * p.p_i, 0.0003)):
            rate = size * 4.0 / sources / 1000.0  # per ms
            trains = [np.unique(np.round(rng.uniform(1.0, duration - 2.0,
                                                     rng.poisson(rate * duration)), 1))
                      for _ in range(sources)]
            inputs.append((i, receptor, [t.tolist() for t in trains], weight))
cell, receptors, voltage = make_cell(sim, kind, p, currents, dt)
cells = sim.Population(len(currents), cell)
cells.initialize(**{voltage: p.E_l})
for i, receptor, trains, weight in inputs:
    source = sim.Population(len(trains), sim.SpikeSourceArray(  # (PyNN: one train, no list)
        spike_times=[sim.Sequence(train) for train in trains] if len(trains) > 1 else trains[0]))
    sim.Projection(source, cells[[i]], sim.AllToAllConnector(), sim.StaticSynapse(
        weight=weight, delay=INPUT_DELAY), receptor_type=receptors[receptor])
cells.record("spikes")
sim.run(duration)
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


def spike_times(backend, kind, dt, case):
    """Spike times (ms) of the cells of ``case`` (:data:`CELLS`), in a fresh process."""
    measured = measure([sys.executable, "-c", CELLS, backend, kind, dt, case])
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


def nearest_spike_error(reference, trains, cap=NEAREST_CAP_MS):
    """(spikes - the reference's, the mean distance (ms) from each spike of either train of a
    cell to the nearest spike of the other, each at most ``cap``), over all cells."""
    distances, more = [], 0
    for expected, found in zip(reference, trains):
        expected, found = np.asarray(expected, float), np.asarray(found, float)
        more += len(found) - len(expected)
        for spikes, others in ((expected, found), (found, expected)):
            nearest = (np.abs(spikes[:, None] - others[None, :]).min(axis=1) if len(others)
                       else np.full(len(spikes), cap))
            distances.extend(np.minimum(nearest, cap))
    return more, round(float(np.mean(distances)) if distances else 0.0, 3)


def error(case, reference, trains):
    """A cell's error in ``case`` against the reference: ``{"error_ms": ..., ...}``."""
    if case == "drives":
        per_drive = spike_errors(reference, trains)
        return {"error_ms": max(e for _, e in per_drive), "per_drive": per_drive}
    more, distance = nearest_spike_error(reference, trains)
    return {"error_ms": distance, "spikes_more": more}


def equal_accuracy(backend, case, reference):
    """The built-in cell's time step at which its error in ``case`` is at most the NESTML
    cell's at 0.1 ms (None if no step of :data:`ACCURACY_DTS` reaches it), and the errors:
    ``(dt, {"KIND DT": error, ...})``."""
    kinds = ["nestml", "nestml_whole_steps"] + ["builtin_rk4"] * (backend == "brian2")
    errors = {f"{kind} 0.1": error(case, reference, spike_times(backend, kind, 0.1, case))
              for kind in kinds}
    for dt in ACCURACY_DTS:
        found = error(case, reference, spike_times(backend, "builtin", dt, case))
        errors[f"builtin {dt:g}"] = found
        if found["error_ms"] <= errors["nestml 0.1"]["error_ms"]:
            return dt, errors
    return None, errors


def _builtin_run(dt):
    return "builtin" if dt == 0.1 else f"builtin {dt:g}"


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
    references = ({case: spike_times("nest", "nestml", REFERENCE_DT, case) for case in CASES}
                  if args.equal_accuracy else {})
    for backend in args.backends:
        accuracy = {case: equal_accuracy(backend, case, reference)
                    for case, reference in references.items()}
        startups = []
        if not args.no_starts:
            with tempfile.TemporaryDirectory() as cold:
                startups = [startup_s(backend, Path(cold)) for _ in range(STARTS)]
        steps = {"builtin": ("builtin", 0.1), "nestml": ("nestml", 0.1)}
        for dt, _ in accuracy.values():
            if dt is not None:
                steps.setdefault(_builtin_run(dt), ("builtin", dt))
        if accuracy and backend == "brian2":
            steps["builtin_rk4"] = ("builtin_rk4", 0.1)
        runs = {name: [] for name in steps}
        for _ in range(args.repeat):
            for name, (kind, dt) in steps.items():
                runs[name].append(run(backend, kind, args.scale, args.duration, dt=dt))
        timings = {name: medians(runs[name]) for name in runs}
        builtin, nestml = timings["builtin"], timings["nestml"]
        keys = ("cpu_run_s", "run_s", "cpu_build_s", "build_s", "process_cpu_s",
                "peak_memory_mb")
        ratio = ratios(nestml, builtin, keys)
        row = {"backend": backend, "builtin": builtin, "nestml": nestml, "ratio": ratio,
               "runs": runs, "starts": startups,
               "equal_accuracy": {case: {
                   "builtin_dt_ms": dt, "errors": errors,
                   "builtin": timings[_builtin_run(dt)] if dt else None,
                   "ratio": ratios(nestml, timings[_builtin_run(dt)], keys) if dt else None}
                   for case, (dt, errors) in accuracy.items()}}
        if "builtin_rk4" in timings:
            row["builtin_rk4"] = {"builtin": timings["builtin_rk4"],
                                  "ratio": ratios(nestml, timings["builtin_rk4"], keys)}
        rows.append(row)
        line = (f"{backend:7s} run CPU {builtin['cpu_run_s']:6.2f} s built-in, "
                f"{nestml['cpu_run_s']:6.2f} s NESTML (x{ratio['cpu_run_s']}, wall "
                f"x{ratio['run_s']}); build CPU x{ratio['cpu_build_s']}; rates "
                f"{builtin['mean_rate_hz']:.3f} / {nestml['mean_rate_hz']:.3f} Hz")
        if startups:
            line += (f"; NESTML cell first start {startups[0]['wall_s']:.1f} s wall "
                     f"({startups[0]['process_cpu_s']:.1f} s CPU), cached "
                     f"{startups[-1]['wall_s']:.2f} s")
        for case, equal in row["equal_accuracy"].items():
            errors = {name: e["error_ms"] for name, e in equal["errors"].items()}
            line += f"\n        {case}: error (ms) against the reference {errors}"
            if equal["builtin_dt_ms"]:
                line += (f"; at equal accuracy (built-in at {equal['builtin_dt_ms']:g} ms, run CPU "
                         f"{equal['builtin']['cpu_run_s']:.2f} s) NESTML / built-in "
                         f"x{equal['ratio']['cpu_run_s']}")
        if "builtin_rk4" in row:
            rk4 = row["builtin_rk4"]
            line += (f"\n        built-in by Brian2's RK4 at 0.1 ms: run CPU "
                     f"{rk4['builtin']['cpu_run_s']:.2f} s, NESTML / built-in "
                     f"x{rk4['ratio']['cpu_run_s']}")
        print(line, flush=True)
    path = write_results("nestml_vs_builtin", {"scale": args.scale, "duration_ms": args.duration,
                                               "repeat": args.repeat, "rows": rows,
                                               "reference_dt_ms": REFERENCE_DT})
    print(f"written {path}")


if __name__ == "__main__":
    main()
