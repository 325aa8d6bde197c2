"""Small scenarios run in a fresh process per backend (NEST and NEURON keep global state).

``python tests/scenarios.py NAME BACKEND`` prints the scenario's result as JSON.
"""

import functools
import json
import sys

import numpy as np

from trisim import backends, nestml
from synapse_scenarios import STP, STP_SPIKES  # the pattern of the synapse tests


def stp_efficacies(backend_name):
    """Conductance jump per presynaptic spike through one NESTML Tsodyks-Markram synapse, per
    receptor.

    A jump is the conductance one step after arrival minus the decayed value before it, in units
    of the weight; each receptor's time constant gives the decay.
    """
    sim = backends.load(backend_name)
    dt, weight, delay = 0.1, 0.001, 0.1
    sim.setup(timestep=dt, min_delay=dt, rng_seed=1)
    synapse = sim.nestml_synapse_type(nestml.path("tsodyks_markram_synapse"))
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=STP_SPIKES))
    tau = {"excitatory": 5.0, "inhibitory": 10.0}
    target = sim.Population(2, sim.IF_cond_exp(v_thresh=1000.0, tau_syn_E=tau["excitatory"],
                                               tau_syn_I=tau["inhibitory"]))
    for index, receptor in enumerate(tau):
        sim.Projection(source, target, sim.IndexConnector([0], [index]),
                       synapse(weight=weight, delay=delay, **STP), receptor_type=receptor)
    target.record(["gsyn_exc", "gsyn_inh"])
    sim.run(STP_SPIKES[-1] + 5.0)
    signals = {s.name: s for s in target.get_data().segments[0].analogsignals}
    result = {}
    for index, (receptor, name) in enumerate(zip(tau, ("gsyn_exc", "gsyn_inh"))):
        g = np.asarray(signals[name].magnitude)[:, index]
        times = signals[name].times.magnitude
        jumps = []
        for spike in STP_SPIKES:
            window = np.flatnonzero((times >= spike) & (times <= spike + delay + 3 * dt))
            k = window[np.argmax(g[window] - g[window - 1])]
            jumps.append(float((g[k] - g[k - 1] * np.exp(-dt / tau[receptor])) / weight))
        result[receptor] = jumps
    sim.end()
    return result


def array_connect(backend_name, per_target=True):
    """The same connections made by the backend's array hook and by PyNN's per-target path.

    Returns, per projection (receptor x synapse type x cell type), both sorted lists of
    (pre, post, weight, delay, ...) so the caller can compare them; repeated pairs (multapses)
    included. Without ``per_target``, only the array hook's connections, and no
    ``Projection.set``: under MPI, pyNN.nest's per-target path and ``set`` hand NEST lists of
    values per connection, which NEST refuses in MPI runs.
    """
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    stp = sim.nestml_synapse_type(nestml.path("tsodyks_markram_synapse"))
    rng = np.random.default_rng(7)
    n_pre, n_post, n = 6, 5, 40
    sources = rng.integers(0, n_pre, n)
    targets = np.sort(rng.integers(0, n_post, n))
    pre = sim.Population(n_pre, sim.IF_cond_exp())
    synapses = {
        "stp": (lambda: stp(weight=0.002, delay=0.3, **STP),
                ["weight", "delay", "U", "tau_rec", "tau_facil"]),
        "static": (lambda: sim.StaticSynapse(weight=0.003, delay=0.2), ["weight", "delay"]),
    }
    cases = [("cond", "excitatory"), ("cond", "inhibitory"), ("curr", "excitatory")]
    result = {}
    for cell, receptor in cases:
        for synapse_name, (synapse, names) in synapses.items():
            post = {"cond": sim.IF_cond_exp, "curr": sim.IF_curr_exp}[cell]()
            fast = sim.Projection(pre, sim.Population(n_post, post),
                                  sim.IndexConnector(sources, targets), synapse(),
                                  receptor_type=receptor)
            projections = {"fast": fast}
            if per_target:
                projections["slow"] = sim.Projection(
                    pre, sim.Population(n_post, post),
                    sim.FromListConnector(list(zip(sources, targets))), synapse(),
                    receptor_type=receptor)
            key = f"{cell}-{receptor}-{synapse_name}"
            result[key] = {name: sorted([float(x) for x in row]
                                        for row in projection.get(names, format="list"))
                           for name, projection in projections.items()}
            result[key]["weights"] = np.nan_to_num(
                fast.get("weight", format="array", multiple_synapses="sum")).tolist()
            if per_target:
                fast.set(weight=0.004, delay=0.5)
                result[key]["after_set"] = sorted(set(fast.get(["weight", "delay"],
                                                               format="list",
                                                               with_address=False)))
    result["expected"] = sorted(map(list, zip(sources.tolist(), targets.tolist())))
    sim.end()
    return result


