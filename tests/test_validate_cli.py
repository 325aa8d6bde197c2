"""``trisim validate``: runs in their own processes, reuse, verdict, report and exit status.

Every backend x seed in its own process, reuse of matching results, verdict.json and
report.html, exit status 0 / 1 / 2.
"""

import base64
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from trisim import cli
from trisim.analysis.validation import SCALAR, Statistic
from trisim.output import read_block, write_block
from trisim.runners import validate

BACKENDS = ("nest", "neuron", "brian2")
SEEDS = (11922, 11923, 11924)  # the config's seed and the two after it
SMALL = ["--seeds", "3", "--scale", "0.05", "--duration", "300"]


def trisim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "trisim.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=1800, cwd=cwd)


def nix_files(out):
    return {backend: [out / f"coba_stp_{backend}_seed{seed}.nix" for seed in SEEDS]
            for backend in BACKENDS}


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """Seed 002 at 1/20 scale for 300 ms, 3 seeds on each backend."""
    out = tmp_path_factory.mktemp("validate")
    result = trisim("validate", "coba_stp", *SMALL, "--out", out)
    return out, result


def test_every_backend_and_seed_is_run_and_the_exit_status_is_the_verdict(validated):
    out, result = validated
    assert result.returncode in (0, 1), result.stderr[-3000:]
    verdict = json.loads((out / "verdict.json").read_text())
    assert result.returncode == (0 if verdict["agree"] else 1)
    runs = {(run["backend"], run["seed"]): run["file"] for run in verdict["runs"]}
    assert runs == {(backend, seed): str(path) for backend, paths in nix_files(out).items()
                    for seed, path in zip(SEEDS, paths)}
    for backend, paths in nix_files(out).items():  # one file per backend, read through
        annotations = read_block(paths[-1]).annotations
        assert (annotations["backend"], annotations["seed"]) == (backend, SEEDS[-1])
        assert json.loads(annotations["config"])["simulation"]["duration"] == "300.0 ms"
    assert "9 runs (0 reused, 9 simulated)" in result.stdout


def test_verdict_lists_every_statistic_population_and_pair(validated):
    out, _ = validated
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["model"] == "coba_stp" and isinstance(verdict["agree"], bool)
    assert verdict["seeds"] == {backend: list(SEEDS) for backend in BACKENDS}
    assert verdict["thresholds"]["seed_spread_quantile"] > 0 and verdict["rule"]
    entries = verdict["statistics"]
    keys = {"population", "name", "backends", "p_value", "effect_size", "seed_spread", "agree"}
    assert all(keys <= set(entry) for entry in entries)
    found = {(e["population"], e["name"], tuple(e["backends"])) for e in entries}
    pairs = [("nest", "neuron"), ("nest", "brian2"), ("neuron", "brian2")]
    names = ["rate", "mean_rate", "cv_isi", "lv_isi", "correlation", "sttc", "rate_psd"]
    assert found == {(p, n, pair) for p in ("E", "I") for n in names for pair in pairs}
    decided = [e for e in entries if e["agree"] is not None]
    assert all(e["agree"] == (e["effect_size"] <= e["seed_spread"]) for e in decided)
    assert verdict["agree"] == all(e["agree"] for e in decided)
    assert {e["name"] for e in decided} >= {"rate", "mean_rate", "correlation", "rate_psd"}


def test_report_is_one_self_contained_page(validated):
    out, result = validated
    html = (out / "report.html").read_text()
    assert result.stdout.strip().splitlines()[-2:] == [f"report: {out / 'report.html'}",
                                                       f"verdict: {out / 'verdict.json'}"]
    references = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
    assert len(references) >= 6
    assert all(reference.startswith("data:image/png;base64,") for reference in references)
    for reference in references:
        assert base64.b64decode(reference.split(",", 1)[1]).startswith(b"\x89PNG")
    for backend in BACKENDS:
        assert f"coba_stp_{backend}_seed{SEEDS[0]}.nix" in html  # the runs table


def test_results_with_another_config_or_unreadable_are_run_again(validated, tmp_path):
    source, _ = validated
    out = tmp_path / "copy"
    shutil.copytree(source, out)
    tampered, corrupt = out / "coba_stp_nest_seed11923.nix", out / "coba_stp_nest_seed11924.nix"
    block = read_block(tampered)
    config = json.loads(block.annotations["config"])
    config["parameters"]["w_i"] = "0.0012 uS"  # same file name, another config
    block.annotations["config"] = json.dumps(config)
    write_block(block, tampered)
    corrupt.write_text("not a NIX file")
    totals, finished = [], []

    def progress_bar(total):
        totals.append(total)
        return finished.append

    # in this process: the two runs are simulated in their own processes all the same
    result = validate.validate("coba_stp", BACKENDS, 3, out, scale=0.05, duration=300,
                               jobs=2, progress_bar=progress_bar)
    assert {run.path for run in result.runs if not run.reused} == {tampered, corrupt}
    assert totals == [2] and finished[-1] == 2 and finished == sorted(finished)
    for path in (tampered, corrupt):
        assert json.loads(read_block(path).annotations["config"])["parameters"]["w_i"] == (
            "0.001 uS")


