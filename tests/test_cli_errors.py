"""Bad input and interruptions on the command line: one line, an exit status, nothing left.

Every bad input, of every class (a config of the wrong shape, a value out of its range, values
that contradict each other, a network too large for memory, an unknown name, an output that
cannot be written), must give exit status 2 and one line on stderr naming the culprit, before
any simulator is imported and without creating any file or directory. The table runs in one
interpreter (``cli.main`` per case) so that it stays fast and can see which modules each case
imported. Ctrl-C is sent to real processes.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NESTML_CELL = ROOT / "nestml" / "wang_buzsaki_neuron.nestml"
RUN = ["run", "coba_stp", "--backend", "nest"]


def config_file(text, name="bad.yaml"):
    """An argument builder's helper: a config file ``name`` holding ``text``."""
    def make(directory):
        path = directory / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return path
    return make


def nestml_file(directory, old, new):
    """The NESTML cell of :data:`NESTML_CELL` with ``old`` replaced by ``new`` (all of it if
    ``old`` is None), as ``cell.nestml`` in ``directory``."""
    text = NESTML_CELL.read_text()
    assert old is None or old in text
    path = directory / "cell.nestml"
    path.write_text(new if old is None else text.replace(old, new, 1))
    return path


def a_file(directory):
    path = directory / "a_file"
    path.write_text("")
    return path


