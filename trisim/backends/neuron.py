"""NEURON through pyNN.neuron.

Connections are NetCon streams: static synapses one NetCon per connection straight into the
receptor; NESTML synapses one NetCon per connection into a relay process on the target cell,
the connection's parameters and state in the NetCon's weight vector (see
``trisim/codegen/templates/neuron_synapse.mod.jinja2``), instead of pyNN.neuron's weight-adjuster
point process, second NetCon and hoc ``setpointer`` per connection.
"""

from copy import deepcopy

from .. import parallel

if parallel.world_size() > 1:
    # pyNN.neuron creates its ParallelContext on import: MPI must be running by then. mpi4py
    # starts it (PyNN gathers data through mpi4py too) and NEURON joins it.
    from mpi4py import MPI  # noqa: F401
    from neuron import h as _h
    _h.nrnmpi_init()

import numpy as np  # noqa: E402
import pyNN.neuron  # noqa: E402
from pyNN.neuron import projections as pynn_projections  # noqa: E402
from pyNN.neuron import recording as pynn_recording  # noqa: E402
from pyNN.neuron import simulator  # noqa: E402

from ..errors import BackendError  # noqa: E402
from . import common, traits  # noqa: E402

# NEURON's fixed-step ParallelContext refuses connections between processes whose delay is not
# more than one time step (by 1e-10 ms), and trisim's delays are often exactly one step. Stream
# NetCons carry this much more: the event is still delivered in the same step (the one during
# whose first half it arrives), in one process as in many, and ``get("delay")`` hides it.
_DELAY_MARGIN = 1e-9  # ms
_CHUNK = 1 << 16  # connections per chunk of the NetCon loop


def _connect_netcons(netcons, gids, targets, which, delay, values):
    """Append to hoc List ``netcons`` one NetCon per connection, from the cell with gid
    ``gids[i]`` to ``targets[which[i]]``, with ``delay`` and weight-vector ``values`` ({slot:
    value}); a delay or value is one number for all connections or one per connection.

    NEURON has no call that makes many NetCons. The loop runs in NEURON's own interpreter, as
    a hoc procedure written for the values' layout, with the numbers equal on every connection
    written into its text: it keeps each NetCon in a hoc List instead of a Python object (96
    bytes each, 123 MB for seed 002's 1.28 million connections) and takes about half the CPU
    time of the same loop in Python (a hoc loop reading every value from a Vector takes about
    as long as Python).
    """
    h = simulator.h
    columns = []  # Vectors read per connection: $o5.o(k).x[i]

    def assign(target, value):
        if np.ndim(value) == 0 and np.isfinite(value):
            return f"{target} = {float(value)!r}"
        columns.append(value)
        return f"{target} = $o5.o({len(columns) - 1}).x[i]"

    body = [assign(f"nc.weight[{slot}]", value) for slot, value in values.items()]
    body.append(assign("nc.delay", delay))
    procedure = _hoc_procedure("\n".join(
        ["for i = 0, $o1.size() - 1 {",
         "    nc = $o6.gid_connect($o1.x[i], $o2.o($o3.x[i]))",
         *(f"    {line}" for line in body),
         "    $o4.append(nc)",
         "}"]))
    objects = h.List()
    for target in targets:
        objects.append(target)
    context = simulator.state.parallel_context
    for start in range(0, gids.size, _CHUNK):  # Vectors of a chunk, not of every connection
        chunk = slice(start, start + _CHUNK)
        vectors = h.List()
        for column in columns:
            vectors.append(h.Vector(np.broadcast_to(column, gids.shape)[chunk]))
        procedure(h.Vector(gids[chunk]), objects, h.Vector(which[chunk]), netcons, vectors,
                  context)


_hoc_procedures = {}  # body -> the hoc procedure of that body


