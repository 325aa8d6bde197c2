"""trisim against native scripts of seed 002, side by side, on NEST, NEURON and Brian2.

Not part of the test suite (``make bench``). In one run on one machine:

1. warm-up: every script once at a tiny size, so Brian2's Cython code and the NEURON
   mechanisms are compiled and cached (both sides) before anything is timed;
2. comparison at ``--scale`` (default 1, the published size): per backend, the native script
   (``benchmarks/native/``) and ``trisim run coba_stp``, alternated ``--repeat`` times, each
   in a fresh process; build time, run time and the process's peak memory (median over the
   repeats), and the ratios trisim / native;
3. scaling sweep over ``--scales`` (default 0.25 0.5 1 2): the same measures per scale, and a
   plot of time and memory against the number of synapses per backend.

Writes ``benchmarks/results/coba_stp_vs_native.json`` (and ``.png``); the JSON records the
commit, so results can be compared across commits.

Usage: ``python benchmarks/coba_stp_vs_native.py [--backends nest neuron brian2]
[--scale 1] [--scales 0.25 0.5 1 2] [--duration 1000] [--repeat 1] [--no-sweep]``
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NATIVE = HERE / "native"
RESULTS = HERE / "results"
BACKENDS = ("nest", "neuron", "brian2")
MEASURES = ("build_s", "run_s", "peak_memory_mb")


def _environment():
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)  # nrnivmodl lives beside the venv's python
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("PYNEST_QUIET", "1")
    return env


def _measure(command, cwd):
    """Run ``command``; return its stdout, wall time and peak resident memory (MB)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env=_environment())
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if status != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{stderr[-3000:]}")
    return stdout, wall, usage.ru_maxrss / 1024.0


def native(backend, scale, duration, workdir):
    stdout, wall, memory = _measure([sys.executable, NATIVE / f"coba_stp_{backend}.py",
                                     "--scale", str(scale), "--duration", str(duration)],
                                    workdir)
    result = json.loads(stdout.strip().splitlines()[-1])
    return {"build_s": result["build_s"], "run_s": result["run_s"],
            "cpu_build_s": result["cpu_build_s"], "cpu_run_s": result["cpu_run_s"],
            "peak_memory_mb": round(memory), "process_s": round(wall, 2),
            "n_synapses": result["n_synapses"], "mean_rate_hz": result["mean_rate_hz"]}


def trisim(backend, scale, duration, workdir):
    out = Path(workdir) / "out"
    _, wall, memory = _measure([sys.executable, "-m", "trisim.cli", "run", "coba_stp",
                                "--backend", backend, "--scale", str(scale),
                                "--duration", str(duration), "--out", str(out)], workdir)
    summary = json.loads((out / f"coba_stp_{backend}_seed11922.summary.json").read_text())
    populations = summary["populations"].values()
    n = sum(p["n"] for p in populations)
    return {"build_s": summary["wall_build_s"], "run_s": summary["wall_run_s"],
            "cpu_build_s": summary["cpu_build_s"], "cpu_run_s": summary["cpu_run_s"],
            "peak_memory_mb": round(memory), "process_s": round(wall, 2),
            "mean_rate_hz": round(sum(p["rate_hz"] * p["n"] for p in populations) / n, 3)}


def compare(backend, scale, duration, repeat, workdir):
    """Native and trisim alternated ``repeat`` times; medians and ratios."""
    runs = {"native": [], "trisim": []}
    for _ in range(repeat):
        runs["native"].append(native(backend, scale, duration, workdir))
        runs["trisim"].append(trisim(backend, scale, duration, workdir))
    row = {"backend": backend, "scale": scale}
    for side, results in runs.items():
        row[side] = {key: (statistics.median(r[key] for r in results)
                           if isinstance(results[0][key], (int, float)) else results[0][key])
                     for key in results[0]}
    for side in runs:
        row[side]["build_run_s"] = round(row[side]["build_s"] + row[side]["run_s"], 3)
        row[side]["cpu_build_run_s"] = round(row[side]["cpu_build_s"] + row[side]["cpu_run_s"],
                                             3)
    row["n_synapses"] = row["native"]["n_synapses"]
    row["ratio"] = {key: round(row["trisim"][key] / row["native"][key], 2)
                    for key in ("build_s", "run_s", "build_run_s", "cpu_build_s", "cpu_run_s",
                                "cpu_build_run_s", "peak_memory_mb")}
    return row