# (id, arguments: a list, or a function of the case's directory giving one, culprit)
CASES = [
    # the config's shape
    ("section-not-mapping", lambda d: [*RUN, "--config", config_file("simulation: abc\n")(d)],
     "bad.yaml: simulation: expected a mapping of keys to values, got str 'abc'"),
    ("section-a-list", lambda d: [*RUN, "--config", config_file("parameters: [1, 2]\n")(d)],
     "bad.yaml: parameters: expected a mapping of keys to values, got list [1, 2]"),
    ("document-a-list", lambda d: [*RUN, "--config", config_file("- 1\n- 2\n")(d)],
     "bad.yaml: a config is a mapping"),
    ("empty-config", lambda d: [*RUN, "--config", config_file("")(d)],
     "bad.yaml: a config is a mapping"),
    ("key-not-a-name", lambda d: [*RUN, "--config", config_file("simulation: {1: 2}\n")(d)],
     "bad.yaml: simulation: key 1 is not a name"),
    ("model-not-text", lambda d: [*RUN, "--config", config_file("model: [a]\n")(d)],
     "bad.yaml: model: expected text"),
    ("config-a-directory", lambda d: [*RUN, "--config", d], "cannot read config (Is a directory)"),
    ("config-binary", lambda d: [*RUN, "--config", config_file(b"\xff\xfe\x00\x01")(d)],
     "bad.yaml: not a text file"),
    ("config-missing", [*RUN, "--config", "missing.yaml"],
     "missing.yaml: cannot read config (No such file or directory)"),
    ("config-of-another-model",
     lambda d: [*RUN, "--config", config_file("model: wang_buzsaki\n")(d)],
     "bad.yaml: model: 'wang_buzsaki' names trisim.pynn_models.wang_buzsaki, but this runs "
     "'coba_stp'"),
    ("unknown-top-key", lambda d: [*RUN, "--config", config_file("extra: 1\n")(d)],
     "bad.yaml: extra: unknown key"),
    ("value-in-file-out-of-range",
     lambda d: [*RUN, "--config", config_file("parameters:\n  p_i: 3\n")(d)],
     "bad.yaml: p_i: 3 is outside [0, 1] (a probability)"),
    # each value's range
    ("probability-above-1", [*RUN, "--set", "p_e=1.5"], "p_e: 1.5 is outside [0, 1] (a probability)"),
    ("probability-negative", [*RUN, "--set", "p_i=-0.1"], "p_i: -0.1 is outside [0, 1]"),
    ("release-probability", [*RUN, "--set", "U_0=2"], "U_0: 2 is outside [0, 1]"),
    ("negative-conductance", [*RUN, "--set", "w_e=-1 nS"],
     "w_e: '-1 nS' is outside [0, inf) uS (a conductance is not negative)"),
    ("negative-capacitance", [*RUN, "--set", "C_m=-1 pF"],
     "C_m: '-1 pF' is outside (0, inf) nF (a capacitance is positive)"),
    ("zero-time-constant", [*RUN, "--set", "tau_e=0 ms"], "tau_e: '0 ms' is outside (0, inf) ms"),
    ("zero-cells", [*RUN, "--set", "n_exc=0"], "n_exc: 0 is outside [1, inf)"),
    ("fractional-cells", [*RUN, "--set", "n_exc=2.5"], "n_exc: Input should be a valid integer"),
    ("cells-not-a-number", [*RUN, "--set", "n_exc=lots"], "n_exc: Input should be a valid integer"),
    ("wrong-dimension", [*RUN, "--set", "w_e=1 mV"], "w_e: '1 mV' is not convertible to uS"),
    ("no-unit", [*RUN, "--set", "dt=0.1"], "dt: 0.1 needs a number and a unit"),
    ("unknown-unit", [*RUN, "--set", "dt=0.1 blinks"], "dt: unknown unit 'blinks'"),
    ("time-in-fortnights", [*RUN, "--set", "dt=1 fortnight"],
     "duration: 1000 ms is not a whole number of time steps (dt = 1.2096e+09 ms)"),
    ("negative-duration", [*RUN, "--duration", "-100"], "duration: '-100.0 ms' is outside (0, inf) ms"),
    ("zero-duration", [*RUN, "--duration", "0"], "duration: '0.0 ms' is outside (0, inf) ms"),
    ("astronomical-duration", [*RUN, "--duration", "1e300"],
     "duration: 1e+300 ms is longer than any simulator can count at dt = 0.1 ms"),
    ("infinite-duration", [*RUN, "--duration", "inf"], "duration: inf is not a finite number"),
    ("nan-duration", [*RUN, "--duration", "nan"], "duration: nan is not a finite number"),
    ("zero-dt", [*RUN, "--set", "dt=0 ms"], "dt: '0 ms' is outside (0, inf) ms"),
    ("negative-dt", [*RUN, "--set", "dt=-0.1 ms"], "dt: '-0.1 ms' is outside (0, inf) ms"),
    ("infinite-scale", [*RUN, "--scale", "inf"], "scale: 'inf' is not a finite number"),
    ("nan-scale", [*RUN, "--scale", "nan"], "scale: 'nan' is not a finite number"),
    ("zero-scale", [*RUN, "--scale", "0"], "scale: 0.0 is outside (0, inf)"),
    ("negative-scale", [*RUN, "--scale", "-1"], "scale: -1.0 is outside (0, inf)"),
    ("negative-seed", [*RUN, "--seed", "-1"], "seed: -1 is outside [1, 4294967295] (NEST's rng_seed"),
    ("seed-zero", [*RUN, "--seed", "0"], "seed: 0 is outside [1, 4294967295]"),
    ("seed-2-to-32", [*RUN, "--seed", str(2**32)], "seed: 4294967296 is outside [1, 4294967295]"),
    ("seed-2-to-40", [*RUN, "--seed", str(2**40)], "seed: 1099511627776 is outside"),
    ("threads-beyond-the-cpus", [*RUN, "--set", "threads=100000"],
     "threads: 100000 is more than the"),
    ("key-given-twice", lambda d: [*RUN, "--config", config_file(
        "parameters:\n  p_e: 0.1\n  p_e: 0.2\n")(d)], "bad.yaml:3: malformed YAML ('p_e' is given twice)"),
    ("out-empty", [*RUN, "--out", ""], "output directory: an empty path"),
    ("truth-value-as-number", lambda d: [*RUN, "--config", config_file(
        "parameters:\n  p_e: true\n")(d)], "bad.yaml: p_e: true is not a number"),
    ("negative-threads", [*RUN, "--set", "threads=0"], "threads: 0 is outside [1, inf)"),
    ("unknown-device", [*RUN, "--set", "device=gpu"],
     "device: 'gpu' is not one of 'runtime' or 'cpp_standalone'"),
    ("device-of-another-backend", [*RUN, "--set", "device=cpp_standalone"],
     "device: 'cpp_standalone' is not available on backend 'nest'"),
    ("standalone-for-a-model-in-phases",
     ["run", "ca3", "--backend", "brian2", "--set", "device=cpp_standalone"],
     "model 'ca3' runs itself in phases, which needs device: runtime"),
    # relations between values
    ("duration-below-one-step", [*RUN, "--duration", "0.05"],
     "duration: 0.05 ms is not a whole number of time steps (dt = 0.1 ms); e.g. 0.1 ms"),
    ("duration-not-whole-steps", [*RUN, "--duration", "200.05"],
     "duration: 200.05 ms is not a whole number of time steps (dt = 0.1 ms); e.g. 200 ms or "
     "200.1 ms"),
    ("dt-above-duration", [*RUN, "--duration", "200", "--set", "dt=500 ms"],
     "duration: 200 ms is not a whole number of time steps (dt = 500 ms)"),
    ("dt-above-delay", [*RUN, "--duration", "1000", "--set", "dt=0.5 ms"],
     "delay: 0.1 ms is shorter than the time step (dt = 0.5 ms); NEST and NEURON need"),
    ("delay-below-dt", [*RUN, "--set", "delay=0.05 ms"], "delay: 0.05 ms is shorter than the time step"),
    ("dt-below-nest-tick", [*RUN, "--set", "dt=0.0005 ms", "--duration", "1"],
     "dt: 0.0005 ms is not a whole number of NEST's time ticks (0.001 ms)"),
    ("reset-above-threshold", [*RUN, "--set", "V_r=-40 mV"], "V_r: -40 mV is not below V_th (-50 mV)"),
    # resources
    ("network-too-large", [*RUN, "--scale", "1000"],
     "scale: 1000 makes coba_stp 4e+06 cells and 1.28e+09 connections"),
    ("network-beyond-counting", [*RUN, "--scale", "1e308"],
     "scale: 1e+308 makes coba_stp too large to count its cells"),
    # names and overrides
    ("unknown-model", ["run", "cobba", "--backend", "nest"], "unknown model 'cobba'; valid: "),
    ("unknown-backend", ["run", "coba_stp", "--backend", "nset"],
     "argument --backend: invalid choice: 'nset'"),
    ("unknown-key", [*RUN, "--set", "w_q=1 nS"], "--set w_q: unknown key"),
    ("override-without-value", [*RUN, "--set", "w_e"], "--set 'w_e': expected key=value"),
    # output
    ("out-is-a-file", lambda d: [*RUN, "--out", a_file(d)], "a_file: not a directory"),
    ("out-under-a-file", lambda d: [*RUN, "--out", a_file(d) / "sub"],
     "a_file/sub: not a directory ("),
    ("out-in-proc", [*RUN, "--out", "/proc/trisim-out"], "output directory /proc/trisim-out"),
    # the other models' value classes
    ("gating-variable", ["run", "wang_buzsaki", "--backend", "neuron", "--set", "h_init=1.5"],
     "h_init: 1.5 is outside [0, 1] (a gating variable)"),
    ("standard-deviation", ["run", "wang_buzsaki", "--backend", "brian2", "--set",
                            "I_sigma=-1 uA/cm**2"], "I_sigma: '-1 uA/cm**2' is outside [0, inf)"),
    ("striatal-probability", ["run", "striatum", "--backend", "nest", "--set", "p_fsi_fsi=1.2"],
     "p_fsi_fsi: 1.2 is outside [0, 1]"),
    ("striatal-zero-delay", ["run", "striatum", "--backend", "nest", "--set", "delay=0 ms"],
     "delay: '0 ms' is outside (0, inf) ms"),
    ("dopamine-level", ["run", "striatum", "--backend", "nest", "--set", "phi1=-0.5"],
     "phi1: -0.5 is outside [0, 1] (a dopamine level)"),
    ("cb1-reset-above-threshold", ["run", "cb1_v1", "--backend", "nest", "--set", "V_reset=-40 mV"],
     "V_reset: -40 mV is not below the thresholds"),
    ("cb1-event-width", ["run", "cb1_v1", "--backend", "nest", "--set", "event_width=0 ms"],
     "event_width: '0 ms' is outside (0, inf) ms"),
    ("cb1-too-large", ["run", "cb1_v1", "--backend", "neuron", "--scale", "500"], "scale: 500 makes cb1_v1"),
    # batches: checked before the first run starts
    ("validate-two-seeds", ["validate", "coba_stp", "--seeds", "2"], "seeds: 2; at least 3"),
    ("validate-no-jobs", ["validate", "coba_stp", "--jobs", "0"], "jobs: 0; must be a positive"),
    ("validate-one-backend", ["validate", "coba_stp", "--backends", "nest"], "at least two"),
    ("validate-backend-twice", ["validate", "coba_stp", "--backends", "nest,nest"],
     "names a backend twice"),
    ("validate-bad-value", ["validate", "coba_stp", "--set", "p_e=2"], "p_e: 2 is outside [0, 1]"),
    ("validate-last-seed-out-of-range", ["validate", "coba_stp", "--config",
                                         "configs/coba_stp.yaml", "--set", "seed=4294967294"],
     "seeds: 5 from seed 4294967294 would pass the largest seed, 4294967295"),
    ("validate-seeds-past-the-range", ["validate", "coba_stp", "--seeds", "10000000000"],
     "seeds: 10000000000 from seed 11922 would pass the largest seed"),
    ("sweep-seeds-past-the-range", ["sweep", "coba_stp", "p_e", "0.1", "--backend", "nest",
                                    "--seeds", "10000000000"], "would pass the largest seed"),
    ("validate-too-large", ["validate", "coba_stp", "--scale", "2000"], "scale: 2000 makes"),
    ("sweep-unknown-key", ["sweep", "coba_stp", "w_q", "1 nS", "--backend", "nest"],
     "--set w_q: unknown key"),
    ("sweep-one-value-out-of-range", ["sweep", "coba_stp", "p_e", "0.1", "1.5", "--backend",
                                      "nest"], "p_e: 1.5 is outside [0, 1]"),
    ("sweep-no-jobs", ["sweep", "coba_stp", "p_e", "0.1", "--backend", "nest", "--jobs", "0"],
     "jobs: 0; must be a positive integer"),
    ("experiment-bad-value", ["experiment", "cb1_v1", "spontaneous", "--set", "Q_e=-1 nS"],
     "Q_e: '-1 nS' is outside [0, inf) uS"),
    ("experiment-too-large", ["experiment", "cb1_v1", "gain", "--scale", "300"],
     "scale: 300 makes cb1_v1"),
    ("experiment-no-jobs", ["experiment", "cb1_v1", "spontaneous", "--jobs", "0"],
     "jobs: 0; must be a positive integer"),
    # a single NESTML cell
    ("cell-zero-dt", ["cell", NESTML_CELL, "--backend", "neuron", "--dt", "0"],
     "--dt: 0 ms is outside (0, inf) ms"),
    ("cell-negative-duration", ["cell", NESTML_CELL, "--backend", "nest", "--duration", "-5"],
     "--duration: -5 ms is outside (0, inf) ms"),
    ("cell-duration-not-whole-steps", ["cell", NESTML_CELL, "--backend", "nest", "--duration",
                                       "10.05"], "--duration: 10.05 ms is not a whole number"),
    ("cell-infinite-current", ["cell", NESTML_CELL, "--backend", "nest", "--current", "inf"],
     "--current: inf is not a finite number"),
    ("cell-nestml-syntax-error", lambda d: ["cell", nestml_file(d, "V_m' = (", "V_m' = (("),
                                            "--backend", "nest"], "cell.nestml:37: "),
    ("cell-nestml-undefined-variable",
     lambda d: ["cell", nestml_file(d, "V_m' = (I_e", "V_m' = (I_x + I_e"), "--backend", "nest"],
     'cell.nestml:36: Variable "I_x" not defined'),
    ("cell-nestml-wrong-unit",
     lambda d: ["cell", nestml_file(d, "C_m pF = 100 pF", "C_m pF = 100 mV"), "--backend",
                "brian2"], 'cell.nestml:41: Actual type different from expected'),
    ("cell-nestml-empty", lambda d: ["cell", nestml_file(d, None, ""), "--backend", "nest"],
     "cell.nestml:1: no 'model NAME:' declaration found"),
    ("cell-nestml-a-synapse", ["cell", ROOT / "nestml" / "stdp_pair_synapse.nestml", "--backend",
                               "neuron"], "stdp_pair_synapse is a synapse model"),
    ("cell-nestml-a-directory", lambda d: ["cell", d, "--backend", "nest"], "(Is a directory)"),
    ("cell-nestml-missing", ["cell", "missing.nestml", "--backend", "nest"],
     "missing.nestml: cannot read (No such file or directory)"),
    ("cell-nestml-binary", lambda d: ["cell", config_file(b"\xff\xfe\x00", "b.nestml")(d),
                                      "--backend", "nest"], "b.nestml: not a text file"),
    ("cell-negative-spike-time", ["cell", NESTML_CELL, "--backend", "nest", "--spikes-in",
                                  "gaba_spikes:-1"], "spike times are finite and >= 0 ms"),
]