def _hoc_procedure(body):
    """A hoc procedure running ``body`` (locals ``i`` and ``nc``), defined once per process."""
    if body not in _hoc_procedures:
        name = f"trisim_connect_{len(_hoc_procedures)}"
        simulator.h(f"proc {name}() {{ local i  localobj nc\n{body}\n}}")
        _hoc_procedures[body] = getattr(simulator.h, name)
    return _hoc_procedures[body]


# NESTML's step semantics (as NEST runs them) apply an input arriving at time t in the step that
# ends at t. NEURON's fixed-step method delivers an event in the step during whose first half it
# arrives, i.e. in the step that starts at t; delivering events to NESTML cells 3/4 of a step
# early puts them in the step ending at t (common.GivenDelays keeps the delays a script sees as
# it gave them).
_NESTML_EVENT_ADVANCE = 0.75  # time steps


class _StreamConnection:
    """One connection of ``projection`` made as a NetCon stream, seen as pyNN.neuron's
    ``Connection``, with the delay its user gave: the NetCon's is that less ``advance`` (see
    common.GivenDelays).

    ``fields`` maps the PyNN names of the connection's values to their index in the NetCon's
    weight vector.
    """

    __slots__ = ("projection", "presynaptic_index", "postsynaptic_index", "nc", "fields",
                 "advance")

    def __init__(self, projection, presynaptic_index, postsynaptic_index, nc, fields, advance):
        for name, value in zip(self.__slots__, (projection, presynaptic_index,
                                                postsynaptic_index, nc, fields, advance)):
            object.__setattr__(self, name, value)

    def _get_delay(self):
        return self.nc.delay - _DELAY_MARGIN + self.advance

    def _set_delay(self, value):
        self.projection._set_delivered_delays([self.postsynaptic_index], [self.nc],
                                              [value - self.advance])

    delay = property(_get_delay, _set_delay)

    def __getattr__(self, name):
        fields = object.__getattribute__(self, "fields")
        if name in fields:
            return self.nc.weight[fields[name]]
        raise AttributeError(name)

    def __setattr__(self, name, value):
        if name in self.fields:
            self.nc.weight[self.fields[name]] = value
        else:
            object.__setattr__(self, name, value)

    def as_tuple(self, *names):
        return tuple(getattr(self, name) for name in names)


_STATIC_FIELDS = {"weight": 0}