def print_table(rows):
    """Wall-clock times (s), peak memory (MB) and the ratios trisim / native, wall and CPU."""
    header = (f"{'backend':7s} {'scale':>5s} {'synapses':>8s} | {'native':>6s} {'':>6s} "
              f"{'':>5s} | {'trisim':>6s} {'':>6s} {'':>5s} | {'trisim/native wall':>18s} "
              f"{'':>5s} | {'cpu':>5s} {'':>5s}\n"
              f"{'':7s} {'':>5s} {'':>8s} | {'build':>6s} {'run':>6s} {'MB':>5s} | "
              f"{'build':>6s} {'run':>6s} {'MB':>5s} | {'build':>5s} {'run':>5s} {'b+r':>5s} "
              f"{'MB':>5s} | {'build':>5s} {'run':>5s}")
    print(header)
    print("-" * len(header.splitlines()[1]))
    for row in rows:
        n, t, r = row["native"], row["trisim"], row["ratio"]
        print(f"{row['backend']:7s} {row['scale']:5.2f} {row['n_synapses']:8d} | "
              f"{n['build_s']:6.2f} {n['run_s']:6.2f} {n['peak_memory_mb']:5.0f} | "
              f"{t['build_s']:6.2f} {t['run_s']:6.2f} {t['peak_memory_mb']:5.0f} | "
              f"{r['build_s']:5.2f} {r['run_s']:5.2f} {r['build_run_s']:5.2f} "
              f"{r['peak_memory_mb']:5.2f} | {r['cpu_build_s']:5.2f} {r['cpu_run_s']:5.2f}",
              flush=True)


def plot(sweep, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, (time_axes, memory_axes) = plt.subplots(1, 2, figsize=(11, 4.2))
    colours = {"nest": "tab:blue", "neuron": "tab:green", "brian2": "tab:orange"}
    for backend in BACKENDS:
        rows = sorted((r for r in sweep if r["backend"] == backend), key=lambda r: r["scale"])
        if not rows:
            continue
        synapses = [r["n_synapses"] for r in rows]
        for side, style in (("trisim", "-o"), ("native", "--s")):
            time_axes.plot(synapses, [r[side]["build_run_s"] for r in rows], style,
                           color=colours[backend], label=f"{backend} {side}")
            memory_axes.plot(synapses, [r[side]["peak_memory_mb"] for r in rows], style,
                             color=colours[backend], label=f"{backend} {side}")
    for axes, label in ((time_axes, "build + run time (s)"), (memory_axes, "peak memory (MB)")):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("synapses")
        axes.set_ylabel(label)
        axes.grid(True, which="both", alpha=0.3)
    time_axes.legend(fontsize=7, ncol=2)
    figure.suptitle("seed 002 (coba_stp), trisim (solid) vs native scripts (dashed)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--scales", nargs="+", type=float, default=[0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--duration", type=float, default=1000.0, help="ms")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--output", default=str(RESULTS / "coba_stp_vs_native.json"))
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        print("warm-up (compiles and caches Brian2 code and NEURON mechanisms)", flush=True)
        for backend in args.backends:
            native(backend, 0.02, 20.0, workdir)
            trisim(backend, 0.02, 20.0, workdir)
        print(f"\ncomparison at scale {args.scale}, {args.duration:g} ms, "
              f"median of {args.repeat}", flush=True)
        comparison = []
        for backend in args.backends:
            comparison.append(compare(backend, args.scale, args.duration, args.repeat, workdir))
            print_table(comparison[-1:])
        sweep = []
        if not args.no_sweep:
            print(f"\nscaling sweep, {args.duration:g} ms", flush=True)
            for scale in args.scales:
                for backend in args.backends:
                    known = [r for r in comparison
                             if r["backend"] == backend and r["scale"] == scale]
                    sweep.append(known[0] if known else
                                 compare(backend, scale, args.duration, 1, workdir))
                    print_table(sweep[-1:])
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": "coba_stp_vs_native", "commit": git_commit(),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": {"cpus": os.cpu_count(), "processor": platform.processor(),
                          "python": platform.python_version()},
              "duration_ms": args.duration, "repeat": args.repeat,
              "comparison": comparison, "sweep": sweep,
              "total_s": round(time.perf_counter() - started, 1)}
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {output}")
    if sweep:
        plot(sweep, output.with_suffix(".png"))
        print(f"wrote {output.with_suffix('.png')}")


if __name__ == "__main__":
    main()
