"""Brian2 through pyNN.brian2, with connections made in one call per projection."""

import contextlib
import fcntl
import itertools
import logging
import os
import re
import sys


class _NoCacheSizeNotice(logging.Filter):
    """Brian2 reports on stderr, while it is imported, that its compiled-code cache has grown
    past 1 GB. trisim's commands promise one line on stderr for an error, and the notice is
    no news to a trisim user (the cache is what makes later runs fast), so it is dropped."""

    def filter(self, record):
        return not record.getMessage().startswith("Cache size for target")


# before the import, which checks the cache; Brian2 logs from its package module as
# "brian2.brian2" (its own names get the "brian2." prefix)
logging.getLogger("brian2.brian2").addFilter(_NoCacheSizeNotice())


@contextlib.contextmanager
def _without_optional_imports():
    """Brian2's import without pylab and pytest, each unless something imported it before.

    Brian2 puts pylab's names (numpy's and matplotlib.pyplot's) into its namespace for
    ``from brian2 import *``, and takes numpy's alone when pylab cannot be imported; it
    imports pytest for its own test runner (``brian2.test()``), and does without when pytest
    is not installed. trisim plots nothing while it simulates and never runs Brian2's tests:
    pyplot was a sixth of Brian2's import (0.3 s CPU of every run), pytest 0.2-0.3 s. Both
    import as usual afterwards."""
    skipped = [name for name in ("pylab", "pytest") if name not in sys.modules]
    for name in skipped:
        sys.modules[name] = None  # "import name" raises ImportError
    try:
        yield
    finally:
        for name in skipped:
            del sys.modules[name]


with _without_optional_imports():
    import brian2  # noqa: E402
import numpy as np  # noqa: E402
import pyNN.brian2  # noqa: E402
import pyNN.errors  # noqa: E402
import pyNN.brian2.projections  # noqa: E402
import pyNN.brian2.recording  # noqa: E402
import brian2.groups.group  # noqa: E402
import brian2.synapses.synapses  # noqa: E402
from brian2.codegen.codeobject import create_runner_codeobj  # noqa: E402
from brian2.codegen.generators.cython_generator import CythonCodeGenerator  # noqa: E402
from brian2.codegen.runtime.cython_rt import CythonCodeObject, extension_manager  # noqa: E402
from brian2.codegen.runtime.numpy_rt import NumpyCodeObject  # noqa: E402
from brian2.devices.device import RuntimeDevice, all_devices  # noqa: E402
from brian2.equations.equations import PARAMETER  # noqa: E402
from brian2.codegen.runtime.cython_rt.extension_manager import (  # noqa: E402
    cython_extension_manager)
from pyNN.brian2 import simulator  # noqa: E402
from pyNN.brian2.cells import SpikeGeneratorGroup as PyNNSpikeGeneratorGroup  # noqa: E402
from pyNN.brian2.standardmodels.electrodes import update_currents  # noqa: E402
from pyNN.parameters import ParameterSpace  # noqa: E402

from ..codegen import cache  # noqa: E402
from ..codegen.brian2 import assigned, shared  # noqa: E402
from ..errors import BackendError  # noqa: E402
from . import common, traits  # noqa: E402

# Brian2 looks up the file suffix of compiled modules once, lazily, in an ``except
# AttributeError`` branch that loads setuptools' plugins; one of them (pathspec, through
# scikit-build-core) keeps in its globals the ImportErrors it meets, and with them, as their
# context, that AttributeError and every frame on the stack at the time. Left to the first
# connect, those frames held seed 002's first Projection and so the whole network after
# release() (110 MB). Looked up here, they hold only this import.
cython_extension_manager.so_ext


#: standalone project directories kept (each one network's program, ~10-40 MB), unless more
#: runs than this go on at once
KEPT_PROJECTS = 4


