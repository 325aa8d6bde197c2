"""``trisim validate``: run a model on several backends and seeds, compare them, report.

Every backend x seed runs in its own process (``python -m trisim.cli run``), because NEST and
NEURON keep global state; processes get and give back plain data (arguments, file paths). A
result already in the output directory is reused only if its provenance says it is the same
model, backend and seed, and its full resolved config equals the requested one.

The comparison itself (:func:`compare_files`) takes any run files per label, so one backend's
runs can be compared with a deliberately changed copy of themselves.
"""

import contextlib
import json
import logging
import multiprocessing
import os
import sys
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from trisim import model as models
from trisim import output
from trisim.analysis import report, validation
from trisim.backends import BACKENDS
from trisim.errors import BackendError, ConfigError, InputFileError, TrisimError, unknown_name
from trisim.runners.process import run_command
from trisim.runners.run import output_stem, resolve_config

DEFAULT_BACKENDS = ("nest", "neuron", "brian2")
DEFAULT_SEEDS = 5


@dataclass
class Run:
    """One backend x seed: where its result is and whether it was already there."""

    backend: str
    seed: int
    path: Path
    reused: bool = False


@dataclass
class Validation:
    """What :func:`validate` and :func:`compare_files` return."""

    verdict: dict
    report_path: Path
    verdict_path: Path
    runs: list

    @property
    def agree(self):
        return self.verdict["agree"]


def validate(model, backends=DEFAULT_BACKENDS, n_seeds=DEFAULT_SEEDS, out_dir="out/validate",
             config_path=None, overrides=(), scale=None, duration=None, jobs=None,
             progress_bar=None):
    """Run ``model`` (a name or path, see :func:`trisim.model.load`) on each backend with
    ``n_seeds`` seeds, compare, write the report.

    The seeds are the config's seed and the ``n_seeds - 1`` integers after it. Everything given
    is checked before any simulation starts. ``progress_bar(total)``, if given, returns a
    callable told how many runs have finished.

    Returns
    -------
    Validation
        The verdict (as written to ``verdict.json``), the two paths and the runs.
    """
    backends = _checked_backends(backends)
    _check_seeds(n_seeds)
    jobs = _checked_jobs(jobs)
    model, first_config = resolve_config(model, config_path, overrides, None, scale, duration)
    seeds = [first_config.simulation.seed + offset for offset in range(n_seeds)]
    expected = {seed: model.config(config_path, overrides, seed, scale, duration).as_dict()
                for seed in seeds}
    out_dir = output.writable_directory(out_dir)
    runs, blocks = _plan(model.name, backends, seeds, out_dir, expected, jobs)
    arguments = _run_arguments(model.reference, out_dir, config_path, overrides, scale,
                               duration)
    simulated = [run for run in runs if not run.reused]
    _execute(simulated, arguments, jobs, progress_bar)
    blocks.update(read_blocks([run.path for run in simulated], jobs))
    for run in simulated:
        if not _matches(blocks[run.path], model.name, run.backend, run.seed, expected[run.seed]):
            raise BackendError(f"{run.path}: the run did not record the requested config")
    files = {backend: [run.path for run in runs if run.backend == backend]
             for backend in backends}
    return _compare(files, blocks, out_dir, runs)


def compare_files(files, out_dir, jobs=None):
    """Compare run files given per label; write ``report.html`` and ``verdict.json``.

    Parameters
    ----------
    files : dict of str to list of path
        NIX files written by ``trisim run``, per backend (or any label), one per seed; all of
        one model.
    out_dir : str or pathlib.Path
    jobs : int, optional
        Files read at a time (default: the CPU count).

    Returns
    -------
    Validation
    """
    jobs = _checked_jobs(jobs)
    out_dir = output.writable_directory(out_dir)
    files = {label: [Path(path) for path in paths] for label, paths in files.items()}
    blocks = read_blocks([path for paths in files.values() for path in paths], jobs)
    runs = [Run(label, blocks[path].annotations.get("seed"), path, reused=True)
            for label, paths in files.items() for path in paths]
    return _compare(files, blocks, out_dir, runs)


