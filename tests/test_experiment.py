"""trisim experiment and its batch layer, on a model's experiment declared in a user's folder.

The experiment, declared next to its circuit, runs through the generic command; reuse,
measures kept beside the runs, progress, and bad input refused before anything is written.
"""

import json
import subprocess
import sys
import textwrap

import pytest

from trisim.errors import ConfigError, UnknownNameError
from trisim.runners import experiment

# A model in a user's folder: one population of PyNN's IF_cond_exp cells (no NESTML: quick),
# with an experiment over two drives, measured in worker processes.
MODEL = '''
"""Cells driven by a current; experiment "drive" compares two currents."""
from functools import partial
from pathlib import Path

from trisim.config import Strict, quantity
from trisim.experiment import Experiment

DESCRIPTION = "cells under a current"
TRACES = ("v",)


class Parameters(Strict):
    n: int = 20
    drive: quantity("nA") = 1.0


def build(sim, parameters, simulation, rng):
    current = rng.normal(parameters.drive, 0.01, parameters.n)
    return {"cells": sim.Population(parameters.n, sim.IF_cond_exp(i_offset=current),
                                    label="cells")}


def spikes(block):
    return {"spikes": sum(len(train) for train in block.segments[0].spiketrains)}


def drives(request):
    return [run for drive in request.options.drives
            for run in request.runs(overrides=[f"drive={drive} nA"],
                                    directory=request.out_dir / f"drive{drive:g}")]


def report(request, results):
    rows = [{"backend": result.run.backend, "seed": result.run.seed,
             "drive": result.run.overrides[-1], "spikes": result.measures["spikes"],
             "reused": result.reused} for result in results]
    return {"drives.json": rows, "drives.txt": partial(write_text, rows)}


def write_text(rows, path):
    Path(path).write_text("; ".join(str(row) for row in rows))


class Options(Strict):
    drives: list[float] = [1.0, 2.0]


EXPERIMENTS = {"drive": Experiment("spike counts at two drives", report=report, runs=drives,
                                   measure=spikes, options=Options, backends=("nest",))}
'''


@pytest.fixture
def model_folder(tmp_path):
    folder = tmp_path / "user"
    folder.mkdir()
    name = f"driven_{tmp_path.name.replace('-', '_')}"
    (folder / f"{name}.py").write_text(textwrap.dedent(MODEL))
    (folder / f"{name}.yaml").write_text(f"model: {name}.py\nsimulation:\n  duration: 200 ms\n")
    return folder / f"{name}.yaml"


def test_a_user_models_experiment_runs_through_the_generic_command(model_folder, tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "trisim.cli", "experiment", str(model_folder),
                             "drive", "--seeds", "2", "--jobs", "2", "--out", str(out)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == [str(out / "drives.json"), str(out / "drives.txt")]
    rows = json.loads((out / "drives.json").read_text())
    assert [(row["drive"], row["seed"]) for row in rows] == [
        ("drive=1.0 nA", 1), ("drive=1.0 nA", 2), ("drive=2.0 nA", 1), ("drive=2.0 nA", 2)]
    assert not any(row["reused"] for row in rows)
    assert rows[2]["spikes"] > rows[0]["spikes"] > 0  # more drive, more spikes
    kept = json.loads((out / "drive1" / f"{model_folder.stem}_nest_seed1.drive.json")
                      .read_text())
    assert kept["measures"] == {"spikes": rows[0]["spikes"]}
    assert kept["config"]["parameters"]["drive"] == "1.0 nA"

    # again, in this process: every run and its measures are reused, nothing is simulated
    stamps = {path: path.stat().st_mtime_ns for path in out.rglob("*.nix")}
    totals = []
    paths, _ = experiment.run(model_folder, "drive", n_seeds=2, out_dir=out,
                              progress_bar=totals.append)
    assert totals == [] and {path: path.stat().st_mtime_ns for path in stamps} == stamps
    assert all(row["reused"] for row in json.loads(paths[0].read_text()))

    # another option: only the new runs are simulated, and progress counts them
    finished = []
    experiment.run(model_folder, "drive", n_seeds=2, out_dir=out,
                   options=["drives=[1.0, 3.0]"],
                   progress_bar=lambda total: (finished.append(total), finished.append)[1])
    assert finished[0] == 2 and finished[-1] == 2


def test_experiments_are_listed_with_their_options(model_folder):
    lines = experiment.describe(model_folder)
    assert lines[0].startswith("drive") and "spike counts at two drives" in lines[0]
    assert "--option drives=1.0,2.0" in lines[1]


@pytest.mark.parametrize("name", ["ca3", "cb1_v1"])
def test_every_option_as_listed_is_accepted_and_means_its_default(name):
    # what `trisim experiment MODEL` shows is what a user types back (a list as a,b)
    from trisim import model
    experiments = model.load(name).experiments
    checked = 0
    for line in experiment.describe(name):
        if not line.startswith(" "):
            current = experiments[line.split()[0]]
            continue
        given = line.split("--option ", 1)[1].split("  (", 1)[0]
        key = given.partition("=")[0]
        assert getattr(current.parse_options([given]), key) == \
            current.options.model_fields[key].default, given
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("arguments, error, message", [
    (dict(name="drives"), UnknownNameError, "unknown experiment of model"),
    (dict(name="drive", options=["drives=many"]), ConfigError, "--option drives"),
    (dict(name="drive", options=["speed=1"]), ConfigError, "--option speed: unknown option"),
    (dict(name="drive", overrides=["drive=1 mV"]), ConfigError, "not convertible to nA"),
    (dict(name="drive", backends="nest,nset"), UnknownNameError, "unknown backend 'nset'"),
    (dict(name="drive", n_seeds=0), ConfigError, "seeds: 0"),
])
def test_bad_input_is_refused_before_anything_is_written(model_folder, tmp_path, arguments,
                                                         error, message):
    out = tmp_path / "out"
    with pytest.raises(error, match=message):
        experiment.run(model_folder, out_dir=out, **arguments)
    assert not out.exists()