def _project_directory(network):
    """A directory for the standalone program of ``network`` (a Brian2 Network) that no other
    process is using, and the open lock file that reserves it until closed.

    The directories are kept (in trisim's cache, per Brian2 version): Brian2 rewrites only
    the source files whose text changed and make recompiles only those, so a network built
    there before compiles nothing. Each remembers the objects of the network last built in
    it, and a run takes a free one that built the same objects if there is one (else a new
    one, or the least recently used), so that runs alternating between models recompile
    neither."""
    base = cache.root().parent / "brian2_standalone" / brian2.__version__
    base.mkdir(parents=True, exist_ok=True)
    objects = "\n".join(sorted(f"{type(o).__name__} {o.name}" for o in network.objects))

    def built(slot):  # (whether it built the same objects, when it was last used)
        path = base / f"{slot}.network"
        if not path.exists():
            return False, 0.0
        return path.read_text() == objects, path.stat().st_mtime
    known = sorted(int(path.stem) for path in base.glob("*.lock") if path.stem.isdigit())
    new = max(known, default=-1) + 1
    order = ([slot for slot in known if built(slot)[0]]  # the same network
             + list(range(new, max(new, KEPT_PROJECTS)))  # a new one, up to KEPT_PROJECTS
             + sorted((slot for slot in known if not built(slot)[0]),  # least recently used
                      key=lambda slot: built(slot)[1]))
    for slot in itertools.chain(order, itertools.count(max(new, KEPT_PROJECTS))):
        lock = open(base / f"{slot}.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        (base / f"{slot}.network").write_text(objects)
        return base / str(slot), lock


class _InterpreterByItsFile:
    """``sys`` as Brian2's Cython cache sees it, with ``executable`` the interpreter's own file
    rather than the path it was started by.

    Brian2 names a compiled module by its code, the Python and Cython versions, numpy's
    major.minor and ``sys.executable``. In a virtual environment that last one is the
    environment's own path, so every environment (each clone, each fresh install) compiled
    every code object again (~3 s CPU each), although the module is the same for every
    environment made from one interpreter."""

    executable = os.path.realpath(sys.executable)

    def __getattr__(self, name):
        return getattr(sys, name)


extension_manager.sys = _InterpreterByItsFile()


def standalone():
    """Whether Brian2 builds the network into a standalone program (its C++ standalone
    device), where values the network holds are known only after the run."""
    return not isinstance(brian2.get_device(), RuntimeDevice)


class _MethodCalls(NumpyCodeObject):
    """Brian2's numpy target for code that only calls Python methods of its owner, from
    trisim's templates (``brian2_templates``, Brian2's own templates for the rest)."""

    templater = NumpyCodeObject.templater.derive("trisim.backends",
                                                 templates_dir="brian2_templates")


class _PointersNotBuffers(CythonCodeGenerator):
    """Brian2's Cython code generator, each array of a code object taken as an untyped
    ndarray whose data pointer the code uses, where Brian2 declares a typed numpy buffer
    (``ndarray[double, ndim=1, mode='c']``) only to take the same pointer from it: for each
    buffer Cython writes its acquisition, format check and release (Wang-Buzsaki's first
    start, five modules: gcc 6.1 against 7.4 s CPU). Brian2's arrays are the contiguous
    arrays of the declared types that the buffers checked."""

    def determine_keywords(self):
        keywords = super().determine_keywords()
        keywords["load_namespace"] = _TYPED_BUFFER.sub(r"cdef _numpy.ndarray \1 =",
                                                       keywords["load_namespace"])
        return keywords


#: Brian2's declaration of an array's typed buffer in a Cython code object
_TYPED_BUFFER = re.compile(r"cdef _numpy\.ndarray\[[^]]*\] (_buf_\w+) =")


class _ArraysThroughPointers(CythonCodeObject):
    """Brian2's Cython target, its arrays reached through pointers
    (:class:`_PointersNotBuffers`, and trisim's templates in ``brian2_templates`` where
    Brian2's own template declares buffers or typed memoryviews of its own: Brian2's
    templates for the rest)."""

    templater = CythonCodeObject.templater.derive("trisim.backends",
                                                  templates_dir="brian2_templates")
    generator_class = _PointersNotBuffers


class _EventsClearedFromPython(_ArraysThroughPointers):
    """A group's threshold, with its ``after_run`` block (one line that sets the count
    of the step's events to 0 at the end of a run) done from Python instead of compiled as a
    Cython module of its own: one compiled module fewer per group on a first start (3 to
    4 s CPU measured), for one assignment per run."""

    def compile_block(self, block):
        return None if block == "after_run" else super().compile_block(block)

    events = None  # the group's Brian2 variable of the step's events (``_spikespace``)

    def after_run(self):
        self.events.get_value()[-1] = 0  # the array's last element counts the events


def _fewer_compiled_modules(group, code, template_name, *args, **kwargs):
    """Brian2's ``create_runner_codeobj``, on the runtime device with Cython: the code object
    that hands a synaptic pathway's spikes to its queue a :class:`_MethodCalls`, a group's
    threshold an :class:`_EventsClearedFromPython`, any other an
    :class:`_ArraysThroughPointers` (a spike monitor's step from trisim's template, which
    writes through pointers where Brian2's writes through typed memoryviews, for which Cython
    adds 20,000 lines of C++).

    The first only calls two Python methods of the pathway (``initialise_queue`` before a
    run, ``push_spikes`` at each step), whatever the target: as Cython it was two compiled
    modules per pathway calling the same methods (about 3.5 s CPU on a first start, of a
    Wang-Buzsaki network's 35), and Brian2's numpy template runs two imports at each call
    (1.9 us a call against 1.0 as Cython; 0.9 without them). The standalone device writes
    its own C++."""
    chosen = brian2.get_device().code_object_class(kwargs.get("codeobj_class")
                                                   or group.codeobj_class)
    if not standalone() and chosen is CythonCodeObject:
        kwargs["codeobj_class"] = {"synapses_push_spikes": _MethodCalls,
                                   "threshold": _EventsClearedFromPython}.get(
                                       template_name, _ArraysThroughPointers)
    codeobj = create_runner_codeobj(group, code, template_name, *args, **kwargs)
    if isinstance(codeobj, _EventsClearedFromPython):
        codeobj.events = kwargs["template_kwds"]["eventspace_variable"]
    return codeobj


brian2.synapses.synapses.create_runner_codeobj = _fewer_compiled_modules
brian2.groups.group.create_runner_codeobj = _fewer_compiled_modules


@contextlib.contextmanager
def _run_once_in_numpy(group):
    """Inside the block, code that ``group`` (a Brian2 group) runs once (such as making its
    connections) runs on Brian2's numpy target on the runtime device, not as a Cython module
    compiled for it: about 3 s CPU per projection on a first start, to run once."""
    if standalone():
        yield
        return
    default, group.codeobj_class = group.codeobj_class, NumpyCodeObject
    try:
        yield
    finally:
        group.codeobj_class = default


class Connection(pyNN.brian2.projections.Connection):
    """As pyNN.brian2's, also where its projection stores a value once (see
    :meth:`Projection._store_once`): it is every connection's, and setting one connection's
    makes it a value per connection. Its delay is the one its user gave (Brian2's is that
    less the projection's advance: see common.GivenDelays)."""

    def _advance(self):
        """How much earlier than its delay this connection's target takes a spike (ms)."""
        posts = common.populations_of(self.projection.post)
        return self.projection._advance_onto(posts[self.j_group].celltype)

    def _stored_once(self, name):
        variables = self._syn_obj.pre.variables if name == "delay" else self._syn_obj.variables
        return variables[name].scalar

    def _get(self, attr_name):
        if not self._stored_once(attr_name):
            value = super()._get(attr_name)
        else:
            values = self.projection.synapse_type.reverse_translate(ParameterSpace(
                {attr_name: getattr(self._syn_obj, attr_name)[:]}, shape=(1,)))
            values.evaluate()
            value = values[attr_name]
        return value + self._advance() if attr_name == "delay" else value

    def _set(self, attr_name, value):
        if self._stored_once(attr_name):
            self.projection._store_per_connection(attr_name)
        if attr_name != "delay":
            return super()._set(attr_name, value)
        super()._set(attr_name, value - self._advance())
        if traits.of_synapse(self.projection.synapse_type).nestml_synapse:
            self.projection.synapse_type.delays_set(self._syn_obj, self._advance())


class Projection(common.GivenDelays, common.ReceptorsInOrder, pyNN.brian2.Projection):
    __doc__ = pyNN.brian2.Projection.__doc__
    # NESTML's step semantics (as NEST runs them) apply an input arriving at time t in the
    # step that ends at t; Brian2 stamps a spike at the start of the step that emits it and
    # processes arrivals before the end-of-step update, one step later. Delivering one step
    # early to NESTML cells restores NEST's timing (common.GivenDelays).
    nestml_event_advance = 1.0  # time steps
    delay_unit = brian2.ms

    @property
    def connections(self):
        """The local connections, as :class:`Connection` objects."""
        return (Connection(self, i, j, index) for i, by_post in self._brian2_synapses.items()
                for j, synapses in by_post.items() for index in range(len(synapses)))

    def __init__(self, presynaptic_neurons, postsynaptic_neurons, connector, synapse_type=None,
                 *args, **kwargs):
        _check_names(synapse_type, postsynaptic_neurons)
        self._delivered = None  # delays as delivered (ms), where set by _connect_index_arrays
        self._once = None  # Brian2 names of the values stored once (see _store_once)
        super().__init__(presynaptic_neurons, postsynaptic_neurons, connector, synapse_type,
                         *args, **kwargs)
        if traits.of_synapse(self.synapse_type).nestml_synapse:
            for synapses, advance in self._groups():
                self.synapse_type.connected(synapses, advance, self._delivered)

    def _groups(self):
        """(Brian2 Synapses, delivery advance in ms) for each pair of pre- and postsynaptic
        populations (an Assembly has several)."""
        posts = common.populations_of(self.post)
        return [(synapses, self._advance_onto(posts[j].celltype))
                for by_post in self._brian2_synapses.values()
                for j, synapses in by_post.items()]

    def _all_synapses(self):
        return [synapses for synapses, _ in self._groups()]

    def _connect_index_arrays(self, sources, targets, **parameters):
        """Make all connections with one ``Synapses.connect`` and vectorised assignments.

        pyNN.brian2 connects one target cell at a time, and each call compiles a new code
        object and sets values synapse by synapse: at seed 002's size that is 8000 compilations
        and 1.28 M item assignments (toolchain.md). Populations only, not views or assemblies.
        """
        if not (isinstance(self.pre, pyNN.brian2.Population)
                and isinstance(self.post, pyNN.brian2.Population)):
            return NotImplemented  # IndexConnector falls back to PyNN's per-target path
        self._as_delivered(parameters, self._advances(targets))
        synapses = self._brian2_synapses[0][0]
        first = 0 if standalone() else len(synapses)  # (standalone: connected once, here)
        # Synapses in presynaptic order: a spike then touches one contiguous block of every
        # synaptic array instead of entries scattered over all of them (trisim's index arrays
        # come grouped by target). At seed 002's size this makes the spike propagation code
        # about five times faster; the network is the same. numpy sorts integers of 16 bits
        # or less by radix: in the smallest type that holds them, seven times faster here.
        order = np.argsort(sources.astype(np.min_scalar_type(self.pre.size - 1)), kind="stable")
        # (Brian2's own index type: the peak memory of building holds fewer large copies)
        i, j = sources.astype(np.int32)[order], targets.astype(np.int32)[order]
        if first == 0 and synapses.multisynaptic_index is not None:
            # pyNN.brian2 has Brian2 number the synapses of each (pre, post) pair, for S[i, j, k]
            # indexing, which PyNN never does: at seed 002's size, 0.1 s and 40 MB for a
            # moment. Without the numbering, S[i, j, k] raises (naming it) instead.
            synapses.unregister_variable(synapses.variables[synapses.multisynaptic_index])
            synapses.multisynaptic_index = synapses._indices.synapse_number = None
        parameters.pop("dendritic_delay_fraction", None)
        parameters.update(self.synapse_type.initial_conditions)
        parameters = {name: value[order] if np.ndim(value) else value
                      for name, value in parameters.items()}
        del order
        if "delay" in parameters:
            parameters["delay"] = _rounded_delay(parameters["delay"])
            if standalone():  # values cannot be read back before the run
                self._delivered = parameters["delay"] / brian2.ms
        once = self._store_once(parameters)
        with _run_once_in_numpy(synapses):
            synapses.connect(i=i, j=j)
        self._n_connections += sources.size
        self._set_once(once)
        for name, value in parameters.items():
            getattr(synapses, name)[first or None:] = value

    def _store_once(self, parameters):
        """Decide, before connections are made with ``parameters`` (Brian2's names), which of
        these values the Synapses store once: at the first connections, each fixed value
        (see :func:`_fixed`) that is the same for all of them is stored once from then on;
        later, a stored value that differs from the new connections' makes it a value per
        connection again. Returns the values to set once after connecting, taking them out
        of ``parameters``.

        A connection then holds its state and its indices only, as in a native script with
        its constants: at seed 002's size, weight and delay stored per connection were 20
        of its 56 bytes (the delay twice: Brian2's spike queue keeps its own copy)."""
        if self._once is None:
            fixed = _fixed(self.synapse_type, self._all_synapses()[0])
            self._once = {name for name in parameters
                          if name in fixed and _is_uniform(parameters[name])}
            for synapses in self._all_synapses():
                for holder, name in self._holders(synapses, self._once):
                    _replace_variable(synapses, holder, name, per_item=False)
        once = {}
        for name in self._once & set(parameters):
            value = parameters[name]
            if _is_uniform(value) and (not self._n_connections
                                       or np.ravel(value)[0] == self._one_value(name)):
                once[name] = np.ravel(parameters.pop(name))[0]
            else:
                self._store_per_connection(name)
        return once

    def _holders(self, synapses, names):
        """(holder, Brian2 name) of the values ``names`` in ``synapses``: the Synapses, or
        for a delay each of its pathways (the postsynaptic one of a NESTML synapse derives
        from it), and the NESTML synapse's own copy."""
        found = []
        for name in names:
            if name == "delay":
                found += [(pathway, "delay") for pathway in synapses._pathways]
                copy = getattr(self.synapse_type, "delay_variable", None)
                if copy in synapses.variables:
                    found.append((synapses, copy))
            else:
                found.append((synapses, name))
        return found

    def _one_value(self, name):
        """The value stored once of ``name`` (Brian2's name, with its unit)."""
        return np.ravel(getattr(self._all_synapses()[0], name)[:])[0]

    def _store_per_connection(self, name):
        """Make ``name``, stored once, a value per connection (each taking the one value)."""
        if standalone():
            raise BackendError(
                f"on Brian2's cpp_standalone device {self._pynn_name(name)} keeps the one "
                f"value it had for every connection of projection {self.label!r} when it was "
                "created (a standalone program's values are known only after its run); give "
                "values that differ between connections when creating the Projection")
        for synapses in self._all_synapses():
            for holder, native in self._holders(synapses, [name]):
                _replace_variable(synapses, holder, native, per_item=True)
        self._once.discard(name)

    def _set_once(self, values):
        """Set values stored once (Brian2's names) on every Synapses of the projection."""
        for name, value in values.items():
            for synapses in self._all_synapses():
                if standalone() or len(synapses):  # (Brian2 refuses before connections)
                    setattr(synapses, name, value)

    def _pynn_name(self, native):
        """PyNN's name of the connection attribute Brian2 calls ``native`` (a NESTML synapse
        may rename: Brian2 reads names ending in _pre or _post as the cells')."""
        translations = self.synapse_type.translations
        return next((name for name, t in translations.items()
                     if t["translated_name"] == native), native)

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, **parameters):
        if standalone():
            raise BackendError(
                f"on Brian2's cpp_standalone device, projection {self.label!r} must be made "
                "with sim.IndexConnector or sim.OneToOneConnector between whole Populations: "
                "pyNN.brian2 makes other connections target by target, which needs synapse "
                "indices that a standalone program knows only after its run")
        self._as_delivered(parameters, self._advance(postsynaptic_index))
        if "delay" in parameters:
            parameters["delay"] = _rounded_delay(parameters["delay"])
        once = self._store_once(parameters)
        super()._convergent_connect(presynaptic_indices, postsynaptic_index, **parameters)
        self._set_once(once)

    def set(self, **attributes):
        if standalone():
            raise BackendError(
                f"on Brian2's cpp_standalone device the connections of projection "
                f"{self.label!r} get their values when it is created: Projection.set reads "
                "them back, which a standalone program can only after its run")
        return super().set(**attributes)

    def _set_attributes(self, parameter_space):
        delays = "delay" in parameter_space.keys()
        self._as_delivered_space(parameter_space)
        once = {}
        for name in (self._once or set()) & set(parameter_space.keys()):
            if parameter_space[name].is_homogeneous:
                once[name] = np.ravel(parameter_space.pop(name).evaluate(simplify=True))[0]
            else:
                self._store_per_connection(name)
        self._set_once(once)
        if parameter_space.keys():
            super()._set_attributes(parameter_space)
        if delays:  # a NESTML synapse's copies of its delays follow them
            if traits.of_synapse(self.synapse_type).nestml_synapse:
                for synapses, advance in self._groups():
                    self.synapse_type.delays_set(synapses, advance)

    def _get_attributes_as_list(self, attribute_names):
        """As pyNN.brian2's (given Brian2's names by Projection.get), with each value read
        back under its PyNN name, a value stored once repeated for every connection, delays
        as given (common.GivenDelays), and a single connection's values as a row
        (pyNN.brian2's reading fails on it: its values come back as numbers, not columns)."""
        if any(isinstance(cells, pyNN.brian2.Assembly) for cells in (self.pre, self.post)):
            raise NotImplementedError  # as pyNN.brian2: one Synapses group is read
        pynn = {name: self._pynn_name(name) for name in attribute_names}
        synapses = self._brian2_synapses[0][0]
        stored = super()._get_attributes_as_list
        columns = []
        for name in attribute_names:
            if name in ("presynaptic_index", "postsynaptic_index"):
                columns.append([row[0] for row in stored([name])])
                continue
            value = getattr(synapses, name)[:]
            values = self.synapse_type.reverse_translate(ParameterSpace(
                {name: value}, shape=np.shape(value) or (1,)))
            values.evaluate()
            column = np.asarray(values[pynn[name]], dtype=float).ravel()
            if pynn[name] == "delay":
                column = column + self._groups()[0][1]
            columns.append(np.broadcast_to(column, (len(synapses),))  # (stored once)
                           if column.size == 1 else column)
        return list(zip(*columns))

    def _get_attributes_as_arrays(self, attribute_names, multiple_synapses="sum"):
        """As pyNN.brian2's, with delays as given (common.GivenDelays)."""
        arrays = super()._get_attributes_as_arrays(attribute_names, multiple_synapses)
        advance = self._groups()[0][1]  # (pyNN.brian2 reads one Synapses group)
        for k, name in enumerate(attribute_names):
            if self._pynn_name(name) == "delay" and advance:
                if multiple_synapses == "sum":  # a sum over multapses has an advance each
                    synapses = self._brian2_synapses[0][0]
                    counts = np.zeros(arrays[k].shape)
                    np.add.at(counts, (synapses.i[:], synapses.j[:]), 1)
                    arrays[k] = arrays[k] + advance * counts
                else:
                    arrays[k] = arrays[k] + advance
        return arrays