class Projection(common.GivenDelays, common.ReceptorsInOrder, pyNN.neuron.Projection):
    __doc__ = pyNN.neuron.Projection.__doc__
    nestml_event_advance = _NESTML_EVENT_ADVANCE

    def __init__(self, *args, **kwargs):
        # connections made as NetCon streams: index arrays per call, and their NetCons
        self._stream_pre, self._stream_post = [], []
        self._stream_netcons = simulator.h.List()
        self._stream_delays = []  # per call, the delays given to its NetCons (None: changed)
        # NESTML synapses: one relay process per (target, delay), and the NetCons that bring
        # the targets' own spikes to them
        self._relays, self._relay_post_netcons, self._relays_per_target = {}, [], {}
        # numbers this projection's random streams (NESTML synapses) in creation order
        self._ordinal = getattr(simulator.state, "trisim_projections", 0)
        simulator.state.trisim_projections = self._ordinal + 1
        super().__init__(*args, **kwargs)

    @property
    def connections(self):
        by_target = {}  # advances
        for connection in super().connections:
            target = connection.postsynaptic_index
            if target not in by_target:
                by_target[target] = self._advance(target)
            advance = by_target[target]
            yield _GivenDelay(connection, advance) if advance else connection
        if self._stream_netcons:
            pre = np.concatenate(self._stream_pre)
            post = np.concatenate(self._stream_post)
            advances = np.broadcast_to(self._advances(post), post.shape).tolist()
            fields = self._stream_fields()
            for i, j, nc, advance in zip(pre.tolist(), post.tolist(), self._stream_netcons,
                                         advances):
                yield _StreamConnection(self, i, j, nc, fields, advance)

    def _receptors(self, cells):
        """The point processes of postsynaptic cells ``cells`` (indices) that receive this
        projection, or None if there is no stream path."""
        if "." in self.receptor_type:
            return None
        receptors = []
        for j in cells.tolist():
            cell = self.post.all_cells[j]._cell
            if hasattr(cell, "type"):  # multi-receptor mechanisms set weight[1] themselves
                return None
            receptors.append(getattr(cell, self.receptor_type, None))
            if receptors[-1] is None:
                return None
        return receptors

    def _is_nestml_synapse(self):
        return traits.of_synapse(self.synapse_type).nestml_synapse

    def _stream_fields(self):
        if self._is_nestml_synapse():
            return self.synapse_type.relay_fields
        return _STATIC_FIELDS

    def _connect_streams(self, sources, targets, parameters):
        """Create one static NetCon per (local) connection; None if there is no stream path.

        Static synapses go to any point-process receptor.
        """
        if type(self.synapse_type) is not pyNN.neuron.StaticSynapse:
            return None
        local = self.post._mask_local[targets]
        sources, targets = sources[local], targets[local]
        cells, which = np.unique(targets, return_inverse=True)
        receptors = self._receptors(cells)
        if receptors is None:
            return None

        def values(name):  # one per local connection, or one for all
            value = np.asarray(parameters[name], dtype=float)
            return value[local] if value.ndim else float(value)

        if common.uniform_celltype(self.post) is None:
            return None  # an Assembly of several cell types: one target at a time
        delay = values("delay") + _DELAY_MARGIN  # (as delivered)
        gids = np.asarray(self.pre.all_cells, dtype=np.int64)[sources]
        _connect_netcons(self._stream_netcons, gids, receptors, which, delay,
                         {0: values("weight")})
        self._stream_pre.append(sources.astype(np.int32))
        self._stream_delays.append(np.broadcast_to(delay, (sources.size,)))
        self._stream_post.append(targets.astype(np.int32))
        return sources.size

    def _receptor_variable(self, cell, target):
        """(reference, scale): where a NESTML synapse on ``cell`` (postsynaptic cell
        ``target``) adds what it transmits."""
        celltype = self._target_celltype(target)
        if traits.of_cell(celltype).nestml_step_semantics:
            port = getattr(cell, self.receptor_type)  # the port process of a NESTML cell
            return getattr(cell.process, f"_ref_{self.receptor_type}"), port.scale
        receptor = getattr(cell, self.receptor_type, None)
        kind = receptor.hname().split("[")[0] if receptor is not None else None
        if kind == "ExpSyn":  # g += weight
            return receptor._ref_g, 1.0
        if kind == "ExpISyn":  # i -= weight
            return receptor._ref_i, -1.0
        raise BackendError(f"{self.label}: NESTML synapses on NEURON drive exponential "
                           f"receptors and NESTML cells; receptor {self.receptor_type!r} of "
                           f"{celltype.__class__.__name__} is {kind}")

    def _relay(self, target, arrival):
        """The relay process of this projection's connections onto ``target`` with delivered
        delay ``arrival`` (D: when the receptor takes the spike)."""
        relay = self._relays.get((target, arrival))
        if relay is not None:
            return relay
        synapse, h = self.synapse_type, simulator.h
        cell = self.post.all_cells[target]._cell
        relay = getattr(h, synapse.relay_mechanism)(cell.source_section(0.5))
        delay = arrival + self._advance(target)  # d, as given
        relay.nml_delay = arrival + _DELAY_MARGIN
        reference, relay.nml_scale = self._receptor_variable(cell, target)
        h.setpointer(reference, "nml_target", relay)
        # a random stream of its own, named by (projection, target, relay of that target):
        # the same numbers whatever the number of MPI processes
        number = self._relays_per_target.get(target, 0)
        self._relays_per_target[target] = number + 1
        relay.nml_rng.set_ids(self._ordinal, int(target), number)
        relay.nml_rng.set_seq(0)
        if synapse.has_post_port:
            # the cell's spikes reach the synapse after the delay: an event at t_post + D + d,
            # just before presynaptic arrivals at the same model time
            nc = h.NetCon(cell.source, relay, sec=cell.source_section)
            nc.weight[synapse.relay_kind_index] = 1
            nc.delay = relay.nml_post_delay = arrival + delay - _DELAY_MARGIN
            self._relay_post_netcons.append(nc)
        # third-factor spikes: an event on every connection when they arrive, before the
        # postsynaptic and presynaptic events of the same model time (as NEST takes them)
        for kind, gids, modulator_delay in synapse.modulator_sources():
            for gid in gids:
                nc = simulator.state.parallel_context.gid_connect(gid, relay)
                nc.weight[synapse.relay_kind_index] = kind
                nc.delay = arrival + modulator_delay - 2 * _DELAY_MARGIN
                self._relay_post_netcons.append(nc)
        self._relays[(target, arrival)] = relay
        return relay

    def _connect_relays(self, sources, targets, parameters):
        """Connect a NESTML synapse: one NetCon per local connection into its target's relay.

        The relays are made first, in the order of their first connection, then the NetCons
        (:func:`_connect_netcons`), with values that are the same for every connection given
        as one number (no list of a million equal floats).
        """
        local = self.post._mask_local[targets]
        sources, targets = sources[local], targets[local]
        n = sources.size

        def column(name):  # one value per local connection, or one for all
            value = np.asarray(parameters[name], dtype=float)
            return value[local] if value.ndim else float(value)

        delay = column("delay")  # (as delivered)
        pairs, first, which = np.unique(
            np.column_stack([targets, np.broadcast_to(delay, (n,))]), axis=0,
            return_index=True, return_inverse=True)
        relays = np.empty(len(pairs), dtype=object)
        for k in np.argsort(first, kind="stable").tolist():
            relays[k] = self._relay(int(pairs[k, 0]), float(pairs[k, 1]))
        values = {index: column(name) for name, index in self.synapse_type.relay_fields.items()
                  if name in parameters}
        gids = np.asarray(self.pre.all_cells, dtype=np.int64)[sources]
        _connect_netcons(self._stream_netcons, gids, relays.tolist(), which.reshape(-1),
                         delay + _DELAY_MARGIN, values)
        self._stream_pre.append(sources.astype(np.int32))
        self._stream_delays.append(np.broadcast_to(delay + _DELAY_MARGIN, (n,)))
        self._stream_post.append(targets.astype(np.int32))

    def _connect_index_arrays(self, sources, targets, **parameters):
        """Make every local connection as a NetCon stream, or decline (``NotImplemented``)."""
        for name in ("dendritic_delay_fraction", "x", "y"):
            parameters.pop(name, None)
        self._as_delivered(parameters, self._advances(targets))
        if self._is_nestml_synapse():
            return self._connect_relays(sources, targets, parameters)
        if self._connect_streams(sources, targets, parameters) is None:
            return NotImplemented

    def _set_attributes(self, parameter_space):
        """As pyNN.neuron's, for connections made as NetCon streams too; delays become
        delivered first (common.GivenDelays)."""
        self._as_delivered_space(parameter_space)
        if self._stream_netcons:
            # columns of the local targets only, as pyNN.neuron evaluates them
            values = deepcopy(parameter_space)
            values.evaluate(mask=(slice(None), self.post._mask_local))
            column = np.cumsum(self.post._mask_local) - 1
            pre = np.concatenate(self._stream_pre)
            targets = np.concatenate(self._stream_post)
            n_local = int(self.post._mask_local.sum())
            fields = self._stream_fields()
            for name, value in values.items():
                picked = np.broadcast_to(value, (self.pre.size, n_local))[pre, column[targets]]
                if name == "delay":
                    self._set_delivered_delays(targets.tolist(), self._stream_netcons,
                                               picked.tolist())
                    continue
                for nc, item in zip(self._stream_netcons, picked.tolist()):
                    nc.weight[fields[name]] = item
        super()._set_attributes(parameter_space)

    def _set_delivered_delays(self, targets, netcons, delays):
        """Give stream NetCons ``netcons`` (onto postsynaptic cells ``targets``) the delivered
        ``delays``; a NESTML synapse's NetCon moves to the relay of its new delay, whose own
        copy of the delay (and its postsynaptic spikes' delay) is that one."""
        relays = self._is_nestml_synapse()
        for target, nc, delay in zip(targets, netcons, delays):
            nc.delay = delay + _DELAY_MARGIN
            relay = self._relay(target, delay) if relays else None
            # (a NetCon moved onto the target it has made NEURON crash at exit)
            if relay is not None and nc.syn() != relay:
                nc.setpost(relay)
        self._stream_delays = None  # read back from the NetCons when needed

    def outgoing_delays(self):
        """(gids, delays) in pieces: the source gid and the delay of every NetCon this
        projection made from a cell (its connections, and its relays' postsynaptic and
        third-factor NetCons), one piece per connect call (no copy of every connection)."""
        if self._stream_netcons:
            ids = np.asarray(self.pre.all_cells, dtype=np.int64)
            if self._stream_delays is not None:
                yield from ((ids[pre], delays)
                            for pre, delays in zip(self._stream_pre, self._stream_delays))
            else:
                yield (ids[np.concatenate(self._stream_pre)],
                       np.array([nc.delay for nc in self._stream_netcons]))
        others = [*self._relay_post_netcons,
                  *(c.nc for group in self._connections.values()
                    for sources in group.values() for c in sources)]
        yield (np.array([nc.srcgid() for nc in others], dtype=np.int64),
               np.array([nc.delay for nc in others], dtype=float))

    def free_netcons(self):
        """Free this projection's NetCons in the order they were made.

        NEURON finds a freed NetCon in its source's list (and its target's) by a scan from
        the front: freed in creation order, each is found first; freed last first, as Python
        frees a list, each after a scan of all of its source's others (seed 002's 1.28 million
        NetCons: 1.7 s CPU, about as long as making them; in creation order a seventh). A hoc
        List frees its items in order.
        """
        self._stream_netcons.remove_all()
        for k in range(len(self._relay_post_netcons)):
            self._relay_post_netcons[k] = None
        self._relay_post_netcons.clear()

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, **parameters):
        self._as_delivered(parameters, self._advance(postsynaptic_index))
        if self._is_nestml_synapse():
            sources = np.atleast_1d(np.asarray(presynaptic_indices, dtype=np.int64))
            targets = np.full(sources.size, int(postsynaptic_index), dtype=np.int64)
            return self._connect_relays(sources, targets, parameters)
        super()._convergent_connect(presynaptic_indices, postsynaptic_index, **parameters)


