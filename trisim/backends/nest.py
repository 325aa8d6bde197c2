"""NEST through pyNN.nest."""

from copy import deepcopy

import nest
import numpy as np
import pyNN.nest
from pyNN import errors
from pyNN.nest import simulator
from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import build_translations

from ..errors import BackendError
from . import common, traits

class Projection(common.ReceptorsInOrder, pyNN.nest.Projection):
    __doc__ = pyNN.nest.Projection.__doc__

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, *args, **kwargs):
        if traits.of_synapse(synapse_type).has_post_port:
            # NEST runs such a synapse as the model compiled with the postsynaptic neuron
            celltype = common.uniform_celltype(postsynaptic_population)
            paired = traits.of_cell(celltype).paired_synapses
            if synapse_type.native_name not in paired:
                raise BackendError(
                    f"on NEST, the NESTML synapse {type(synapse_type).__name__} (it has a "
                    "postsynaptic port) connects only onto a NESTML cell built with it: "
                    "sim.nestml_cell_type(cell_file, synapses=[synapse_file])")
            synapse_type.nest_name = paired[synapse_type.native_name]
        super().__init__(presynaptic_population, postsynaptic_population, connector,
                         synapse_type, *args, **kwargs)

    def _connect_index_arrays(self, sources, targets, **parameters):
        """Make all connections with one ``nest.Connect`` on arrays of node IDs.

        pyNN.nest connects one target cell at a time, and per cell builds a NodeCollection,
        calls ``nest.Connect`` and reads the sources back with ``NodeCollection.tolist``
        (about 1 ms per cell, 8000 cells at seed 002's size). Here NEST's "connect_arrays"
        path takes (source, target) node IDs with per-connection weights and delays, in one
        call, on every MPI rank; NEST creates the connections of its local targets.

        PyNN's bookkeeping is kept: weights arrive in NEST units (the translations scale
        them), inhibitory conductance weights are negated as pyNN.nest does, the synapse label
        and ``_sources`` let ``Projection.get`` find the connections, and parameters that are
        homogeneous are already the synapse model's defaults (``_get_nest_synapse_model``),
        so only heterogeneous ones travel per connection.
        """
        synapse = self.synapse_type
        if (synapse.weight_variable or "weight", synapse.delay_variable or "delay") != (
                "weight", "delay"):
            return NotImplemented  # pyNN.nest's NESTML synapses with their own variables
        celltype = common.uniform_celltype(self.post)
        if celltype is None:
            return NotImplemented  # an Assembly of several cell types: one target at a time
        # NESTML cells route "excitatory"/"inhibitory" by weight sign (see _convergent_connect)
        receptor = traits.of_cell(celltype).sign_routed_ports.get(
            self.receptor_type, self.receptor_type)
        for name in ("tau_minus", "dendritic_delay_fraction", "w_min_always_zero_in_NEST"):
            parameters.pop(name, None)
        n = sources.size
        weights = np.broadcast_to(np.asarray(parameters.pop("weight"), dtype=float), (n,))
        delays = np.broadcast_to(np.asarray(parameters.pop("delay"), dtype=float), (n,))
        receptor_scale = getattr(celltype, "receptor_scale", 1.0) * self._port_scale(celltype)
        signed = set()  # parameters negated with the weights: they differ from the defaults
        if self._is_nestml_synapse():
            # the model keeps its weights in PyNN's units and positive; what it transmits is
            # scaled to NEST's units and sign, per connection
            parameters[synapse.weight_scale_parameter] = (
                1000.0 * self._weight_sign(celltype) * receptor_scale)
        else:
            if self._weight_sign(celltype) < 0:
                weights = -weights
                if "Wmax" in parameters:  # NEST's bounded synapses: the bound takes the sign
                    parameters["Wmax"] = -np.asarray(parameters["Wmax"])
                    signed.add("Wmax")
            weights = weights * receptor_scale
        syn_spec = {"synapse_model": self.nest_synapse_model,
                    "synapse_label": np.full(n, self.nest_synapse_label, dtype=float),
                    "weight": np.ascontiguousarray(weights),
                    "delay": np.ascontiguousarray(delays)}
        if not celltype.standard_receptor_type:
            port = celltype.get_receptor_type(receptor)
            syn_spec["receptor_type"] = np.full(n, port, dtype=float)
        native = synapse.native_parameters
        for name, value in parameters.items():
            if name in native.keys() and native[name].is_homogeneous and name not in signed:
                continue  # already the model's default
            if np.ndim(value) == 0 and self._is_nestml_synapse():
                syn_spec[name] = float(value)  # NESTML synapses take scalars for all
                continue
            syn_spec[name] = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()
        pre_ids = np.asarray(self.pre.all_cells, dtype=np.int64)[sources]
        post_ids = np.asarray(self.post.all_cells, dtype=np.int64)[targets]
        try:
            nest.Connect(pre_ids, post_ids, "one_to_one", syn_spec)
        except nest.NESTError as exc:
            raise errors.ConnectionError(f"{self.label}: {exc}") from exc
        self._sources.update(np.unique(pre_ids).tolist())
        self._connections = None
        self._simulator.state.stale_connection_cache = True

    def _is_nestml_synapse(self):
        return traits.of_synapse(self.synapse_type).nestml_synapse

    def _pynn_weight_factor(self):
        """What pyNN.nest multiplies a weight read from NEST by (and divides one set by)."""
        inhibitory = self.receptor_type == "inhibitory" and self.post.conductance_based
        return -0.001 if inhibitory else 0.001

    def _get_attributes_as_list(self, names):
        values = super()._get_attributes_as_list(names)
        if not (self._is_nestml_synapse() and "weight" in names):
            return values
        # a NESTML synapse's weight is stored in PyNN's unit and sign already
        column, factor = names.index("weight"), self._pynn_weight_factor()
        return [row[:column] + (row[column] / factor,) + row[column + 1:] for row in values]

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        values = super()._get_attributes_as_arrays(names, multiple_synapses)
        if self._is_nestml_synapse():
            for index, name in enumerate(names):
                if name in ("weight", "weights"):
                    values[index] = values[index] / self._pynn_weight_factor()
        return values

    def _set_attributes(self, parameter_space):
        if self._is_nestml_synapse() and "weight" in parameter_space.keys() \
                and self._pynn_weight_factor() < 0:
            # pyNN.nest negates inhibitory conductances on their way in; NESTML synapses keep
            # them positive (their transmitted value carries the sign)
            parameter_space.update(weight=-1 * parameter_space["weight"])
        super()._set_attributes(parameter_space)

    def _weight_sign(self, celltype):
        """-1 where NEST wants this projection's weights negative on cells of ``celltype``,
        else +1.

        NEST takes inhibitory conductances as negative weights (pyNN.nest negates them). A
        NESTML model whose spike ports are qualified excitatory/inhibitory has one NEST port
        that routes by sign, whatever the weight's unit: there users name the port and give
        positive weights, as on the other backends, and inhibitory ones are negated here.
        """
        route = traits.of_cell(celltype).sign_routed_ports.get(self.receptor_type)
        if route is not None:
            return -1.0 if route == "inhibitory" else 1.0
        return -1.0 if self.receptor_type == "inhibitory" and celltype.conductance_based else 1.0

    def _port_scale(self, celltype):
        """What a NESTML cell's port scales this projection's weights by, besides
        pyNN.nest's factor 1000 (1 for other cells, and for a port that is not the cell's:
        PyNN's default names)."""
        scales = traits.of_cell(celltype).port_weight_scales
        if self.receptor_type in scales:
            return scales[self.receptor_type]
        one = set(scales.values())
        return one.pop() if len(one) == 1 else 1.0

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, **parameters):
        if self._is_nestml_synapse():  # one realisation, whichever connector is used
            parameters.pop("location_selector", None)
            sources = np.atleast_1d(np.asarray(presynaptic_indices, dtype=np.int64))
            targets = np.full(sources.size, int(postsynaptic_index), dtype=np.int64)
            return self._connect_index_arrays(sources, targets, **parameters)
        celltype = self.post[postsynaptic_index].celltype  # an Assembly's differ by cell
        route = traits.of_cell(celltype).sign_routed_ports.get(self.receptor_type)
        parameters["weight"] = self._port_scale(celltype) * parameters["weight"]
        if route is None:
            return super()._convergent_connect(presynaptic_indices, postsynaptic_index,
                                               **parameters)
        # connect under a name pyNN.nest leaves unsigned, with the sign applied here
        parameters["weight"] = self._weight_sign(celltype) * parameters["weight"]
        port, self.receptor_type = self.receptor_type, "excitatory"
        try:
            return super()._convergent_connect(presynaptic_indices, postsynaptic_index,
                                               **parameters)
        finally:
            self.receptor_type = port


