"""Neo output: one Block per run, with provenance, written atomically."""

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import neo
import numpy as np
from neo.io import NixIO

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
        "backend": backend.name,
        "simulator_version": backend.simulator_version,
        "pynn_version": metadata.version("PyNN"),
        "trisim_version": metadata.version("trisim"),
        "trisim_git_commit": git_commit(),
        "python_version": platform.python_version(),
        "seed": config.simulation.seed,
        "mpi_processes": backend.num_processes(),
        "dt_ms": config.simulation.dt,
        "scale": config.simulation.scale,
        "config": json.dumps(config.as_dict()),
        "command": " ".join(sys.argv),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _in_cell_order(recorded):
    """Spike trains by cell index and signal channels by cell, whatever the process count.

    Under MPI, PyNN's gather appends each rank's cells (and, for signals, its columns).
    """
    recorded.spiketrains = sorted(recorded.spiketrains,
                                  key=lambda train: train.annotations["source_index"])
    for i, signal in enumerate(recorded.analogsignals):
        index = signal.array_annotations.get("channel_index")
        if index is not None and np.any(np.diff(index) < 0):
            recorded.analogsignals[i] = signal[:, np.argsort(index, kind="stable")]
    return recorded


def collect_block(populations, annotations):
    """Gather every population's recorded data into one Block with one Group per population.

    Collective under MPI (every process calls it): the Block is complete on rank 0 only.
    """
    block = neo.Block(name=annotations["model"], **annotations)
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    for name, population in populations.items():
        recorded = _in_cell_order(population.get_data(gather=True).segments[0])
        group = neo.Group(name=name)
        for train in recorded.spiketrains:
            train.annotations["source_population"] = name
            train.segment = segment
        for signal in recorded.analogsignals:
            signal.name = f"{name}.{signal.name}"
            signal.annotations["source_population"] = name
            signal.segment = segment
        segment.spiketrains.extend(recorded.spiketrains)
        segment.analogsignals.extend(recorded.analogsignals)
        group.add(*recorded.spiketrains, *recorded.analogsignals)
        block.groups.append(group)
    return block


def writable_directory(path):
    """Create ``path`` if needed and check that files can be created in it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise OutputError(f"output directory {path}: {exc.strerror or exc}") from None
    return path


def write_atomically(path, write):
    """Call ``write(temporary_path)``, then rename to ``path``: no half-written file is left."""
    path = Path(path)
    # the temporary name keeps the suffix: writers such as matplotlib choose a format by it
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_block(block, path):
    """Write ``block`` to the NIX file ``path`` atomically."""
    def write(temporary):
        io = NixIO(str(temporary), mode="ow")
        try:
            io.write_block(block)
        finally:
            io.close()
    return write_atomically(path, write)


def write_json(data, path):
    """Write ``data`` as indented JSON to ``path`` atomically (NaN is not valid JSON)."""
    return write_atomically(path, lambda temporary: Path(temporary).write_text(
        json.dumps(data, indent=2, allow_nan=False) + "\n"))


def read_block(path):
    """Read the one Block of a NIX file written by trisim."""
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
    return blocks[0]