class _GivenDelay:
    """pyNN.neuron's ``Connection`` onto a cell that takes events ``advance`` ms early, with
    the delay its user gave (its NetCon's is that less the advance: see common.GivenDelays)."""

    __slots__ = ("connection", "advance")

    def __init__(self, connection, advance):
        object.__setattr__(self, "connection", connection)
        object.__setattr__(self, "advance", advance)

    def _get_delay(self):
        return self.connection.delay + self.advance

    def _set_delay(self, value):
        self.connection.delay = value - self.advance

    delay = property(_get_delay, _set_delay)

    def __getattr__(self, name):
        return getattr(self.connection, name)

    def __setattr__(self, name, value):
        if name == "delay":
            object.__setattr__(self, name, value)
        else:
            setattr(self.connection, name, value)

    def as_tuple(self, *names):
        return tuple(getattr(self, name) for name in names)


class NestmlInjection(common.CheckedInjection):
    """Current-source mixin: PyNN's current sources drive NESTML cells through their model.

    pyNN.neuron puts an ``h.IClamp`` into the cell's section, which for a NESTML cell is a
    placeholder the model never reads. For NESTML cells this takes the cell's own electrode
    instead (``Cell.current_clamp``: a generated point process with IClamp's ``delay``,
    ``dur``, ``amp`` and ``i``, which adds its current to the model's current port before each
    step) and keeps pyNN.neuron's bookkeeping, so that pyNN.neuron sets it up for each run
    (DC pulses, or amplitudes played from a Vector) and records it like an IClamp.
    Other cells get pyNN.neuron's IClamp.
    """

    def inject_into(self, cells, location=None):
        common.nestml_current_ports(cells)
        nestml = [c for c in cells if traits.of_cell(c.celltype).nestml_source]
        if nestml and location is not None:
            raise BackendError("a NESTML cell is a point: inject a current into it without "
                               "a location")
        if len(nestml) < len(cells):
            others = [c for c in cells if not traits.of_cell(c.celltype).nestml_source]
            super().inject_into(others, location)
        for cell in nestml:
            if cell.local and cell not in self._h_iclamps:
                self.cell_list.append(cell)
                self._h_iclamps[cell].append(cell._cell.current_clamp())
                self._devices.extend(self._h_iclamps[cell])


