"""The fixed cost of trisim's commands: what a user waits for before anything is simulated.

Not part of the test suite. Runs each command below as a user would (the ``trisim`` console
script, a fresh process), ``--repeat`` times (default 3), beside a bare Python interpreter,
and reports the medians of CPU and wall-clock time and peak memory; then runs each once more
with ``-X importtime`` and lists the slow packages it imported (simulators, PyNN, Neo,
Elephant, SciPy, matplotlib...), each with the time spent importing its own modules. Listing models,
help, and errors in what the user typed (exit status 2) should cost well under a second and
import no simulator and no analysis library.

Writes ``benchmarks/results/cli_startup/<commit>.json``.

Usage: ``python benchmarks/cli_startup.py [--repeat 3]``
"""

import argparse
import sys
import tempfile

from measure import REPEAT, environment, measure, medians, tool, write_results

#: Packages whose import a user notices (about 0.1 s or more each).
SLOW = ("nest", "neuron", "brian2", "pyNN", "elephant", "neo", "nixio", "h5py", "scipy",
        "matplotlib", "pandas", "pydantic", "quantities", "sympy", "pynestml", "odetoolbox",
        "mpi4py", "numpy", "yaml", "jinja2")


def commands(workdir):
    """(name, arguments, expected exit status) of each command measured."""
    missing = f"{workdir}/missing"
    return [
        ("python (bare interpreter)", [sys.executable, "-c", "pass"], 0),
        ("trisim --help", [tool("trisim"), "--help"], 0),
        ("trisim run --help", [tool("trisim"), "run", "--help"], 0),
        ("trisim models", [tool("trisim"), "models"], 0),
        ("run: unknown model", [tool("trisim"), "run", "nosuch", "--backend", "nest"], 2),
        ("run: unknown backend", [tool("trisim"), "run", "coba_stp", "--backend", "nosuch"], 2),
        ("run: unknown config key", [tool("trisim"), "run", "coba_stp", "--backend", "nest",
                                     "--set", "nosuch=1"], 2),
        ("run: missing config file", [tool("trisim"), "run", "coba_stp", "--backend", "nest",
                                      "--config", f"{missing}.yaml"], 2),
        ("run cb1_v1: unknown config key", [tool("trisim"), "run", "cb1_v1", "--backend",
                                            "nest", "--set", "nosuch=1"], 2),
        ("analyze: missing file", [tool("trisim"), "analyze", f"{missing}.nix"], 2),
        ("replay: missing file", [tool("trisim"), "replay", f"{missing}.nix"], 2),
        ("validate: unknown backend", [tool("trisim"), "validate", "coba_stp", "--backends",
                                       "nosuch"], 2),
        ("cell: missing NESTML file", [tool("trisim"), "cell", f"{missing}.nestml",
                                       "--backend", "nest"], 2),
    ]


def slow_imports(arguments, status, workdir):
    """{package: s} of the slow packages ``arguments`` imports: the time spent importing the
    package's own modules (their "self" times, so a package imported by another is counted
    once, for itself)."""
    measured = measure(arguments, workdir, environment(PYTHONPROFILEIMPORTTIME="1"),
                       statuses=(status,))
    found = {}
    for line in measured["stderr"].splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = (part.strip() for part in line[len("import time:"):].split("|"))
        top = name.split(".")[0]
        if top in SLOW:
            found[top] = found.get(top, 0) + int(own) / 1e6
    return {top: round(seconds, 2) for top, seconds in found.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=REPEAT)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        print(f"{'command':32s} {'cpu s':>6s} {'wall s':>6s} {'MB':>5s} {'load':>4s}  "
              "slow imports (s)")
        for name, arguments, status in commands(workdir):
            runs = [measure(arguments, workdir, statuses=(status,)) for _ in range(args.repeat)]
            row = {key: value for key, value in medians(runs).items()
                   if key not in ("stdout", "stderr")}
            row.update({"command": name, "arguments": [str(a) for a in arguments[1:]],
                        "imports": slow_imports(arguments, status, workdir)})
            rows.append(row)
            imports = ", ".join(f"{k} {v:.2f}" for k, v in
                                sorted(row["imports"].items(), key=lambda kv: -kv[1]))
            print(f"{name:32s} {row['cpu_s']:6.2f} {row['wall_s']:6.2f} "
                  f"{row['peak_memory_mb']:5.0f} {row['load']:4.2f}  {imports}", flush=True)
    path = write_results("cli_startup", {"repeat": args.repeat, "commands": rows})
    print(f"written {path}")


if __name__ == "__main__":
    main()