def _check_names(synapse_type, post):
    """Refuse a NESTML synapse whose variables share names with the postsynaptic cell's: in
    Brian2 a synapse's code reads the postsynaptic cell's variables by their bare names, so
    it cannot have both (Brian2's own error names neither model)."""
    if not traits.of_synapse(synapse_type).nestml_synapse:
        return
    group = getattr(getattr(post, "parent", post), "brian2_group", None)  # views: the parent's
    shared = (sorted(set(synapse_type.brian2_variables) & set(group.variables))
              if group is not None else [])
    if shared:
        raise BackendError(
            f"on Brian2, synapse {type(synapse_type).__name__} and cell "
            f"{type(post.celltype).__name__} both have variable(s) {', '.join(shared)}; "
            "rename them in one of the .nestml files")


class Recorder(pyNN.brian2.recording.Recorder):
    __doc__ = pyNN.brian2.recording.Recorder.__doc__

    def _finalize(self):
        """One StateMonitor per set of signals recorded from the same cells, on the network's
        clock when it samples every time step.

        pyNN.brian2 makes one monitor per variable, each with a clock of its own: every
        monitor is a code object called at every step (seed 002's v, gsyn_exc and gsyn_inh of
        two populations are six), and a network with several clocks takes Brian2's slower
        multi-clock loop, which works out at every step which clocks are due.
        """
        signals = [v for v in self.recorded if v.name != "spikes" and v.name not in self._devices]
        if not signals:
            return super()._finalize()
        by_cells = {}
        for variable in signals:
            by_cells.setdefault(frozenset(self.recorded[variable]), []).append(variable)
        translations = self.population.celltype.state_variable_translations
        network = simulator.state.network
        if np.isclose(self.sampling_interval, simulator.state.dt):
            timing = {"clock": network.clock}
        else:
            timing = {"dt": self.sampling_interval * brian2.ms}
        for cells, variables in by_cells.items():
            indices = np.sort(np.fromiter(cells, dtype=int)) - self.population.first_id
            monitor = brian2.StateMonitor(
                self.population.brian2_group,
                [translations[v.name]["translated_name"] for v in variables],
                record=indices, when="end", **timing)
            network.add(monitor)
            for variable in variables:
                self._devices[variable.name] = monitor
        super()._finalize()  # the spike monitor

    def _get_all_signals(self, variable, ids, clear=False):
        """As pyNN.brian2's, but a NESTML cell's signals in the model's units, as NEST and
        NEURON record them: pyNN.brian2 undoes the cell type's translation, which for NESTML
        cells goes from PyNN's units to the model's (a pA current came back in nA)."""
        values, times = super()._get_all_signals(variable, ids, clear)
        celltype = self.population.celltype
        if traits.of_cell(celltype).nestml_step_semantics:
            translation = celltype.state_variable_translations[variable.name]
            values = values * translation["forward_transform"](**{variable.name: 1.0})
        return values, times


