"""Neo output: one Block per run, with provenance, written atomically."""

import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import neo
import numpy as np
from neo.core.spiketrainlist import SpikeTrainList
from neo.io import NixIO

from . import parallel
from .errors import InputFileError, OutputError


def git_commit():
    """The commit of the trisim source tree, or "unknown" outside a git checkout."""
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip()


def provenance(model, backend, config):
    """Annotations that make a run reproducible: versions, seed, time step and the full config."""
    return {
        "model": model,
        **environment(backend),
        "seed": config.simulation.seed,
        "dt_ms": config.simulation.dt,
        "scale": config.simulation.scale,
        "config": json.dumps(config.as_dict()),
    }


def environment(backend):
    """The provenance of every run: what ran it (versions, commit, command line) and when."""
    return {
        "backend": backend.name,
        "simulator_version": backend.simulator_version,
        "pynn_version": metadata.version("PyNN"),
        "trisim_version": metadata.version("trisim"),
        "trisim_git_commit": git_commit(),
        "python_version": platform.python_version(),
        "mpi_processes": backend.num_processes(),
        "command": " ".join(sys.argv),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _signals_in_cell_order(signals):
    """Signal channels by cell, whatever the process count (under MPI, PyNN's gather appends
    each rank's columns)."""
    for i, signal in enumerate(signals):
        index = signal.array_annotations.get("channel_index")
        if index is not None and np.any(np.diff(index) < 0):
            signals[i] = signal[:, np.argsort(index, kind="stable")]
    return signals


def _cell_trains(spiketrains, population, gathered):
    """One SpikeTrain per cell of ``population`` in cell order, from PyNN's recorded
    ``spiketrains``, annotated ``source_index`` and ``channel_id`` (the cell's ID) as PyNN does.

    PyNN hands the spikes over as one array (neo's SpikeTrainList), from which neo would make
    each cell's train by comparing every spike with every cell; here the spikes are sorted by
    cell once and each cell gets a slice. Spikes ``gathered`` from several MPI processes, and those
    of a population recorded in part, are the trains PyNN made, sorted by cell: PyNN's gather
    merges each rank's list into rank 0's, whose one-array view neo keeps as it was (rank 0's
    spikes only), so it must not be read.
    """
    if gathered or len(spiketrains) != population.size:
        return sorted(spiketrains, key=lambda train: train.annotations["source_index"])
    ids, times = spiketrains.multiplexed
    ids = np.asarray(ids, dtype=np.int64)
    cells = (np.asarray(population.id_to_index(ids), dtype=np.int64) if ids.size
             else np.empty(0, dtype=np.int64))
    order = np.lexsort((np.asarray(times), cells))  # by cell, then time
    bounds = np.searchsorted(cells[order], np.arange(population.size + 1))
    every = neo.SpikeTrain(times[order], t_start=spiketrains.t_start, t_stop=spiketrains.t_stop)
    ids = np.asarray(population.all_cells, dtype=np.int64)
    trains = []
    for index in range(population.size):
        train = every[bounds[index]:bounds[index + 1]]
        train.annotations = {"source_index": np.int64(index), "channel_id": ids[index]}
        trains.append(train)
    return trains


def recorded_data(population, segment):
    """``(spike trains, signals)`` of ``population`` in one Neo Segment of its recorded data
    (as PyNN's ``get_data`` gives it): a train per cell in cell order, signal channels by cell,
    signals by name (PyNN gives them in the order of a set, which changes with Python's hash
    seed, so two runs of one seed would write files that differ)."""
    signals = sorted(segment.analogsignals, key=lambda signal: signal.name)
    return (_cell_trains(segment.spiketrains, population, parallel.world_size() > 1),
            _signals_in_cell_order(signals))


def collect_block(populations, annotations):
    """Gather every population's recorded data into one Block with one Group per population.

    Collective under MPI (every process calls it): the Block is complete on rank 0 only.
    """
    return assemble_block({name: recorded_data(population,
                                               population.get_data(gather=True).segments[0])
                           for name, population in populations.items()}, annotations)


def assemble_block(recorded, annotations):
    """One Block of one Segment, annotated with ``annotations``, holding ``recorded``:
    ``{population name: (spike trains, signals)}`` (see :func:`recorded_data`), with one Group
    per population."""
    block = neo.Block(name=annotations["model"], **annotations)
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    trains = []
    for name, (cells, signals) in recorded.items():
        group = neo.Group(name=name)
        for train in cells:
            train.annotations["source_population"] = name
            train.segment = segment
        for signal in signals:
            signal.name = f"{name}.{signal.name}"
            signal.annotations["source_population"] = name
            signal.segment = segment
        # spike trains are given as whole lists: adding them one by one checks each against
        # every other one (seconds for a few thousand cells)
        trains.extend(cells)
        group.spiketrains = SpikeTrainList(items=cells)
        group.add(*signals)
        segment.analogsignals.extend(signals)
        block.groups.append(group)
    segment.spiketrains = SpikeTrainList(items=trains, parent=segment)
    return block


# Spike trains in the file.
#
# A run records thousands of cells with a few spikes each. Neo's NixIO stores every SpikeTrain as
# a MultiTag, a DataArray, a metadata section and one property per annotation, so writing and
# reading one train per cell took minutes at full scale, much longer than the simulation. The file
# therefore holds one multiplexed SpikeTrain per population and segment: every spike of the
# population in time order, the array annotation CELL giving each spike's cell (its position among
# the population's cells), and as annotations the number of cells (CELLS, so that silent cells are
# kept), the per-cell annotations that differ between cells as arrays (their names listed in
# PER_CELL, e.g. source_index and channel_id) and those shared by all cells as they are (e.g.
# source_population). read_block, or per_cell_spiketrains on a Block read with plain Neo, gives
# back one SpikeTrain per cell with its annotations, in cell order and in the same Groups.
# Cells that cannot share a train without losing something (waveforms, differing t_stop,
# non-scalar annotations, a Group holding only some of them...) are written one train each.
CELL = "cell"
CELLS = "trisim_cells"
PER_CELL = "trisim_per_cell_annotations"
CELL_NAME = "trisim_cell_name"  # a cell's SpikeTrain.name, kept among the per-cell annotations
_RESERVED = {CELL, CELLS, PER_CELL, CELL_NAME, "nix_name"}  # nix_name: NixIO's own, per object
_MISSING = object()


def _as_list(value):
    """An annotation written as a list: NixIO gives a one-element list back as its element."""
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]