def _compare(files, blocks, out_dir, runs):
    """Compare the blocks of ``files`` and write the verdict and the report."""
    names = {str(block.annotations.get("model")) for block in blocks.values()}
    if len(names) != 1:
        raise InputFileError(f"the runs are of different models: {', '.join(sorted(names))}")
    model_name = names.pop()
    statistics = validation.DEFAULT_STATISTICS + _model_statistics(blocks.values())
    by_label = {label: [blocks[path] for path in paths] for label, paths in files.items()}
    try:
        with _quiet_elephant():
            comparison = validation.compare_backends(by_label, statistics)
    except ValueError as exc:
        if isinstance(exc, TrisimError):
            raise
        raise InputFileError(str(exc)) from None
    verdict = verdict_document(model_name, comparison, runs)
    html = report.render_report(comparison, by_label, model_name, _provenance(runs, blocks))
    verdict_path = output.write_json(verdict, Path(out_dir) / "verdict.json")
    report_path = output.write_atomically(Path(out_dir) / "report.html",
                                          lambda tmp: Path(tmp).write_text(html))
    return Validation(verdict, report_path, verdict_path, runs)


def summary_lines(result):
    """What ``trisim validate`` prints: runs, verdict, each disagreement, then the two paths."""
    reused = sum(run.reused for run in result.runs)
    statistics = result.verdict["statistics"]
    decided = [entry for entry in statistics if entry["agree"] is not None]
    lines = [f"{result.verdict['model']}: {len(result.runs)} runs ({reused} reused, "
             f"{len(result.runs) - reused} simulated)",
             f"{'agree' if result.agree else 'DISAGREE'}: "
             f"{sum(entry['agree'] for entry in decided)} of {len(decided)} statistics agree"]
    lines += [f"  {entry['population']} {entry['name']} {' vs '.join(entry['backends'])}: "
              f"effect size {entry['effect_size']:.3g} > seed spread {entry['seed_spread']:.3g}"
              for entry in decided if not entry["agree"]]
    lines += [f"report: {result.report_path}", f"verdict: {result.verdict_path}"]
    return lines


def verdict_document(model_name, comparison, runs):
    """The content of ``verdict.json``: plain values, the rule and its thresholds included."""
    return {
        "model": model_name,
        "agree": comparison.agree,
        "rule": validation.RULE,
        "thresholds": {"seed_spread_quantile": validation.SEED_SPREAD_QUANTILE,
                       "min_seeds": validation.MIN_SEEDS,
                       "min_sample_size": validation.MIN_SAMPLE_SIZE},
        "backends": comparison.labels,
        "seeds": {label: [_plain(seed) for seed in seeds]
                  for label, seeds in comparison.seeds.items()},
        "statistics": [{key: _plain(value) for key, value in result.items()}
                       for result in comparison.results],
        "runs": [{"backend": run.backend, "seed": _plain(run.seed), "file": str(run.path),
                  "reused": run.reused} for run in runs],
    }


def _plan(model_name, backends, seeds, out_dir, expected, jobs):
    """Every backend x seed, with the blocks of results on disk that can be reused."""
    runs = [Run(backend, seed, out_dir / f"{output_stem(model_name, backend, seed)}.nix")
            for backend in backends for seed in seeds]
    on_disk = read_blocks([run.path for run in runs if run.path.is_file()], jobs,
                          unreadable_ok=True)
    blocks = {}
    for run in runs:
        block = on_disk.get(run.path)
        if block is not None and _matches(block, model_name, run.backend, run.seed,
                                          expected[run.seed]):
            blocks[run.path] = block
            run.reused = True
    return runs, blocks


def read_blocks(paths, jobs, unreadable_ok=False):
    """Read NIX files ``jobs`` at a time, each in a worker process.

    Neo's NixIO spends its time on each object's metadata (about a minute for a full-scale file
    with one spike train per cell, as written before trisim stored one per population) and h5py
    holds one lock, so threads would not help. Returns ``{path: Block}``; an unreadable
    file raises :class:`InputFileError`, or gives None with ``unreadable_ok``.
    """
    paths = list(paths)
    if jobs == 1 or len(paths) < 2:
        results = [_read_or_error(path) for path in paths]
    else:
        context = multiprocessing.get_context("spawn")  # a fork would copy h5py's state
        with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), mp_context=context) as pool:
            results = list(pool.map(_read_or_error, paths))
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


