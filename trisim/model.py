"""The model contract: what a circuit module declares, and how trisim finds one.

A *model* is a Python module written once against the PyNN API, with a YAML config of its
values. trisim's own models, models offered by installed packages and a model in a modeller's
own folder follow the same contract and are found by the same rules.

What a model module declares
----------------------------
Required:

``DESCRIPTION`` : str
    One line, shown by ``trisim models``.
``Parameters`` : subclass of :class:`trisim.config.Strict`
    Every parameter of the circuit with its type, default and unit (declare dimensional values
    with :func:`trisim.config.quantity`; configs may use any convertible unit).
``TRACES`` : tuple of str
    State variables recorded from the first ``record_traces`` cells of every population.
``build(sim, parameters, simulation, rng)``
    Create the network on ``sim`` (a PyNN backend module with trisim's additions:
    ``sim.nestml_cell_type(path)``, ``sim.nestml_synapse_type(path)``,
    ``sim.IndexConnector(sources, targets)``) from the validated ``parameters``, the settings
    every model shares (``simulation``: ``dt``, ``duration``, ``seed``, ``scale``, ... see
    :class:`trisim.config.Simulation`) and ``rng``, a :class:`numpy.random.Generator` seeded
    from the run's seed. Return the populations by name (a dict). A relative ``.nestml`` path
    given to ``sim`` here is read from the model's own folder.

Optional:

``summarize(block, parameters)`` -> dict
    The model's own statistics of a run (JSON-ready); ``trisim run`` adds them to the run
    summary as ``model_statistics``.
``VALIDATION_STATISTICS`` : tuple of :class:`trisim.analysis.validation.Statistic`
    What ``trisim validate`` compares besides its default statistics.
``SWEEP_STATISTICS`` : tuple of str
    Keys of the run summary that ``trisim sweep`` plots (default: the population rates).
``plot(block, parameters, path)``
    The model's own figure of a run, drawn by ``trisim analyze``.
``simulate(sim, parameters, simulation, run)`` -> neo.Block
    The whole simulation, for a model that does more than build and run once (phases, a
    protocol in blocks, weights read as it goes). It calls ``sim.setup`` itself, as often as it
    needs, and returns the Block of its data in trisim's layout: one Segment, one Group per
    population (:func:`trisim.output.collect_block` makes it from populations; the model may
    add data of its own). ``run`` is a :class:`RunContext`: the run's ``stem`` (its files
    without suffix; a checkpoint may sit beside them), ``resume`` (``trisim run --resume``:
    continue from such a checkpoint) and ``progress`` (told the simulated time, or None).
    trisim adds the provenance and writes the files.
``EXPERIMENTS`` : dict of str to :class:`trisim.experiment.Experiment`
    The model's studies, run by ``trisim experiment MODEL NAME``.
``CONFIGS`` : path
    The folder of the model's configs, if not the module's own folder (trisim's own models
    keep theirs in ``trisim.configs``).
``size(parameters, simulation)`` -> dict
    What the network will hold at ``simulation.scale``: ``{"cells": int, "connections": int}``,
    optionally ``"spikes"`` (input spikes handed to spike sources) and ``"build_bytes"``
    (memory the model's own code needs while building, e.g. arrays over all pairs). trisim
    refuses a run whose network cannot fit in the memory left, before building it
    (:mod:`trisim.resources`).

How a model is found
--------------------
By name
    Installed models are entry points of the group ``trisim.models`` (``name = package.module``;
    trisim's own are declared in its ``setup.cfg`` the same way). The default config of model
    ``name`` is ``name.yaml`` in the module's configs folder: its own folder (the folder of a
    package), or the one it names as ``CONFIGS``.
By path
    ``my_circuit.py`` (or a package folder): the module, named by its file, with its default
    config ``my_circuit.yaml`` beside it. ``my_setting.yaml``: a config whose ``model`` key
    names its module, as a path relative to the config (``model: my_circuit.py``; ``.`` for the
    package folder the config is in) or as an installed model's name; the model is named by the
    config's file (``my_setting``), so several configs of one module are models of their own
    name (trisim's ``cb1_v1``, ``cb1_v2m`` and ``cb1_v2m_ko`` share one circuit). A ``.py`` file
    that does not declare the contract is not imported (it may be a PyNN script).

A module in a modeller's folder is imported under its own name (the folder holding it, or its
package, is appended to ``sys.path``), so it may import the modules beside it; a name already
taken by an installed module is refused.

Examples
--------
>>> from trisim import model
>>> coba = model.load("coba_stp")
>>> coba.name, coba.config_path.name
('coba_stp', 'coba_stp.yaml')
>>> coba.config(scale=0.1).simulation.scale
0.1
"""