def test_matching_results_are_reused_and_a_model_can_declare_statistics(validated, tmp_path,
                                                                        monkeypatch, capsys):
    """Run in this process: every result is reused, so no simulator is imported here."""
    source, _ = validated
    out = tmp_path / "copy"
    shutil.copytree(source, out)  # copies keep their modification times
    before = {path.name: path.stat().st_mtime_ns for path in out.glob("*.nix")}
    first = json.loads((source / "verdict.json").read_text())["statistics"]
    from trisim.pynn_models import coba_stp

    def active_fraction(spiketrains):
        return float(np.mean([len(train) > 0 for train in spiketrains]))

    statistic = Statistic("active_fraction", "fraction of cells that fired", SCALAR,
                          active_fraction, populations=("E",))
    monkeypatch.setattr(coba_stp, "VALIDATION_STATISTICS", (statistic,), raising=False)
    status = cli.main(["validate", "coba_stp", *SMALL, "--out", str(out)])
    assert "9 runs (9 reused, 0 simulated)" in capsys.readouterr().out
    assert {path.name: path.stat().st_mtime_ns for path in out.glob("*.nix")} == before
    verdict = json.loads((out / "verdict.json").read_text())
    assert status == (0 if verdict["agree"] else 1)
    assert [e for e in verdict["statistics"] if e["name"] != "active_fraction"] == first
    declared = [e for e in verdict["statistics"] if e["name"] == "active_fraction"]
    assert [e["population"] for e in declared] == ["E", "E", "E"]
    assert all(0 < mean <= 1 for e in declared for mean in e["pooled"])


@pytest.mark.parametrize("agree, status", [(True, 0), (False, 1)])
def test_exit_status_is_0_when_everything_agrees_and_1_when_not(agree, status, monkeypatch,
                                                                 tmp_path, capsys):
    """The mapping alone, with the runner replaced by a stub that returns a verdict."""
    def stub(*args, **kwargs):
        return validate.Validation({"model": "coba_stp", "agree": agree, "statistics": []},
                                   tmp_path / "report.html", tmp_path / "verdict.json", [])

    monkeypatch.setattr(validate, "validate", stub)
    assert cli.main(["validate", "coba_stp"]) == status
    assert capsys.readouterr().out.splitlines()[-1] == f"verdict: {tmp_path / 'verdict.json'}"


def test_validate_has_help():
    result = trisim("validate", "--help")
    assert result.returncode == 0 and "usage: trisim validate" in result.stdout


def bad_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("")
    return path


@pytest.mark.parametrize("make_args, culprit", [
    (lambda tmp: ["cobba"], "unknown model 'cobba'; valid: "),
    (lambda tmp: ["coba_stp", "--backends", "nest,nset"],
     "unknown backend 'nset'; valid: brian2, nest, neuron"),
    (lambda tmp: ["coba_stp", "--backends", "nest"], "at least two are needed"),
    (lambda tmp: ["coba_stp", "--backends", "nest,neuron,nest"], "names a backend twice"),
    (lambda tmp: ["coba_stp", "--seeds", "2"], "seeds: 2; at least 3"),
    (lambda tmp: ["coba_stp", "--seeds", "x"], "argument --seeds: invalid int value"),
    (lambda tmp: ["coba_stp", "--set", "w_q=1 nS"], "--set w_q: unknown key"),
    (lambda tmp: ["coba_stp", "--set", "w_i=1 mV"], "w_i: '1 mV' is not convertible to uS"),
    (lambda tmp: ["coba_stp", "--jobs", "0"], "jobs: 0; must be a positive integer"),
    (lambda tmp: ["coba_stp", "--out", bad_file(tmp) / "sub"], "bad.yaml/sub"),
])
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, make_args, culprit):
    args = ["validate", *make_args(tmp_path)]
    if "--out" not in args:
        args += ["--out", tmp_path / "out"]
    before = set(tmp_path.rglob("*"))
    result = trisim(*args, cwd=tmp_path)
    assert result.returncode == 2
    message = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(message) == 1 and culprit in message[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert set(tmp_path.rglob("*")) == before
