"""trisim against native scripts of seed 002, side by side, on NEST, NEURON and Brian2.

Not part of the test suite (``make bench``). In one run on one machine:

1. warm-up: every script once at a tiny size, so Brian2's Cython code and the NEURON
   mechanisms are compiled and cached (both sides) before anything is timed;
2. comparison at ``--scale`` (default 1, the published size): per backend, the native script
   (``benchmarks/native/``) and the whole ``trisim run coba_stp`` command (writing its NIX file
   and summary), alternated ``--repeat`` times (default 3), each in a fresh process. Measured:
   the whole process (wall-clock and CPU time, peak memory: what a user waits for), and inside
   it the build and run phases as each side reports them; the rest of the process (imports,
   output, statistics) is its fixed cost. Medians over the repeats, and the ratios trisim /
   native, CPU time first (see ``measure.py``);
3. scaling sweep over ``--scales`` (default 0.25 0.5 1 2): the same measures per scale, once
   each, and a plot of time and memory against the number of synapses per backend.

Writes ``benchmarks/results/coba_stp_vs_native/<commit>.json`` (and ``.png`` with a sweep).

Usage: ``nice -n 10 python benchmarks/coba_stp_vs_native.py [--backends nest neuron brian2]
[--scale 1] [--scales 0.25 0.5 1 2] [--duration 1000] [--repeat 3] [--no-sweep]``
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from measure import REPEAT, measure, medians, ratios, tool, write_results

NATIVE = Path(__file__).resolve().parent / "native"
BACKENDS = ("nest", "neuron", "brian2")
#: Compared between the two sides: whole process, then its phases, then memory.
MEASURES = ("cpu_s", "wall_s", "cpu_build_s", "cpu_run_s", "build_s", "run_s", "fixed_cpu_s",
            "peak_memory_mb")


def _process(measured):
    return {key: measured[key] for key in ("wall_s", "cpu_s", "peak_memory_mb", "load")}


def native(backend, scale, duration, workdir):
    """The native script's whole process, and the build and run phases it reports."""
    measured = measure([sys.executable, NATIVE / f"coba_stp_{backend}.py",
                        "--scale", scale, "--duration", duration], workdir)
    result = json.loads(measured["stdout"].strip().splitlines()[-1])
    row = _process(measured)
    row.update({key: result[key] for key in ("build_s", "run_s", "cpu_build_s", "cpu_run_s",
                                             "n_synapses", "mean_rate_hz")})
    row["fixed_cpu_s"] = round(row["cpu_s"] - row["cpu_build_s"] - row["cpu_run_s"], 3)
    return row


def trisim(backend, scale, duration, workdir):
    """The whole ``trisim run`` process (as a user starts it), and its build and run phases."""
    out = Path(workdir) / "out"
    measured = measure([tool("trisim"), "run", "coba_stp", "--backend", backend,
                        "--scale", scale, "--duration", duration, "--out", out], workdir)
    summary = json.loads((out / f"coba_stp_{backend}_seed11922.summary.json").read_text())
    populations = summary["populations"].values()
    n = sum(p["n"] for p in populations)
    row = _process(measured)
    row.update({"build_s": summary["wall_build_s"], "run_s": summary["wall_run_s"],
                "cpu_build_s": summary["cpu_build_s"], "cpu_run_s": summary["cpu_run_s"],
                "mean_rate_hz": round(sum(p["rate_hz"] * p["n"] for p in populations) / n, 3)})
    row["fixed_cpu_s"] = round(row["cpu_s"] - row["cpu_build_s"] - row["cpu_run_s"], 3)
    return row


def compare(backend, scale, duration, repeat, workdir):
    """Native and trisim alternated ``repeat`` times; every run, medians and ratios."""
    runs = {"native": [], "trisim": []}
    for _ in range(repeat):
        runs["native"].append(native(backend, scale, duration, workdir))
        runs["trisim"].append(trisim(backend, scale, duration, workdir))
    row = {"backend": backend, "scale": scale, "runs": runs}
    for side, results in runs.items():
        row[side] = medians(results)
        row[side]["build_run_s"] = round(row[side]["build_s"] + row[side]["run_s"], 3)
        row[side]["cpu_build_run_s"] = round(row[side]["cpu_build_s"] + row[side]["cpu_run_s"],
                                             3)
    row["n_synapses"] = row["native"]["n_synapses"]
    row["ratio"] = ratios(row["trisim"], row["native"],
                          MEASURES + ("build_run_s", "cpu_build_run_s"))
    return row


def print_table(rows):
    """Per side: whole process (CPU s, wall s), build and run CPU s, fixed CPU s, peak MB; then
    the ratios trisim / native, CPU first."""
    print(f"{'backend':7s} {'scale':>5s} {'side':6s} | {'proc cpu':>8s} {'wall':>6s} "
          f"{'build':>6s} {'run':>6s} {'fixed':>6s} {'MB':>5s} {'load':>4s}")
    for row in rows:
        for side in ("native", "trisim"):
            m = row[side]
            print(f"{row['backend']:7s} {row['scale']:5.2f} {side:6s} | {m['cpu_s']:8.2f} "
                  f"{m['wall_s']:6.2f} {m['cpu_build_s']:6.2f} {m['cpu_run_s']:6.2f} "
                  f"{m['fixed_cpu_s']:6.2f} {m['peak_memory_mb']:5.0f} {m['load']:4.2f}")
        r = row["ratio"]
        print(f"{row['backend']:7s} {row['scale']:5.2f} {'ratio':6s} | {r['cpu_s']:8.2f} "
              f"{r['wall_s']:6.2f} {r['cpu_build_s']:6.2f} {r['cpu_run_s']:6.2f} "
              f"{'':6s} {r['peak_memory_mb']:5.2f}", flush=True)


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--scales", nargs="+", type=float, default=[0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--duration", type=float, default=1000.0, help="ms")
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--output", help="JSON file (default: results/coba_stp_vs_native/)")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        print("warm-up (compiles and caches Brian2 code and NEURON mechanisms)", flush=True)
        for backend in args.backends:
            native(backend, 0.02, 20.0, workdir)
            trisim(backend, 0.02, 20.0, workdir)
        print(f"\ncomparison at scale {args.scale}, {args.duration:g} ms, "
              f"median of {args.repeat}; CPU and wall s, peak memory MB", flush=True)
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
    path = write_results("coba_stp_vs_native", {
        "duration_ms": args.duration, "repeat": args.repeat, "comparison": comparison,
        "sweep": sweep, "total_s": round(time.perf_counter() - started, 1)}, args.output)
    print(f"\nwrote {path}")
    if sweep:
        plot(sweep, path.with_suffix(".png"))
        print(f"wrote {path.with_suffix('.png')}")


if __name__ == "__main__":
    main()