import ast
import importlib
import importlib.util
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel

from . import config as config_files
from .errors import ConfigError, TrisimError, UnknownNameError, unknown_name

#: The entry-point group through which installed packages (trisim included) offer models.
ENTRY_POINT_GROUP = "trisim.models"
#: What every model module declares (see the module's documentation).
REQUIRED = ("DESCRIPTION", "Parameters", "TRACES", "build")
PATH_SUFFIXES = (".py", ".yaml", ".yml")


@dataclass(frozen=True, eq=False)
class Model:
    """A model found by :func:`load`: its module, its name and its default config.

    Attributes
    ----------
    name : str
        Names the model's runs (``<name>_<backend>_seed<N>.nix``) and their provenance.
    module : module
        The module that declares the contract.
    config_path : pathlib.Path
        The default config.
    reference : str
        What finds the model again in another process: the installed name, or the absolute
        path it was loaded from.
    """

    name: str
    module: ModuleType
    config_path: Path
    reference: str

    @property
    def directory(self):
        """The model's own folder: relative ``.nestml`` paths are read from it."""
        return Path(self.module.__file__).parent

    @property
    def config_directory(self):
        """The folder of the model's configs: its ``CONFIGS``, else its own folder."""
        return config_directory(self.module)

    @property
    def description(self):
        """The config's ``description`` line, else the module's ``DESCRIPTION``."""
        described = config_files.read_document(self.config_path).get("description")
        return str(described) if described else self.module.DESCRIPTION

    @property
    def traces(self):
        return tuple(self.module.TRACES)

    def build(self, sim, parameters, simulation, rng):
        """The module's ``build``: the populations by name."""
        return self.module.build(sim, parameters, simulation, rng)

    def config(self, path=None, overrides=(), seed=None, scale=None, duration=None):
        """The validated config: ``path`` (default: the model's own), then ``overrides``
        (``"key=value"`` strings), then ``seed``, ``scale`` and ``duration`` (ms) if given.

        Returns
        -------
        trisim.config.Config
        """
        given = {"seed": seed, "scale": scale,
                 "duration": None if duration is None else f"{duration} ms"}
        overrides = [*overrides, *(f"{key}={value}" for key, value in given.items()
                                   if value is not None)]
        return config_files.load(path or self.config_path, self.module.Parameters, overrides)

    def size(self, parameters, simulation):
        """The module's ``size(parameters, simulation)``, or None if it declares none."""
        size = getattr(self.module, "size", None)
        return None if size is None else size(parameters, simulation)

    @property
    def simulate(self):
        """The module's ``simulate(sim, parameters, simulation, run)``, or None."""
        return getattr(self.module, "simulate", None)

    def summarize(self, block, parameters):
        """The module's ``summarize(block, parameters)``, or None if it declares none."""
        summarize = getattr(self.module, "summarize", None)
        return None if summarize is None else summarize(block, parameters)

    @property
    def validation_statistics(self):
        return tuple(getattr(self.module, "VALIDATION_STATISTICS", ()))

    @property
    def sweep_statistics(self):
        return tuple(getattr(self.module, "SWEEP_STATISTICS", ()))

    @property
    def plot(self):
        """The module's ``plot(block, parameters, path)``, or None."""
        return getattr(self.module, "plot", None)

    @property
    def experiments(self):
        """``{name: Experiment}`` the module declares."""
        return dict(getattr(self.module, "EXPERIMENTS", {}))

    def experiment(self, name):
        """The experiment ``name``; an unknown name lists the model's experiments."""
        experiments = self.experiments
        if name not in experiments:
            if not experiments:
                raise ConfigError(f"model {self.name!r} declares no experiments "
                                  f"(asked for {name!r})")
            raise unknown_name(f"experiment of model {self.name!r}", name, experiments)
        return experiments[name]

    def setting(self, name):
        """The model of config ``<name>.yaml`` in this model's configs folder: another setting
        of the same circuit (the installed model of that name when it is that config).

        Raises
        ------
        trisim.errors.UnknownNameError
            Naming the settings there are.
        """
        entry = _unique_entry(name, registered().get(name, ()), required=False)
        if entry is not None and entry.module == self.module.__name__:
            return load(name)
        path = self.config_directory / f"{name}.yaml"
        if not path.is_file():
            raise UnknownNameError(f"unknown setting {name!r} of model {self.name!r}; valid: "
                                   f"{', '.join(self.settings())}")
        return load(path)

    def settings(self):
        """Names of the configs in the model's configs folder that name its module."""
        module_file = Path(self.module.__file__).resolve()
        return [path.stem for path in sorted(self.config_directory.glob("*.yaml"))
                if module_file_of_config(path) == module_file]


