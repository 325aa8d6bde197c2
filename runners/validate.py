"""``trisim validate``: run a model on several backends and seeds, compare them, report.

Every backend x seed is one run of the batch layer (:mod:`trisim.runners.batch`: each in its
own process, a run already in the output directory reused when its provenance records the same
model, backend, seed and resolved config). The comparison itself (:func:`compare_files`) takes
any run files per label, so one backend's runs can be compared with a deliberately changed copy
of themselves; it is a library call that works from a script, ``python -`` or a notebook.
"""

import contextlib
import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from trisim import model as models
from trisim import output
from trisim.analysis import report, validation
from trisim.backends import BACKENDS, simulator
from trisim.errors import ConfigError, InputFileError, TrisimError
from trisim.experiment import Run
from trisim.runners import batch, script

DEFAULT_BACKENDS = BACKENDS
DEFAULT_SEEDS = 5


@dataclass
class Compared:
    """One compared run: its label (a backend, or any label given to :func:`compare_files`),
    seed, file, and whether it was already there."""

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
             progress_bar=None, script_args=()):
    """Run ``model`` (a name or path, see :func:`trisim.model.load`, or an unchanged PyNN
    script with its ``script_args``, see :mod:`trisim.runners.script`) on each backend with
    ``n_seeds`` seeds, compare, write the report.

    The seeds are the config's seed (a script's: 1) and the ``n_seeds - 1`` integers after
    it. Everything given
    is checked before any simulation starts. ``progress_bar(total)``, if given, returns a
    callable told how many of the runs to simulate have finished.

    Returns
    -------
    Validation
        The verdict (as written to ``verdict.json``), the two paths and the runs.
    """
    backends = _checked_backends(backends)
    _check_seeds(n_seeds)
    jobs = batch.checked_jobs(jobs, default=max(1, len(os.sched_getaffinity(0))))
    if script.is_script(model):
        script.check_no_model_options(config_path, overrides, scale, duration)
        runs = script.runs(model, script_args, backends, n_seeds, Path(out_dir))
    else:
        script.check_no_script_arguments(model, script_args)
        model = models.load(model)
        first = model.config(config_path, overrides, None, scale, duration).simulation.seed
        seeds = batch.seed_range(first, n_seeds)
        runs = [Run(model, backend, seed, Path(out_dir), tuple(overrides), scale, duration,
                    config_path) for backend in backends for seed in seeds]
    batch.check(runs)
    out_dir = output.writable_directory(out_dir)
    results = batch.execute(runs, jobs, progress_bar)
    compared = [Compared(result.run.backend, result.run.seed, result.run.nix_path,
                         result.reused) for result in results]
    blocks = batch.read_blocks([run.path for run in compared], jobs)
    files = {backend: [run.path for run in compared if run.backend == backend]
             for backend in backends}
    return _compare(files, blocks, out_dir, compared)


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
    jobs = batch.checked_jobs(jobs, default=max(1, len(os.sched_getaffinity(0))))
    out_dir = output.writable_directory(out_dir)
    files = {label: [Path(path) for path in paths] for label, paths in files.items()}
    blocks = batch.read_blocks([path for paths in files.values() for path in paths], jobs)
    runs = [Compared(label, blocks[path].annotations.get("seed"), path, reused=True)
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


def _checked_backends(backends):
    if isinstance(backends, str):
        backends = [name.strip() for name in backends.split(",") if name.strip()]
    backends = list(backends)
    for name in backends:
        simulator(name)  # a known one
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
    annotations = next(iter(blocks)).annotations
    if "script_seeds" in annotations:  # an unchanged PyNN script: importing it would run it
        return ()
    model = models.of_run(annotations)
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
