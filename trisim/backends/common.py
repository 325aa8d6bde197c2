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
import types
import weakref
from copy import deepcopy
from pathlib import Path

import numpy as np
from pyNN.common.control import DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN import connectors
from pyNN.common.populations import Assembly
from pyNN.connectors import FromListConnector
from pyNN.standardmodels import StandardSynapseType

from .. import parallel
from ..errors import BackendError, NotPortableError, SimulationError
from . import SIMULATORS, check_device, surface, traits, with_mpi


def progress_callback(duration, progress):
    """A PyNN run callback that tells ``progress(t_ms)`` the time every 5% of ``duration``."""
    step = max(duration / 20.0, 1.0)

    def report(t):
        progress(t)
        return t + step
    return report


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


class FreedWithTheNetwork:
    """Population mixin: the population goes with its network (:meth:`Backend.release`).

    A population and its cells refer to each other through a numpy array of IDs, which
    Python's garbage collector does not look into, so the pair would outlive its network. On
    Brian2 its groups would keep their names, and the next network, named after the living
    objects, would be code that misses every module compiled for the one before.
    """

    built = weakref.WeakSet()

    def _create_cells(self):
        super()._create_cells()
        FreedWithTheNetwork.built.add(self)

    @classmethod
    def free(cls):
        """Unlink every built population's cells from it (the link back the collector
        cannot see)."""
        for population in list(cls.built):
            for cell in population.all_cells:
                vars(cell).pop("parent", None)
        cls.built.clear()


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


class OneToOneConnector(connectors.OneToOneConnector):
    """PyNN's ``OneToOneConnector``: cell *i* of the presynaptic cells to cell *i* of the
    postsynaptic ones (as many as the smaller has), with PyNN's parameters."""

    def connect(self, projection):
        # as index arrays: PyNN 0.13 connects through a boolean map, and numpy 2 refuses it
        # where a target has one source (nonzero() of a 0-d array): PyNN's own examples
        # Izhikevich.py, multi_synapse.py and simple_STDP.py stop there on every simulator
        if self.location_selector is not None:  # a NEURON multi-compartment target
            return super().connect(projection)
        cells = np.arange(min(projection.pre.size, projection.post.size))
        IndexConnector(cells, cells).connect(projection)


def populations_of(cells):
    """The populations (or views) ``cells`` is made of: an Assembly's, else ``[cells]``."""
    return cells.populations if isinstance(cells, Assembly) else [cells]


def uniform_celltype(cells):
    """The cell type of ``cells`` (a Population, PopulationView or Assembly); for an Assembly
    whose populations are of several cell classes, None."""
    populations = populations_of(cells)
    if len({type(population.celltype) for population in populations}) == 1:
        return populations[0].celltype
    return None


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
        if traits.of_cell(cell_type).nestml_source and cell_type not in cell_types:
            cell_types[cell_type] = celltype.current_input(cell_type)
    return cell_types


class ReceptorsInOrder:
    """Projection mixin: a projection given no ``receptor_type`` onto an Assembly takes the
    receptor PyNN's convention means (the cell type's first for a positive weight, its second
    for a negative one). PyNN lists an Assembly's receptor types from a set, so that list's
    order, and with it the receptor guessed, changed with ``PYTHONHASHSEED``: three hash seeds
    in four made an excitatory projection onto ``b + c`` inhibitory, on every simulator."""

    def _guess_receptor_type(self):
        super()._guess_receptor_type()
        if isinstance(self.post, Assembly):  # the position PyNN chose, in the cell type's order
            shared = self.post.receptor_types
            in_order = [name for name in self.post.populations[0].celltype.receptor_types
                        if name in shared]
            self.receptor_type = in_order[shared.index(self.receptor_type)]