@dataclass(frozen=True)
class RunContext:
    """What a model's own ``simulate`` is told about its run.

    Attributes
    ----------
    stem : pathlib.Path
        The run's files without their suffix (``OUT/<model>_<backend>_seed<N>``).
    resume : bool
        Continue from a checkpoint the model left beside the run's files, if there is one.
    progress : callable or None
        Told the simulated time (ms) as the run advances.
    """

    stem: Path
    resume: bool = False
    progress: object = None


def load(model):
    """The model called ``model`` (an installed name) or at the path ``model``.

    Parameters
    ----------
    model : str, pathlib.Path or Model
        An installed model's name (``trisim models``), a ``.py`` file or package folder, or a
        ``.yaml`` config naming its module. A Model is returned as it is.

    Returns
    -------
    Model

    Raises
    ------
    trisim.errors.ConfigError
        For an unknown name (listing the installed ones), a missing file, a config that names
        no module, or a module that does not declare the contract.
    """
    if isinstance(model, Model):
        return model
    text = str(model)
    if isinstance(model, Path) or text.endswith(PATH_SUFFIXES) or "/" in text or text == ".":
        return _load_path(Path(model))
    return _load_name(text)


def of_run(annotations):
    """The model a run was made with, from its provenance (the Block's annotations): where it
    was loaded from (``model_source``), else its name; None if it cannot be found any more."""
    for key in ("model_source", "model"):
        reference = annotations.get(key)
        if reference is None:
            continue
        try:
            return load(str(reference.item() if hasattr(reference, "item") else reference))
        except TrisimError:
            continue
    return None


def registered():
    """``{name: [entry point, ...]}`` of the installed models (group ``trisim.models``); a name
    offered by two packages has two entries."""
    found = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        entries = found.setdefault(entry.name, [])
        if all(entry.value != other.value for other in entries):
            entries.append(entry)
    return found


def _unique_entry(name, entries, required=True):
    if len(entries) > 1:
        offered = ", ".join(f"{entry.value} ({entry.dist.name if entry.dist else '?'})"
                            for entry in entries)
        raise ConfigError(f"model name {name!r} is offered twice: {offered}")
    if not entries and required:
        error = unknown_name("model", name, registered())
        if Path(name).exists():
            error.args = (f"{error.args[0]}; a model in a folder is given by its path: "
                          f"./{name}",)
        raise error
    return entries[0] if entries else None


def config_directory(module):
    """The folder of a model module's configs: its ``CONFIGS``, else the module's own folder."""
    configs = getattr(module, "CONFIGS", None)
    return Path(configs) if configs is not None else Path(module.__file__).parent


def module_file_of_config(path):
    """The file of the module the config at ``path`` names (a package's ``__init__.py``),
    found without importing the module; None if it names none that can be found."""
    try:
        named = config_files.read_document(path).get("model")
    except ConfigError:
        return None
    if not isinstance(named, str) or not named.strip():
        return None
    named = named.strip()
    if named.endswith(".py") or "/" in named or named in (".", ".."):
        target = (Path(path).parent / named).resolve()
        return target / "__init__.py" if target.is_dir() else target
    entries = registered().get(named, ())
    if len(entries) != 1:
        return None
    try:
        spec = importlib.util.find_spec(entries[0].module)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin).resolve() if spec is not None and spec.origin else None