class Recorder(pynn_recording.Recorder):
    """pyNN.neuron's recorder, handing the spikes of several cells over as one array of cell
    IDs and one of times, as PyNN's NEST and Brian2 recorders do.

    From pyNN.neuron's dict of trains PyNN makes each cell's SpikeTrain itself, setting the
    segment of every train made so far after each one (quadratic: 1.5 s CPU for seed 002's
    4000 cells); from arrays it makes one lazy list, which :func:`trisim.output.collect_block`
    splits by cell once. The spikes are the same.
    """

    def _get_spiketimes(self, ids, clear=False):
        spikes = super()._get_spiketimes(ids, clear)
        if not isinstance(spikes, dict):
            return spikes  # one cell
        trains = [np.asarray(spikes[cell], dtype=float) for cell in ids]
        cells = np.repeat(np.asarray(ids, dtype=np.int64), [train.size for train in trains])
        return cells, (np.concatenate(trains) if trains else np.empty(0))


class Population(common.FreedWithTheNetwork, pyNN.neuron.Population):
    __doc__ = pyNN.neuron.Population.__doc__
    _recorder_class = Recorder


# PyNN's spike sources (VecStim) each wake up every ``ping`` ms (1) to look for spike times
# set while the simulation runs: 2850 sources of the CA3 circuit made 2.85 million events per
# simulated second, 29% of the CPU time of a piece of its offline phase. Before the first run (the
# sources' INITIAL reads their spike times) trisim turns the pings off; a source whose spike
# times are set later (or made later) gets PyNN's ping back, started at once for one set later
# (PyNN's looks at its next whole ms).
def _source_cells():
    """The local VecStims of every SpikeSourceArray population built since ``setup``."""
    for population in list(common.FreedWithTheNetwork.built):
        if not isinstance(population.celltype, pyNN.neuron.SpikeSourceArray):
            continue
        for cell in population.all_cells[population._mask_local].tolist():
            yield cell._cell