def spike_arrival(backend_name):
    """Time from each input spike to its conductance onset, in ms (one source and cell per
    spike), for spikes at the ends of steps as trisim.inputs draws them: (k + 1) * dt, floats
    some of which lie a rounding error past a step boundary."""
    sim = backends.load(backend_name)
    dt, delay = 0.1, 0.1
    sim.setup(timestep=dt, min_delay=dt, rng_seed=1)
    times = (np.arange(1, 200) + 1) * dt
    source = sim.Population(times.size, sim.SpikeSourceArray(
        spike_times=[[t] for t in times]))
    target = sim.Population(times.size, sim.IF_cond_exp(v_thresh=1000.0))
    index = np.arange(times.size)
    sim.Projection(source, target, sim.IndexConnector(index, index),
                   sim.StaticSynapse(weight=0.001, delay=delay), receptor_type="excitatory")
    target.record("gsyn_exc")
    sim.run(times[-1] + 1.0)
    g = target.get_data().segments[0].filter(name="gsyn_exc")[0]
    onsets = g.times.magnitude[np.argmax(np.asarray(g.magnitude) > 0, axis=0)]
    sim.end()
    return np.round(onsets - times, 6).tolist()


def current_source(backend_name):
    """Spike counts of a silent cell before and while a DC source drives it (trisim's Brian2
    backend switches off pyNN.brian2's per-step current update only when there is no source)."""
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    cell = sim.Population(1, sim.IF_cond_exp(i_offset=0.0))
    cell.record("spikes")
    sim.DCSource(amplitude=2.0, start=100.0, stop=200.0).inject_into(cell)
    sim.run(300.0)
    times = np.asarray(cell.get_data().segments[0].spiketrains[0].magnitude)
    sim.end()
    return {"before": int(np.sum(times < 100.0)),
            "during": int(np.sum((times >= 100.0) & (times <= 205.0))),
            "after": int(np.sum(times > 205.0))}


def spike_source_trains(backend_name):
    """What spike sources given one train per source (one of them empty), and one train for
    all, emit: the recorded spike times per source (what they were given, on NEURON), and
    the times the spikes of one source arrive at a cell 1 ms away. The train for all is
    given new times after a first run (NEURON's sources must wake up to read them: see its
    backend)."""
    from pyNN.parameters import Sequence
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    trains = [np.array([1.0, 2.5, 7.3]), np.empty(0), (np.arange(5) + 1) * 0.1 * 3]
    each = sim.Population(len(trains), sim.SpikeSourceArray(
        spike_times=[Sequence(train) for train in trains]))
    shared = sim.Population(2, sim.SpikeSourceArray(spike_times=Sequence([4.0, 9.0])))
    target = sim.Population(1, sim.IF_cond_exp(v_thresh=1000.0))
    sim.Projection(shared, target, sim.IndexConnector([0], [0]),
                   sim.StaticSynapse(weight=0.001, delay=1.0), receptor_type="excitatory")
    target.record("gsyn_exc")
    for population in (each, shared):
        population.record("spikes")
    sim.run(12.0)
    shared.set(spike_times=Sequence([14.0, 15.5]))
    sim.run(8.0)
    emitted = [np.round(train.magnitude, 6).tolist() for population in (each, shared)
               for train in population.get_data().segments[0].spiketrains]
    g = target.get_data().segments[0].filter(name="gsyn_exc")[0]
    rises = np.flatnonzero(np.diff(np.asarray(g.magnitude)[:, 0]) > 0) + 1
    arrivals = [float(t) for k, t in zip(rises, g.times.magnitude[rises])
                if k - 1 not in rises]  # the first sample of each rise
    sim.end()
    return {"emitted": emitted, "arrivals": arrivals}


