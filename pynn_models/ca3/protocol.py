"""The CA3 protocol: training laps in blocks, then the offline phase.

``phase`` chooses what a run simulates: ``training`` (``duration`` ms of the track with the
plastic synapses), ``offline`` (``duration`` ms of offline input, every synapse static at the
weights of a training run's file, ``weights``, at lap ``weights_lap``), or ``protocol``: both,
the offline phase (``offline_laps`` laps after its lead-in) starting from the weights the
training reached at lap ``weights_lap``. The Block has one Segment per phase.

Training runs in blocks of ``checkpoint_laps`` laps. At the end of a block the plastic weights
are read (completed from the recorded spikes so that every backend reports the state as of the
block's end, see :mod:`.plasticity`), kept with their lap, and written with everything recorded
so far to a checkpoint file; the next block is a new simulation of the circuit, from rest, with
those weights and the next stretch of the same input trains. A run stopped in a block is
resumed from its last checkpoint and ends with exactly the weights and spikes of a run that was
never stopped: both went through the same blocks. (A simulator's own state - membrane
potentials, conductances, spikes in flight, the NMDA synapses' short-term plasticity, the
plasticity's last spike times - is not restartable the same way on NEST, NEURON and Brian2; a
block boundary is where the model lets it go. Blocks are the published interval between saved
weights, 5 laps, by default.) The offline phase is one block.
"""

import os
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import neo
import numpy as np
import quantities as pq

from trisim.errors import ConfigError, InputFileError
from trisim.pynn_models.ca3 import circuit, plasticity, track, wiring

#: Recorded from the first ``record_traces`` cells of each population.
TRACE = "V_m"
#: Sampling periods (ms) of the recorded membrane potentials and of the position signal.
TRACE_PERIOD = 1.0
POSITION_PERIOD = 10.0


def stages(p, simulation):
    """The phases a run simulates: ``[(phase, parameters, duration), ...]``."""
    if p.phase != "protocol":
        return [(p.phase, p, simulation.duration)]
    offline = p.lead_in + p.offline_laps * track.lap_duration(p)
    offline = round(offline / simulation.dt) * simulation.dt
    return [("training", p.model_copy(update={"phase": "training"}), simulation.duration),
            ("offline", p.model_copy(update={"phase": "offline"}), offline)]


def block_bounds(p, duration, dt):
    """Start and end times (ms, on the ``dt`` grid) of the blocks of a phase."""
    if p.phase == "offline":
        return [(0.0, duration)]
    laps = track.laps_in(p, duration)
    ends = [p.lead_in + track.lap_duration(p) * k
            for k in range(p.checkpoint_laps, laps + 1, p.checkpoint_laps)]
    ends = [round(t / dt) * dt for t in ends if t < duration - dt / 2] + [duration]
    return list(zip([0.0] + ends[:-1], ends))


def setup(sim, simulation):
    """A new simulation on ``sim`` with the run's time step, seed and threads."""
    sim.setup(timestep=simulation.dt, min_delay=simulation.dt, rng_seed=simulation.seed,
              threads=simulation.threads, resettable=False)


def lap_at(p, t):
    """The number of whole laps run by time ``t`` (ms)."""
    return max(0, track.laps_in(p, t))


def plastic_pathways(p):
    return [pathway for pathway in circuit.PLASTIC_PATHWAYS if circuit.is_plastic(p, pathway)]