def _pings_off():
    for source in _source_cells():
        source.ping = 0
        source.trisim_played = source._spike_times


def _ping_changed_sources():
    """Give PyNN's ping back to the sources whose spike times were set since they were played,
    with a ping event now (its handler plays the new times and sends the next ping)."""
    for source in _source_cells():
        if source._spike_times is not getattr(source, "trisim_played", None):
            source.trisim_played = source._spike_times
            if source.ping == 0:
                source.ping = _PYNN_PING
                source.trisim_ping = simulator.h.NetCon(None, source)
                source.trisim_ping.event(simulator.state.t, _PING_FLAG)


_PYNN_PING = 1.0  # ms, VecStim's default
_PING_FLAG = 2  # the flag of VecStim's ping events


class NeuronBackend(common.Backend):
    name = "neuron"
    Population = Population
    Projection = Projection
    mpi_hint = "NEURON needs an MPI library at run time (make setup-mpi)"
    current_source_mixin = NestmlInjection

    def setup(self, timestep=common.DEFAULT_TIMESTEP, min_delay=common.DEFAULT_MIN_DELAY,
              **extra_params):
        rng_seed = extra_params.get("rng_seed")
        _free_projections()  # the previous network's
        rank = super().setup(timestep, min_delay, **extra_params)
        simulator.state.trisim_projections = 0
        if rng_seed is not None:
            # the seed of every Random123 stream (NESTML synapses' random numbers)
            simulator.h.Random().Random123_globalindex(rng_seed)
        return rank

    def setup_options(self, rng_seed, threads):
        # pyNN.neuron's spike sources draw from streams numbered from this base
        return {} if rng_seed is None else {"native_rng_baseseed": rng_seed}

    def advance_to(self, time_point):
        if simulator.state.running:
            _ping_changed_sources()
        # NEURON's psolve takes int((tstop - t) / dt) steps from its t, a sum of steps that
        # drifts off the grid: from t = 1999.990000020445 (dt 0.01, a run in pieces) it takes
        # none towards 2000 and the run stops a step short. A quarter step more rounds the count.
        reached = self.pynn.run_until(time_point + simulator.state.dt / 4)
        simulator.state.tstop = time_point  # PyNN's recorders count samples up to tstop
        return reached

    def prepare_run(self):
        if not simulator.state.running:  # once, before PyNN's first finitialize
            _deliver_by_source([p for p in pynn_projections._projections
                                if isinstance(p, Projection)])
            _pings_off()

    def release(self):
        _free_projections()
        super().release()