def _store_per_cell(group, name):
    """Make parameter ``name`` of ``group`` (a NeuronGroup), stored once, a value per cell
    (each cell taking the one value), with the values computed from it, in the group and in
    every object of the network that reads them (synapses, monitors), before any values that
    differ between cells are set."""
    if standalone():
        raise BackendError(
            f"on Brian2's cpp_standalone device {name} keeps the one value it had for every "
            f"cell of {group.name!r} when the population was created (a standalone program's "
            "values are known only after its run); give values that differ between cells "
            "when creating the Population")
    # and a NESTML cell's internals computed from it
    derived = group.computed_from(name) if hasattr(group, "computed_from") else set()
    for per_cell in [name, *sorted(derived)]:
        if group.variables[per_cell].scalar:
            _replace_variable(group, group, per_cell, per_item=True)


def _replace_variable(owner, holder, name, per_item):
    """Store value ``name`` of ``holder`` (``owner``, a NeuronGroup or Synapses, or one of
    its synaptic pathways for its delay) once (``per_item`` False: before the first
    connection) or per cell or connection (each taking the one value), in ``holder`` and in
    every object of the network that reads it (synapses, monitors)."""
    variables = holder.variables
    old = variables[name]
    del variables._variables[name]
    variables.indices.pop(name, None)
    connections = isinstance(owner, brian2.Synapses)
    if connections and old in owner._registered_variables:
        owner.unregister_variable(old)
    kind = dict(dimensions=old.dim, dtype=old.dtype, constant=old.constant)
    if holder is not owner:  # a pathway's delay: Brian2's templates read a dynamic array
        variables.add_dynamic_array(name, size=1 if not per_item else len(owner),
                                    scalar=not per_item, **kind)
        holder._delays = variables[name]
    elif not per_item:
        variables.add_array(name, size=1, scalar=True, read_only=old.read_only, **kind)
    elif connections:
        variables.add_dynamic_array(name, size=len(owner), read_only=old.read_only, **kind)
    else:
        variables.add_array(name, size=owner.N, read_only=old.read_only, **kind)
    new = variables[name]
    if not per_item:
        if holder is not owner:
            new.resize(1)
    else:
        if connections:
            owner.register_variable(new)
        new.set_value(np.full(new.size, old.get_value()[0], dtype=old.dtype))
    items = owner._registered_variables if connections else [
        v for v in owner.variables.values()
        if getattr(v, "owner", None) == owner and not v.scalar]
    objects = [owner, *simulator.state.network.objects]
    for reader in objects + [o for obj in objects for o in obj.contained_objects]:
        others = getattr(reader, "variables", None)
        if others is None or others is variables:
            continue
        for key, variable in list(others._variables.items()):
            if variable is old:
                # indexed as this object indexes the owner's other values per item
                others._variables[key] = new
                others.indices[key] = "0" if not per_item else next(
                    (others.indices[k] for k, v in others._variables.items()
                     if any(v is item for item in items) and v is not new), "_idx")


