"""The batch layer shared by the commands that run models many times: validate, sweep, experiment.

Each :class:`~trisim.experiment.Run` is one ``trisim run`` in a fresh interpreter (NEST and
NEURON keep global state), at most ``jobs`` at a time (``trisim.runners.process.run_jobs``:
Ctrl-C starts no more runs and ends the running ones; finished runs stay on disk). A run
already on disk is reused when its NIX file's provenance records the same model, backend, seed
and resolved config and its summary is beside it, so an interrupted batch resumes where it
stopped. An experiment's ``measure`` is taken in worker processes as the runs finish and kept
beside each run with the config it was taken from (``<stem>.<product>.json``; ``keep``'s
arrays in ``<stem>.<product>.npz``), and reused with the run.

Worker processes are started without the caller's main module (:func:`worker_pool`), so these
functions work from a script without a ``__main__`` guard, from ``python -`` and from a
notebook.
"""

import contextlib
import json
import multiprocessing
import sys
import threading
import time
import types
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from trisim import output
from trisim.backends import simulator
from trisim.config import SEED_RANGE
from trisim.errors import BackendError, ConfigError, InputFileError, Interrupted
from trisim.experiment import Result
from trisim.runners.process import Job, run_jobs
from trisim.runners.run import check_run


def check(runs):
    """Check what can be checked before anything is written: each run's backend and config,
    memory for its network and its output directory (:func:`trisim.runners.run.check_run`).

    Returns
    -------
    list of dict
        Each run's resolved config (:meth:`trisim.config.Config.as_dict`), as its provenance
        must record it.
    """
    expected = []
    for run in runs:
        simulator(run.backend)  # a known one
        config = run.config()
        check_run(run.model, config, run.backend, run.directory)
        expected.append(config.as_dict())
    return expected


def seed_range(first, count):
    """The ``count`` seeds a batch runs from ``first`` on, refused (before anything runs) if
    the last would pass the largest seed every simulator accepts."""
    last = first + count - 1
    if last > SEED_RANGE[1]:
        raise ConfigError(f"seeds: {count} from seed {first} would pass the largest seed, "
                          f"{SEED_RANGE[1]}")
    return range(first, last + 1)


def checked_jobs(jobs, default=1):
    """``jobs`` as a positive int (``default`` for None)."""
    if jobs is None:
        return default
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs: {jobs!r}; must be a positive integer")
    return jobs


def execute(runs, jobs=1, progress_bar=None, measure=None, keep=None, product="measures"):
    """Simulate every run of ``runs`` not already on disk and measure each; return a
    :class:`~trisim.experiment.Result` per run, in order.

    Parameters
    ----------
    runs : list of trisim.experiment.Run
    jobs : int
        Runs (and measures) at a time, each in its own process.
    progress_bar : callable, optional
        ``progress_bar(total)`` -> ``update(done)``, told how many of the ``total`` runs that
        need work (simulating or measuring) are done.
    measure, keep : callable, optional
        ``measure(block)`` -> dict and ``keep(block)`` -> dict of arrays, per run (module-level
        functions: they run in worker processes).
    product : str
        Names the files of the measures kept beside each run.

    Raises
    ------
    trisim.errors.BackendError
        If a run fails (no more are started) or does not record the config it was asked for.
    """
    jobs = checked_jobs(jobs)
    started = time.time()
    expected = check(runs)
    results = [Result(run, reused=_recorded(run, config)) for run, config in zip(runs, expected)]
    if measure is not None:
        for result, config in zip(results, expected):
            if result.reused:
                result.measures, result.arrays_path = _kept(result.run, config, product, keep)
    simulate = [i for i, result in enumerate(results) if not result.reused]
    to_measure = [i for i, result in enumerate(results)
                  if measure is not None and result.measures is None]
    total = len(set(simulate) | set(to_measure))
    update = progress_bar(total) if progress_bar is not None and total else None
    done, lock = [0], threading.Lock()

    def finished(_):  # also called from the pool's thread as a measure finishes
        with lock:
            done[0] += 1
            if update is not None:
                update(done[0])

    pool = worker_pool(min(jobs, len(to_measure))) if to_measure else None
    measuring = {}

    def start_measure(index):
        run = runs[index]
        measuring[index] = pool.submit(measure_file, run.nix_path, expected[index], measure,
                                       keep, product)
        measuring[index].add_done_callback(finished)

    def simulated(index):
        if not _recorded(runs[index], expected[index]):
            raise BackendError(f"{runs[index].nix_path}: the run did not record the requested "
                               "config")
        if index in to_measure:
            start_measure(index)
        else:
            finished(None)

    try:
        for index in to_measure:
            if index not in simulate:
                start_measure(index)
        for index in simulate:
            runs[index].directory.mkdir(parents=True, exist_ok=True)
        commands = [Job(str(runs[index]), [sys.executable, "-m", "trisim.cli",
                                           *runs[index].arguments()]) for index in simulate]
        positions = {id(job): index for job, index in zip(commands, simulate)}
        run_jobs(commands, parallel=jobs,
                 on_finished=lambda job, _: simulated(positions[id(job)]))
        for index, future in measuring.items():
            results[index].measures = future.result()
            if keep is not None:
                results[index].arrays_path = _product_path(runs[index], product, ".npz")
    except BaseException as exc:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if isinstance(exc, Interrupted):
            # a run stopped as it exited has written its files, and a rerun reuses them: the
            # runs kept are those whose last file (the summary) this batch wrote
            exc.finished = [str(runs[index]) for index in simulate
                            if _written_since(runs[index].summary_path, started)]
        raise
    if pool is not None:
        pool.shutdown()
    return results


