"""``trisim run`` and ``trisim validate`` of unchanged PyNN scripts (runners/script.py)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trisim.output import read_block

SCRIPTS = Path(__file__).with_name("pynn_scripts")
NETWORK = SCRIPTS / "random_network.py"
SMALL = ["--", "--cells", "40", "--duration", "300"]


def trisim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "trisim.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=1800, cwd=cwd)


def spikes(path, population):
    block = read_block(path)
    group = next(group for group in block.groups if group.name == population)
    return [np.asarray(train.magnitude) for train in group.spiketrains]


@pytest.mark.slow
def test_an_unchanged_script_runs_on_every_backend_and_validates(tmp_path):
    result = trisim("validate", NETWORK, "--seeds", 3, "--jobs", 2, "--out", tmp_path, *SMALL)
    assert result.returncode in (0, 1), result.stderr[-3000:]  # 1: the backends differ
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert verdict["model"] == "random_network"
    assert {entry["population"] for entry in verdict["statistics"]} == {"exc", "inh", "noise"}
    for backend in ("nest", "neuron", "brian2"):
        for seed in (1, 2, 3):
            stem = tmp_path / f"random_network_{backend}_seed{seed}"
            block = read_block(stem.with_suffix(".nix"))
            annotations = block.annotations
            assert (annotations["backend"], annotations["seed"]) == (backend, seed)
            config = json.loads(annotations["config"])
            assert config["script"] == str(NETWORK.resolve())
            assert config["arguments"] == SMALL[1:]
            assert [group.name for group in block.groups] == ["exc", "inh", "noise"]
            assert [len(group.spiketrains) for group in block.groups] == [40, 10, 40]
            assert {signal.name for signal in block.segments[0].analogsignals} == {"exc.v"}
            summary = json.loads(Path(f"{stem}.summary.json").read_text())
            assert summary["populations"]["noise"]["rate_hz"] == pytest.approx(25, rel=0.3)
            assert summary["populations"]["exc"]["rate_hz"] > 1
            # what drew random numbers, and where: the script's RNG, the simulator's own
            drawn = {(entry["what"], entry["line"]) for entry in summary["seeds"]}
            assert {("NumpyRNG", "random_network.py:15"),
                    ("setup(rng_seed)", "random_network.py:14")} <= drawn
    # a run's seed changes the network and the noise; the same seed gives the same run
    assert not all(np.array_equal(a, b) for a, b in zip(
        spikes(tmp_path / "random_network_nest_seed1.nix", "noise"),
        spikes(tmp_path / "random_network_nest_seed2.nix", "noise")))
    again = trisim("run", NETWORK, "--backend", "nest", "--seed", 1, "--out", tmp_path / "again",
                   *SMALL)
    assert again.returncode == 0, again.stderr[-3000:]
    for population in ("exc", "noise"):
        for a, b in zip(spikes(tmp_path / "random_network_nest_seed1.nix", population),
                        spikes(tmp_path / "again" / "random_network_nest_seed1.nix", population)):
            np.testing.assert_array_equal(a, b)


def test_data_a_script_clears_or_resets_is_kept_piece_by_piece(tmp_path):
    result = trisim("run", SCRIPTS / "pieces.py", "--backend", "nest", "--out", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    block = read_block(tmp_path / "pieces_nest_seed1.nix")
    pieces = {group.name: [list(np.round(train.magnitude, 6)) for train in group.spiketrains]
              for group in block.groups}
    assert pieces == {"source-1": [[1.0], [5.0]],  # taken by get_data(clear=True)
                      "source-2": [[12.0, 25.0], [15.0]],  # until reset()
                      "source-3": [[1.0], [5.0]]}  # after reset()


@pytest.mark.parametrize("variant, call, line", [
    ("native", "sim.native_cell_type", 9),
    ("import", "import nest", 11),
    ("from", "h (imported from a PyNN simulator module)", 14)])
def test_a_call_only_one_simulator_has_is_one_line_naming_it_and_the_script_line(
        variant, call, line, tmp_path):
    result = trisim("run", SCRIPTS / "not_portable.py", "--backend", "nest", "--out", tmp_path,
                    "--", variant)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, result.stderr  # one line (after the simulator's own notices)
    assert errors[0].startswith(f"trisim run: error: not_portable.py:{line}: {call}")
    assert not list(tmp_path.iterdir())


def test_a_guarded_import_of_a_simulator_takes_the_scripts_fallback(tmp_path):
    result = trisim("run", SCRIPTS / "not_portable.py", "--backend", "nest", "--out", tmp_path,
                    "--", "guarded")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "not_portable_nest_seed1.nix").is_file()


def test_a_script_wanting_the_simulators_name_as_argument_is_told_how_to_give_it(tmp_path):
    script = tmp_path / "named.py"
    script.write_text("import argparse, importlib\nparser = argparse.ArgumentParser()\n"
                      "parser.add_argument('simulator')\n"
                      "sim = importlib.import_module('pyNN.' + parser.parse_args().simulator)\n")
    result = trisim("run", script, "--backend", "neuron", "--out", tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(
        "named.py: exited with status 2 before setting up a simulator (a script that takes the "
        "simulator's name as an argument gets it after --: trisim run named.py --backend neuron "
        "-- neuron)")
    assert not list((tmp_path / "out").glob("*"))


@pytest.mark.parametrize("arguments, culprit", [
    (["missing.py", "--backend", "nest"], "missing.py"),
    (["{bad}", "--backend", "nest"], "bad_syntax.py:2"),
    (["{network}", "--backend", "nest", "--set", "x=1"], "--set"),
    (["{network}", "--backend", "nest", "--seed", "0"], "seed")])
def test_bad_input_is_one_line_before_any_simulator_starts(arguments, culprit, tmp_path):
    bad = tmp_path / "bad_syntax.py"
    bad.write_text("import pyNN.nest as sim\nsim.setup(\n")
    arguments = [a.format(bad=bad, network=NETWORK) for a in arguments]
    result = trisim("run", *arguments, "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and culprit in result.stderr
    assert "N E S T" not in result.stdout + result.stderr  # NEST was not imported
    assert not (tmp_path / "out").exists()