def _rounded_delay(delay):
    """``delay`` (with its unit) rounded to the nearest time step, as pyNN.brian2 does."""
    step = simulator.state.dt * brian2.ms
    return np.round(delay / step) * step


def _fixed(synapse_type, synapses):
    """Brian2 names of the connection values of ``synapse_type`` (made into ``synapses``, a
    Brian2 Synapses) that no event changes, which a projection may store once: the delay,
    and a NESTML synapse's fixed parameters (see NestmlSynapse.fixed) or the parameters of
    PyNN's own synapse types that their event code does not assign (the weight of
    StaticSynapse, STDP's time constants)."""
    if traits.of_synapse(synapse_type).nestml_synapse:
        return {"delay", *synapse_type.fixed}
    written = set().union(*(assigned(pathway.code) for pathway in synapses._pathways))
    return {"delay"} | {name for name, eq in synapses.equations.items()
                        if eq.type == PARAMETER and name not in written}


def _is_uniform(values):
    """Whether ``values`` (an array of cells' values, or None) holds one number."""
    values = np.asarray(values)
    return (np.issubdtype(values.dtype, np.number) and values.size > 0
            and not np.ptp(values))


class _StoredOnce:
    """Cell parameters stored once (see :meth:`Population._create_cells`) in pyNN.brian2's
    setting of parameters: a value that is the same for every cell of a population is set
    once; other values make the parameter a value per cell first."""

    def _set_parameters(self, parameter_space):
        group = self.brian2_group
        for name in list(parameter_space.keys()):
            if name not in group.variables or not group.variables[name].scalar:
                continue
            value = parameter_space[name].evaluate(simplify=False)
            if _is_uniform(value) and (self.size == group.N
                                      or value[0] == getattr(group, name)[:]):
                setattr(group, name, value[0])
                parameter_space.pop(name)
            else:
                _store_per_cell(group, name)
        if parameter_space.keys():
            super()._set_parameters(parameter_space)

    def _get_native_parameters(self, *names):
        """As pyNN.brian2's, with a value stored once repeated for every cell, as PyNN reads
        them (a per-cell array for values given per cell or not)."""
        parameters = super()._get_native_parameters(*names)
        variables = self.brian2_group.variables
        for name in names:
            if name in variables and variables[name].scalar:
                parameters[name] = getattr(self.brian2_group, name) * np.ones(self.size)
        return parameters


