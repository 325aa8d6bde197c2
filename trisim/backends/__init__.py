"""Simulator backends: the one table of the simulators trisim runs on, and each one's backend.

:data:`SIMULATORS` is the only place that names the simulators. Everything that needs to know
which there are, where a simulator's backend and code generation target live or what it can
do (MPI, threads, memory per cell) asks it, so a new simulator is one row here plus its two
modules: ``trisim/backends/<name>.py`` (the PyNN backend object) and
``trisim/codegen/<name>.py`` (the NESTML target). Reading the table imports no simulator: a
backend is imported only when :func:`load` asks for it, because NEST and NEURON keep global
state and are slow to import.
"""

import importlib
from dataclasses import dataclass

from ..errors import ConfigError, unknown_name


@dataclass(frozen=True)
class Simulator:
    """What trisim knows of one simulator before importing it."""

    #: the name on the command line, in file names and provenance; PyNN's module is pyNN.<name>
    name: str
    #: the installed package whose version is the simulator's
    distribution: str
    #: ``module:class`` of its backend object (:class:`trisim.backends.common.Backend`)
    backend: str
    #: the module of its NESTML code generation target (in ``trisim.codegen``)
    codegen: str
    #: one simulation across MPI processes (``mpirun -n N trisim run ...``)
    mpi: bool = False
    #: several threads per process
    threads: bool = False
    #: the ways it can run a network (``simulation.device``): ``runtime`` is the simulator
    #: driven from Python; Brian2 can also build it into a standalone C++ program
    devices: tuple = ("runtime",)
    #: bytes of memory a run needs, a lower estimate: fixed cost of a run (interpreter,
    #: simulator, PyNN), per cell and per connection, for :mod:`trisim.resources` (peak
    #: resident memory of ``trisim run coba_stp`` at scales 0.25, 0.5 and 1, 100 ms, no traces)
    bytes_per_run: float = 0.0
    bytes_per_cell: float = 0.0
    bytes_per_connection: float = 0.0

    @property
    def pynn_module(self):
        return f"pyNN.{self.name}"


#: Every simulator trisim runs on, by name.
SIMULATORS = {simulator.name: simulator for simulator in (
    Simulator("nest", "nest-simulator", "trisim.backends.nest:NestBackend", "trisim.codegen.nest",
              mpi=True, threads=True,
              bytes_per_run=150e6, bytes_per_cell=20e3, bytes_per_connection=40),
    Simulator("neuron", "NEURON", "trisim.backends.neuron:NeuronBackend", "trisim.codegen.neuron",
              mpi=True,  # ParallelContext
              bytes_per_run=200e6, bytes_per_cell=20e3, bytes_per_connection=100),
    Simulator("brian2", "Brian2", "trisim.backends.brian2:Brian2Backend", "trisim.codegen.brian2",
              devices=("runtime", "cpp_standalone"),
              bytes_per_run=300e6, bytes_per_cell=5e3, bytes_per_connection=60),
)}

#: The simulators' names, in the table's order (the default of every command comparing them).
BACKENDS = tuple(SIMULATORS)


def simulator(name):
    """The :class:`Simulator` called ``name``; an unknown name is an
    :class:`~trisim.errors.UnknownNameError` listing the valid ones."""
    try:
        return SIMULATORS[name]
    except KeyError:
        raise unknown_name("backend", name, SIMULATORS) from None


def check_device(name, device):
    """Refuse ``device`` (``simulation.device``) if the simulator called ``name`` has no such
    way to run a network: a :class:`~trisim.errors.ConfigError` naming both."""
    devices = simulator(name).devices
    if device not in devices:
        raise ConfigError(f"device: {device!r} is not available on backend {name!r} "
                          f"(it has {', '.join(map(repr, devices))}); cpp_standalone is "
                          "Brian2's C++ standalone device")


def with_mpi():
    """The names of the simulators that run one simulation across MPI processes."""
    return tuple(name for name, entry in SIMULATORS.items() if entry.mpi)


def load(name, portable=False):
    """Return a new backend object for the simulator called ``name``; with ``portable``, one
    that refuses the names of its PyNN module that other simulators' modules lack."""
    module_name, class_name = simulator(name).backend.split(":")
    backend_class = vars(importlib.import_module(module_name))[class_name]
    return backend_class(portable=portable)
