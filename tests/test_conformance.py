"""NESTML neurons agree across NEST, NEURON and Brian2 (the conformance suite, at dt 0.1 ms).

Each model runs once per backend under its drive plus input spike trains on every port; the
full dt sweep is ``trisim conformance`` (see README).
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trisim import nestml
from trisim.errors import SimulationError
from trisim.runners import conformance, synapse_probe

DT = 0.1


# trisim's own neurons (nestml/), each with its drive and inputs on every port
OWN = [path for path in conformance.default_models() if path.parent.name == "nestml"]


def assert_backends_agree(path):
    results = {b: conformance.run_cell(path, b, DT, "spikes", duration=300.0)
               for b in conformance.BACKENDS}
    assert len(results["nest"]["spike_times_ms"]) > 2, "the drive must make the cell fire"
    for backend in ("neuron", "brian2"):
        row = conformance.compare(results["nest"], results[backend])
        assert row["same_count"], f"{path.stem} on {backend}: {row}"
        assert row["max_spike_dt_ms"] <= DT + 1e-9, f"{path.stem} on {backend}: {row}"
        assert row["rms_v_mv"] < 0.05, f"{path.stem} on {backend}: {row}"


@pytest.mark.parametrize("model", conformance.SHIPPED)
def test_backends_agree_spike_for_spike(model):
    assert_backends_agree(nestml.shipped_path(model))


# Izhikevich-type cells fire irregularly under a constant current when their spikes are found
# at the end of each 0.1 ms step (as in the published code): a change of 1e-9 in the drive
# moves a spike by a step within ~150 ms (MSN), and the phase shift stays. No two integrators
# agree spike for spike over 300 ms; they agree on the first spikes and on the count, and on
# their f-I curves (tests/test_striatum.py).
SENSITIVE = {"striatal_msn_neuron": 40.0, "striatal_fsi_neuron": 40.0}  # ms compared


@pytest.mark.parametrize("path", [p for p in OWN if p.stem not in SENSITIVE],
                         ids=lambda path: path.stem)
def test_own_neurons_agree_spike_for_spike(path):
    assert_backends_agree(path)


@pytest.mark.parametrize("path", [p for p in OWN if p.stem in SENSITIVE],
                         ids=lambda path: path.stem)
def test_sensitive_neurons_agree_on_first_spikes_and_count(path):
    results = {b: conformance.run_cell(path, b, DT, "spikes", duration=300.0)
               for b in conformance.BACKENDS}
    reference = results["nest"]["spike_times_ms"]
    early = [t for t in reference if t <= SENSITIVE[path.stem]]
    assert len(early) >= 2 and len(reference) > 5
    for backend in ("neuron", "brian2"):
        times = results[backend]["spike_times_ms"]
        assert abs(len(times) - len(reference)) <= 1, backend
        np.testing.assert_allclose(times[:len(early)], early, atol=DT + 1e-9, err_msg=backend)


def test_own_spread_is_zero_for_a_stable_cell_and_a_step_for_a_sensitive_one():
    spreads = {}
    for path in (nestml.shipped_path("iaf_cond_exp"), nestml.path("striatal_msn_neuron")):
        reference = conformance.run_cell(path, "nest", DT, "current", duration=300.0)
        spreads[path.stem], _ = conformance.own_spread(path, DT, "current", reference, 300.0)
    assert spreads["iaf_cond_exp_neuron"] == 0
    assert spreads["striatal_msn_neuron"] >= DT - 1e-9


def cell(*args):
    return subprocess.run([sys.executable, "-m", "trisim.cli", "cell",
                           str(nestml.shipped_path("iaf_cond_exp")), *args],
                          capture_output=True, text=True)


def test_cell_parameters_take_units():
    counts = []
    for threshold in ("-55 mV", "-0.055 V"):
        result = cell("--backend", "brian2", "--current", "400", "--duration", "100",
                      "--set", f"V_th={threshold}")
        assert result.returncode == 0, result.stderr[-2000:]
        counts.append(len(json.loads(result.stdout)["spike_times_ms"]))
    result = cell("--backend", "brian2", "--current", "400", "--duration", "100",
                  "--set", "V_th=-52 mV")
    assert counts[0] == counts[1] > len(json.loads(result.stdout)["spike_times_ms"])


@pytest.mark.parametrize("args, culprit", [
    (["--set", "V_th=-55"], "V_th: '-55' needs a number and a unit"),
    (["--set", "V_q=1 mV"], "has no parameter 'V_q'"),
    (["--spikes-in", "nope:10"], "--spikes-in nope: no such spike port"),
    (["--spikes-in", "exc_spikes:ten"], "expected PORT:T1,T2"),
])
def test_cell_bad_input(args, culprit):
    result = cell("--backend", "neuron", "--duration", "10", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert culprit in result.stderr and "Traceback" not in result.stderr


# -- synapses: one synapse, one dt, the probe's short pattern ------------------------------

def test_a_perturbed_trajectory_is_reported_as_different():
    reference = {"weights": [[0.005], [0.0045], [0.0052]],
                 "transmitted": [[0.005, 0.0045, 0.0052]], "post": [10.0] * 9}
    assert conformance.compare_trajectories(reference, reference)["max_abs_diff"] == 0
    perturbed = {**reference, "weights": [[0.005], [0.0045 * (1 + 1e-5)], [0.0052]]}
    row = conformance.compare_trajectories(reference, perturbed)
    assert row["same_events"] and row["max_rel_diff"] > 1e-6 and not row["agrees"]
    shorter = conformance.compare_trajectories(reference, {**reference, "post": [10.0] * 8})
    assert not shorter["same_events"] and shorter["events_other"] == 8


def test_random_synapses_are_compared_by_statistics_of_many_connections():
    def result(shift, every=3):  # 100 connections x 30 spikes, one in `every` transmitted
        return {"transmitted": [[1.0 if (k + i + shift) % every == 0 else 0.0
                                 for i in range(30)] for k in range(100)],
                "weights": [[1.0] * 100]}
    same = conformance.compare_statistics(result(0), result(1))
    assert same["agrees"] and same["z"]["fraction"] < 1
    fewer = conformance.compare_statistics(result(0), result(0, every=5))
    assert not fewer["agrees"] and fewer["z"]["fraction"] > 4


def test_synapse_rows_agree_across_backends(tmp_path):
    """The weight trajectory of a plastic synapse on NEURON and Brian2 equals NEST's."""
    path = nestml.path("stdp_pair_synapse")
    assert conformance.resolve(["stdp_pair_synapse"]) == [path]
    result = conformance.synapse_suite([path], [DT])
    rows, costs = result["rows"], result["costs"]
    assert result["failures"] == []
    # what making the synapse type (with its probe cell) and the probe's run cost, per backend
    assert [c["backend"] for c in costs] == list(conformance.BACKENDS)
    assert all(c["type_cpu_s"] > 0 and c["run_cpu_s"] > 0 for c in costs), costs
    assert conformance.cost_markdown(costs).count("| stdp_pair_synapse |") == 3
    assert [r["backend"] for r in rows] == ["neuron", "brian2"]
    for row in rows:
        assert row["same_events"] and row["events"] >= 9, row  # the drive makes it fire
        assert row["values"] == 2 * len(synapse_probe.PRE)  # weights and transmissions
        assert row["max_rel_diff"] < 1e-9, row
    table = conformance.synapse_markdown(rows)
    assert table.count("| stdp_pair_synapse | 0.1 |") == 2 and "| NO |" not in table


