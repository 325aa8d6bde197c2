"""Where the time of one ``trisim run`` goes: trisim's own layer, and inside the simulator.

Not part of the test suite. Runs ``trisim run MODEL --backend B [options]`` once, in a fresh
process, and reports

- CPU time per phase of trisim's own layer, measured in the process: start-up (imports,
  config), importing the simulator and PyNN's backend, drawing input spike trains (``trisim.inputs.step_spike_times``), creating the input
  sources (``connect_trains``), the rest of building the network, the run itself, collecting
  the recordings into a Neo Block, freeing the network, summary statistics, writing the files;
  what the process spent outside these (``untimed rest``) and after ``trisim``'s main
  function returned (``interpreter exit``: freeing what is left);
- with ``--perf`` (Linux ``perf``), a sampling profile of the whole process: the share of CPU
  time per shared object (the simulator's library, Python, numpy...) and the functions that
  take the most, so that the time inside the simulator can be told from trisim's.

Writes ``benchmarks/results/profile_run/<commit>-<model>-<backend>.json``.

Usage: ``nice -n 10 python benchmarks/profile_run.py [--perf] cb1_v1 --backend nest
--duration 5000 --set input=events`` (everything after the options of this script goes to
``trisim run``).
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import measure, write_results

#: Run in the measured process: wraps trisim's functions with CPU timers, then runs the CLI.
DRIVER = r"""
import functools, json, resource, sys, time
start = time.process_time()
phases = {}

def timed(function, label):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        begun = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            phases[label] = phases.get(label, 0.0) + time.process_time() - begun
    return wrapper

def wrap_everywhere(function, label):
    replacement = timed(function, label)
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("trisim"):
            for name, value in list(vars(module).items()):
                if value is function:
                    setattr(module, name, replacement)

from trisim import backends, cli, inputs, output, model as models
from trisim.analysis import summary
from trisim.runners import run
report_path, arguments = sys.argv[1], sys.argv[2:]
model = models.load(arguments[1])  # the model's modules are imported before wrapping
for function, label in ((backends.load, "import the simulator"),
                        (inputs.step_spike_times, "draw input trains"),
                        (inputs.connect_trains, "create input sources"),
                        (output.collect_block, "collect recordings"),
                        (summary.summarize_populations, "summary statistics"),
                        (output.write_block, "write NIX"), (output.write_json, "write JSON")):
    wrap_everywhere(function, label)
if hasattr(model.module, "summarize"):
    model.module.summarize = timed(model.module.summarize, "model statistics")
if hasattr(model.module, "simulate"):  # its own protocol (CA3): build and run together
    model.module.simulate = timed(model.module.simulate, "model's simulate")
simulate = run.simulate
def simulate_timed(model, backend, *args, **kwargs):
    backend.release = timed(backend.release, "free the network")  # the backend's own release
    block, times = simulate(model, backend, *args, **kwargs)
    if "cpu_build_s" in times:  # a model's own simulate is timed whole (above)
        phases["build (all)"] = times["cpu_build_s"]
        phases["run"] = times["cpu_run_s"]
    return block, times
run.simulate = simulate_timed
phases["start-up"] = time.process_time() - start
sys.argv = ["trisim", *arguments]
try:
    cli.main()
except SystemExit as exit:
    if exit.code:
        raise
own = resource.getrusage(resource.RUSAGE_SELF)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
phases["process (all)"] = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
with open(report_path, "w") as report:
    json.dump(phases, report)
"""


def perf_report(data, limit):
    """(shares per shared object, top functions) from ``perf record`` data, in % of samples."""
    def report(sort):
        text = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children",
                               "--sort", sort, "--percent-limit", str(limit)],
                              capture_output=True, text=True, check=True).stdout
        rows = []
        for line in text.splitlines():
            if line.strip() and not line.startswith("#") and "%" in line:
                share, *rest = line.split()
                rows.append((float(share.rstrip("%")), " ".join(rest)))
        return rows
    return report("dso"), report("dso,sym")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--perf", action="store_true", help="sample the process with perf")
    parser.add_argument("--frequency", type=int, default=199, help="perf samples per second")
    parser.add_argument("--label", help="name of the results file after the commit")
    parser.add_argument("model")
    args, run_arguments = parser.parse_known_args()
    backend = run_arguments[run_arguments.index("--backend") + 1]
    with tempfile.TemporaryDirectory() as workdir:
        report = Path(workdir) / "phases.json"
        command = [sys.executable, "-c", DRIVER, report, "run", args.model, *run_arguments]
        if "--out" not in run_arguments:
            command += ["--out", Path(workdir) / "out"]
        data = Path(workdir) / "perf.data"
        if args.perf:
            if not shutil.which("perf"):
                parser.error("--perf: the perf tool is not installed")
            command = ["perf", "record", "-F", str(args.frequency), "-o", data, "--",
                       *command]
        measured = measure(command, workdir)
        phases = json.loads(report.read_text())
        dsos, functions = perf_report(data, 0.5) if args.perf else ([], [])
    # a model that runs its own protocol (CA3's blocks) is not split into build and run
    if "build (all)" in phases:
        build_parts = ("draw input trains", "create input sources")
        phases["build (rest)"] = phases["build (all)"] - sum(phases.get(k, 0)
                                                             for k in build_parts)
    totals = ("build (all)", "process (all)")
    phases["untimed rest"] = phases["process (all)"] - sum(
        seconds for label, seconds in phases.items() if label not in totals)
    if not args.perf:  # perf's own time would count here
        phases["interpreter exit"] = measured["cpu_s"] - phases["process (all)"]
    print(f"trisim run {args.model} {' '.join(map(str, run_arguments))}")
    print(f"whole process: {measured['cpu_s']:.1f} s CPU, {measured['wall_s']:.1f} s wall, "
          f"{measured['peak_memory_mb']:.0f} MB; others' load {measured['load']:.2f}")
    for label, seconds in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"  {label:24s} {seconds:8.2f} s CPU")
    if args.perf:
        print("perf, % of samples by shared object:")
        for share, name in dsos:
            print(f"  {share:6.2f}  {name}")
        print("perf, % of samples by function:")
        for share, name in functions[:40]:
            print(f"  {share:6.2f}  {name}")
    label = args.label or f"{args.model}-{backend}"
    path = write_results("profile_run", {
        "arguments": [args.model, *map(str, run_arguments)],
        "process": {k: measured[k] for k in ("cpu_s", "wall_s", "peak_memory_mb", "load")},
        "phases_cpu_s": {k: round(v, 3) for k, v in phases.items()},
        "perf_dso_percent": dsos, "perf_function_percent": functions}, label=label)
    print(f"written {path}")


if __name__ == "__main__":
    main()
