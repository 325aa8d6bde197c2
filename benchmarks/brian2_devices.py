"""Brian2's runtime device against its C++ standalone device: first start and run, per model.

Not part of the test suite. Each case runs ``trisim run MODEL --backend brian2`` as a whole
process, once with ``--set device=runtime`` and once with ``--set device=cpp_standalone``,
alternated, ``--repeat`` times (medians), and records the process's CPU time (user + system,
with its children: Brian2's compilers), wall time and peak memory, and the build and run
times trisim's summary gives (CPU of the Python process only: a standalone run's compilation
and program are its children, counted in the process's CPU time, not there).

Cases:

- ``first``: the first start of a NESTML model (Wang-Buzsaki: a NESTML cell and synapse, 100
  cells, 100 ms) with every cache empty: trisim's (NESTML code generation, and the standalone
  program's directory) through a new ``TRISIM_CACHE``, and Brian2's compiled Cython modules
  through a ``brian_preferences`` file in the run's working directory.
- ``cached``: the same model again with warm caches (Brian2's modules, and the standalone
  program's directory, where make recompiles only what changed).
- ``long``: longer runs, warm caches: Wang-Buzsaki as published (500 ms at dt 0.01 ms: 50000
  steps) and seed 002 full size (4000 cells, 1.28 million synapses, 1 s).

Results: ``benchmarks/results/brian2_devices/<commit>.json``.

Usage: ``nice -n 10 python benchmarks/brian2_devices.py [--repeat N] [--cases first cached long]``
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

from measure import REPEAT, environment, measure, medians, ratios, tool, write_results

DEVICES = ("runtime", "cpp_standalone")
SMALL = ["--set", "duration=100 ms"]
CASES = {
    "first": [("wang_buzsaki", SMALL)],
    "cached": [("wang_buzsaki", SMALL)],
    "long": [("wang_buzsaki", []), ("coba_stp", [])],
}


def start(model, arguments, device, directory, cold=False):
    """One ``trisim run`` in a fresh process in ``directory``; with ``cold``, trisim's and
    Brian2's caches are new empty directories."""
    env = environment()
    if cold:
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=directory))
        env["TRISIM_CACHE"] = str(cache)
        (Path(directory) / "brian_preferences").write_text(
            f"codegen.runtime.cython.cache_dir = {str(cache / 'cython')!r}\n")
    else:
        (Path(directory) / "brian_preferences").unlink(missing_ok=True)
    out = Path(tempfile.mkdtemp(prefix="out-", dir=directory))
    measured = measure([tool("trisim"), "run", model, "--backend", "brian2", *arguments,
                        "--set", f"device={device}", "--out", out], cwd=directory,
                       env=env)
    summary = json.loads(next(out.glob(f"{model}_*.summary.json")).read_text())
    return {"process_cpu_s": measured["cpu_s"], "process_wall_s": measured["wall_s"],
            "peak_memory_mb": measured["peak_memory_mb"], "load": measured["load"],
            "wall_build_s": summary["wall_build_s"], "wall_run_s": summary["wall_run_s"],
            "cpu_build_s": summary["cpu_build_s"], "cpu_run_s": summary["cpu_run_s"],
            "rates_hz": {name: population["rate_hz"]
                         for name, population in summary["populations"].items()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="brian2_devices-") as root:
        for device in DEVICES:  # warm trisim's NESTML cache and Brian2's (untimed)
            for model, arguments in {m: a for case in args.cases
                                     for m, a in CASES[case]}.items():
                start(model, arguments, device, root)
        for case in args.cases:
            for model, arguments in CASES[case]:
                runs = {device: [] for device in DEVICES}
                for _ in range(args.repeat):
                    for device in DEVICES:
                        runs[device].append(start(model, arguments, device, root,
                                                  cold=case == "first"))
                name = f"{case}-{model}" + ("-short" if arguments else "")
                result = {device: medians(runs[device]) for device in DEVICES}
                result["standalone_over_runtime"] = ratios(
                    result["cpp_standalone"], result["runtime"],
                    ["process_cpu_s", "process_wall_s", "peak_memory_mb"])
                result["runs"] = runs
                result["arguments"] = arguments
                results[name] = result
                line = "  ".join(f"{device}: CPU {result[device]['process_cpu_s']:.1f} s, "
                                 f"wall {result[device]['process_wall_s']:.1f} s, "
                                 f"rates {result[device]['rates_hz']}" for device in DEVICES)
                print(f"{name}: {line}", flush=True)
    path = write_results("brian2_devices", {"repeat": args.repeat, "cases": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