class Progress:
    """What a run has produced so far, block by block: the content of a checkpoint."""

    def __init__(self):
        self.block = 0  # blocks done, over all phases
        self.spikes = {}  # (phase, population) -> [(cells, times) per block]
        self.traces = {}  # (phase, population) -> [array per block]
        self.snapshots = []  # training: (time, lap, {pathway: weights})
        self.cpu = 0.0
        self.wall = 0.0

    def save(self, path, seed):
        arrays = {"block": self.block, "seed": seed, "cpu": self.cpu, "wall": self.wall}
        for (phase, name), pieces in self.spikes.items():
            for k, (cells, times) in enumerate(pieces):
                arrays[f"spikes/{phase}/{name}/{k}/cells"] = cells
                arrays[f"spikes/{phase}/{name}/{k}/times"] = times
        for (phase, name), pieces in self.traces.items():
            for k, trace in enumerate(pieces):
                arrays[f"traces/{phase}/{name}/{k}"] = trace
        for k, (t, lap, weights) in enumerate(self.snapshots):
            arrays[f"snapshot/{k}/time"] = t
            arrays[f"snapshot/{k}/lap"] = lap
            for pathway, w in weights.items():
                arrays[f"snapshot/{k}/w/{pathway}"] = w
        _atomic_savez(path, arrays)

    @classmethod
    def load(cls, path, seed):
        try:
            with np.load(path) as file:
                data = dict(file)
        except (OSError, ValueError) as exc:
            raise InputFileError(f"{path}: not a CA3 checkpoint ({exc})") from None
        if int(data["seed"]) != seed:
            raise ConfigError(f"{path}: a checkpoint of seed {int(data['seed'])}, not {seed}")
        done = cls()
        done.block = int(data["block"])
        done.cpu, done.wall = float(data["cpu"]), float(data["wall"])
        for key in sorted(data, key=_natural):
            parts = key.split("/")
            if parts[0] == "spikes" and parts[-1] == "cells":
                _, phase, name, _, _ = parts
                done.spikes.setdefault((phase, name), []).append(
                    (data[key], data[key[:-len("cells")] + "times"]))
            elif parts[0] == "traces":
                done.traces.setdefault((parts[1], parts[2]), []).append(data[key])
        k = 0
        while f"snapshot/{k}/time" in data:
            prefix = f"snapshot/{k}/w/"
            done.snapshots.append((float(data[f"snapshot/{k}/time"]),
                                   int(data[f"snapshot/{k}/lap"]),
                                   {key[len(prefix):]: value for key, value in data.items()
                                    if key.startswith(prefix)}))
            k += 1
        return done


def _natural(key):
    """Sort key of checkpoint entries: block numbers as numbers."""
    return [int(part) if part.isdigit() else part for part in key.split("/")]


def _atomic_savez(path, arrays):
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".npz")
    os.close(handle)
    try:
        np.savez(temporary, **arrays)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def simulate(sim, parameters, simulation, checkpoint=None, resume=False, progress=None):
    """Simulate the configured phase(s) on backend ``sim``; return the run's Neo Block.

    ``checkpoint`` is the file written at every block's end and, with ``resume``, started
    from. ``progress(t_ms)`` is told the simulated time (over the phases, end to end).
    """
    p = circuit.scaled(parameters, simulation.scale)
    seed = simulation.seed
    plan = [(phase, stage_p, start, stop, elapsed)
            for (phase, stage_p, duration), elapsed in _with_offsets(stages(p, simulation))
            for start, stop in block_bounds(stage_p, duration, simulation.dt)]
    done = Progress()
    if resume and checkpoint is not None and Path(checkpoint).is_file():
        done = Progress.load(checkpoint, seed)
    built = False
    for index in range(done.block, len(plan)):
        phase, stage_p, start, stop, elapsed = plan[index]
        started, started_cpu = time.perf_counter(), time.process_time()
        if built:
            sim.end()
            sim.release()
        setup(sim, simulation)
        _simulate_block(sim, simulation, seed, done, phase, stage_p, start, stop,
                        None if progress is None else
                        lambda t, offset=elapsed + start: progress(offset + t))
        built = True
        done.block = index + 1
        done.cpu += time.process_time() - started_cpu
        done.wall += time.perf_counter() - started
        if checkpoint is not None and sim.is_root:
            done.save(checkpoint, seed)
    if not built:  # resumed after the last block: the backend expects a set-up simulator
        setup(sim, simulation)
    return to_block(p, simulation, done)


def _simulate_block(sim, simulation, seed, done, phase, p, start, stop, progress):
    """Build and run one block from ``start`` to ``stop`` (ms), adding what it recorded and
    the weights it read to ``done``.

    A function of its own so that the block's network is gone before the next block is
    built: Brian2 names a new object after the living ones, and a network named differently
    is code that misses every module Brian2 compiled for the block before.
    """
    network = circuit.build_network(sim, p, simulation, seed, _starting_weights(p, done),
                                    t_offset=start, duration=stop - start)
    if phase == "training" and not done.snapshots:
        done.snapshots.append((0.0, 0, {pathway: network.weights0[pathway]
                                        for pathway in plastic_pathways(p)}))
    for population in network.populations.values():
        population.record("spikes")
        if simulation.record_traces:
            population[:min(simulation.record_traces, population.size)].record(
                TRACE, sampling_interval=TRACE_PERIOD)
    report = None
    if progress is not None and sim.num_processes() == 1:
        from trisim.backends.common import progress_callback  # PyNN: not for listing
        report = [progress_callback(stop - start, progress)]
    sim.run(stop - start, report)
    # gathered on rank 0, then the same on every process: each completes the weights
    spikes = _shared(sim, {name: _spikes(population, start)
                           for name, population in network.populations.items()})
    for name, population in network.populations.items():
        done.spikes.setdefault((phase, name), []).append(spikes[name])
        if simulation.record_traces:
            done.traces.setdefault((phase, name), []).append(_trace(population))
    if phase == "training" and plastic_pathways(p):
        weights = read_plastic_weights(network, p, spikes, start, stop)
        done.snapshots.append((stop, lap_at(p, stop), weights))


