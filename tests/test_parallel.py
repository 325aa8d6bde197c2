"""MPI launch detection and what each backend does with it, without starting mpirun.

The runs across processes themselves are in tests/test_mpi.py (``make test-mpi``).
"""

import os
import subprocess
import sys

import pytest

from trisim import parallel


@pytest.mark.parametrize("variables, size, rank", [
    ({}, 1, 0),
    ({"OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_RANK": "3"}, 4, 3),
    ({"PMI_SIZE": "2", "PMI_RANK": "1"}, 2, 1),
    ({"OMPI_COMM_WORLD_SIZE": "", "PMI_SIZE": "3"}, 3, 0),
])
def test_world_size_and_rank_come_from_the_launcher(monkeypatch, variables, size, rank):
    for name in parallel._SIZE_VARIABLES + parallel._RANK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert parallel.world_size() == size
    assert parallel.launcher_rank() == rank


def test_mpirun_allows_more_processes_than_cores():
    command = parallel.mpirun(2)
    assert command[0] == "mpirun" and command[command.index("-n") + 1] == "2"
    assert "--oversubscribe" in command


def run_cli(args, tmp_path, **environment):
    return subprocess.run([sys.executable, "-m", "trisim.cli", *args, "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, **environment})


def test_brian2_started_by_an_mpi_launcher_says_it_has_no_mpi(tmp_path):
    # the launcher's environment alone (Brian2 never starts MPI, so no mpirun is needed)
    result = run_cli(["run", "coba_stp", "--backend", "brian2", "--scale", "0.05",
                      "--duration", "10"], tmp_path,
                     OMPI_COMM_WORLD_SIZE="2", OMPI_COMM_WORLD_RANK="0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "backend 'brian2' has no MPI support" in lines[0], result.stderr
    assert "nest, neuron" in lines[0]
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("backend", ["brian2", "neuron"])
def test_threads_are_for_nest_only(tmp_path, backend):
    result = run_cli(["run", "coba_stp", "--backend", backend, "--scale", "0.05",
                      "--duration", "10", "--set", "threads=2"], tmp_path)
    assert result.returncode == 2
    assert f"backend '{backend}' runs one thread per process" in result.stderr
    assert not list(tmp_path.iterdir())