def _scalar_kind(value):
    """numpy's kind of a scalar annotation value ("U", "b", "i", "u", "f"), or None."""
    if not isinstance(value, (str, bool, int, float, np.generic)):
        return None
    kind = np.asarray(value).dtype.kind
    return kind if kind in "Ubiuf" else None


def _cell_annotations(trains):
    """``(shared, per_cell)`` annotations of the cells ``trains``, or None if they cannot be
    stored in one train: every cell must have the same keys, each a scalar of one kind."""
    keys = set(trains[0].annotations) - {"nix_name"}
    fields = {}
    for key in keys:
        if key in _RESERVED:
            return None
        values = [train.annotations.get(key, _MISSING) for train in trains]
        if len({_scalar_kind(value) if value is not _MISSING else None for value in values}
               ) != 1 or _scalar_kind(values[0]) is None:
            return None
        fields[key] = values
    if any(set(train.annotations) - {"nix_name"} != keys for train in trains):
        return None
    names = [train.name for train in trains]
    if all(isinstance(name, str) for name in names):
        fields[CELL_NAME] = names
    elif any(name is not None for name in names):
        return None
    shared = {key: values[0] for key, values in fields.items()
              if all(value == values[0] for value in values)}
    per_cell = {key: np.asarray(values) for key, values in fields.items() if key not in shared}
    return shared, per_cell


def _times_key(train):
    """A train's t_start and t_stop as numbers with their units: quick to compare (comparing
    quantities converts units, tens of microseconds per train)."""
    return (train.t_start.dimensionality.string, float(train.t_start.magnitude),
            train.t_stop.dimensionality.string, float(train.t_stop.magnitude))


