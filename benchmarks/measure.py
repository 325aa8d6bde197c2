"""What the benchmarks share: one measured process, medians, the machine's load, results per commit.

A benchmark here runs everything it compares as separate processes, alternated, in one session
on one machine, and compares CPU time (user + system, including the children a process waits
for, such as compilers) rather than wall-clock time: on a machine shared with other work the
wall clock measures the others too. Each measurement records how busy the rest of the machine
was while it ran (CPU time of all other processes, from ``/proc/stat``), so a result says under
what load it was taken.

Results are written as JSON, one file per benchmark and commit:
``benchmarks/results/<benchmark>/<commit>.json`` (``<commit>-dirty`` for an uncommitted tree).
"""

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
RESULTS = HERE / "results"
#: Runs of each measured command; the median is reported.
REPEAT = 3


def environment(**extra):
    """The environment of a measured process: the venv's tools (nrnivmodl, trisim) on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("PYNEST_QUIET", "1")
    env.update(extra)
    return env


def tool(name):
    """Path of a console script installed beside this Python (e.g. ``trisim``)."""
    return str(Path(sys.executable).with_name(name))


def _busy_cpu_s():
    """CPU time (s) spent by every process of the machine since boot (user, nice, system, irq)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def measure(command, cwd=None, env=None, statuses=(0,)):
    """Run ``command`` to its end and measure the whole process.

    Returns a dict: ``stdout``, ``stderr``, ``wall_s``, ``cpu_s`` (user + system of the process
    and the children it waited for), ``peak_memory_mb`` (largest resident set of the process or
    of one of those children), ``others_cpu_s`` (CPU time of every other process of the machine
    meanwhile), ``load`` (``others_cpu_s`` per second of wall time: 0 idle, 1 one core busy
    with other work) and ``status``. An exit status not in ``statuses`` raises RuntimeError
    with the end of its stderr.
    """
    busy, started = _busy_cpu_s(), time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen([str(part) for part in command], cwd=cwd, stdout=out,
                                   stderr=err, env=env or environment())
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        others = max(0.0, _busy_cpu_s() - busy - usage.ru_utime - usage.ru_stime)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    status = os.waitstatus_to_exitcode(status)
    if status not in statuses:
        shown = " ".join(map(str, command))
        shown = shown if len(shown) < 300 else shown[:300] + "..."
        raise RuntimeError(f"{shown} failed ({status}):\n{stderr[-3000:]}")
    return {"stdout": stdout, "stderr": stderr, "wall_s": round(wall, 3),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_memory_mb": round(usage.ru_maxrss / 1024.0, 1),
            "others_cpu_s": round(others, 2), "load": round(others / wall, 2) if wall else 0.0,
            "status": status}


def medians(runs):
    """One dict of the medians of the numeric values of ``runs`` (dicts with the same keys);
    other values are taken from the first run."""
    first = runs[0]
    return {key: (_rounded(statistics.median(run[key] for run in runs))
                  if isinstance(first[key], (int, float)) and not isinstance(first[key], bool)
                  else first[key])
            for key in first}


def _rounded(value):
    """``value`` to 3 decimals, or to 4 significant digits if smaller than 1 (weights in uS)."""
    return round(value, 3) if abs(value) >= 1 else float(f"{value:.4g}")


def ratios(numerator, denominator, keys):
    """``numerator[key] / denominator[key]`` for each key both have (None where undefined)."""
    return {key: (round(numerator[key] / denominator[key], 2) if denominator.get(key) else None)
            for key in keys if key in numerator and key in denominator}


def git_commit():
    """The commit of this source tree, with ``-dirty`` if files differ from it."""
    def git(*arguments):
        return subprocess.run(["git", *arguments], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def machine():
    """What the results depend on besides the code: CPUs, Python, load averages at the end."""
    return {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "load_average_1_5_15_min": [round(x, 2) for x in os.getloadavg()]}


def write_results(benchmark, result, output=None, label=None):
    """Write ``result`` (a dict) with the commit, date and machine as
    ``results/<benchmark>/<commit>.json``, or ``<commit>-<label>.json`` (or to ``output``);
    returns the path."""
    commit = git_commit()
    document = {"benchmark": benchmark, "commit": commit,
                "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "machine": machine(), **result}
    name = commit[:12] + ("-dirty" if commit.endswith("-dirty") else "")
    name += f"-{label}" if label else ""
    path = Path(output) if output else RESULTS / benchmark / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n")
    return path
