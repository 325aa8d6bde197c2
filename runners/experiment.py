"""``trisim experiment``: any model's experiment, through one door.

A model declares its experiments next to its circuit (``EXPERIMENTS``, see
:mod:`trisim.experiment`); :func:`run` checks what was asked, runs the experiment's simulations
through the batch layer (:mod:`trisim.runners.batch`), and writes what its report returns.
"""

from pathlib import Path

from trisim import model as models
from trisim import output
from trisim.backends import BACKENDS, simulator
from trisim.errors import ConfigError
from trisim.experiment import Request
from trisim.runners import batch


def run(model, name, backends=None, n_seeds=None, out_dir=None, overrides=(), options=(),
        scale=None, duration=None, jobs=1, progress_bar=None):
    """Run experiment ``name`` of ``model``; write its files; return their paths and the
    lines to print about them.

    Parameters
    ----------
    model : str, pathlib.Path or trisim.model.Model
        A name or path (see :func:`trisim.model.load`).
    name : str
        One of the model's ``EXPERIMENTS``.
    backends : str or sequence of str, optional
        ``"nest,neuron"`` or a list (default: the experiment's, else every backend).
    n_seeds : int, optional
        Seeds per run: the config's and the ones after it (default: the experiment's).
    out_dir : str or pathlib.Path, optional
        Default ``out/<model>``.
    overrides : sequence of str
        ``"key=value"`` config overrides for every run.
    options : sequence of str
        ``"key=value"`` options of the experiment.
    scale, duration : float, optional
        Population scale and simulated time (ms) for every run.
    jobs : int
        Runs at a time, each in its own process.
    progress_bar : callable, optional
        ``progress_bar(total)`` -> ``update(done)`` over the runs.

    Returns
    -------
    paths : list of pathlib.Path
    lines : list of str
    """
    model = models.load(model)
    experiment = model.experiment(name)
    backends = _checked_backends(backends if backends is not None
                                 else experiment.backends or tuple(BACKENDS))
    n_seeds = experiment.seeds if n_seeds is None else n_seeds
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ConfigError(f"seeds: {n_seeds!r}; must be a positive integer")
    jobs = batch.checked_jobs(jobs)
    request = Request(model, name, tuple(backends), n_seeds,
                      Path(out_dir) if out_dir is not None else Path("out") / model.name,
                      tuple(overrides), scale, duration, experiment.parse_options(options))
    runs = list(experiment.runs(request)) if experiment.runs is not None else []
    if runs:
        batch.check(runs)  # every config resolved before anything is written
        output.writable_directory(request.out_dir)
        results = batch.execute(runs, jobs, progress_bar, experiment.measure, experiment.keep,
                                product=name)
        files = experiment.report(request, results)
    else:
        model.config(None, overrides, None, scale, duration)  # bad values fail all the same
        files = experiment.report(request, [])
    out_dir = output.writable_directory(request.out_dir)
    paths = [_write(out_dir / file_name, content) for file_name, content in files.items()]
    return paths, (list(experiment.lines(files)) if experiment.lines is not None else [])


def describe(model):
    """Lines listing ``model``'s experiments, with their options and defaults."""
    model = models.load(model)
    experiments = model.experiments
    if not experiments:
        return [f"{model.name}: no experiments"]
    lines = []
    for name, experiment in experiments.items():
        lines.append(f"{name:14s} {experiment.description}")
        for option, field in (experiment.options.model_fields.items()
                              if experiment.options is not None else ()):
            default = field.default
            shown = ",".join(map(str, default)) if isinstance(default, (list, tuple)) \
                else default
            lines.append(f"{'':14s}   --option {option}={shown}"
                         + (f"  ({field.description})" if field.description else ""))
    return lines


def _write(path, content):
    if callable(content):
        return output.write_atomically(path, content)
    return output.write_json(content, path)


def _checked_backends(backends):
    if isinstance(backends, str):
        backends = [name.strip() for name in backends.split(",") if name.strip()]
    backends = list(dict.fromkeys(backends))
    if not backends:
        raise ConfigError("backends: none given")
    for backend in backends:
        simulator(backend)  # a known one
    return backends