class SpikeSourceArray(pyNN.nest.SpikeSourceArray):
    """PyNN's spike source as NEST's ``spike_train_injector``: one node per train, whose
    spike at time t reaches its targets at t + delay.

    pyNN.nest relays each train from a ``spike_generator`` device through a parrot neuron:
    with one train per target (seed 001's afferents) that made NEST's runs 1.6 times as long.
    With ``spike_precision="off_grid"`` (PyNN's default) the injector keeps each spike's exact
    time, as pyNN.nest's ``parrot_neuron_ps`` does: recorded as given, delivered to grid-based
    cells at the end of its step; with "on_grid" off-grid times move to the end of their step.
    """

    translations = build_translations(("spike_times", "spike_times"))
    nest_name = {"on_grid": "spike_train_injector", "off_grid": "spike_train_injector"}
    uses_parrot = False
    always_local = False  # a node on one process, not a device on each


def _grid_snapped(times, dt):
    """``times`` (ms) with those a float rounding error away from a step boundary (such as
    2.0000000000000004 or 3 * 0.1) exactly on it: NEST's precise spike times would put such
    a spike one step late."""
    steps = np.round(times / dt)
    per_ms = round(1.0 / dt)
    boundary = steps / per_ms if np.isclose(per_ms * dt, 1.0, rtol=0, atol=1e-12) else steps * dt
    return np.where(np.abs(times / dt - steps) < 1e-6, boundary, times)