def declares_contract(path):
    """Whether the ``.py`` file (or package folder) ``path`` binds every name of
    :data:`REQUIRED` at its top level, read without importing it (a PyNN script does not).

    Raises
    ------
    trisim.errors.ConfigError
        For a file that is not valid Python, naming the line.
    """
    path = Path(path)
    source = path / "__init__.py" if path.is_dir() else path
    try:
        tree = ast.parse(source.read_text(), filename=str(source))
    except (OSError, ValueError):
        return False
    except SyntaxError as exc:
        raise ConfigError(f"{source}:{exc.lineno}: {exc.msg}") from None
    bound = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound.update(target.id for target in targets if isinstance(target, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(alias.name == "*" for alias in node.names):
                return True  # cannot tell without importing: let the import decide
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return set(REQUIRED) <= bound


def _load_name(name):
    entry = _unique_entry(name, registered().get(name, ()))
    if entry.attr:
        raise ConfigError(f"installed model {name!r}: the entry point names "
                          f"{entry.value!r}; it must name a module")
    module = _checked(importlib.import_module(entry.module), f"installed model {name!r}")
    path = config_directory(module) / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"installed model {name!r}: no default config {path}")
    return Model(name, module, path, name)


def _load_path(path):
    if not path.exists():
        raise ConfigError(f"{path}: no such model file or folder")
    path = path.resolve()
    if path.suffix in (".yaml", ".yml"):
        named = config_files.read_document(path).get("model")
        if not isinstance(named, str) or not named.strip():
            raise ConfigError(f"{path}: model: names no module; a config given as the model "
                              "names its module, e.g. 'model: my_circuit.py'")
        named = named.strip()
        if named.endswith(".py") or "/" in named or named in (".", ".."):
            module_path = (path.parent / named).resolve()
            if not module_path.exists():
                raise ConfigError(f"{path}: model: {named}: no such file ({module_path})")
            module = _import_file(module_path)
        else:
            module = _load_name(named).module
        return Model(path.stem, module, path, str(path))
    module = _import_file(path)
    name = path.parent.name if path.name == "__init__.py" else path.stem
    config_path = config_directory(module) / f"{name}.yaml"
    if not config_path.is_file():
        raise ConfigError(f"{path}: no default config {config_path}; write one or give a "
                          "config file as the model")
    return Model(name, module, config_path, str(path))


def _checked(module, where):
    """``module``, if it declares the contract; else a ConfigError naming what is missing."""
    missing = [name for name in REQUIRED if not hasattr(module, name)]
    if missing:
        raise ConfigError(f"{where} ({module.__file__}) is not a trisim model: it declares no "
                          f"{', '.join(missing)} (see trisim.model)")
    parameters = module.Parameters
    if not (isinstance(parameters, type) and issubclass(parameters, BaseModel)):
        raise ConfigError(f"{where}: Parameters must be a trisim.config.Strict subclass")
    if not callable(module.build):
        raise ConfigError(f"{where}: build must be a function (sim, parameters, simulation, rng)")
    return module


def _import_file(path):
    """The module of the ``.py`` file or package folder ``path``, imported by its full name:
    inside an installed package under that package's name, else under its own name with the
    folder holding it (or its outermost package) appended to ``sys.path``."""
    if not declares_contract(path):
        missing = ", ".join(REQUIRED)
        raise ConfigError(f"{path} is not a trisim model: it does not declare {missing} "
                          "(see trisim.model)")
    if path.is_dir():
        if not (path / "__init__.py").is_file():
            raise ConfigError(f"{path}: a folder given as a model is a package (__init__.py)")
        parts, directory, origin = [path.name], path.parent, path / "__init__.py"
    else:
        if path.suffix != ".py":
            raise ConfigError(f"{path}: a model module is a .py file")
        parts, directory, origin = [path.stem], path.parent, path
        if parts == ["__init__"]:
            parts, directory = [directory.name], directory.parent
    known = _package_directories()
    while directory not in known and (directory / "__init__.py").is_file():
        parts.insert(0, directory.name)
        directory = directory.parent
    if directory in known:
        name = ".".join([known[directory], *parts])
    else:
        name = ".".join(parts)
        if str(directory) not in sys.path:
            sys.path.append(str(directory))
    where = f"{path}"
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(f"{where}: cannot import it as {name!r} ({exc})") from exc
    if Path(module.__file__).resolve() != origin:
        raise ConfigError(f"{where}: the name {name!r} is already taken by {module.__file__}; "
                          "rename the model's file")
    return _checked(module, where)


def _package_directories():
    """``{folder: package name}`` of the packages imported so far and of the installed models'
    packages, so that a file inside one is imported under the package's name."""
    for entries in registered().values():
        for entry in entries:
            parent = entry.module.rpartition(".")[0]
            if parent and parent not in sys.modules:
                try:
                    importlib.import_module(parent)  # the package, not the model
                except ImportError:
                    continue
    known = {}
    for name, module in list(sys.modules.items()):
        for folder in getattr(module, "__path__", None) or ():
            known.setdefault(Path(folder).resolve(), name)
    return known