class GivenDelays:
    """Projection mixin for a simulator that delivers events to NESTML cells early: every
    PyNN path takes and shows the delays the user gave.

    NESTML's step semantics (as NEST runs them) apply an input that arrives at time t in the
    step that ends at t. NEURON and Brian2 apply it later (by ``nestml_event_advance`` time
    steps: see their Projections), so a connection onto a NESTML cell is made in the
    simulator with its delay less that advance, the *delivered* delay. Delays given at
    creation and by ``Projection.set`` are made delivered here (``_as_delivered``,
    ``_as_delivered_space``, called by the backend before it stores them); the backend's
    connections (``Projection.connections``) and its reading of delays (``get``, ``save``)
    add the advance back, and a delay set through a connection loses it, so a script sees on
    every simulator the delays it gave, with NEST's timing.
    """

    nestml_event_advance = 0.0  # time steps
    delay_unit = 1.0  # a delay of 1 ms in the simulator's own units (as PyNN translates it)

    def _advance_onto(self, celltype):
        """How much earlier than its delay a cell of ``celltype`` takes an event (ms)."""
        if traits.of_cell(celltype).nestml_step_semantics:
            return self.nestml_event_advance * self._simulator.state.dt
        return 0.0

    def _target_celltype(self, target):
        """The cell type of postsynaptic cell ``target`` (an index; an Assembly's differ)."""
        celltype = uniform_celltype(self.post)
        return self.post[target].celltype if celltype is None else celltype

    def _advance(self, target):
        """:meth:`_advance_onto` postsynaptic cell ``target`` (an index)."""
        return self._advance_onto(self._target_celltype(target))

    def _advances(self, targets):
        """:meth:`_advance` of postsynaptic cells ``targets`` (an index array): one value for
        all, or one per target where the targets' cell types differ (an Assembly)."""
        if uniform_celltype(self.post) is not None:
            return self._advance(0)
        cells, which = np.unique(targets, return_inverse=True)
        return np.array([self._advance(cell) for cell in cells.tolist()])[which]

    def _has_nestml_targets(self):
        return any(traits.of_cell(population.celltype).nestml_step_semantics
                   for population in populations_of(self.post))

    def _as_delivered(self, parameters, advance):
        """Make the delay among connection ``parameters`` (a dict, at creation) delivered,
        taking ``advance`` (ms, one or one per connection: :meth:`_advances`) off."""
        if "delay" in parameters:
            parameters["delay"] = parameters["delay"] - advance * self.delay_unit

    def _as_delivered_space(self, parameter_space):
        """Make the delay in ``parameter_space`` (of ``Projection.set``: translated, one
        value per pair of cells) delivered."""
        if "delay" in parameter_space.keys() and self._has_nestml_targets():
            advances = self._advances(np.arange(self.post.size))
            delay = parameter_space["delay"]
            if np.ndim(advances):  # per target (column), on the whole matrix
                delay = delay.evaluate(simplify=True)
            parameter_space["delay"] = delay - advances * self.delay_unit


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