def _with_offsets(phases):
    """Each phase with the simulated time before it."""
    elapsed = 0.0
    for phase in phases:
        yield phase, elapsed
        elapsed += phase[2]


def _starting_weights(p, done):
    """The weights a block starts from: the last read-out (training), the read-out at
    ``weights_lap`` (offline after training in one run), a file's (offline alone), or None
    (initial weights)."""
    if p.phase == "training":
        return done.snapshots[-1][2] if done.snapshots else None
    if done.snapshots:
        return snapshot_at(done.snapshots, p.weights_lap)
    return offline_weights(p)


def snapshot_at(snapshots, lap):
    """The weights read at ``lap`` (-1: the last)."""
    laps = [entry[1] for entry in snapshots]
    if lap < 0:
        return snapshots[-1][2]
    if lap not in laps:
        raise ConfigError(f"weights_lap: weights were read at laps "
                          f"{', '.join(map(str, laps))}, not {lap}")
    return snapshots[laps.index(lap)][2]


def _shared(sim, value):
    """``value`` of MPI rank 0 on every process (as is in one process)."""
    if sim.num_processes() == 1:
        return value
    from pyNN.recording import get_mpi_comm
    return get_mpi_comm()[0].bcast(value, root=0)


def _spikes(population, t_offset):
    """(cell index, time) of every spike of ``population``, times shifted by ``t_offset``."""
    segment = population.get_data("spikes", gather=True).segments[0]
    cells, times = [], []
    for train in segment.spiketrains:
        cells.append(np.full(len(train), train.annotations["source_index"]))
        times.append(train.rescale("ms").magnitude + t_offset)
    if not cells:
        return np.empty(0, np.int64), np.empty(0)
    return np.concatenate(cells).astype(np.int64), np.concatenate(times)


def _trace(population):
    signals = population.get_data(TRACE, gather=True).segments[0].analogsignals
    return np.asarray(signals[0].magnitude) if signals else np.empty((0, 0))


def read_plastic_weights(network, p, spikes, start, stop):
    """Every plastic pathway's weights as of the block's end (model time ``stop - start``)."""
    weights = {}
    for pathway in plastic_pathways(p):
        source, target, _ = wiring.PATHWAYS[pathway]
        links = network.connections[pathway]
        pre = _trains(source, network, spikes, start)
        post = _trains(target, network, spikes, start)
        w = np.array(network.weights0[pathway], dtype=float)
        for projection, index in network.projections[pathway]:
            state = {name: circuit.connection_values(projection, name, index.size)
                     for name in plasticity.STATE}
            w[index] = plasticity.complete(
                state, links.sources[index], links.targets[index], pre, post, p.delay,
                circuit.potentiation(p, pathway),
                getattr(p, f"tau_{pathway}"),
                getattr(p, f"k_cap_{pathway}") * network.weights0[pathway][index],
                until=stop - start)
        weights[pathway] = w
    return weights


def _trains(name, network, spikes, start):
    """Spike trains (block time) of a population or input class."""
    if name in network.trains:
        return network.trains[name]
    cells, times = spikes[name]
    return _split(cells, times - start, network.populations[name].size)