class SpikeGeneratorGroup(PyNNSpikeGeneratorGroup):
    """pyNN.brian2's group for ``SpikeSourceArray`` cells, handing Brian2 its spikes already
    in Brian2's order (by time, then cell) and cells numbered as integers.

    pyNN.brian2 gives them in cell order with float cell numbers and Brian2 sorts them on
    both keys (``numpy.lexsort``): seed 001's 13,000 afferents fire ~6.5 million spikes per
    simulated second, and concatenated cell by cell they are already in cell order within
    each time, so one stable sort by time suffices. The trains' order is checked on the
    same arrays, made once."""

    def __init__(self, n, equations, spike_time_sequences=None):
        indices, times = self._convert_sequences_to_arrays(spike_time_sequences)
        brian2.SpikeGeneratorGroup.__init__(self, n, indices=indices, times=times, sorted=True)

    def _convert_sequences_to_arrays(self, spike_time_sequences):
        indices, times = _cell_by_cell(spike_time_sequences)
        if np.any((np.diff(times) < 0) & (np.diff(indices) == 0)):
            raise pyNN.errors.InvalidParameterValueError(
                "Spike times given to SpikeSourceArray must be in increasing order")
        order = np.argsort(times, kind="stable")  # ties stay in cell order
        return indices[order], times[order] * brian2.second