def _written_since(path, moment):
    try:
        return path.stat().st_mtime >= moment
    except OSError:
        return False


def measure_file(nix_path, config, measure, keep, product):
    """Measure one run file in a worker process; keep the measures (with ``config``) and the
    arrays beside it; return the measures."""
    block = output.read_block(nix_path)
    measures = measure(block)
    stem = Path(nix_path).with_suffix("")
    if keep is not None:
        arrays = keep(block)
        output.write_atomically(stem.with_name(f"{stem.name}.{product}.npz"),
                                lambda tmp: np.savez(tmp, **arrays))
    output.write_json({"config": config, "measures": measures},
                      stem.with_name(f"{stem.name}.{product}.json"))
    return measures


def _product_path(run, product, suffix):
    return run.stem.with_name(f"{run.stem.name}.{product}{suffix}")


def _kept(run, config, product, keep):
    """The measures kept beside ``run`` if taken with ``config`` (and its arrays if ``keep``
    asks for them), else ``(None, None)``."""
    path = _product_path(run, product, ".json")
    arrays = _product_path(run, product, ".npz")
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        return None, None
    if kept.get("config") != config or (keep is not None and not arrays.is_file()):
        return None, None
    return kept.get("measures"), (arrays if keep is not None else None)


def _recorded(run, config):
    """Whether ``run``'s files are on disk and its provenance records this model, backend,
    seed and resolved ``config``."""
    if not run.summary_path.is_file():
        return False
    annotations = output.read_annotations(run.nix_path)
    if annotations is None:
        return False
    try:
        recorded = json.loads(annotations.get("config", "null"))
    except (TypeError, ValueError):
        return False
    return (annotations.get("model") == run.model.name
            and annotations.get("backend") == run.backend
            and annotations.get("seed") == run.seed and recorded == config)


class _MainHidden:
    """A process pool whose workers start without the caller's main module.

    multiprocessing's spawn start method re-runs the main module in every worker: a script
    without a ``__main__`` guard would start the pool again inside each worker (which fails:
    "An attempt has been made to start a new process before the current process has finished
    its bootstrapping phase"), and ``python -`` has no file to re-run. The workers here only
    run trisim's and the models' own functions, found by module name, so the main module is
    hidden while a worker starts (workers start on submit).
    """

    def __init__(self, executor):
        self.executor = executor

    def submit(self, function, *args):
        with _without_main_module():
            return self.executor.submit(function, *args)

    def map(self, function, *iterables):
        with _without_main_module():
            futures = [self.executor.submit(function, *args) for args in zip(*iterables)]
        return [future.result() for future in futures]

    def shutdown(self, wait=True, cancel_futures=False):
        self.executor.shutdown(wait=wait, cancel_futures=cancel_futures)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown(wait=exc[0] is None, cancel_futures=exc[0] is not None)


@contextlib.contextmanager
def _without_main_module():
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def worker_pool(workers):
    """A pool of ``workers`` fresh interpreters (spawned: a fork would copy the simulators' and
    h5py's state) that works from a script, ``python -`` and a notebook alike."""
    context = multiprocessing.get_context("spawn")
    return _MainHidden(ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context))


def read_blocks(paths, jobs, unreadable_ok=False):
    """Read NIX files ``jobs`` at a time, each in a worker process.

    Neo's NixIO spends its time on each object's metadata and h5py holds one lock, so threads
    would not help. Returns ``{path: Block}``; an unreadable file raises
    :class:`~trisim.errors.InputFileError`, or gives None with ``unreadable_ok``.
    """
    paths = list(paths)
    if jobs == 1 or len(paths) < 2:
        results = [_read_or_error(path) for path in paths]
    else:
        with worker_pool(min(jobs, len(paths))) as pool:
            results = pool.map(_read_or_error, paths)
    blocks = {}
    for path, result in zip(paths, results):
        if isinstance(result, InputFileError):
            if not unreadable_ok:
                raise result
            result = None
        blocks[path] = result
    return blocks


def _read_or_error(path):
    """The Block of ``path``, or the InputFileError saying why not (to cross processes)."""
    try:
        return output.read_block(path)
    except InputFileError as exc:
        return exc