class Population(common.FreedWithTheNetwork, common.GlobalInitialValues,
                 pyNN.nest.Population):
    __doc__ = pyNN.nest.Population.__doc__

    def _create_cells(self):
        if not isinstance(self.celltype, SpikeSourceArray):
            return super()._create_cells()
        # pyNN.nest hands NEST every spike time as a Python float (about 32 bytes each, beside
        # NEST's own copy): seed 001's afferents over 30 s (2e8 spikes) peaked at 12-15 GB. The
        # nodes are created empty and each takes its train as one numpy array.
        space = self.celltype.parameter_space
        trains = space["spike_times"]
        space.update(spike_times=Sequence([]))
        try:
            super()._create_cells()
        finally:
            space.update(spike_times=trains)
        precise = simulator.state.spike_precision == "off_grid"
        self._local_nodes().set(precise_times=precise, allow_offgrid_times=not precise)
        self._set_spike_trains(trains)

    def _local_nodes(self):
        local = np.resize(self._mask_local, self.size)  # [True]: every node is local
        return (self.node_collection if local.all() else
                self.node_collection[np.flatnonzero(local).tolist()])

    def _set_spike_trains(self, trains):
        """Give each local node its train (of ``trains``, the spike_times parameter) as one
        numpy array, on NEST's clock (which runs on from the previous run after reset())."""
        parameter_space = ParameterSpace({"spike_times": trains}, shape=(self.size,))
        parameter_space.evaluate(simplify=False)  # a train per cell, as pyNN.nest reads them
        local = np.resize(self._mask_local, self.size)
        dt, offset = simulator.state.dt, simulator.state._time_offset
        trains = [_grid_snapped(np.asarray(cell["spike_times"].value, dtype=float), dt) + offset
                  for cell, is_local in zip(parameter_space, local) if is_local]
        try:
            self._local_nodes().set([{"spike_times": train} for train in trains])
        except nest.NESTError as error:
            if "sorted" in str(error):  # the message pyNN.nest gives
                raise errors.InvalidParameterValueError(
                    "Spike times given to SpikeSourceArray must be in increasing order") from None
            raise

    def _set_parameters(self, parameter_space):
        if isinstance(self.celltype, SpikeSourceArray):
            return self._set_spike_trains(parameter_space["spike_times"])
        super()._set_parameters(parameter_space)

    def _get_parameters(self, *names):
        values = super()._get_parameters(*names)
        offset = simulator.state._time_offset
        if isinstance(self.celltype, SpikeSourceArray) and offset and "spike_times" in names:
            values["spike_times"] = values["spike_times"] - offset  # as given, after reset()
        return values

    def _set_initial_value_array(self, variable, value):
        # NESTML cell types take initial values in PyNN units; NEST wants the model's units,
        # and a boolean or integer variable's values as Python bool or int
        celltype = traits.of_cell(self.celltype)
        scale = celltype.initial_value_scale.get(variable, 1.0)
        value = value * scale if scale != 1.0 else value
        kind = celltype.value_types.get(variable)
        if kind is not None:
            value = deepcopy(value)
            value.apply(lambda x: kind(x) if np.ndim(x) == 0 else [kind(v) for v in x])
        super()._set_initial_value_array(variable, value)


class NestBackend(common.Backend):
    name = "nest"
    Projection = Projection
    Population = Population
    SpikeSourceArray = SpikeSourceArray

    mpi_hint = "NEST's PyPI wheel has no MPI: run 'make setup-mpi' (README, MPI runs)"

    def reset(self, annotations=None):
        super().reset(annotations)
        # pyNN.nest re-sends the spike times of its own sources shifted to NEST's clock
        for population in simulator.state.populations:
            if isinstance(population.celltype, SpikeSourceArray):
                population._set_spike_trains(population.celltype.parameter_space["spike_times"])

    def setup_options(self, rng_seed, threads):
        # The same seed and number of virtual processes (MPI ranks x threads) give the same
        # simulation whatever the split (NEST's guarantee; tests/test_mpi.py checks it).
        options = {"threads": threads, "verbosity": "error"}
        if rng_seed is not None:
            options["rng_seed"] = rng_seed
        return options