def _cell_by_cell(spike_time_sequences):
    """The spikes of one ``Sequence`` per cell as (cell numbers, times), cell after cell."""
    trains = [np.asarray(train.value, dtype=float) for train in spike_time_sequences]
    if not trains:
        return np.empty(0, dtype=np.int32), np.empty(0)
    return (np.repeat(np.arange(len(trains), dtype=np.int32), [t.size for t in trains]),
            np.concatenate(trains))


class PopulationView(_StoredOnce, pyNN.brian2.PopulationView):
    __doc__ = pyNN.brian2.PopulationView.__doc__


class Population(common.FreedWithTheNetwork, _StoredOnce, pyNN.brian2.Population):
    __doc__ = pyNN.brian2.Population.__doc__
    _recorder_class = Recorder

    def _create_cells(self):
        """As pyNN.brian2's, with each cell parameter that is the same for every cell stored
        once (a Brian2 shared variable) rather than per cell.

        Brian2 then computes the expressions of those parameters once per step, outside the
        loop over cells: PyNN's ``IF_cond_exp`` has nine parameters per cell, four of them
        divisors, and its state update took twice as long per cell as a native script's
        with constants (seed 002: 0.59 s against 0.27 s for 4000 cells). A parameter later
        set to values that differ between cells becomes a value per cell again."""
        model = self.celltype.brian2_model

        def group(n, equations, **parameters):
            if model is PyNNSpikeGeneratorGroup:
                return SpikeGeneratorGroup(n, equations, **parameters)
            if equations is None:  # (other spike sources)
                return model(n, equations, **parameters)
            if isinstance(equations, str):  # (a NESTML cell's)
                equations = brian2.Equations(equations)
            once = {eq.varname for eq in equations.values() if eq.type == PARAMETER
                    and _is_uniform(parameters.get(eq.varname))}
            return model(n, shared(equations, once),
                         **{name: np.ravel(value)[:1] if name in once else value
                            for name, value in parameters.items()})

        self.celltype.brian2_model = group  # for this call (pyNN.brian2 reads it there)
        try:
            super()._create_cells()
        finally:
            del self.celltype.brian2_model

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


def _no_store(*args, **kwargs):
    pass


class _InOrderAdded(dict):
    """pyNN.brian2's set of recorders, iterated in the order they were added.

    pyNN.brian2 keeps its recorders in a set and makes their monitors at the first run in
    its order, which follows the recorders' memory addresses and so changes from run to run.
    Brian2 names each monitor by its place in that order ("spikemonitor_2") and writes the
    recorded group's names into the monitor's code, which its cache of compiled modules
    is keyed by: a second run of the same model compiled monitors again (seed 001's
    experiment: up to 8 of its 37 modules, 17 to 22 s CPU against 9 s)."""

    def add(self, recorder):
        self[recorder] = None


STANDALONE = "cpp_standalone"


