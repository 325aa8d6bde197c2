"""Seed 002 on every backend through trisim, and Brian2's connection paths side by side.

Not part of the test suite. Prints a table and writes ``benchmarks/results/coba_stp_backends.json``.

1. ``trisim run coba_stp`` on NEST, NEURON and Brian2 at ``--scale`` (default 1.0): build and
   run wall time, peak memory, mean rate.
2. Brian2 network build at ``--connect-scale`` (default 0.25; PyNN's own path takes minutes
   beyond that), once with trisim's one-call array connect and once with pyNN.brian2's
   per-target connect, each in a fresh process; prints the ratio.

Usage: ``python benchmarks/coba_stp_backends.py [--scale F] [--connect-scale F] [--duration MS]``
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trisim.backends import BACKENDS

RESULTS = Path(__file__).with_name("results")

BUILD_ONLY = """
import sys, time, numpy as np
import pyNN.brian2
from trisim.backends import load
from trisim.runners.run import resolve_config
model, cfg = resolve_config("coba_stp", scale={scale})
sim = load("brian2")
if {plain}:
    sim.Projection = pyNN.brian2.Projection  # PyNN's own per-target connect
sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
start = time.perf_counter()
model.build(sim, cfg.parameters, cfg.simulation, np.random.default_rng(1))
print(time.perf_counter() - start)
"""


def run_backend(backend, scale, duration, out):
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "trisim.cli", "run", "coba_stp",
                                "--backend", backend, "--scale", str(scale),
                                "--duration", str(duration), "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak memory
    if status != 0:
        raise RuntimeError(f"trisim run on {backend} failed (status {status})")
    wall = time.perf_counter() - started
    summary = json.loads((Path(out) / f"coba_stp_{backend}_seed11922.summary.json").read_text())
    rates = [p["rate_hz"] * p["n"] for p in summary["populations"].values()]
    n = sum(p["n"] for p in summary["populations"].values())
    return {"backend": backend, "build_s": summary["wall_build_s"], "run_s": summary["wall_run_s"],
            "process_s": round(wall, 2), "peak_memory_mb": round(usage.ru_maxrss / 1024),
            "mean_rate_hz": round(sum(rates) / n, 3)}


def brian2_build(scale, plain):
    result = subprocess.run([sys.executable, "-c", BUILD_ONLY.format(scale=scale, plain=plain)],
                            check=True, capture_output=True, text=True)
    return float(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--connect-scale", type=float, default=0.25)
    parser.add_argument("--duration", type=float, default=1000.0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for backend in BACKENDS:
            row = run_backend(backend, args.scale, args.duration, out)
            rows.append(row)
            print(row, flush=True)
    array_s = brian2_build(args.connect_scale, plain=False)
    per_target_s = brian2_build(args.connect_scale, plain=True)
    connect = {"scale": args.connect_scale, "array_connect_build_s": round(array_s, 2),
               "pynn_per_target_build_s": round(per_target_s, 2),
               "speed-up": round(per_target_s / array_s, 1)}
    print(f"\n{'backend':8s} {'build s':>8s} {'run s':>8s} {'peak MB':>8s} {'rate Hz':>8s}")
    for row in rows:
        print(f"{row['backend']:8s} {row['build_s']:8.1f} {row['run_s']:8.1f} "
              f"{row['peak_memory_mb']:8d} {row['mean_rate_hz']:8.3f}")
    print(f"\nBrian2 build at scale {args.connect_scale}: array connect {array_s:.1f} s, "
          f"PyNN per-target connect {per_target_s:.1f} s, ratio {per_target_s / array_s:.0f}x")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "coba_stp_backends.json").write_text(json.dumps(
        {"scale": args.scale, "duration_ms": args.duration, "runs": rows,
         "brian2_connect": connect}, indent=2) + "\n")


if __name__ == "__main__":
    main()