def _matches(block, model_name, backend, seed, expected_config):
    """Whether ``block``'s provenance is this model, backend, seed and resolved config."""
    annotations = block.annotations
    try:
        config = json.loads(annotations.get("config", "null"))
    except (TypeError, ValueError):
        return False
    return (annotations.get("model") == model_name and annotations.get("backend") == backend
            and _plain(annotations.get("seed")) == seed and config == expected_config)


def _run_arguments(model_reference, out_dir, config_path, overrides, scale, duration):
    """The ``trisim run`` arguments every run shares (backend and seed are added per run)."""
    arguments = ["run", model_reference, "--out", str(out_dir)]
    if config_path is not None:
        arguments += ["--config", str(Path(config_path).resolve())]
    for override in overrides:
        arguments += ["--set", override]
    if scale is not None:
        arguments += ["--scale", repr(float(scale))]
    if duration is not None:
        arguments += ["--duration", repr(float(duration))]
    return arguments


def _execute(runs, arguments, jobs, progress_bar):
    """Simulate ``runs``, ``jobs`` at a time, each in its own process; stop at the first failure."""
    update = progress_bar(len(runs)) if progress_bar and runs else None
    finished = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        pending = {pool.submit(_simulate, run, arguments) for run in runs}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            finished += len(done)
            if update:
                update(finished)
            failed = [future.exception() for future in done if future.exception() is not None]
            if failed:
                pool.shutdown(wait=True, cancel_futures=True)
                raise failed[0]


def _simulate(run, arguments):
    """Run one backend x seed through the command line in a fresh interpreter."""
    command = [sys.executable, "-m", "trisim.cli", *arguments, "--backend", run.backend,
               "--seed", str(run.seed)]
    run_command(command, f"{run.backend} seed {run.seed}")


def _checked_backends(backends):
    if isinstance(backends, str):
        backends = [name.strip() for name in backends.split(",") if name.strip()]
    backends = list(backends)
    for name in backends:
        if name not in BACKENDS:
            raise unknown_name("backend", name, BACKENDS)
    if len(set(backends)) != len(backends):
        raise ConfigError(f"backends: {','.join(backends)} names a backend twice")
    if len(backends) < 2:
        raise ConfigError(f"backends: {','.join(backends) or 'none'}; at least two are needed "
                          "to compare")
    return backends


def _check_seeds(n_seeds):
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < validation.MIN_SEEDS:
        raise ConfigError(f"seeds: {n_seeds!r}; at least {validation.MIN_SEEDS} are needed for a "
                          "seed-to-seed spread")


def _checked_jobs(jobs):
    if jobs is None:
        return max(1, len(os.sched_getaffinity(0)))
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs: {jobs!r}; must be a positive integer")
    return jobs


@contextlib.contextmanager
def _quiet_elephant():
    """Silence two notices Elephant gives for nearly every run, which would drown the output:
    spikes on a bin edge that float rounding moved into the next bin (logged), and a spike at
    the very end of a run that binning leaves out (warned)."""
    from elephant import utils
    logger = logging.getLogger(utils.__file__)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Binning discarded", category=UserWarning)
            yield
    finally:
        logger.setLevel(level)


def _model_statistics(blocks):
    """The statistics the runs' model declares in ``VALIDATION_STATISTICS`` (found from the
    runs' provenance; none if it cannot be found)."""
    model = models.of_run(next(iter(blocks)).annotations)
    return model.validation_statistics if model is not None else ()


def _provenance(runs, blocks):
    """One row per run for the report: where it came from and with which versions."""
    rows = []
    for run in runs:
        annotations = blocks[run.path].annotations
        summary_path = run.path.with_suffix(".summary.json")
        summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
        rows.append({"backend": run.backend, "seed": _plain(run.seed), "file": run.path.name,
                     "reused": run.reused,
                     **{key: _plain(annotations.get(key)) for key in
                        ("simulator_version", "pynn_version", "trisim_git_commit", "created")},
                     **{key: summary.get(key) for key in ("wall_build_s", "wall_run_s")}})
    return rows


def _plain(value):
    """Numpy scalars (as NIX gives annotations back) as Python values, NaN as None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