HARNESS = textwrap.dedent("""
    import contextlib, io, json, os, sys
    from pathlib import Path
    from trisim import cli
    SIMULATORS = ("nest", "neuron", "brian2", "pyNN.nest", "pyNN.neuron", "pyNN.brian2")
    results = {}
    for case in json.loads(sys.stdin.read()):
        directory = Path(case["directory"])
        os.chdir(directory)
        before = {str(p) for p in directory.rglob("*")}
        stderr, stdout = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            try:
                status = cli.main(case["arguments"])
            except SystemExit as exc:
                status = exc.code
        results[case["id"]] = {
            "status": status, "stderr": stderr.getvalue(), "stdout": stdout.getvalue(),
            "new_files": sorted({str(p) for p in directory.rglob("*")} - before),
            "simulators": [name for name in SIMULATORS if name in sys.modules]}
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case of :data:`CASES`, run in one interpreter, each in a directory of its own."""
    root = tmp_path_factory.mktemp("cli_errors")
    cases = []
    for case_id, arguments, _ in CASES:
        directory = root / case_id
        directory.mkdir()
        (directory / "configs").symlink_to(ROOT / "configs")
        if callable(arguments):
            arguments = arguments(directory)
        cases.append({"id": case_id, "directory": str(directory),
                      "arguments": [str(argument) for argument in arguments]})
    result = subprocess.run([sys.executable, "-c", HARNESS], input=json.dumps(cases),
                            capture_output=True, text=True, timeout=600, cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case_id, culprit", [(case[0], case[2]) for case in CASES],
                         ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_exit_2_before_any_work(outcomes, case_id, culprit):
    outcome = outcomes[case_id]
    lines = [line for line in outcome["stderr"].splitlines() if line.strip()]
    assert outcome["status"] == 2, outcome
    assert len(lines) == 1 and lines[0].startswith("trisim "), outcome["stderr"]
    assert ": error: " in lines[0] and culprit in lines[0], lines[0]
    assert outcome["stdout"] == ""
    assert outcome["new_files"] == []  # not even the output directory
    assert outcome["simulators"] == []  # checked before any simulator was imported


def test_table_covers_many_cases():
    assert len(CASES) >= 70 and len({case[0] for case in CASES}) == len(CASES)


def _cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start(arguments, cwd):
    """``trisim ARGUMENTS`` in a session of its own, as a terminal would start it."""
    return subprocess.Popen([sys.executable, "-m", "trisim.cli", *map(str, arguments)],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _leftovers(directory):
    return [p.name for p in Path(directory).rglob("*") if ".partial" in p.name]


def test_ctrl_c_stops_a_run_with_one_line_exit_130_and_no_file(tmp_path):
    out = tmp_path / "out"
    run = _start(["run", "coba_stp", "--backend", "nest", "--scale", "0.1", "--duration",
                  "200000", "--out", out], tmp_path)
    deadline = time.monotonic() + 300
    while _cpu_seconds(run.pid) < 8.0:  # past start-up and building: running, in NEST
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
    interrupted = time.monotonic()
    stdout, stderr = run.communicate(timeout=300)
    # NEST runs in C: trisim's run returns to Python about every 0.5 s (the whole run would
    # take minutes)
    assert time.monotonic() - interrupted < 20
    assert run.returncode == 130
    assert stderr == "trisim run: interrupted\n" and stdout == ""
    assert not out.exists()


def test_ctrl_c_stops_a_batch_keeps_finished_runs_and_a_rerun_resumes(tmp_path):
    out = tmp_path / "out"
    arguments = ["validate", "coba_stp", "--backends", "nest,neuron", "--seeds", "3",
                 "--scale", "0.02", "--duration", "100", "--jobs", "1", "--out", out]
    batch = _start(arguments, tmp_path)
    deadline = time.monotonic() + 600
    while not list(out.glob("*.summary.json")):  # a run's last file is written
        assert batch.poll() is None and time.monotonic() < deadline, batch.stderr.read()
        time.sleep(0.1)
    os.killpg(batch.pid, signal.SIGINT)  # its process may not have ended: the run is kept
    stdout, stderr = batch.communicate(timeout=120)
    assert batch.returncode == 130, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("trisim validate: interrupted; "), stderr
    finished = sorted(p.name.replace(".summary.json", ".nix") for p in out.glob("*.summary.json"))
    assert f"{len(finished)} of 6 runs had finished" in lines[0]
    assert "coba_stp on nest seed 11922" in lines[0]
    assert finished[0] == "coba_stp_nest_seed11922.nix"
    assert not (out / "verdict.json").exists() and _leftovers(out) == []
    rerun = subprocess.run([sys.executable, "-m", "trisim.cli", *map(str, arguments)],
                           capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert rerun.returncode in (0, 1), rerun.stderr[-2000:]
    verdict = json.loads((out / "verdict.json").read_text())
    reused = {Path(run["file"]).name for run in verdict["runs"] if run["reused"]}
    assert set(finished) <= reused