def _split(cells, times, size):
    """Per cell of ``size``, its times (sorted)."""
    order = np.lexsort((times, cells))
    cells, times = cells[order], times[order]
    bounds = np.searchsorted(cells, np.arange(size + 1))
    return [times[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def to_block(p, simulation, done):
    """The run's Neo Block, in trisim's layout (one Segment, one Group per population): the
    cells' (and inputs') spike trains, membrane potentials and the position over the run's
    phases end to end (the offline phase after the training); Epochs ``phases`` and ``laps``
    (each lap with its phase, number and cue position); the training's plastic weights at
    every read-out."""
    sizes = circuit.population_sizes(p)
    connections, place, _, factors = wiring.draw(p, sizes, simulation.seed)
    centres = wiring.axis_positions(sizes["PYR"]) * p.track_length
    plan = list(_with_offsets(stages(p, simulation)))
    total = sum(duration for (_, _, duration), _ in plan)
    block = neo.Block(name="ca3", cpu_s_simulation=round(done.cpu, 3),
                      wall_s_simulation=round(done.wall, 3))
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    spikes, traces, inputs = {}, {}, {}
    lap_rows = []
    for (phase, stage_p, duration), offset in plan:
        starts = track.lap_starts(stage_p, duration)
        cues = (track.cue_positions(stage_p, simulation.seed, starts.size)
                if phase == "training" else np.full(starts.size, np.nan))
        lap_rows += [(offset + start, min(track.lap_duration(stage_p), duration - start),
                      phase, k, cue) for k, (start, cue) in enumerate(zip(starts, cues))]
        for name in circuit.POPULATIONS:
            for cells, times in done.spikes.get((phase, name), []):
                spikes.setdefault(name, []).append((cells, times + offset))
            if done.traces.get((phase, name)):
                traces.setdefault(name, []).append(_traces(
                    done.traces[(phase, name)], block_bounds(stage_p, duration,
                                                             simulation.dt)))
        if p.record_inputs:
            drawn, _ = track.draw_phase(stage_p, phase, simulation.seed, duration,
                                        simulation.dt)
            for name, class_trains in drawn.items():
                inputs.setdefault(name, []).append([train + offset for train in class_trains])
    segment.epochs.append(neo.Epoch(
        times=[offset for _, offset in plan] * pq.ms,
        durations=[duration for (_, _, duration), _ in plan] * pq.ms,
        labels=[phase for (phase, _, _), _ in plan], name="phases"))
    segment.epochs.append(neo.Epoch(
        times=[row[0] for row in lap_rows] * pq.ms, durations=[row[1] for row in lap_rows]
        * pq.ms, labels=[row[2] for row in lap_rows], name="laps",
        array_annotations={"lap": np.array([row[3] for row in lap_rows], dtype=int),
                           "cue_cm": np.array([row[4] for row in lap_rows], dtype=float)}))
    groups = []
    for name in circuit.POPULATIONS:
        pieces = spikes.get(name, [])
        cells = np.concatenate([c for c, _ in pieces] or [np.empty(0, np.int64)])
        times = np.concatenate([t for _, t in pieces] or [np.empty(0)])
        trains = []
        for i, train in enumerate(_split(cells, times, sizes[name])):
            extra = ({"cell_type": "place" if place[i] else "cue",
                      "field_centre_cm": float(centres[i])} if name == "PYR" else {})
            trains.append(neo.SpikeTrain(train, units="ms", t_start=0 * pq.ms,
                                         t_stop=total * pq.ms, name=f"{name}[{i}]",
                                         source_population=name, source_index=i, **extra))
        group = neo.Group(trains, name=name)
        if name in traces:
            signal = neo.AnalogSignal(
                np.concatenate(traces[name]), units="mV", sampling_period=TRACE_PERIOD * pq.ms,
                t_start=0 * pq.ms, name=f"{name}.{TRACE}", source_population=name,
                array_annotations={"channel_index": np.arange(traces[name][0].shape[1])})
            segment.analogsignals.append(signal)
            group.add(signal)
        segment.spiketrains.extend(trains)
        groups.append(group)
    for name, pieces in inputs.items():
        trains = [neo.SpikeTrain(np.concatenate(parts), units="ms", t_start=0 * pq.ms,
                                 t_stop=total * pq.ms, name=f"{name}[{i}]",
                                 source_population=name, source_index=i)
                  for i, parts in enumerate(zip(*pieces))]
        segment.spiketrains.extend(trains)
        groups.append(neo.Group(trains, name=name))
    block.groups.extend(groups)
    # the position while the first phase runs laps (the offline phase's first lap, with
    # spatial input, is not counted as running: trisim replay looks for events after it)
    (phase, stage_p, duration), _ = plan[0]
    segment.analogsignals.append(position_signal(stage_p, duration))
    if phase == "training":
        for pathway in plastic_pathways(stage_p):
            segment.events.append(weight_events(
                stage_p, connections[pathway], place, factors, done.snapshots, pathway))
    return block


def _traces(pieces, bounds):
    """The membrane potentials recorded in every block of a phase, end to end."""
    return np.concatenate([piece[:int(round((stop - start) / TRACE_PERIOD))]
                           for piece, (start, stop) in zip(pieces, bounds)])


def position_signal(p, duration):
    """The animal's position (cm) on the laps with spatial input."""
    if p.phase == "offline":
        duration = min(duration, p.lead_in + p.offline_spatial_laps * track.lap_duration(p))
    t, x = track.position(p, duration, POSITION_PERIOD)
    return neo.AnalogSignal(x[:, None], units="cm", sampling_period=POSITION_PERIOD * pq.ms,
                            t_start=p.lead_in * pq.ms, name="position")


class Weights(NamedTuple):
    """A plastic pathway's weights at every read-out, as a training run's Block holds them."""

    pathway: str
    times: np.ndarray  # read-out times (ms)
    laps: np.ndarray  # the lap of each read-out
    values: np.ndarray  # uS, read-outs x connections (multapses each their own)
    sources: np.ndarray  # per connection: source cell index
    targets: np.ndarray  # per connection: target cell index
    initial: np.ndarray  # per connection: initial weight (uS)
    source_population: str
    target_population: str
    initial_weight_uS: float  # the pathway's weight before its per-connection factors


def weight_events(p, links, place, factors, snapshots, pathway):
    """A pathway's weight per connection at every read-out, as one Event: an event per
    read-out and connection, at the read-out's time, with array annotations ``weight_uS``,
    ``lap``, ``connection``, ``source``, ``target`` and ``initial_uS``. (One Event, not a
    signal with a channel per connection: Neo's NixIO writes each channel of a signal as its
    own DataArray, which took minutes for the tens of thousands of connections.)"""
    source, target, _ = wiring.PATHWAYS[pathway]
    n = len(links)
    times = np.repeat([t for t, _, _ in snapshots], n)
    initial = circuit.initial_weights(p, pathway, links, place, factors)
    return neo.Event(
        times * pq.ms, labels=np.full(times.size, pathway), name=f"weights {pathway}",
        pathway=pathway, source_population=source, target_population=target,
        initial_weight_uS=float(circuit.weight(p, pathway)),
        array_annotations={
            "weight_uS": np.concatenate([weights[pathway] for _, _, weights in snapshots]),
            "lap": np.repeat([lap for _, lap, _ in snapshots], n),
            "connection": np.tile(np.arange(n), len(snapshots)),
            "source": np.tile(links.sources, len(snapshots)),
            "target": np.tile(links.targets, len(snapshots)),
            "initial_uS": np.tile(initial, len(snapshots))})


def trained_weights(block):
    """Every plastic pathway's read-outs in a run's Block: ``{pathway: Weights}``."""
    found = {}
    for segment in block.segments:
        for event in segment.events:
            pathway = event.annotations.get("pathway")
            if pathway is None:
                continue
            lap = np.asarray(event.array_annotations["lap"], dtype=int)
            connection = np.asarray(event.array_annotations["connection"], dtype=int)
            n = int(connection.max()) + 1 if connection.size else 0
            reads = lap.size // max(n, 1)
            first = slice(0, n)

            def column(name, dtype=float):
                return np.asarray(event.array_annotations[name], dtype=dtype)
            found[pathway] = Weights(
                pathway, event.times.rescale(pq.ms).magnitude[::max(n, 1)][:reads],
                lap[::max(n, 1)][:reads], column("weight_uS").reshape(reads, n),
                column("source", int)[first], column("target", int)[first],
                column("initial_uS")[first], str(event.annotations["source_population"]),
                str(event.annotations["target_population"]),
                float(event.annotations["initial_weight_uS"]))
    return found


def offline_weights(p):
    """The weights an offline phase starts from: ``{pathway: (weights, sources, targets)}``
    read from a training run's file at lap ``weights_lap``, or None."""
    if not p.weights:
        return None
    path = Path(p.weights)
    if not path.is_file():
        raise InputFileError(f"weights: {path}: no such file")
    from trisim.output import read_block
    found = {}
    for pathway, weights in trained_weights(read_block(path)).items():
        laps = list(weights.laps)
        row = len(laps) - 1 if p.weights_lap < 0 else (
            laps.index(p.weights_lap) if p.weights_lap in laps else None)
        if row is None:
            raise ConfigError(f"weights_lap: {path} has weights at laps "
                              f"{', '.join(map(str, laps))}, not {p.weights_lap}")
        found[pathway] = (weights.values[row], weights.sources, weights.targets)
    if not found:
        raise InputFileError(f"weights: {path} holds no trained weights (a CA3 training "
                             "run's .nix file)")
    return found