def unordered_spike_times(backend_name):
    """Which spike sources are refused: trains given out of order within one train (times
    falling from one cell's train to the next are in order), by the name of the error."""
    from pyNN.parameters import Sequence
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    refused = {}
    for case, trains in {"across trains": [[5.0, 6.0], [1.0, 2.0], [], [0.5]],
                         "within a train": [[1.0, 3.0], [2.0, 1.5]]}.items():
        try:
            sim.Population(len(trains), sim.SpikeSourceArray(
                spike_times=[Sequence(train) for train in trains]))
            refused[case] = None
        except Exception as error:  # noqa: BLE001 (the test names the one expected)
            refused[case] = type(error).__name__
    sim.end()
    return refused


def per_connection_values(backend_name):
    """Connections made by the array hook with values that differ per connection (weights,
    delays and a NESTML synapse's U drawn at random): per synapse type, the (source, target,
    values) of every connection as read back, and as given, in the order given."""
    from pyNN.random import NumpyRNG, RandomDistribution
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    stp = sim.nestml_synapse_type(nestml.path("tsodyks_markram_synapse"))
    rng = np.random.default_rng(3)
    n_pre, n_post, n = 6, 5, 40
    sources, targets = rng.integers(0, n_pre, n), np.sort(rng.integers(0, n_post, n))
    pre = sim.Population(n_pre, sim.IF_cond_exp())
    ranges = {"weight": (0.001, 0.004), "delay": (0.1, 2.0), "U": (0.1, 0.9)}

    def values(names, seed):  # the same draws on every call with one seed
        return {name: RandomDistribution("uniform", ranges[name], rng=NumpyRNG(seed + k))
                for k, name in enumerate(names)}

    synapses = {"static": (sim.StaticSynapse, ["weight", "delay"]),
                "stp": (lambda **given: stp(**given, tau_rec=STP["tau_rec"],
                                            tau_facil=STP["tau_facil"]),
                        ["weight", "delay", "U"])}
    result = {}
    for seed, (name, (synapse, names)) in enumerate(synapses.items()):
        projection = sim.Projection(pre, sim.Population(n_post, sim.IF_cond_exp()),
                                    sim.IndexConnector(sources, targets),
                                    synapse(**values(names, 10 * seed)))
        given = [distribution.next(n) for distribution in values(names, 10 * seed).values()]
        result[name] = {"read": [[float(x) for x in row]
                                 for row in projection.get(names, format="list")],
                        "given": np.column_stack([sources, targets, *given]).tolist()}
    sim.end()
    return result


def bounded_inhibitory_synapse(backend_name):
    """NEST's own vogels_sprekeler_synapse (weight bounded by Wmax) onto a conductance-based
    cell's inhibitory receptor: the weight before and after a lone presynaptic spike (which
    depresses it by eta * alpha), read back in PyNN's units and sign."""
    # a native type's values are NEST's (nS), unlike a standard type's (uS)
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    target = sim.Population(1, sim.IF_cond_exp())
    synapse = sim.native_synapse_type("vogels_sprekeler_synapse")(
        weight=0.004, delay=1.0, tau=20.0, eta=0.001, alpha=0.5, Wmax=0.01)
    projection = sim.Projection(source, target, sim.IndexConnector([0], [0]), synapse,
                                receptor_type="inhibitory")
    before = projection.get("weight", format="list", with_address=False)
    sim.run(20.0)
    after = projection.get("weight", format="list", with_address=False)
    sim.end()
    return {"before": list(map(float, before)), "after": list(map(float, after))}


def one_to_one(backend_name):
    """How many connections OneToOneConnector makes from one cell to one cell, to a view of
    one cell (PyNN 0.13's own connector fails on both under numpy 2) and from four to four,
    and the (source, target) pairs of the last."""
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    made = []
    for pre, post in ((1, 1), (1, 3), (4, 4)):
        source = sim.Population(pre, sim.SpikeSourceArray(spike_times=[2.0]))
        target = sim.Population(post, sim.IF_cond_exp())
        projection = sim.Projection(source, target if pre == post else target[1:2],
                                    sim.OneToOneConnector(),
                                    sim.StaticSynapse(weight=0.01, delay=0.5))
        made.append(len(projection))
    pairs = sorted((int(i), int(j)) for i, j, _ in projection.get("weight", format="list"))
    sim.end()
    return {"made": made, "pairs": pairs}