def test_a_synapse_whose_run_crashes_is_a_failure_row_and_the_run_goes_on(monkeypatch):
    """A probe process that ends in a traceback (exit status 1) is reported as that model's
    failure on that backend, as a refused one is; the library run goes on."""
    def crashing(path, backend, dt):
        if backend == "brian2":
            raise SimulationError(f"{path} on brian2: the run failed (exit status 1): TypeError")
        return {"weights": [[1.0]], "transmitted": [[1.0]], "post": [], "random": False,
                "plastic": False, "costs": {}}
    monkeypatch.setattr(conformance, "run_synapse", crashing)
    result = conformance.synapse_suite([Path("a_synapse.nestml")], [DT])
    (failure,) = result["failures"]
    assert failure["backend"] == "brian2" and "(exit status 1): TypeError" in failure["error"]
    assert [r["backend"] for r in result["rows"]] == ["neuron"]


def test_a_stimulus_the_reference_cannot_run_is_named_and_the_others_are_compared(
        tmp_path, monkeypatch):
    """A drive under which NEST's solver stalls (stopped by the CPU limit) must not cost the
    model its other drives: they run one per process, and the table names the one left out."""
    path = tmp_path / "stalling_neuron.nestml"
    path.write_text("model stalling_neuron:\n    parameters:\n        I_e pA = 0 pA\n"
                    "    input:\n        spikes_in <- spike\n")
    calls = []

    def fake_run_cells(path, backend, dt, named, duration=500.0, drive_factor=1.0):
        names = [name for name, _ in named]
        calls.append((backend, names))
        if backend == "nest" and any("spikes" in name for name in names):
            raise SimulationError(f"{path} on nest: the run failed (stopped after its "
                                  f"300 s of CPU time)")
        cell = {"spike_times_ms": [10.0, 20.0], "v_ms": {"t": [0.0, 1.0], "V": [-70.0, -69.0]},
                "recorded": "V_m", "duration_ms": duration}
        costs = {"type_cpu_s": 1.0, "type_wall_s": 1.0, "built": False, "run_cpu_s": 0.5,
                 "run_wall_s": 0.5}
        return {**{name: cell for name in names}, "costs": costs}
    monkeypatch.setattr(conformance, "run_cells", fake_run_cells)
    result = conformance.suite([path], [DT], library=True)
    currents = ["500 pA", "1500 pA"]
    assert calls[:4] == [("nest", [*currents, "500 pA + spikes"]), ("nest", ["500 pA"]),
                         ("nest", ["1500 pA"]), ("nest", ["500 pA + spikes"])]
    assert ("neuron", currents) in calls and ("brian2", currents) in calls
    assert sorted((r["stimulus"], r["backend"]) for r in result["rows"]) == sorted(
        (s, b) for s in currents for b in ("neuron", "brian2"))
    (failure,) = result["failures"]
    assert failure["stimulus"] == "500 pA + spikes" and failure["backend"] == "nest"
    judged = conformance.verdicts(result["rows"], result["failures"], [DT])
    assert judged["stalling_neuron"]["neuron"]["verdict"] == "agrees"
    table = conformance.verdict_markdown(judged, [DT])
    assert "agrees; 0 ms; RMS 0; not compared under 500 pA + spikes (nest: dt 0.1 ms: " \
           "the run failed (stopped after its 300 s of CPU time))" in table
    nest_costs = [c for c in result["costs"] if c["backend"] == "nest"]
    assert [c["run_cpu_s"] for c in nest_costs] == [1.0]  # two processes that ran