def _free_projections():
    """Free the NetCons of every projection made since ``setup`` and let the projections go:
    pyNN.neuron keeps each Projection alive in a list of its module, which its ``setup`` does
    not empty (a network built after a second ``setup`` would find the first's there)."""
    for projection in pynn_projections._projections:
        if isinstance(projection, Projection):
            projection.free_netcons()
    pynn_projections._projections.clear()


def _deliver_by_source(projections):
    """Give each cell's spike-recording NetCon the delay of all its connections, where they
    share one.

    NEURON delivers a spike to the NetCons of its source as one event when all of them (more
    than two) have the same delay, and otherwise queues one event per NetCon. Every PyNN cell
    carries a NetCon for recording its spikes, with NEURON's default delay of 1 ms, which
    alone breaks that rule in most networks (seed 002 at full size: delivery per NetCon took
    about 19% of a profile's samples, one event per source 12%). The recording NetCon has no
    target, so its delay changes nothing else; NEURON checks the rule itself at
    initialisation, so a NetCon with another delay only costs the saving.
    """
    # the lowest and highest delay per source, indexed by gid (PyNN numbers cells from 0 up),
    # piece by piece: no sort (it was 0.7 s CPU of seed 002's run) and no copy of a million
    # connections (it was the run's peak memory)
    lowest = np.full(simulator.state.gid_counter, np.inf)
    highest = np.full(simulator.state.gid_counter, -np.inf)
    for projection in projections:
        for gids, delays in projection.outgoing_delays():
            from_cells = gids >= 0  # NEURON gives -1 for a NetCon whose source has no gid
            np.minimum.at(lowest, gids[from_cells], delays[from_cells])
            np.maximum.at(highest, gids[from_cells], delays[from_cells])
    sources = np.flatnonzero(lowest == highest)
    populations = {id(population): population for projection in projections
                   for side in (projection.pre, projection.post)
                   for population in common.populations_of(side)}
    local = {int(cell): cell for population in populations.values()
             for cell in population.all_cells[population._mask_local].tolist()}
    for gid, delay in zip(sources.tolist(), lowest[sources].tolist()):
        recorder = local[gid]._cell.rec if gid in local else None  # None: PyNN's VecStim
        if recorder is not None:
            recorder.delay = delay