def recurrent_delays(backend_name, mode="as built"):
    """A recurrent network on NEURON whose cells' connections share one delay, but for cell
    0's; the delay of each cell's spike-recording NetCon after the run, and the spikes.
    ``mode`` "per NetCon" leaves the recording NetCons as PyNN makes them (one queued event
    per connection)."""
    from trisim.backends import neuron as trisim_neuron
    if mode == "per NetCon":
        trisim_neuron._deliver_by_source = lambda projections: None
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    cells = sim.Population(40, sim.IF_cond_exp(i_offset=0.8, tau_refrac=2.0))
    cells.initialize(v=sim.RandomDistribution("uniform", (-65.0, -50.0),
                                              rng=sim.NumpyRNG(seed=3)))
    cells.record("spikes")
    rng = sim.NumpyRNG(seed=4)
    for receptor, weight, sources in (("excitatory", 0.002, cells[1:30]),
                                      ("inhibitory", 0.01, cells[30:])):
        sim.Projection(sources, cells, sim.FixedProbabilityConnector(0.3, rng=rng),
                       sim.StaticSynapse(weight=weight, delay=1.5), receptor_type=receptor)
    sim.Projection(cells[0:1], cells, sim.AllToAllConnector(),  # cell 0: two delays
                   sim.StaticSynapse(
                       weight=sim.RandomDistribution("uniform", (0.001, 0.002), rng=rng),
                       delay=sim.RandomDistribution("uniform", (0.5, 3.0), rng=rng)))
    sim.run(300.0)
    trains = cells.get_data().segments[0].spiketrains
    recording = [cell._cell.rec.delay for cell in cells.all_cells]
    sim.end()
    return {"spikes": [[round(float(t), 6) for t in train] for train in trains],
            "recording_delays": recording}


def cell_parameters(backend_name, mode, kind="built-in"):
    """A recurrent network whose cells differ in two parameters; the spikes, the names of the
    parameters stored once per population and, for NESTML's iaf_cond_exp (``kind``
    "nestml"), which internals are stored once. The built-in cell (PyNN's IF_cond_exp)
    differs in tau_m and i_offset, the NESTML one in tau_syn_exc (its propagators are
    internals computed from it) and I_e. ``mode`` "at creation" gives the values when
    creating the cells; "set later" creates them with one value each, connects and records
    them, then sets the values (a whole population, and a view)."""
    from trisim.nestml import shipped_path
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    if kind == "nestml":
        celltype = sim.nestml_cell_type(shipped_path("iaf_cond_exp"))
        names, voltage, receptor = ("tau_syn_exc", "I_e"), "V_m", "exc_spikes"
        first, second = np.linspace(1.0, 5.0, 40), np.r_[np.full(10, 900.0), np.full(30, 800.0)]
    else:
        celltype = sim.IF_cond_exp
        names, voltage, receptor = ("tau_m", "i_offset"), "v", "excitatory"
        first, second = np.linspace(15.0, 25.0, 40), np.r_[np.full(10, 0.9), np.full(30, 0.8)]
    if mode == "at creation":
        cells = sim.Population(40, celltype(**dict(zip(names, (first, second)))))
    else:
        cells = sim.Population(40, celltype(**dict(zip(names, (first[20], second[-1])))))
    group = cells.brian2_group
    once = sorted(name for name, variable in group.variables.items()
                  if variable.scalar and name in cells.celltype.get_native_names())
    cells.initialize(**{voltage: sim.RandomDistribution("uniform", (-65.0, -50.0),
                                                        rng=sim.NumpyRNG(seed=3))})
    cells.record("spikes")
    projection = sim.Projection(cells, cells, sim.FixedProbabilityConnector(
        0.3, rng=sim.NumpyRNG(seed=4)), sim.StaticSynapse(weight=0.002, delay=1.5),
        receptor_type=receptor)
    if mode == "set later":
        cells.set(**{names[0]: first})
        cells[:10].set(**{names[1]: second[0]})
    synapses = projection._brian2_synapses[0][0]
    sim.run(300.0)
    trains = cells.get_data().segments[0].spiketrains
    result = {"spikes": [[round(float(t), 6) for t in train] for train in trains],
              "stored_once": once,
              "synapses_read_per_cell": not synapses.variables[f"{names[0]}_post"].scalar}
    if kind == "nestml":  # internals computed from the parameter that differs, and the others
        result["internals_stored_once"] = [
            [bool(group.variables[name].scalar) for name in sorted(group.computed_from(which))]
            for which in ("tau_syn_exc", "tau_syn_inh")]
    sim.end()
    return result


