"""Experiments: the studies a model declares next to its circuit, run through one command.

A model module may declare ``EXPERIMENTS = {name: Experiment(...)}``; ``trisim experiment
MODEL NAME`` (or :func:`trisim.runners.experiment.run`) runs any of them the same way:

1. ``runs(request)`` lists the simulations: each a :class:`Run`, one ``trisim run`` of a model
   (this one, another setting of its circuit, or another model in its folder) on one backend
   with one seed and config overrides, into a folder under the output directory;
2. every run goes to its own process, ``jobs`` at a time; a run whose file already records the
   same model, backend, seed and resolved config is reused instead;
3. ``measure(block)`` of each run, in a worker process, gives its measures (JSON-ready; kept
   beside the run as ``<stem>.<experiment>.json`` and reused with it), and ``keep(block)`` the
   arrays its figures need (kept as ``<stem>.<experiment>.npz``);
4. ``report(request, results)`` returns the files to write: ``{file name: data}``, where data
   is JSON-ready (written as JSON) or a function that writes the file at the path it is given
   (a figure). They are written atomically into the output directory.

An experiment without runs (``runs=None``) only reports: e.g. a derivation from the published
equations, or a figure of earlier experiments' results in the output directory.

Examples
--------
A model's experiment comparing the population rates of two drives, on every backend::

    def runs(request):
        return [run for drive in ("0.2 nA", "0.3 nA")
                for run in request.runs(overrides=[f"I_e={drive}"],
                                        directory=request.out_dir / drive.replace(" ", ""))]

    def report(request, results):
        rows = [{"backend": r.run.backend, "seed": r.run.seed, "drive": r.run.overrides[-1],
                 "rates": r.summary["populations"]} for r in results]
        return {f"{request.model.name}_drive.json": rows}

    EXPERIMENTS = {"drive": Experiment("rates at two drives", report=report, runs=runs)}
"""

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import yaml
from pydantic import ValidationError

from .errors import ConfigError


def run_name(model_name, backend, seed):
    """The name of a run's files (``trisim run`` writes ``<name>.nix`` and
    ``<name>.summary.json``)."""
    return f"{model_name}_{backend}_seed{seed}"


@dataclass(frozen=True)
class Run:
    """One simulation: ``trisim run`` of ``model`` on ``backend`` with ``seed``.

    Attributes
    ----------
    model : trisim.model.Model
    backend : str
    seed : int
    directory : pathlib.Path
        Where the run's files go: ``<model>_<backend>_seed<seed>.nix`` and ``.summary.json``.
    overrides : tuple of str
        ``"key=value"`` config overrides, applied in order.
    scale, duration : float, optional
        Population scale and simulated time (ms), if not the config's.
    config_path : pathlib.Path, optional
        A config other than the model's own.
    resume : bool
        Continue from the checkpoint an interrupted run left (models with their own
        ``simulate``; see :mod:`trisim.model`).
    """

    model: object
    backend: str
    seed: int
    directory: Path
    overrides: tuple = ()
    scale: float = None
    duration: float = None
    config_path: Path = None
    resume: bool = False

    @property
    def stem(self):
        """The run's files without their suffix."""
        return Path(self.directory) / run_name(self.model.name, self.backend, self.seed)

    @property
    def nix_path(self):
        return self.stem.with_name(self.stem.name + ".nix")

    @property
    def summary_path(self):
        return self.stem.with_name(self.stem.name + ".summary.json")

    def config(self):
        """The run's resolved config (:class:`trisim.config.Config`)."""
        return self.model.config(self.config_path, self.overrides, self.seed, self.scale,
                                 self.duration)

    def arguments(self):
        """The ``trisim`` command-line arguments of this run."""
        arguments = ["run", self.model.reference, "--backend", self.backend,
                     "--seed", str(self.seed), "--out", str(self.directory)]
        if self.config_path is not None:
            arguments += ["--config", str(Path(self.config_path).resolve())]
        for override in self.overrides:
            arguments += ["--set", override]
        if self.scale is not None:
            arguments += ["--scale", repr(float(self.scale))]
        if self.duration is not None:
            arguments += ["--duration", repr(float(self.duration))]
        if self.resume:
            arguments.append("--resume")
        return arguments

    def __str__(self):
        return f"{self.model.name} on {self.backend} seed {self.seed}"


