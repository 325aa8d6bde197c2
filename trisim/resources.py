"""Memory: what a network will need on a backend, and what this process may still use.

A model may state its size: ``size(parameters, simulation)`` returning the numbers of cells and
connections it will create at ``simulation.scale`` (``{"cells": int, "connections": int}``),
optionally the input spikes it hands to spike sources (``"spikes"``) and the bytes its own
code needs while building (``"build_bytes"``, e.g. numpy arrays of all pairs).
trisim turns them into bytes with each simulator's figures (bytes per run, cell and
connection, in its :class:`trisim.backends.Simulator`) and refuses, before building, a
network that cannot fit (:func:`check_memory`). The figures are lower estimates, measured on
seed 002 (IF_cond_exp cells, NESTML Tsodyks-Markram synapses): a network near the limit may
still run out of memory, but one far above it is refused at once instead of after minutes of
building.
"""

import gc
import os
import resource
from pathlib import Path

from .errors import ConfigError

#: Bytes per input spike held by a spike source (a float64 time, and its copy while handed over).
BYTES_PER_SPIKE = 16


def estimate(size, simulator):
    """Bytes a network of ``size`` (see the module's documentation) needs on ``simulator``
    (a :class:`trisim.backends.Simulator`)."""
    return (simulator.bytes_per_run + size["cells"] * simulator.bytes_per_cell
            + size["connections"] * simulator.bytes_per_connection
            + size.get("spikes", 0) * BYTES_PER_SPIKE + size.get("build_bytes", 0))


def available():
    """``(bytes, what limits it)``: the least of the system's available memory, the control
    group's limit less its use, and this process's address-space and data limits less what
    it uses."""
    candidates = []
    meminfo = _read_numbers(Path("/proc/meminfo"), "MemAvailable:")
    if meminfo is not None:
        candidates.append((meminfo * 1024, "available system memory"))
    limit, used = _cgroup_limit()
    if limit is not None:
        candidates.append((limit - used, "the control group's memory limit"))
    for name, label in ((resource.RLIMIT_AS, "the address-space limit (ulimit -v)"),
                        (resource.RLIMIT_DATA, "the data-size limit (ulimit -d)")):
        soft, _ = resource.getrlimit(name)
        if soft != resource.RLIM_INFINITY:
            candidates.append((soft - _virtual_size(), label))
    if not candidates:
        return None, None
    return min(candidates)


def check_memory(model, cfg, simulator):
    """Refuse, with a :class:`~trisim.errors.ConfigError` naming the scale, a network of
    ``model`` (a :class:`trisim.model.Model`) that ``simulator`` (a
    :class:`trisim.backends.Simulator`) cannot hold in the memory left
    (nothing is checked for a model that does not state its size, or a PyNN script)."""
    size_of = getattr(model, "size", None)  # a run of a PyNN script states none
    if size_of is None:
        return
    try:
        size = size_of(cfg.parameters, cfg.simulation)
    except OverflowError:  # counts beyond any float: nothing could hold them
        raise ConfigError(f"scale: {cfg.simulation.scale:g} makes {model.name} too large to "
                          "count its cells") from None
    if size is None:
        return
    needed = estimate(size, simulator)
    free, limit = available()
    if free is not None and needed > free:
        raise ConfigError(
            f"scale: {cfg.simulation.scale:g} makes {model.name} {size['cells']:.3g} cells and "
            f"{size['connections']:.3g} connections, at least {_gigabytes(needed)} on "
            f"{simulator.name}; {_gigabytes(max(free, 0))} is left ({limit})")


def _gigabytes(n_bytes):
    return f"{n_bytes / 1e9:,.0f} GB" if n_bytes >= 1e11 else f"{n_bytes / 1e9:.3g} GB"


def _read_numbers(path, key):
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_limit():
    """(limit, use) in bytes of this process's cgroup v2, or (None, None) if unlimited."""
    try:
        relative = Path("/proc/self/cgroup").read_text().strip().split("::", 1)[1]
        directory = Path("/sys/fs/cgroup") / relative.lstrip("/")
        limit = (directory / "memory.max").read_text().strip()
        if limit == "max":
            return None, None
        return int(limit), int((directory / "memory.current").read_text())
    except (OSError, ValueError, IndexError):
        return None, None


def _virtual_size():
    try:
        return int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def check_threads(simulation):
    """Refuse more threads per process than the CPUs this process may use (``simulation``: a
    config's :class:`~trisim.config.Simulation`): more cannot run faster, and NEST, which
    starts them all, crashes with thousands.

    Raises
    ------
    ConfigError
        Naming the value and the CPUs available.
    """
    threads = simulation.threads
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cpus and threads > cpus:
        raise ConfigError(f"threads: {threads} is more than the {cpus} CPUs this process may "
                          "use (more threads cannot run faster)")


def freeze_imports():
    """In a process that runs one simulation, once its simulator is imported: set what the
    process holds so far (modules, classes, the simulators' tables: about 200,000 objects,
    which live until it ends) aside from Python's garbage collector.

    The collector's full passes, which the allocations of building and running a network
    start (Brian2's loop over time steps, PyNN's Python objects), then visit only what was
    made since: seed 002 on Brian2 ran in 1.47 s CPU instead of 1.79, the same spikes.
    """
    gc.freeze()