def compiled_code(backend_name, cache):
    """What Brian2's runtime device makes of a projection's spike delivery, and whether the
    modules it compiles carry debug information: a spike source projecting onto a cell
    (run in Brian2's usual Cython cache), then a small group's code and a state monitor of
    it compiled into the empty directory ``cache``. Returns, for each pathway's code object
    that pushes spikes to its queue, whether it is compiled and the code it runs at each
    step; whether the spike reached the cell; per module compiled into ``cache`` whether it
    has a .debug_info section; for that group, which fires at every step, its count of the
    step's events at each step and after the run, and which blocks of its threshold are
    compiled; the values the monitor recorded; and the typed numpy buffers
    (``ndarray[...]``) declared in the Cython code of the group's and the monitor's steps."""
    from pathlib import Path

    import brian2
    from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1)
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
    cell = sim.Population(1, sim.IF_cond_exp())
    projection = sim.Projection(source, cell, sim.AllToAllConnector(),
                                sim.StaticSynapse(weight=0.01, delay=0.5),
                                receptor_type="excitatory")
    cell.record("gsyn_exc")
    sim.run(3.0)
    conductance = cell.get_data().segments[0].filter(name="gsyn_exc")[0]
    pushing = [{"compiled": not isinstance(code, NumpyCodeObject), "run": code.code.run.strip()}
               for code in (pathway._pushspikes_codeobj
                            for pathway in projection._brian2_synapses[0][0]._pathways)]
    brian2.prefs.codegen.runtime.cython.cache_dir = cache
    counter = brian2.NeuronGroup(1, "n : 1", threshold="True")
    counter.run_regularly("n += 1")
    events = counter.variables["_spikespace"].get_value()
    during = []
    seen = brian2.NetworkOperation(lambda: during.append(int(events[-1])), when="end")
    monitor = brian2.StateMonitor(counter, "n", record=True)
    brian2.Network(counter, seen, monitor).run(2 * brian2.defaultclock.dt)
    threshold = counter.thresholder["spike"].codeobj.compiled_code
    steps = [counter.thresholder["spike"].codeobj, counter.contained_objects[-1].codeobj,
             monitor.codeobj]
    modules = sorted(Path(cache).glob("*.so"))
    result = {"pushing": pushing, "transmitted": bool(np.max(conductance.magnitude) > 0),
              "events": {"during": during, "after": int(events[-1]),
                         "compiled": sorted(block for block, code in threshold.items() if code)},
              "debug_information": [b".debug_info" in module.read_bytes()
                                    for module in modules],
              "recorded": monitor.n[0].tolist(),
              "buffers": {code.template_name: code.code.run.count("ndarray[")
                          for code in steps}}
    sim.end()
    return result


def recorded_sources(backend_name, cache):
    """Four spike sources, each one's spikes recorded, run on Brian2's runtime device with
    its compiled modules in the directory ``cache``. Returns each source's recorded spikes."""
    import brian2
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1)
    brian2.prefs.codegen.runtime.cython.cache_dir = cache
    sources = [sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0 + k]))
               for k in range(4)]
    for source in sources:
        source.record("spikes")
    sim.run(6.0)
    spikes = [source.get_data().segments[0].spiketrains[0].magnitude.tolist()
              for source in sources]
    sim.end()
    return spikes


def assembly_receptors(backend_name):
    """A positive-weight projection onto an Assembly without a receptor_type: the receptor
    PyNN's convention means, and the conductance it moves, in each population."""
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    source = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0, 5.0]))
    first, second = sim.Population(3, sim.IF_cond_exp()), sim.Population(2, sim.IF_cond_exp())
    projection = sim.Projection(source, first + second, sim.AllToAllConnector(),
                                sim.StaticSynapse(weight=0.004, delay=0.5))
    for cells in (first, second):
        cells.record(["gsyn_exc", "gsyn_inh"])
    sim.run(10.0)
    peaks = {}
    for cells in (first, second):
        segment = cells.get_data().segments[0]
        peaks[cells.label] = {name: float(np.max(segment.filter(name=name)[0].magnitude))
                              for name in ("gsyn_exc", "gsyn_inh")}
    sim.end()
    return {"receptor_type": projection.receptor_type, "peaks_uS": list(peaks.values())}