class Brian2Backend(common.Backend):
    """pyNN.brian2 with trisim's projections and recorders, on Brian2's runtime device
    (compiled code objects called from Python, the default) or its C++ standalone device
    (``setup(device="cpp_standalone")``: the whole network built into one C++ program).

    The standalone program is compiled and run by the one ``run`` it allows (any callbacks
    are told the time once, at the end), and the recorded data are read from its results
    afterwards. It cannot run what pyNN.brian2 does from Python during a run (current
    sources), nor reset, nor connect other than in one call per projection; those are
    refused with a :class:`~trisim.errors.BackendError`.
    """

    name = "brian2"
    steps_from_python = True  # Brian2's runtime loop; each run() call costs ~0.1-1 s to start
    Projection = Projection
    Population = Population
    device = "runtime"
    _project_lock = None  # the lock file holding this run's standalone project directory

    def prepare_run(self):
        state = simulator.state
        if state.current_sources and self.device == STANDALONE:
            raise BackendError(
                "on Brian2's cpp_standalone device current sources cannot run: pyNN.brian2 "
                "updates them from Python at every step, which a standalone program cannot "
                "call; use the runtime device (device: runtime)")
        if not state.running and (not self.resettable or self.device == STANDALONE):
            # pyNN.brian2 stores a copy of the whole network's state before its first run, for
            # reset(): every synaptic variable of every synapse (~0.5 s and ~100 MB at seed
            # 002's size), which a run set up with resettable=False never needs (and which
            # Brian2's standalone device cannot make).
            state.network.store = _no_store
        # pyNN.brian2 calls a Python function at every time step to update current sources,
        # needed only while there are any
        for operation in state.network.objects:
            if (isinstance(operation, brian2.NetworkOperation)
                    and operation.function is update_currents):
                operation.active = bool(state.current_sources)

    def run_until(self, time_point, callbacks=None):
        if self.device != STANDALONE:
            return super().run_until(time_point, callbacks)
        device = brian2.get_device()
        if device.has_been_run:
            raise BackendError("on Brian2's cpp_standalone device a network runs once, in "
                               "one piece; use the runtime device (device: runtime) to run "
                               "it in several")
        self.prepare_run()
        self.pynn.run_until(time_point)
        directory, self._project_lock = _project_directory(simulator.state.network)
        device.build(directory=str(directory), compile=True, run=True, with_output=False)
        now = self.pynn.get_current_time()
        for callback in callbacks or ():
            callback(now)
        return now

    def reset(self, annotations=None):
        if self.device == STANDALONE:
            raise BackendError("on Brian2's cpp_standalone device a network runs once: "
                               "reset() needs the runtime device (device: runtime)")
        super().reset(annotations)

    def release(self):
        super().release()
        if self.device == STANDALONE:
            device = all_devices[STANDALONE]
            if self._project_lock is not None:  # its results were read: others may use it
                self._project_lock.close()
                self._project_lock = None
            # the device holds the network's objects, and Brian2 gives a new object a name
            # that no living one has: kept, the next network's code would differ by its
            # names and miss every compiled module in Brian2's cache
            device.reinit()

    def setup(self, timestep=common.DEFAULT_TIMESTEP, min_delay=common.DEFAULT_MIN_DELAY,
              **extra_params):
        rank = super().setup(timestep, min_delay, **extra_params)
        simulator.state.recorders = _InOrderAdded()
        # pyNN.brian2 creates SpikeSourceArray groups without its network's clock, so they
        # tick on Brian2's default clock: at any step but 0.1 ms their spikes reached targets
        # a step late. One clock for everything that does not name its own.
        brian2.defaultclock.dt = timestep * brian2.ms
        return rank

    def setup_options(self, rng_seed, threads):
        # Runtime mode with Cython, named: the default target "auto" first compiles a test
        # module to see whether Cython works (0.5 s of every run); Cython is a dependency.
        # Compiled code is cached (~/.cython/brian_extensions). C++ standalone is the option
        # (setup(device="cpp_standalone"); docs/performance.md compares the two).
        brian2.prefs.codegen.target = "cython"
        # distutils compiles each Cython module with Python's own build flags first, which
        # include -g: debug information nobody reads, a fifth to a quarter of gcc's time per
        # module (a first start compiles one per code object). -g0 after them drops it; the
        # machine code is the same.
        flags = brian2.prefs.codegen.cpp.extra_compile_args_gcc
        if "-g0" not in flags:
            brian2.prefs.codegen.cpp.extra_compile_args_gcc = [*flags, "-g0"]
        if self.device == STANDALONE:
            # a fresh program for each network (the device keeps the last one's state)
            all_devices[STANDALONE].reinit()
            brian2.set_device(STANDALONE, build_on_run=False)
            # make's compilers, one per CPU this process may use (Brian2's default, -j
            # alone, starts one per source file at once)
            brian2.prefs.devices.cpp_standalone.extra_make_args_unix = [
                f"-j{len(os.sched_getaffinity(0))}"]
        elif standalone():
            brian2.set_device("runtime")
        # Brian2 turns Ctrl-C during a run into "stop after this step": run() would return
        # early as if done, and a truncated run be saved as a whole one. Ctrl-C interrupts.
        brian2.prefs.core.stop_on_keyboard_interrupt = False
        if rng_seed is not None:
            # Brian2 draws its own random numbers (rand(), PoissonGroup) from numpy's global
            # state
            brian2.seed(rng_seed)
        return {}
