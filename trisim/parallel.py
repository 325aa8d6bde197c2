"""Runs across MPI processes: how many there are, read before any simulator starts MPI.

``mpirun -n N trisim run ...`` starts N copies of trisim. Each learns the size of the run from
the launcher's environment, so that a backend can initialise MPI before its simulator is
imported (NEURON's ParallelContext must find MPI running) and a backend without MPI can refuse
clearly instead of running N independent copies of the same simulation.
"""

import os

# Open MPI's mpirun; MPICH, Intel MPI and Slurm's srun (PMI)
_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE")
_RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")


def _first_int(names, default):
    for name in names:
        value = os.environ.get(name)
        if value:
            try:
                return int(value)
            except ValueError:
                continue
    return default


def world_size():
    """The number of processes the MPI launcher started (1 without a launcher)."""
    return _first_int(_SIZE_VARIABLES, 1)


def launcher_rank():
    """This process's rank as the MPI launcher numbered it (0 without a launcher)."""
    return _first_int(_RANK_VARIABLES, 0)


def mpirun(processes):
    """The Open MPI launcher prefix for ``processes`` processes on this machine.

    ``--oversubscribe`` lets more processes than cores start (a 2-core machine, CI);
    ``--allow-run-as-root`` is Open MPI's opt-in for root, as in containers.
    """
    command = ["mpirun", "-n", str(processes), "--oversubscribe"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--allow-run-as-root")
    return command