# delays onto NESTML cells, by the way they are given: (cells, delay in ms)
GIVEN_DELAYS = {"at creation": ([0], [1.0]), "per target": ([1], [1.5]),
                "by set": ([2, 3], [2.5, 2.5]), "by set per connection": ([4, 5], [3.0, 3.5]),
                "through a connection": ([6], [5.0])}


def given_delays(backend_name, kind, round_trip=""):
    """One spike (at 10 ms) through ``kind`` ("static" or "nestml") synapses onto NESTML
    cells, with delays given per :data:`GIVEN_DELAYS` (one projection per way; the first made
    by the array hook, the second by PyNN's per-target path); with ``round_trip``, each
    projection then set to the delays it reads back (``set(delay=get("delay"))``).

    Returns the time each cell's conductance first rises and, per way, the delays read back
    by ``get`` as a list and an array and through ``Projection.connections`` (in order)."""
    from trisim.nestml import shipped_path
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    if kind == "static":
        synapse = sim.StaticSynapse
    else:
        synapse = functools.partial(
            sim.nestml_synapse_type(nestml.path("tsodyks_markram_synapse")), **STP)
    cell = sim.nestml_cell_type(shipped_path("iaf_cond_exp"))
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0]))
    cells = sim.Population(7, cell(V_th=1000.0))
    projections = {}
    for way, (targets, delays) in GIVEN_DELAYS.items():
        if way == "per target":
            connector = sim.FromListConnector([(0, targets[0], 0.001, delays[0])],
                                              column_names=["weight", "delay"])
        else:
            connector = sim.IndexConnector([0] * len(targets), targets)
        projection = sim.Projection(source, cells, connector,
                                    synapse(weight=0.001, delay=delays[0]),
                                    receptor_type="exc_spikes")
        if way == "by set":
            projection.set(delay=1.0)  # (made with the delay, set to another and back)
            projection.set(delay=delays[0])
        elif way == "by set per connection":
            matrix = np.full((1, cells.size), np.nan)
            matrix[0, targets] = delays
            projection.set(delay=matrix)
        elif way == "through a connection":
            projection.set(delay=1.0)
            next(iter(projection.connections)).delay = delays[0]
        projections[way] = projection
    for projection in projections.values() if round_trip else ():
        projection.set(delay=projection.get("delay", format="array"))
    cells.record("g_exc_X_exc_spikes")
    sim.run(20.0)
    signal = cells.get_data().segments[0].analogsignals[0]
    conductance = np.asarray(signal.magnitude)
    rises = [float(signal.times.magnitude[np.flatnonzero(conductance[:, cell] > 0)[0]])
             for cell in range(cells.size)]
    read = {way: {"list": [row[2] for row in sorted(projection.get("delay", format="list"))],
                  "array": [float(projection.get("delay", format="array")[0, cell])
                            for cell in GIVEN_DELAYS[way][0]],
                  "connections": sorted(c.delay for c in projection.connections)}
            for way, projection in projections.items()}
    sim.end()
    return {"rises": rises, "read": {way: {how: [float(d) for d in delays]
                                           for how, delays in ways.items()}
                                     for way, ways in read.items()}}


SCENARIOS = {"assembly_receptors": assembly_receptors, "compiled_code": compiled_code, "recorded_sources": recorded_sources, "cell_parameters": cell_parameters, "recurrent_delays": recurrent_delays, "one_to_one": one_to_one, "stp_efficacies": stp_efficacies, "bounded_inhibitory": bounded_inhibitory_synapse, "current_source": current_source,
             "spike_source_trains": spike_source_trains,
             "unordered_spike_times": unordered_spike_times,
             "spike_arrival": spike_arrival, "array_connect": array_connect,
             "per_connection_values": per_connection_values, "given_delays": given_delays,
             "array_connect_mpi": lambda backend: array_connect(backend, per_target=False)}

if __name__ == "__main__":
    from trisim import parallel
    name, backend_name, *arguments = sys.argv[1:]
    result = SCENARIOS[name](backend_name, *arguments)
    if parallel.launcher_rank() == 0:  # under mpirun, rank 0 holds the gathered result
        print(json.dumps(result))
