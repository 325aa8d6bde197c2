"""Seed 002 across MPI processes on NEST and NEURON: speed-up of 2 ranks over 1, same spikes.

Not part of the test suite (``make bench-mpi``; needs ``make setup-mpi``). For each backend,
``trisim run coba_stp`` at ``--scale`` (default 1) in one process and under
``mpirun -n 2``, alternated ``--repeat`` times (median of the times); on NEST also one process
with two threads (the same two virtual processes as two ranks). Prints build and run times
(wall clock, and rank 0's CPU time), the run-time speed-up of 2 ranks over 1, and whether
every cell's spike times are identical between the process counts (NEST: 2 ranks x 1 thread
against 1 rank x 2 threads, as NEST promises; NEURON: 2 ranks against 1). Writes ``benchmarks/results/coba_stp_mpi/<commit>.json``.

Usage: ``python benchmarks/coba_stp_mpi.py [--backends nest neuron] [--scale 1]
[--duration 1000] [--repeat 1]``
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from measure import write_results
from trisim import parallel
from trisim.backends import with_mpi
from trisim.output import read_block


def run(backend, scale, duration, out, processes, threads):
    command = [sys.executable, "-m", "trisim.cli", "run", "coba_stp", "--backend", backend,
               "--scale", str(scale), "--duration", str(duration), "--out", str(out),
               "--set", f"threads={threads}"]
    if processes > 1:
        command = parallel.mpirun(processes) + command
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True,
                            env={**os.environ, "PYNEST_QUIET": "1"})
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    summary = json.loads((Path(out) / f"coba_stp_{backend}_seed11922.summary.json").read_text())
    return {"processes": processes, "threads": threads, "build_s": summary["wall_build_s"],
            "run_s": summary["wall_run_s"], "cpu_build_s": summary["cpu_build_s"],
            "cpu_run_s": summary["cpu_run_s"],
            "process_s": round(time.perf_counter() - started, 2),
            "nix": Path(out) / f"coba_stp_{backend}_seed11922.nix"}


def spike_trains(path):
    return [(t.annotations["source_population"], t.annotations["source_index"],
             np.asarray(t.magnitude)) for t in read_block(path).segments[0].spiketrains]


def identical_spikes(a, b):
    a, b = spike_trains(a), spike_trains(b)
    return len(a) == len(b) and all(x[:2] == y[:2] and np.array_equal(x[2], y[2])
                                    for x, y in zip(a, b))


def measure(backend, scale, duration, repeat, workdir):
    layouts = [(1, 1), (2, 1)] + ([(1, 2)] if backend == "nest" else [])
    runs = {layout: [] for layout in layouts}
    for k in range(repeat):
        for processes, threads in layouts:
            out = Path(workdir) / f"{backend}-{processes}x{threads}-{k}"
            runs[(processes, threads)].append(run(backend, scale, duration, out, processes,
                                                  threads))
    rows = {f"{p}x{t}": {"processes": p, "threads": t,
                         **{key: statistics.median(r[key] for r in results)
                            for key in ("build_s", "run_s", "cpu_build_s", "cpu_run_s",
                                        "process_s")}}
            for (p, t), results in runs.items()}
    reference = runs[(1, 2)][0]["nix"] if backend == "nest" else runs[(1, 1)][0]["nix"]
    return {"backend": backend, "scale": scale, "layouts": rows,
            "speed_up_run_2_ranks": round(rows["1x1"]["run_s"] / rows["2x1"]["run_s"], 2),
            # rank 0's CPU time: the share of the work one of two processes does when the
            # machine's cores are busy with other work too (MPI's waits spin, and count)
            "speed_up_cpu_run_2_ranks": round(rows["1x1"]["cpu_run_s"] / rows["2x1"]["cpu_run_s"],
                                              2),
            "identical_spikes": {
                "compared": "2 ranks x 1 thread vs 1 rank x 2 threads" if backend == "nest"
                else "2 ranks vs 1 rank",
                "identical": identical_spikes(reference, runs[(2, 1)][0]["nix"])}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(with_mpi()), choices=with_mpi())
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=1000.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--output", help="JSON file (default: results/coba_stp_mpi/)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for backend in args.backends:
            results.append(measure(backend, args.scale, args.duration, args.repeat, workdir))
            row = results[-1]
            for name, layout in row["layouts"].items():
                print(f"{backend:7s} {name:4s} build {layout['build_s']:6.2f} s  "
                      f"run {layout['run_s']:6.2f} s  (rank 0 CPU: build "
                      f"{layout['cpu_build_s']:6.2f} s  run {layout['cpu_run_s']:6.2f} s)",
                      flush=True)
            print(f"{backend:7s} run-time speed-up 2 ranks / 1 rank: "
                  f"{row['speed_up_run_2_ranks']:.2f}x wall, "
                  f"{row['speed_up_cpu_run_2_ranks']:.2f}x CPU; identical spikes "
                  f"({row['identical_spikes']['compared']}): "
                  f"{row['identical_spikes']['identical']}", flush=True)
    path = write_results("coba_stp_mpi", {"duration_ms": args.duration, "repeat": args.repeat,
                                          "results": results}, args.output)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