class Backend(types.ModuleType):
    """One simulator as a PyNN backend module: ``sim.setup(...)``, ``sim.Population``...

    It takes PyNN's own signatures and returns what PyNN returns, so a script written for
    ``pyNN.nest`` runs with it unchanged; what trisim changes (faster projections, NESTML cell
    and synapse types, a seed for each simulator's own random numbers) sits behind that API.
    Names it does not define fall through to the PyNN module. With ``portable=True`` only the
    names that every PyNN backend shares are offered (:mod:`trisim.backends.surface`): a
    simulator-specific call then raises :class:`~trisim.errors.NotPortableError`.
    """

    name = None  # its key in trisim.backends.SIMULATORS, which describes it

    # how this backend's current sources reach NESTML cells (see current_source_types)
    current_source_mixin = CheckedInjection

    # names trisim adds to PyNN's API, offered by ``from <backend> import *`` too
    TRISIM_NAMES = ("nestml_cell_type", "nestml_synapse_type", "IndexConnector")

    def __init__(self, portable=False):
        pynn_module = self.description.pynn_module
        pynn = importlib.import_module(pynn_module)
        super().__init__(pynn_module, pynn.__doc__)
        self.pynn = pynn
        self.portable = portable
        self.resettable = True
        # sim.DCSource & co.: PyNN's, checking (and, where needed, routing) NESTML targets
        for name, source_type in current_source_types(self.pynn,
                                                      self.current_source_mixin).items():
            setattr(self, name, source_type)
        public = [name for name in dir(pynn) if not name.startswith("_")]
        if portable:
            public = [name for name in public if name in surface.PORTABLE_NAMES]
        self.__all__ = public + list(self.TRISIM_NAMES)

    def __getattr__(self, attribute):
        pynn = self.__dict__.get("pynn")
        if pynn is None:
            raise AttributeError(attribute)
        if (self.__dict__.get("portable") and not attribute.startswith("__")
                and attribute not in surface.PORTABLE_NAMES):
            raise NotPortableError(surface.not_portable(self.name, attribute,
                                                        hasattr(pynn, attribute)))
        return getattr(pynn, attribute)

    def __repr__(self):
        return f"<PyNN backend {self.description.pynn_module} (trisim)>"

    @property
    def description(self):
        """This simulator's :class:`~trisim.backends.Simulator` (capabilities, distribution)."""
        return SIMULATORS[self.name]

    @property
    def simulator_version(self):
        return importlib.metadata.version(self.description.distribution)
    # whether the simulator advances its steps from Python, where Ctrl-C is seen at once (else
    # it sees Ctrl-C only when the run returns: trisim's runs then return every ~second)
    steps_from_python = False

    def setup(self, timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
        """Start a fresh simulation; PyNN's ``setup``, returning the MPI rank.

        Extra parameters every trisim backend takes: ``rng_seed`` seeds the simulator's own
        random numbers (spike sources, NESTML synapses; without it each simulator keeps
        PyNN's default); ``threads`` is the number of threads per process (more than one on
        NEST only); ``device`` how the simulator runs the network (``"runtime"``, or on
        Brian2 ``"cpp_standalone"``: see the Brian2 backend); ``resettable=False`` promises that ``reset()`` will not be called, which
        spares Brian2 a copy of the whole network's state before the first run. Others go
        to the simulator's PyNN module (``spike_precision``, ``t_flush``, ``use_cvode``...).

        Under an MPI launcher (see :mod:`trisim.parallel`) the simulator must be spread over
        all its processes, else this raises :class:`~trisim.errors.BackendError` rather than
        run N copies of one simulation.
        """
        size = parallel.world_size()
        if size > 1 and not self.description.mpi:
            raise BackendError(f"backend {self.name!r} has no MPI support: it runs in one "
                               f"process, but this is one of {size} MPI processes; run it "
                               f"without mpirun, or use a backend with MPI: "
                               f"{', '.join(with_mpi())}")
        threads = extra_params.pop("threads", None) or 1
        if threads > 1 and not self.description.threads:
            raise BackendError(f"backend {self.name!r} runs one thread per process "
                               f"(threads={threads}); use MPI processes instead")
        rng_seed = extra_params.pop("rng_seed", None)
        self.resettable = extra_params.pop("resettable", True)
        self.device = extra_params.pop("device", "runtime")
        check_device(self.name, self.device)
        extra_params.update(self.setup_options(rng_seed, threads))
        rank = self.pynn.setup(timestep, min_delay, **extra_params)
        if self.num_processes() != size:
            raise BackendError(f"backend {self.name!r}: started as one of {size} MPI processes "
                               f"but the simulator sees {self.num_processes()}; "
                               f"{self.mpi_hint}")
        return rank

    def setup_options(self, rng_seed, threads):
        """Extra keyword arguments of this simulator's PyNN ``setup`` for trisim's own
        (``rng_seed`` may be None: PyNN's default seed)."""
        return {}

    mpi_hint = "is it built with MPI?"

    def run(self, simtime, callbacks=None):
        """Advance by ``simtime`` ms; PyNN's ``run``, returning the time reached.

        ``callbacks`` are PyNN's: each is called with the time and returns the next time it
        wants to be called (:func:`progress_callback` makes one).
        """
        return self.run_until(self.get_current_time() + simtime, callbacks)

    run_for = run

    def run_until(self, time_point, callbacks=None):
        """Advance until ``time_point`` (ms); PyNN's ``run_until``, returning the time.

        With ``callbacks``, the pieces between their times are run here, as PyNN does but
        ending within half a step of ``time_point``: PyNN's loop ends only within 1e-9 ms of
        it, and NEURON's time, a sum of steps, can stop further away (2000 ms at dt 0.1 ends
        at 1999.9999999987 ms), after which NEURON does not advance and PyNN's loop never ends.
        """
        self.prepare_run()
        if not callbacks:
            return self.advance_to(time_point)
        step = self.pynn.get_time_step()
        now = self.pynn.get_current_time()
        pending = [(callback(now), callback) for callback in callbacks]
        while now + step / 2 < time_point:
            pending.sort(key=lambda event: event[0])
            when = pending[0][0]  # callbacks due within one step of each other run together
            due = [callback for at, callback in pending if at - when < step]
            pending = [(at, callback) for at, callback in pending if at - when >= step]
            before, now = now, self.advance_to(min(when, time_point))
            if now <= before:  # a simulator that stops short would make this loop spin
                raise SimulationError(f"{self.name} did not advance from {now!r} ms towards "
                                      f"{min(when, time_point)!r} ms")
            pending += [(callback(now), callback) for callback in due]
        return now

    def advance_to(self, time_point):
        """Advance to ``time_point`` (ms) with PyNN's ``run_until``; returns the time reached
        (a hook for simulators whose own stepping needs help)."""
        self.pynn.run_until(time_point)
        return self.pynn.get_current_time()

    def prepare_run(self):
        """Called before the simulator advances (a hook for backends)."""

    def reset(self, annotations=None):
        """Back to time 0 with the initial state; recorded data start a new Segment."""
        if not self.resettable:
            raise BackendError(f"backend {self.name!r} was set up with resettable=False: "
                               "reset() needs the initial state it did not keep")
        self.pynn.reset(annotations or {})

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
        FreedWithTheNetwork.free()
        gc.collect()
        _return_free_memory()

    IndexConnector = IndexConnector
    OneToOneConnector = OneToOneConnector

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