def agreeing_suite(path, dt):
    """What conformance.suite returns for a model at ``dt`` that agrees on every backend."""
    row = {"model": path.stem, "dt_ms": dt, "stimulus": "500 pA", "recorded": "V_m",
           "spikes": 3, "spikes_other": 3, "same_count": True, "max_spike_dt_ms": 0.0,
           "rms_v_mv": 0.0, "own_spread_ms": 0.0, "own_spread_same_count": True}
    return {"rows": [dict(row, backend=b) for b in conformance.BACKENDS[1:]],
            "failures": [], "costs": []}


def test_a_library_run_stopped_part_way_keeps_the_models_it_finished(tmp_path, monkeypatch):
    """The files are written after each model: stopping the hours-long library run keeps the
    table of what it finished."""
    def one_model(paths, dts, progress=None, library=False):
        (path,) = paths
        if path.stem == "second_neuron":
            raise KeyboardInterrupt
        return agreeing_suite(path, dts[0])
    monkeypatch.setattr(conformance, "suite", one_model)
    models = [str(tmp_path / f"{name}.nestml") for name in ("first_neuron", "second_neuron")]
    with pytest.raises(KeyboardInterrupt) as stopped:
        conformance.run(models, [DT], tmp_path / "out", library=True)
    assert str(stopped.value) == (f"interrupted; 1 of 2 models had finished and are in "
                                  f"{tmp_path / 'out'}: first_neuron")
    written = json.loads((tmp_path / "out" / "conformance.json").read_text())
    assert list(written["verdicts"]) == ["first_neuron"]
    assert {v["verdict"] for v in written["verdicts"]["first_neuron"].values()} == {"agrees"}
    assert "| first_neuron |" in (tmp_path / "out" / "conformance.md").read_text()