def _multiplexed(trains, population):
    """One SpikeTrain holding the spikes of ``trains`` (one population's cells, in cell order),
    or None if something of theirs would not survive (waveforms, array annotations, differing
    units or times, non-scalar annotations, unsorted spikes)."""
    first = trains[0]
    units = first.dimensionality.string
    times = _times_key(first)
    for train in trains:
        if (not isinstance(train, neo.SpikeTrain) or train.waveforms is not None
                or len(train.array_annotations) or train.description is not None
                or train.file_origin is not None or train.dimensionality.string != units
                or _times_key(train) != times or np.any(np.diff(train.magnitude) < 0)):
            return None
    annotations = _cell_annotations(trains)
    if annotations is None:
        return None
    shared, per_cell = annotations
    # SpikeTrainList.multiplexed would give the same arrays, but its ids are the channel_id
    # annotations when they are Python ints and positions otherwise, in cell rather than time order
    times = np.concatenate([train.magnitude for train in trains])
    cells = np.repeat(np.arange(len(trains)), [len(train) for train in trains])
    order = np.argsort(times, kind="stable")  # stable: a cell's spikes keep their order
    return neo.SpikeTrain(times[order], units=first.units, t_start=first.t_start,
                          t_stop=first.t_stop, name=population,
                          array_annotations={CELL: cells[order]},
                          **shared, **per_cell, **{CELLS: len(trains), PER_CELL: list(per_cell)})


def _groups(groups):
    """``groups`` and the groups nested in them, depth first."""
    for group in groups:
        yield group
        yield from _groups(group.groups)


def _same_run_in_groups(run, positions):
    """Whether each group holds all of ``run`` consecutively and in order, or none of it.

    ``positions`` has, per group, a dict from train id to its place in the group, or None for a
    train the group holds more than once.
    """
    for position in positions:
        places = [position.get(id(train), -1) for train in run]  # -1: not in this group
        if places == [-1] * len(run):
            continue
        start = places[0]
        if start is None or start < 0 or places != list(range(start, start + len(run))):
            return False
    return True


def _population_runs(trains):
    """``trains`` split into runs of consecutive trains of one source_population (or None)."""
    runs = []
    for train in trains:
        population = train.annotations.get("source_population")
        if not isinstance(population, str):
            population = None
        if runs and population is not None and runs[-1][0] == population:
            runs[-1][1].append(train)
        else:
            runs.append((population, [train]))
    return runs


def _container_like(container):
    """An empty container of ``container``'s type with its attributes and annotations."""
    attributes = {attr[0]: getattr(container, attr[0], None)
                  for attr in container._recommended_attrs}
    if isinstance(container, neo.Group):
        attributes["allowed_types"] = container.allowed_types
    annotations = {k: v for k, v in container.annotations.items() if k not in attributes}
    return type(container)(**attributes, **annotations)


def _file_layout(block):
    """A new Block with ``block``'s contents but one multiplexed SpikeTrain per population and
    segment where it round-trips (see CELL); other objects are ``block``'s own."""
    positions = []
    for group in _groups(block.groups):
        position = {}
        for i, train in enumerate(group.spiketrains):
            position[id(train)] = None if id(train) in position else i
        positions.append(position)
    replacement = {}  # id of an original train: its multiplexed train, or None if folded into one
    for segment in block.segments:
        for population, run in _population_runs(segment.spiketrains):
            if (population is None or any(id(train) in replacement for train in run)
                    or not _same_run_in_groups(run, positions)):
                continue
            train = _multiplexed(run, population)
            if train is not None:
                replacement.update({id(cell): None for cell in run})
                replacement[id(run[0])] = train

    def fill(new, old, spiketrains):
        trains = [replacement.get(id(train), train) for train in spiketrains]
        # a SpikeTrainList, not a list: extending checks each train against every other one
        new.spiketrains = SpikeTrainList(
            items=[train for train in trains if train is not None],
            parent=new if isinstance(new, neo.Segment) else None)
        for name in old._data_child_containers:
            if name != "spiketrains":
                getattr(new, name).extend(getattr(old, name))

    def copy_groups(new_parent, old_groups):
        for old in old_groups:
            new = _container_like(old)
            fill(new, old, old.spiketrains)
            copy_groups(new, old.groups)
            new_parent.groups.append(new)

    written = _container_like(block)
    for old in block.segments:
        new = _container_like(old)
        fill(new, old, old.spiketrains)
        written.segments.append(new)
    copy_groups(written, block.groups)
    return written


