"""What every backend shares: the PyNN API of one simulator plus trisim's hooks.

A :class:`Backend` behaves like the PyNN backend module it wraps (``sim.Population``,
``sim.IF_cond_exp``...), so models are written against the PyNN API only. A backend subclass
overrides just what its simulator needs (a faster ``Projection``...); cell and synapse types
PyNN lacks come from NESTML files (``nestml_cell_type``, ``nestml_synapse_type``).
"""

import ctypes
import gc
import importlib
import importlib.metadata
from copy import deepcopy
from pathlib import Path

import numpy as np
from pyNN.connectors import FromListConnector
from pyNN.standardmodels import StandardSynapseType

from .. import parallel
from ..errors import BackendError

MPI_BACKENDS = ("nest", "neuron")


def _return_free_memory():
    """Ask glibc to give freed heap memory back to the system (a no-op elsewhere)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class GlobalInitialValues:
    """Population mixin: a cell's initial value read at its index in the whole population.

    PyNN 0.13 indexes the population's (global) initial-value arrays with the cell's *local*
    index, which is the same thing in one process but the value of another cell under MPI; on
    NEST that puts wrong values in the first sample of recorded signals.
    """

    def _get_cell_initial_value(self, id, variable):
        if variable in self.initial_values:
            return self.initial_values[variable][self.id_to_index(id)]
        return super()._get_cell_initial_value(id, variable)

    def _set_cell_initial_value(self, id, variable, value):
        self.initial_values[variable][self.id_to_index(id)] = value


class IndexConnector(FromListConnector):
    """Connect explicit (source index, target index) arrays.

    Weights and delays come from the synapse type. Where the backend's Projection has a
    ``_connect_index_arrays`` hook, all connections are made in one call; otherwise, or when the
    hook returns ``NotImplemented`` (a case it has no fast path for), PyNN connects one target
    cell at a time.

    The hook receives every connection, on every MPI rank; it creates those whose target is
    local (NEST does this itself, given the whole arrays). Each synapse parameter arrives in
    the simulator's units, as a scalar when it is homogeneous, else one value per connection.

    Parameters
    ----------
    sources, targets : array_like of int
        Indices into the pre- and postsynaptic populations, one pair per connection
        (repeated pairs make multapses).
    """

    def __init__(self, sources, targets):
        self.sources = np.asarray(sources, dtype=np.int64)
        self.targets = np.asarray(targets, dtype=np.int64)
        if self.sources.shape != self.targets.shape or self.sources.ndim != 1:
            raise ValueError("sources and targets must be 1-D arrays of one length")
        # PyNN's (n, 2) list is built only if the per-target path needs it: every Projection
        # keeps its connector, and at seed 002's size the list alone is 20 MB
        super().__init__([])

    def _per_target_connect(self, projection):
        self.conn_list = np.column_stack([self.sources, self.targets])
        self.column_names = ()
        try:
            return super().connect(projection)
        finally:
            self.conn_list = np.empty((0, 2))

    def connect(self, projection):
        connect_arrays = getattr(projection, "_connect_index_arrays", None)
        if connect_arrays is None or self.sources.size == 0:
            return self._per_target_connect(projection)
        parameters = deepcopy(projection.synapse_type.parameter_space)
        parameters.shape = (self.sources.size,)
        if isinstance(projection.synapse_type, StandardSynapseType):
            parameters = projection.synapse_type.translate(parameters)
        parameters.evaluate(simplify=True)  # homogeneous values stay scalars: no n-sized copies
        if connect_arrays(self.sources, self.targets, **parameters) is NotImplemented:
            return self._per_target_connect(projection)


CURRENT_SOURCES = ("DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource")


def nestml_current_ports(cells):
    """{cell type: current port} of the NESTML cell types among ``cells`` (IDs, a Population,
    PopulationView or Assembly), raising for one that has no current input.

    Raises
    ------
    NestmlError
        If a NESTML cell type has no continuous current input port (naming its file).
    """
    from ..codegen import celltype
    cell_types = {}
    for cell in cells:
        cell_type = cell.celltype
        if getattr(cell_type, "nestml_source", None) and cell_type not in cell_types:
            cell_types[cell_type] = celltype.current_input(cell_type)
    return cell_types


class CheckedInjection:
    """Current-source mixin: injecting into a NESTML cell without a current port is an error
    (the backend's own source would either fail obscurely or drive nothing)."""

    def inject_into(self, cells, *args, **kwargs):
        nestml_current_ports(cells)
        return super().inject_into(cells, *args, **kwargs)


_current_source_types = {}


def current_source_types(pynn_module, mixin):
    """PyNN's current sources of ``pynn_module`` with ``mixin`` first in their bases.

    They keep PyNN's class names (pyNN.nest tells ACSource by its name).
    """
    key = (pynn_module.__name__, mixin)
    if key not in _current_source_types:
        _current_source_types[key] = {
            name: type(name, (mixin, getattr(pynn_module, name)),
                       {"__doc__": getattr(pynn_module, name).__doc__,
                        "__module__": mixin.__module__})
            for name in CURRENT_SOURCES}
    return _current_source_types[key]


class Backend:
    """One simulator, seen through its PyNN backend.

    Attribute look-ups that the backend does not override fall through to the PyNN module.
    """

    name = None
    pynn_module = None
    distribution = None  # the installed package whose version is the simulator's

    # how this backend's current sources reach NESTML cells (see current_source_types)
    current_source_mixin = CheckedInjection

    def __init__(self):
        self.pynn = importlib.import_module(self.pynn_module)
        # sim.DCSource & co.: PyNN's, checking (and, where needed, routing) NESTML targets
        for name, source_type in current_source_types(self.pynn,
                                                      self.current_source_mixin).items():
            setattr(self, name, source_type)

    def __getattr__(self, attribute):
        return getattr(self.pynn, attribute)

    @property
    def simulator_version(self):
        return importlib.metadata.version(self.distribution)

    supports_mpi = False  # one simulation across MPI processes (mpirun -n N)
    supports_threads = False  # several threads per process

    def setup(self, dt, seed, threads=1):
        """Start a fresh simulation with time step ``dt`` (ms); delays are at least one step.

        ``seed`` seeds the simulator's own random numbers where it has any; ``threads`` is the
        number of threads per process. Under an MPI launcher (see :mod:`trisim.parallel`) the
        simulator must be spread over all its processes, else this raises
        :class:`~trisim.errors.BackendError` rather than run N copies of one simulation.
        """
        size = parallel.world_size()
        if size > 1 and not self.supports_mpi:
            raise BackendError(f"backend {self.name!r} has no MPI support: it runs in one "
                               f"process, but this is one of {size} MPI processes; run it "
                               f"without mpirun, or use a backend with MPI: "
                               f"{', '.join(MPI_BACKENDS)}")
        if threads > 1 and not self.supports_threads:
            raise BackendError(f"backend {self.name!r} runs one thread per process "
                               f"(threads={threads}); use MPI processes instead")
        self.pynn.setup(timestep=dt, min_delay=dt, **self.setup_options(seed, threads))
        if self.num_processes() != size:
            raise BackendError(f"backend {self.name!r}: started as one of {size} MPI processes "
                               f"but the simulator sees {self.num_processes()}; "
                               f"{self.mpi_hint}")

    def setup_options(self, seed, threads):
        """Extra keyword arguments of this backend's ``setup``."""
        return {}

    mpi_hint = "is it built with MPI?"

    @property
    def is_root(self):
        """True on the process that gathers data and writes files (MPI rank 0)."""
        return self.rank() == 0

    def release(self):
        """Free the simulated network (after its data were collected and ``end()`` called).

        Later work (analysis imports, writing files) then does not add to the process's peak:
        the simulator's objects are dropped (reference cycles included) and glibc hands the
        freed heap back to the system.
        """
        self.pynn.simulator.state.clear()
        gc.collect()
        _return_free_memory()

    def run(self, duration, progress=None):
        """Advance by ``duration`` ms; ``progress(t_ms)`` is called every 5% of the run."""
        callbacks = None
        if progress is not None:
            step = max(duration / 20.0, 1.0)

            def report(t):
                progress(t)
                return t + step

            callbacks = [report]
        self.pynn.run(duration, callbacks=callbacks)

    IndexConnector = IndexConnector

    #: Where a relative .nestml path is read from: the model's own folder while trisim builds
    #: a model (set by ``trisim run``), else the working directory.
    model_directory = None

    def _nestml_path(self, path):
        path = Path(path)
        if path.is_absolute() or self.model_directory is None:
            return path
        return Path(self.model_directory) / path

    def nestml_cell_type(self, path, synapses=()):
        """A PyNN cell type on this backend for the NESTML neuron in file ``path``.

        ``synapses`` lists the NESTML synapses with a postsynaptic port that will connect
        onto this cell: NEST compiles such a synapse together with its postsynaptic neuron
        (it reads the neuron's spike history); the other backends need no such pairing.
        """
        from .. import codegen
        return codegen.cell_type(self._nestml_path(path), self.name,
                                 [self._nestml_path(synapse) for synapse in synapses])

    def nestml_synapse_type(self, path):
        """A PyNN synapse type on this backend for the NESTML synapse in file ``path``."""
        from .. import codegen
        return codegen.synapse_type(self._nestml_path(path), self.name)
