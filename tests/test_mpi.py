"""Runs across MPI processes: one simulation, one NIX file, the same spikes whatever the split.

These tests start ``mpirun`` and carry the ``mpi`` marker, which the default suite deselects
(setup.cfg). NEURON's wheel has MPI: ``make test-mpi-neuron`` runs its tests (and Brian2's
refusal), and .ci/run does on every run. NEST's carry ``nest_mpi`` too: they need NEST built
with MPI (``make setup-mpi``); ``make test-mpi`` runs all, and .ci/run does when that build is
present. They fail, never skip, if MPI is missing.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trisim import parallel
from trisim.output import read_block

pytestmark = pytest.mark.mpi
NEST = pytest.param("nest", marks=pytest.mark.nest_mpi)

SCENARIOS = Path(__file__).with_name("scenarios.py")
RUN = ["-m", "trisim.cli", "run", "coba_stp", "--scale", "0.1", "--duration", "300"]


def trisim_run(backend, out, processes=1, threads=1):
    command = [sys.executable, *RUN, "--backend", backend, "--out", str(out),
               "--set", f"threads={threads}"]
    if processes > 1:
        command = parallel.mpirun(processes) + command
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return out / f"coba_stp_{backend}_seed11922.nix", result


def spikes_and_signals(path):
    segment = read_block(path).segments[0]
    spikes = [(t.annotations["source_population"], t.annotations["source_index"],
               np.asarray(t.magnitude)) for t in segment.spiketrains]
    signals = {s.name: np.asarray(s.magnitude) for s in segment.analogsignals}
    return spikes, signals


def assert_same_spikes(a, b):
    assert len(a) == len(b)
    for (pop_a, i_a, times_a), (pop_b, i_b, times_b) in zip(a, b):
        assert (pop_a, i_a) == (pop_b, i_b)
        np.testing.assert_array_equal(times_a, times_b, err_msg=f"{pop_a}[{i_a}]")
    assert sum(len(t) for _, _, t in a) > 100  # the network is active


@pytest.mark.nest_mpi
def test_nest_is_built_with_mpi():
    result = subprocess.run([sys.executable, "-c", "import nest, sys; "
                             "sys.exit(0 if nest.build_info['have_mpi'] else 1)"],
                            capture_output=True, text=True, env={**os.environ, "PYNEST_QUIET": "1"})
    assert result.returncode == 0, "NEST has no MPI: run 'make setup-mpi'"


@pytest.mark.nest_mpi
def test_nest_two_processes_give_the_spikes_of_one_process_with_two_threads(tmp_path):
    threads, _ = trisim_run("nest", tmp_path / "threads", processes=1, threads=2)
    ranks, result = trisim_run("nest", tmp_path / "ranks", processes=2, threads=1)
    # one writer: rank 0 printed the two paths, and wrote one file of each kind
    assert sorted(p.name for p in (tmp_path / "ranks").iterdir()) == [
        "coba_stp_nest_seed11922.nix", "coba_stp_nest_seed11922.summary.json"]
    summary = json.loads(ranks.with_suffix(".summary.json").read_text())
    assert summary["mpi_processes"] == 2 and summary["threads"] == 1
    spikes_t, signals_t = spikes_and_signals(threads)
    spikes_r, signals_r = spikes_and_signals(ranks)
    assert_same_spikes(spikes_t, spikes_r)
    assert signals_t.keys() == signals_r.keys()
    for name in signals_t:  # same virtual processes: the same numbers, bit for bit
        np.testing.assert_array_equal(signals_t[name], signals_r[name], err_msg=name)


def test_neuron_two_processes_give_the_spikes_of_one(tmp_path):
    one, _ = trisim_run("neuron", tmp_path / "one", processes=1)
    two, _ = trisim_run("neuron", tmp_path / "two", processes=2)
    assert json.loads(two.with_suffix(".summary.json").read_text())["mpi_processes"] == 2
    spikes_1, signals_1 = spikes_and_signals(one)
    spikes_2, signals_2 = spikes_and_signals(two)
    assert_same_spikes(spikes_1, spikes_2)
    for name in signals_1:
        # simultaneous inputs may be summed in another order across processes
        np.testing.assert_allclose(signals_1[name], signals_2[name], rtol=1e-9, atol=1e-9,
                                   err_msg=name)


@pytest.mark.parametrize("backend", [NEST, "neuron"])
def test_array_connect_across_processes_makes_every_connection_once(backend):
    def scenario(processes):
        command = [sys.executable, str(SCENARIOS), "array_connect_mpi", backend]
        if processes > 1:
            command = parallel.mpirun(processes) + command
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    one, two = scenario(1), scenario(2)
    assert one.keys() == two.keys()
    for case in one:
        if case == "expected":
            continue
        # every connection, gathered from both processes, with its weight, delay and STP
        # parameters ("weights", PyNN's gathered array format, keeps one value per pair
        # instead of summing multapses, so it is not compared)
        assert len(two[case]["fast"]) == len(one["expected"])
        np.testing.assert_allclose(np.array(two[case]["fast"]), np.array(one[case]["fast"]),
                                   rtol=1e-12, err_msg=case)


@pytest.mark.parametrize("backend", [NEST, "neuron"])
def test_spike_sources_across_processes_emit_the_trains_of_one(backend):
    command = [sys.executable, str(SCENARIOS), "spike_source_trains", backend]
    results = [subprocess.run(prefix + command, capture_output=True, text=True, timeout=600)
               for prefix in ([], parallel.mpirun(2))]
    for result in results:
        assert result.returncode == 0, result.stderr[-3000:]
    one, two = (json.loads(r.stdout.strip().splitlines()[-1]) for r in results)
    assert two == one and len(one["emitted"][0]) == 3


def test_brian2_under_mpirun_refuses_with_one_line_and_writes_nothing(tmp_path):
    command = parallel.mpirun(2) + [sys.executable, *RUN, "--backend", "brian2",
                                    "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    assert "backend 'brian2' has no MPI support" in result.stderr
    assert not list(tmp_path.iterdir())