def per_cell_spiketrains(block):
    """Replace, in place, each multiplexed SpikeTrain of ``block`` (as written by
    :func:`write_block`, see CELL) by its cells' SpikeTrains, in the segment and in its groups.

    Use it on a Block read from a trisim file with plain ``neo.io.NixIO``; :func:`read_block` calls
    it. Other spike trains are left as they are. Returns ``block``.
    """
    cells_of = {}
    for segment in block.segments:
        if any(CELLS in train.annotations for train in segment.spiketrains):
            trains = []
            for train in segment.spiketrains:
                if CELLS in train.annotations:
                    cells_of[id(train)] = _cells(train, segment)
                trains.extend(cells_of.get(id(train), [train]))
            segment.spiketrains = SpikeTrainList(items=trains, parent=segment)
    for group in _groups(block.groups):
        if any(id(train) in cells_of for train in group.spiketrains):
            group.spiketrains = SpikeTrainList(items=[
                cell for train in group.spiketrains for cell in cells_of.get(id(train), [train])])
    return block


def _cells(train, segment):
    """The per-cell SpikeTrains of one multiplexed ``train`` of ``segment``, in cell order."""
    annotations = {key: value for key, value in train.annotations.items()
                   if key not in (CELLS, PER_CELL, "nix_name")}
    n_cells = int(train.annotations[CELLS])
    for key in _as_list(train.annotations.get(PER_CELL, [])):
        values = _as_list(train.annotations[key])
        if len(values) != n_cells:
            raise InputFileError(f"spike train {train.name!r}: {len(values)} values of {key!r} "
                                 f"for {n_cells} cells")
        annotations[key] = values
    names = annotations.pop(CELL_NAME, None)
    per_cell = {key: value for key, value in annotations.items() if isinstance(value, list)}
    shared = {key: value for key, value in annotations.items() if key not in per_cell}
    cell_of_spike = np.asarray(train.array_annotations.get(CELL, []), dtype=int).reshape(-1)
    if cell_of_spike.size != len(train) or np.any((cell_of_spike < 0)
                                                  | (cell_of_spike >= n_cells)):
        raise InputFileError(f"spike train {train.name!r}: cell numbers do not match its "
                             f"{len(train)} spikes and {n_cells} cells")
    # sorted by cell (stable: in time order within a cell), each cell a slice of one train
    order = np.argsort(cell_of_spike, kind="stable")
    bounds = np.searchsorted(cell_of_spike[order], np.arange(n_cells + 1))
    every = neo.SpikeTrain(train.times[order], t_start=train.t_start, t_stop=train.t_stop)
    cells = []
    for i in range(n_cells):
        cell = every[bounds[i]:bounds[i + 1]]
        cell.annotations = {**shared, **{key: values[i] for key, values in per_cell.items()}}
        if names is not None:
            cell.name = names[i] if isinstance(names, list) else names
        cell.segment = segment
        cells.append(cell)
    return cells


def check_output_directory(path):
    """Check, without creating anything, that ``path`` is or can become a directory where
    files can be written.

    What exists of ``path`` must be directories; the deepest existing one is probed by
    creating and removing a scratch directory in it (permissions, a read-only mount, a
    pseudo-file system such as /proc). Returns ``path``.

    Raises
    ------
    OutputError
        Naming ``path`` and the cause.
    """
    if not str(path).strip():
        raise OutputError("output directory: an empty path (give '.' for this directory)")
    path = Path(path)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "" if existing == path else f" ({existing} is not a directory)"
        raise OutputError(f"output directory {path}: not a directory{where}")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".trisim-probe-", dir=existing))
    except OSError as exc:
        raise OutputError(f"output directory {path}: {exc.strerror or exc}") from None
    return path