def test_models_run_side_by_side_with_jobs_and_the_table_keeps_their_order(tmp_path,
                                                                          monkeypatch):
    """--jobs 2 keeps two models' simulations going at once (the library run's wall time on
    two cores); the files list models in the order given, whichever finished first."""
    import threading
    import time
    both_running = threading.Barrier(2, timeout=30)

    def one_model(paths, dts, progress=None, library=False):
        (path,) = paths
        both_running.wait()  # BrokenBarrierError unless the other model runs meanwhile
        if path.stem == "first_neuron":
            time.sleep(0.5)  # finishes second
        return agreeing_suite(path, dts[0])
    monkeypatch.setattr(conformance, "suite", one_model)
    models = [str(tmp_path / f"{name}.nestml") for name in ("first_neuron", "second_neuron")]
    conformance.run(models, [DT], tmp_path / "out", library=True, jobs=2)
    written = json.loads((tmp_path / "out" / "conformance.json").read_text())
    assert list(written["verdicts"]) == ["first_neuron", "second_neuron"]
    assert [r["model"] for r in written["rows"]] == ["first_neuron"] * 2 + ["second_neuron"] * 2


def test_a_spike_in_the_last_time_step_is_counted_apart():
    # doublet_neuron fires at 27.9 and 28.0 ms under 500 pA: a run of 28 ms ends on a spike
    # that NEST records and NEURON and Brian2 do not deliver
    path = Path(__file__).with_name("nestml") / "doublet_neuron.nestml"
    results = {b: conformance.run_cells(path, b, DT, [("x", {"current_pa": 500.0})], 28.0)["x"]
               for b in conformance.BACKENDS}
    assert results["nest"]["spike_times_ms"][-1] == pytest.approx(28.0)
    for backend in ("neuron", "brian2"):
        row = conformance.compare(results["nest"], results[backend])
        assert row["same_count"] and row["spikes"] == 3, (backend, row)
        assert row["max_spike_dt_ms"] <= 1e-9, (backend, row)
        assert row["spikes_at_end"][0] == 1, (backend, row)


def test_a_stimulus_under_which_the_reference_diverges_is_not_compared_and_a_diverged_backend_differs(
        tmp_path, monkeypatch):
    """A model whose membrane runs off to infinity under NEST has nothing to compare with under
    that stimulus; a backend whose trace diverges where NEST's does not differs. Neither may
    stop the library run (JSON has no NaN)."""
    path = tmp_path / "diverging_neuron.nestml"
    path.write_text("model diverging_neuron:\n    parameters:\n        I_e pA = 0 pA\n"
                    "    input:\n        spikes_in <- spike\n")

    def fake_run_cells(path, backend, dt, named, duration=500.0, drive_factor=1.0):
        def cell(name):
            blows_up = "spikes" in name or (backend == "brian2" and name == "1500 pA")
            return {"spike_times_ms": [10.0], "recorded": "V_m", "duration_ms": duration,
                    "v_ms": {"t": [0.0, 1.0], "V": [-70.0, np.inf if blows_up else -69.0]}}
        costs = {"type_cpu_s": 1.0, "type_wall_s": 1.0, "built": False, "run_cpu_s": 0.5,
                 "run_wall_s": 0.5}
        return {**{name: cell(name) for name, _ in named}, "costs": costs}
    monkeypatch.setattr(conformance, "run_cells", fake_run_cells)
    conformance.run([str(path)], [DT], tmp_path / "out", library=True)
    written = json.loads((tmp_path / "out" / "conformance.json").read_text())
    (failure,) = written["failures"]
    assert (failure["stimulus"], failure["backend"]) == ("500 pA + spikes", "nest")
    assert failure["error"] == "V_m is not finite (the model diverges under this stimulus)"
    assert {r["stimulus"] for r in written["rows"]} == {"500 pA", "1500 pA"}
    verdicts = written["verdicts"]["diverging_neuron"]
    assert verdicts["neuron"]["verdict"] == "agrees"
    assert verdicts["brian2"]["verdict"] == "differs" and verdicts["brian2"]["rms_v_mv"] is None
    table = (tmp_path / "out" / "conformance.md").read_text()
    assert "differs; 0 ms; RMS not finite; not compared under 500 pA + spikes (nest: dt 0.1 ms: " \
           "V_m is not finite (the model diverges under this stimulus))" in table
