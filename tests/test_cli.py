"""The command-line contract: ``trisim run``, ``analyze``, ``models``, and bad input."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from trisim.output import read_block

SMALL = ["--scale", "0.05", "--duration", "200"]


def trisim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "trisim.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=900, cwd=cwd)


def spike_times(block):
    return [np.asarray(train.magnitude) for train in block.segments[0].spiketrains]


@pytest.fixture(scope="module", params=["nest", "neuron", "brian2"])
def small_run(request, tmp_path_factory):
    """Seed 002 at small scale on one backend, run twice with the same seed."""
    backend = request.param
    outs = [tmp_path_factory.mktemp(f"{backend}{i}") for i in range(2)]
    for out in outs:
        result = trisim("run", "coba_stp", "--backend", backend, "--seed", 3, *SMALL, "--out", out)
        assert result.returncode == 0, result.stderr[-3000:]
    stem = f"coba_stp_{backend}_seed3"
    return backend, [out / f"{stem}.nix" for out in outs], outs[0] / f"{stem}.summary.json"


def test_run_writes_a_neo_block_with_provenance(small_run):
    backend, (nix, _), _ = small_run
    block = read_block(nix)
    annotations = block.annotations
    assert annotations["backend"] == backend and annotations["model"] == "coba_stp"
    assert annotations["seed"] == 3 and annotations["dt_ms"] == pytest.approx(0.1)
    assert annotations["simulator_version"] and annotations["trisim_version"] == "0.1.0"
    assert len(annotations["trisim_git_commit"]) in (40, 7)  # a commit, or "unknown"
    config = json.loads(annotations["config"])
    assert config["parameters"]["w_i"] == "0.001 uS" and config["simulation"]["scale"] == 0.05
    assert [g.name for g in block.groups] == ["E", "I"]
    assert [len(g.spiketrains) for g in block.groups] == [160, 40]
    signals = {s.name for s in block.segments[0].analogsignals}
    assert {"E.v", "E.gsyn_exc", "E.gsyn_inh", "I.v"} <= signals


def test_run_summary_has_finite_positive_rates(small_run):
    backend, _, summary_path = small_run
    summary = json.loads(summary_path.read_text())
    assert (summary["model"], summary["backend"], summary["seed"]) == ("coba_stp", backend, 3)
    for name, n in (("E", 160), ("I", 40)):
        population = summary["populations"][name]
        assert population["n"] == n
        assert math.isfinite(population["rate_hz"]) and 0.5 < population["rate_hz"] < 20
    assert summary["wall_build_s"] > 0 and summary["wall_run_s"] > 0


def test_same_seed_gives_identical_spikes(small_run):
    _, (first, second), _ = small_run
    a, b = spike_times(read_block(first)), spike_times(read_block(second))
    assert sum(map(len, a)) > 0
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_analyze_writes_statistics_and_plots(small_run, tmp_path):
    _, (nix, _), _ = small_run
    result = trisim("analyze", nix, "--out", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / f"{nix.stem}.analysis.json").read_text())
    assert set(report["populations"]) == {"E", "I"}
    assert report["populations"]["E"]["rate_hz_mean"] > 0
    for suffix in ("raster.png", "rates.png"):
        assert (tmp_path / f"{nix.stem}.{suffix}").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_different_seeds_give_different_spikes(small_run, tmp_path):
    backend, (nix, _), _ = small_run
    result = trisim("run", "coba_stp", "--backend", backend, "--seed", 4, *SMALL, "--out", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    a = spike_times(read_block(nix))
    b = spike_times(read_block(tmp_path / f"coba_stp_{backend}_seed4.nix"))
    assert not all(np.array_equal(x, y) for x, y in zip(a, b))


def test_models_lists_coba_stp():
    result = trisim("models")
    assert result.returncode == 0
    assert any(line.startswith("coba_stp ") for line in result.stdout.splitlines())


def test_listing_models_imports_no_simulator_nor_pynn_runtime():
    # every installed model is loaded to list it: their modules must defer what a run needs
    code = ("import sys; from trisim.runners import models; models.lines(); "
            "print(sorted({'pyNN.common', 'scipy', 'elephant', 'nest', 'neuron', "
            "'brian2'} & set(sys.modules)))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert imported == "[]"


@pytest.mark.parametrize("command", [[], ["run"], ["analyze"], ["models"]])
def test_every_command_has_help(command):
    result = trisim(*command, "--help")
    assert result.returncode == 0 and "usage: trisim" in result.stdout


def bad_config(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("make_args, culprit", [
    (lambda tmp: ["run", "cobba", "--backend", "nest"], "unknown model 'cobba'; valid: "),
    (lambda tmp: ["run", "coba_stp", "--backend", "nset"], "argument --backend: invalid choice: 'nset'"),
    (lambda tmp: ["run", "coba_stp", "--backend", "nest", "--config",
                  bad_config(tmp, "parameters:\n  w_q: 1 nS\n")], "bad.yaml: w_q: unknown key"),
    (lambda tmp: ["run", "coba_stp", "--backend", "nest", "--config",
                  bad_config(tmp, "parameters: {w_e: 1 nS\n")], "bad.yaml:2: malformed YAML"),
    (lambda tmp: ["run", "coba_stp", "--backend", "nest", "--set", "w_e=1 mV"],
     "w_e: '1 mV' is not convertible to uS"),
    (lambda tmp: ["run", "coba_stp", "--backend", "nest", "--set", "n_exc=lots"],
     "n_exc: Input should be a valid integer"),
    (lambda tmp: ["run", "coba_stp", "--backend", "nest", "--seed", "x"], "argument --seed: invalid int"),
    (lambda tmp: ["run", "coba_stp", "--backend", "nest", *SMALL, "--out",
                  bad_config(tmp, "") / "sub"], "bad.yaml/sub"),
    (lambda tmp: ["analyze", tmp / "missing.nix"], "missing.nix: no such file"),
    (lambda tmp: ["analyze", bad_config(tmp, "not nix")], "bad.yaml: not a readable NIX file"),
])
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, make_args, culprit):
    out = tmp_path / "out"
    args = make_args(tmp_path)
    if "--out" not in args and args[0] == "run":
        args += ["--out", out]
    before = set(tmp_path.rglob("*"))
    result = trisim(*args, cwd=tmp_path)
    assert result.returncode == 2
    message = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(message) == 1 and culprit in message[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert set(tmp_path.rglob("*")) == before  # nothing written, not even the output directory


def test_progress_is_reported_over_simulated_time(tmp_path):
    code = ("import json; from trisim.runners import run; seen = []; "
            f"run.run('coba_stp', 'nest', r'{tmp_path}', scale=0.05, duration=200, "
            "progress_bar=lambda duration: seen.append); print(json.dumps([float(t) for t in seen]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    times = json.loads(result.stdout.strip().splitlines()[-1])
    assert times[0] == 0.0 and times[-1] == 200.0 and len(times) == 21
    assert all(later > earlier for earlier, later in zip(times, times[1:]))
