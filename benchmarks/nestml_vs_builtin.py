"""A NESTML cell against the simulator's built-in equivalent, in seed 002's 4000-cell network.

Not part of the test suite. The network is seed 002's (COBA, Tsodyks-Markram synapses, drawn
once from one seed), built either with PyNN's ``IF_cond_exp`` (NEST's ``iaf_cond_exp``,
pyNN.neuron's and pyNN.brian2's mechanisms) or with NESTML's shipped ``iaf_cond_exp_neuron``
through ``sim.nestml_cell_type``, same parameters. Each run is a fresh process; both cell
kinds run side by side per backend, and the script prints build, run and CPU times and the
ratio NESTML/built-in, and the first (cold cache) and cached build times of the NESTML cell.
Results: ``benchmarks/results/nestml_vs_builtin.json``.

Usage: ``python benchmarks/nestml_vs_builtin.py [--scale F] [--duration MS] [--repeat N]``
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).with_name("results")
# starts from one initially empty cache: the first builds, the last is cached (Brian2
# compiles two spike-monitor code objects again at its second start)
STARTS = 3

RUN = """
import json, sys, time
import numpy as np
from trisim import backends, nestml
from trisim.connectivity import random_indegree
from trisim.runners.conformance import shipped_path
from trisim.runners.run import resolve_config

backend, kind, scale, duration = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
if backend == "brian2" and len(sys.argv) > 5:  # a cold start: Brian2's own Cython cache too
    import brian2
    brian2.prefs.codegen.runtime.cython.cache_dir = sys.argv[5]
_, cfg = resolve_config("coba_stp")
p = cfg.parameters
sim = backends.load(backend)
rng = np.random.default_rng(cfg.simulation.seed)
wall, cpu = time.perf_counter(), time.process_time()
sim.setup(0.1, cfg.simulation.seed)
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
    cell = sim.IF_cond_exp(cm=p.C_m, tau_m=p.C_m / p.g_l, v_rest=p.E_l, v_thresh=p.V_th,
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


def run(backend, kind, scale, duration, cache=None):
    """One run in a fresh process; with ``cache``, trisim's model cache and Brian2's Cython
    cache are in that directory (empty: a first build)."""
    environment = dict(os.environ, **({"TRISIM_CACHE": str(cache)} if cache else {}))
    cython = [str(Path(cache) / "cython")] if cache else []
    result = subprocess.run([sys.executable, "-c", RUN, backend, kind, str(scale),
                             str(duration)] + cython, capture_output=True, text=True,
                            env=environment)
    if result.returncode != 0:
        raise RuntimeError(f"{backend}/{kind} failed: {result.stderr[-800:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def startup_s(backend, cache):
    """Build and run time of 40 NESTML cells for 10 ms: from empty caches, the model's build
    (NEST, NEURON) or the first run's Cython compilation (Brian2)."""
    timing = run(backend, "nestml", 0.01, 10.0, cache=cache)
    return timing["build_s"] + timing["run_s"]


def best(backend, kind, scale, duration, repeat):
    """The fastest of ``repeat`` runs (by CPU time of the run; the machine may be shared)."""
    runs = [run(backend, kind, scale, duration) for _ in range(repeat)]
    return min(runs, key=lambda r: r["cpu_run_s"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=1000.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for backend in ("nest", "neuron", "brian2"):
        with tempfile.TemporaryDirectory() as cold:
            startups = [startup_s(backend, Path(cold)) for _ in range(STARTS)]
        first_build, cached = startups[0], startups[-1]
        builtin = best(backend, "builtin", args.scale, args.duration, args.repeat)
        nestml = best(backend, "nestml", args.scale, args.duration, args.repeat)
        ratio = {key: round(nestml[key] / builtin[key], 2)
                 for key in ("build_s", "run_s", "cpu_run_s")}
        rows.append({"backend": backend, "builtin": builtin, "nestml": nestml, "ratio": ratio,
                     "first_build_s": round(first_build, 1), "cached_build_s": round(cached, 2),
                     "starts_s": [round(t, 2) for t in startups]})
        print(f"{backend:7s} run {builtin['run_s']:6.2f} s built-in, {nestml['run_s']:6.2f} s NESTML "
              f"(x{ratio['run_s']}, CPU x{ratio['cpu_run_s']}); build x{ratio['build_s']}; "
              f"rates {builtin['mean_rate_hz']:.3f} / {nestml['mean_rate_hz']:.3f} Hz; "
              f"NESTML cell first build {first_build:.1f} s, cached {cached:.2f} s", flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "nestml_vs_builtin.json"
    out.write_text(json.dumps({"benchmark": "nestml_vs_builtin", "scale": args.scale,
                               "duration_ms": args.duration, "rows": rows}, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