@dataclass(frozen=True)
class Request:
    """What the user asked of an experiment: passed to its ``runs`` and ``report``.

    Attributes
    ----------
    model : trisim.model.Model
        The model named on the command line.
    experiment : str
    backends : tuple of str
    n_seeds : int
        Seeds per run: the config's seed and the ``n_seeds - 1`` after it.
    out_dir : pathlib.Path
    overrides : tuple of str
        ``--set`` values, for every run.
    scale, duration : float or None
        ``--scale`` and ``--duration``, if given (an experiment may have its own duration).
    options : trisim.config.Strict or None
        The experiment's own options (``--option``), validated.
    """

    model: object
    experiment: str
    backends: tuple
    n_seeds: int
    out_dir: Path
    overrides: tuple = ()
    scale: float = None
    duration: float = None
    options: object = None

    def runs(self, model=None, overrides=(), duration=None, directory=None, backends=None):
        """One :class:`Run` per backend and seed of ``model`` (default: the requested one),
        with the request's overrides followed by ``overrides``, into ``directory`` (default:
        ``<out_dir>/runs/<experiment>``). ``duration`` (ms) defaults to the request's."""
        model = model or self.model
        overrides = (*self.overrides, *overrides)
        duration = self.duration if duration is None else duration
        first = model.config(None, overrides, None, self.scale, duration).simulation.seed
        directory = Path(directory) if directory is not None else \
            Path(self.out_dir) / "runs" / self.experiment
        return [Run(model, backend, first + offset, directory, overrides, self.scale, duration)
                for backend in (backends or self.backends) for offset in range(self.n_seeds)]


@dataclass
class Result:
    """What became of one :class:`Run`: given to the experiment's ``report``.

    Attributes
    ----------
    run : Run
    reused : bool
        True if the run was already in the output directory.
    measures : dict or None
        What the experiment's ``measure`` returned for it.
    arrays_path : pathlib.Path or None
        The ``.npz`` file of what its ``keep`` returned.
    """

    run: Run
    reused: bool
    measures: dict = None
    arrays_path: Path = None

    @cached_property
    def summary(self):
        """The run's summary (``.summary.json``, as ``trisim run`` wrote it)."""
        return json.loads(self.run.summary_path.read_text())

    def arrays(self):
        """The arrays ``keep`` returned, ``{name: numpy array}``."""
        import numpy as np
        with np.load(self.arrays_path) as data:
            return dict(data)


@dataclass(frozen=True)
class Experiment:
    """A study a model declares (see the module's documentation for how it is run).

    Attributes
    ----------
    description : str
        One line, listed by ``trisim experiment MODEL``.
    report : callable
        ``report(request, results)`` -> ``{file name: JSON-ready data or write(path)}``.
    runs : callable, optional
        ``runs(request)`` -> list of :class:`Run`; None for an experiment without runs.
    measure : callable, optional
        ``measure(block)`` -> dict, per run, in a worker process (a module-level function).
    keep : callable, optional
        ``keep(block)`` -> ``{name: numpy array}``, per run, kept for the figures.
    options : type, optional
        A :class:`trisim.config.Strict` subclass: the experiment's own options, given as
        ``--option KEY=VALUE``.
    backends : tuple of str, optional
        The backends when none are asked for (default: every backend).
    seeds : int
        Seeds per run when none are asked for.
    lines : callable, optional
        ``lines(files)`` -> list of str: what the command prints about the written files'
        content (``files`` is what ``report`` returned).
    """

    description: str
    report: Callable
    runs: Callable = None
    measure: Callable = None
    keep: Callable = None
    options: type = None
    backends: tuple = None
    seeds: int = 1
    lines: Callable = None

    def parse_options(self, given=()):
        """The experiment's options from ``"key=value"`` strings (values read as YAML).

        Raises
        ------
        trisim.errors.ConfigError
            Naming an unknown key or a bad value.
        """
        values = {}
        for text in given:
            key, separator, value = str(text).partition("=")
            key = key.strip()
            if not separator or not key:
                raise ConfigError(f"--option {text!r}: expected key=value")
            try:
                values[key] = yaml.safe_load(value)
            except yaml.YAMLError:
                values[key] = value
        if self.options is None:
            if values:
                raise ConfigError(f"--option {next(iter(values))}: this experiment has no "
                                  "options")
            return None
        try:
            return self.options(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            message = ("unknown option" if first["type"] == "extra_forbidden"
                       else first["msg"].removeprefix("Value error, "))
            raise ConfigError(f"--option {where}: {message}") from None