def writable_directory(path):
    """Create ``path`` if needed, check that files can be created in it, and remove what
    killed writers left there (see :func:`remove_stale_partials`)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise OutputError(f"output directory {path}: {exc.strerror or exc}") from None
    remove_stale_partials(path)
    return path


# A file being written is named .<stem>.<pid>.<host>.partial<suffix> beside its final name
# (older versions: without .<host>): hidden, and never taken for a complete file.
_PARTIAL = re.compile(r"^\..+\.(?P<pid>\d+)(?:\.(?P<host>[^.]+))?\.partial(?:\.[^.]+)?$")


def _host():
    return socket.gethostname().replace(".", "_") or "localhost"


def _partial_path(path):
    return path.with_name(f".{path.stem}.{os.getpid()}.{_host()}.partial{path.suffix}")


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_partials(directory):
    """Remove the half-written files in ``directory`` of writers that were killed (SIGKILL,
    a power cut) before they could clean up: those of this host whose process is gone.

    Returns the paths removed.
    """
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = _PARTIAL.match(entry.name)
        if (match is None or match["host"] not in (None, _host())
                or _process_alive(int(match["pid"]))):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue  # removed meanwhile, or not ours to remove
        removed.append(Path(entry.path))
    return removed


def write_atomically(path, write):
    """Call ``write(temporary_path)``, then rename to ``path``: no half-written file is left,
    even on Ctrl-C (and one left by a killed writer is removed by the next write here)."""
    path = Path(path)
    remove_stale_partials(path.parent)
    # the temporary name keeps the suffix: writers such as matplotlib choose a format by it
    temporary = _partial_path(path)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_block(block, path):
    """Write ``block`` to the NIX file ``path`` atomically, one SpikeTrain per population (see
    CELL). ``block`` is left as it was."""
    # the written Block shares signals, epochs and other objects with ``block``: adding one to a
    # Segment sets its ``segment`` and NixIO annotates each with its nix_name, so both are undone
    objects = {id(obj): obj for container in [*block.segments, *_groups(block.groups)]
               for obj in container.data_children}
    saved = [(obj, obj.annotations.get("nix_name", _MISSING), getattr(obj, "segment", _MISSING))
             for obj in objects.values()]

    def write(temporary):
        io = NixIO(str(temporary), mode="ow")
        try:
            io.write_block(written)
        finally:
            io.close()
    try:
        written = _file_layout(block)
        return write_atomically(path, write)
    finally:
        for obj, nix_name, segment in saved:
            if nix_name is _MISSING:
                obj.annotations.pop("nix_name", None)
            else:
                obj.annotations["nix_name"] = nix_name
            if segment is not _MISSING:
                obj.segment = segment


def write_json(data, path):
    """Write ``data`` as indented JSON to ``path`` atomically (NaN is not valid JSON)."""
    return write_atomically(path, lambda temporary: Path(temporary).write_text(
        json.dumps(data, indent=2, allow_nan=False) + "\n"))


def read_annotations(path):
    """The annotations of the Block in the NIX file ``path`` (a run's provenance), read without
    its data; None if there is no such file or it is not readable NIX."""
    import nixio
    path = Path(path)
    if not path.is_file():
        return None
    try:
        nix_file = nixio.File.open(str(path), nixio.FileMode.ReadOnly)
    except Exception:  # nixio/h5py raise many types for a file that is not NIX
        return None
    try:
        if not nix_file.blocks or nix_file.blocks[0].metadata is None:
            return None
        return {prop.name: _plain_value(prop.values)
                for prop in nix_file.blocks[0].metadata.props
                if prop.name not in ("neo_name", "nix_name")}
    except Exception:
        return None
    finally:
        nix_file.close()


def _plain_value(values):
    values = [value.item() if hasattr(value, "item") else value for value in values]
    return values[0] if len(values) == 1 else values


def read_block(path):
    """Read the one Block of a NIX file written by trisim, with one SpikeTrain per cell (see
    :func:`per_cell_spiketrains`; files holding per-cell trains are read as they are)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    try:
        io = NixIO(str(path), mode="ro")
        try:
            blocks = io.read_all_blocks()
        finally:
            io.close()
    except Exception as exc:  # nixio/h5py raise many types for a file that is not NIX
        raise InputFileError(f"{path}: not a readable NIX file ({type(exc).__name__})") from None
    if not blocks:
        raise InputFileError(f"{path}: holds no Neo Block")
    return per_cell_spiketrains(blocks[0])
