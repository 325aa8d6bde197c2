"""``trisim run script.py``: an unchanged PyNN script on one of trisim's backends.

The script runs as ``python script.py ARGS`` would run it, except that every PyNN simulator
module it imports (``import pyNN.nest as sim``, ``from pyNN.neuron import *``,
``pyNN.utility.get_simulator()``...) is trisim's backend for ``--backend``, in portable mode: a
call that another simulator has no equivalent for (``sim.native_cell_type``, ``import nest``)
stops the run with one line naming it and the script's line. A script that takes the simulator's
name as its first argument (PyNN's ``get_simulator``, ``get_script_args``) is given the
backend's name unless its arguments already start with a simulator's name.

Seeds: the run has one seed. Every random number generator the script creates or seeds (PyNN's
``NumpyRNG``, ``GSLRNG``, ``NativeRNG``; the simulator's own through ``setup(rng_seed=...)``;
``numpy.random.seed``, ``numpy.random.default_rng``, ``random.seed``; numpy's and Python's
global generators, which start seeded) gets a seed derived from it: one given no seed gets one
from the run's seed and its order of creation, a seed the script fixes is replaced by one derived
from the run's seed and that value (so generators the script seeds alike stay alike). The run's
summary lists each (``seeds``), with the script's line. (A ``numpy.random.RandomState(seed)``
the script makes itself keeps its seed.)

Everything the script recorded (every population's recorded variables, also data the script
cleared with ``get_data(clear=True)``, runs before a ``reset()`` and simulations before another
``setup()``) is written as ``trisim run`` writes a model's: ``<script>_<backend>_seed<N>.nix``
with provenance, and a ``.summary.json``. Each recorded population is a Group (its label); a
population with several recorded pieces (segments) has one Group per piece, ``<label>-<k>``.
"""

import ast
import builtins
import contextlib
import hashlib
import json
import os
import random
import re
import runpy
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trisim import backends, output, resources
from trisim.backends import BACKENDS
from trisim.config import SEED_RANGE
from trisim.errors import (ConfigError, NotPortableError, NotPortableImportError, ScriptError,
                           TrisimError)
from trisim.experiment import Run, run_name
from trisim.runners import batch

DEFAULT_SEED = 1
_SEED_LIMIT = 2 ** 31 - 1  # the seeds derived for a script's generators are below this


def is_script(reference):
    """Whether ``reference`` (a model name or path) is a PyNN script: a Python file that chooses
    a simulator itself (a model is handed one), or does not declare the model contract. Read,
    not imported."""
    from trisim import model
    path = Path(str(reference))
    if path.suffix != ".py" or not path.is_file():
        return False
    return _chooses_a_simulator(path) or not model.declares_contract(path)


_SIMULATOR_CHOOSERS = {"get_simulator", "get_script_args"}  # pyNN.utility's


def _chooses_a_simulator(path):
    """Whether the file imports a PyNN simulator module (also through ``importlib`` or
    ``exec`` of an import) or calls pyNN.utility's simulator choosers."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return False  # reported when the file is checked
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(_simulator_import(alias.name, 2)
                                                for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module and (
                _simulator_import(node.module, 2) or (node.module == "pyNN" and any(
                    alias.name in BACKENDS for alias in node.names))):
            return True
        if isinstance(node, ast.Name) and node.id in _SIMULATOR_CHOOSERS:
            return True
        if isinstance(node, ast.Attribute) and node.attr in _SIMULATOR_CHOOSERS:
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and node.value.startswith(("pyNN.%s", "from pyNN.%s", "import pyNN.%s")):
            return True
    return False


def checked_script(path):
    """The absolute path of script ``path``, checked before any simulator is imported: a
    readable ``.py`` file that compiles (a syntax error names its line)."""
    path = Path(path)
    if path.suffix != ".py" or not path.is_file():
        raise ConfigError(f"{path}: not a Python script (.py file)")
    try:
        compile(path.read_bytes(), str(path), "exec")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    except SyntaxError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: {exc.msg}") from None
    return path.resolve()


def checked_seed(seed):
    if seed is None:
        return DEFAULT_SEED
    low, high = SEED_RANGE  # a model's run seeds: one range, so a seed names the same run
    if isinstance(seed, bool) or not isinstance(seed, int) or not low <= seed <= high:
        raise ConfigError(f"seed: {seed!r}; must be an integer from {low} to {high}")
    return seed


def script_config(path, arguments):
    """What identifies a script's run besides its seed and backend (its provenance "config"):
    the script file, its content and its arguments."""
    return {"script": str(path), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
            "arguments": list(arguments)}


def check_no_model_options(config_path, overrides, scale, duration):
    """A PyNN script has no config: refuse the options that change a model's."""
    given = [name for name, value in (("--config", config_path), ("--set", overrides),
                                      ("--scale", scale), ("--duration", duration)) if value]
    if given:
        raise ConfigError(f"{', '.join(given)}: a PyNN script has no config to change; "
                          "give the script its own arguments after --")


def check_no_script_arguments(model, arguments):
    if arguments:
        raise ConfigError(f"{' '.join(arguments)}: arguments after the model are for a PyNN "
                          f"script, and {model} is a trisim model (use --set)")


@dataclass(frozen=True)
class Script:
    """A PyNN script with its arguments, seen as a model by the batch layer."""

    path: Path
    arguments: tuple = ()

    @property
    def name(self):
        return self.path.stem

    @property
    def reference(self):
        return str(self.path)


class _ScriptConfig(dict):
    """A script's provenance config, as the batch layer asks a run for it."""

    def as_dict(self):
        return dict(self)


class ScriptRun(Run):
    """One run of a :class:`Script`: ``trisim run SCRIPT --backend B --seed N -- ARGS``."""

    def config(self):
        return _ScriptConfig(script_config(self.model.path, self.model.arguments))

    def arguments(self):
        return ["run", str(self.model.path), "--backend", self.backend, "--seed",
                str(self.seed), "--out", str(self.directory), "--", *self.model.arguments]


def runs(path, arguments, backends, n_seeds, directory):
    """A :class:`ScriptRun` per backend and seed (``DEFAULT_SEED`` and the ``n_seeds - 1``
    after it) of the script at ``path``, checked."""
    script = Script(checked_script(path), tuple(arguments))
    seeds = batch.seed_range(DEFAULT_SEED, n_seeds)
    return [ScriptRun(script, backend, seed, directory) for backend in backends for seed in seeds]


class Seeds:
    """Every seed of one run of a script, derived from the run's seed, with a log."""

    def __init__(self, run_seed, script):
        self.run_seed = run_seed
        self.script = script
        self.unseeded = 0
        self.log = []

    def derive(self, given, what):
        """The seed to use where the script gave ``given`` (None: no seed) for ``what``.

        A seed derived here already (a copy of an RNG being made) is kept as it is."""
        if given is not None and any(entry["seed"] == given for entry in self.log):
            return given
        if given is None:
            self.unseeded += 1
            key = [self.run_seed, 0, self.unseeded]
        else:
            key = [self.run_seed, 1, int(given)]
        seed = 1 + int(np.random.SeedSequence(key).generate_state(1)[0]) % (_SEED_LIMIT - 1)
        self.log.append({"what": what, "line": script_line(self.script), "given": given,
                         "seed": seed})
        return seed


def script_line(script, frames=None):
    """``"script.py:LINE"`` of the innermost frame of ``frames`` (a traceback, or by default the
    current stack) that runs ``script``'s own code; None if none does."""
    if frames is None:
        frames = traceback.extract_stack()
    else:
        frames = traceback.extract_tb(frames)
    mine = [frame for frame in frames if Path(frame.filename) == script]
    return f"{script.name}:{mine[-1].lineno}" if mine else None


class Recordings:
    """What a script recorded, kept before anything discards it (a clear, a new ``setup()``)
    and at the end: ``{population name: (spike trains, signals)}`` per recorded piece."""

    def __init__(self):
        self.pieces = []  # (label, [(spike trains, signals) per Neo segment])

    def keep(self, recorder):
        """Keep the data ``recorder`` (a PyNN Recorder) holds now."""
        if not recorder.recorded or not (recorder.cache or recorder._simulator.state.running):
            return  # nothing recorded yet
        population = recorder.population
        block = recorder.get("all", gather=True, clear=False)
        self.pieces.append((population.label, [output.recorded_data(population, segment)
                                               for segment in block.segments]))

    def keep_all(self, state):
        for recorder in sorted(state.recorders, key=lambda r: r.population.first_id):
            self.keep(recorder)

    def by_name(self):
        """``{name: (spike trains, signals)}``: a population's label, ``<label>-<k>`` where it
        has several pieces (k from 1, in recording order)."""
        named = {}
        for label, segments in self.pieces:
            named.setdefault(label, []).extend(segment for segment in segments
                                               if segment[0] or segment[1])
        result = {}
        for label, segments in named.items():
            if len(segments) == 1:
                result[label] = segments[0]
            else:
                result.update({f"{label}-{k}": segment for k, segment in
                               enumerate(segments, start=1)})
        return result


@contextlib.contextmanager
def _patched(owner, name, value):
    """``owner.name`` is ``value`` inside the block."""
    missing = object()
    old = vars(owner).get(name, missing)
    setattr(owner, name, value)
    try:
        yield
    finally:
        if old is missing:
            delattr(owner, name)
        else:
            setattr(owner, name, old)


@contextlib.contextmanager
def _in_place_of_pynn(sim):
    """Every PyNN simulator module is ``sim`` inside the block, for ``import`` and
    ``importlib.import_module`` alike."""
    import pyNN
    names = [f"pyNN.{name}" for name in BACKENDS]
    saved = {name: sys.modules.get(name) for name in names}
    with contextlib.ExitStack() as stack:
        for simulator in BACKENDS:
            stack.enter_context(_patched(pyNN, simulator, sim))
        sys.modules.update(dict.fromkeys(names, sim))
        try:
            yield
        finally:
            for name, module in saved.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module


def _simulator_import(name, depth=3):
    """Whether importing ``name`` reaches a simulator's own interface: ``nest``, ``neuron``,
    ``brian2`` or a submodule of a PyNN simulator module (with ``depth`` 2: the PyNN simulator
    module itself too)."""
    parts = name.split(".")
    return parts[0] in BACKENDS or (
        len(parts) >= depth and parts[0] == "pyNN" and parts[1] in BACKENDS)


class Session:
    """One run of a script: the patches that make trisim's backend its simulator, for as long
    as the ``with`` block lasts."""

    def __init__(self, script, arguments, sim, seeds):
        self.script, self.arguments, self.sim, self.seeds = script, arguments, sim, seeds
        self.recordings = Recordings()
        self.simulator_named = False
        self.set_up = False  # whether the script has called setup()

    def _from_script(self, globals_):
        return (globals_ or {}).get("__file__") == str(self.script)  # as runpy sets it

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and _simulator_import(name) and self._from_script(globals):
            raise NotPortableImportError(f"import {name}: the simulator's own interface has no "
                                         "equivalent on the other simulators; use PyNN's API")
        return self._original_import(name, globals, locals, fromlist, level)

    def _setup(self, timestep=None, min_delay=None, **extra_params):
        self.set_up = True
        if self.sim.state.recorders:  # a new simulation: keep what the last one recorded
            self.recordings.keep_all(self.sim.state)
        extra_params["rng_seed"] = self.seeds.derive(extra_params.get("rng_seed"),
                                                     "setup(rng_seed)")
        given = {name: value for name, value in (("timestep", timestep),
                                                 ("min_delay", min_delay)) if value is not None}
        return type(self.sim).setup(self.sim, **given, **extra_params)

    def _reset(self, annotations=None):
        for recorder in self.sim.state.recorders:
            if recorder.clear_flag:  # PyNN drops what was recorded since a clear at reset()
                self.recordings.keep(recorder)
        return type(self.sim).reset(self.sim, annotations)

    def _name_simulator(self):
        """Give the script the backend's name as its first argument, once, unless it has a
        simulator's name there already."""
        if not self.simulator_named:
            self.simulator_named = True
            if len(sys.argv) < 2 or sys.argv[1] not in (*BACKENDS, "brian", "mock"):
                sys.argv.insert(1, self.sim.name)

    def _seeded(self, original, what):
        """``original(seed, ...)`` with the seed derived (numpy's and Python's seeding)."""
        seeds = self.seeds

        def seeded(seed=None, *args, **kwargs):
            if seed is not None and not isinstance(seed, (int, np.integer)):
                return original(seed, *args, **kwargs)  # a SeedSequence, a bit generator...
            return original(seeds.derive(None if seed is None else int(seed), what),
                            *args, **kwargs)
        return seeded

    def _rng_init(self, original):
        seeds = self.seeds

        def init(rng, seed=None, *args, **kwargs):
            original(rng, seeds.derive(seed, type(rng).__name__), *args, **kwargs)
        return init

    @contextlib.contextmanager
    def installed(self):
        import pyNN.random
        import pyNN.recording
        import pyNN.utility
        from pyNN.utility import script_tools
        recordings = self.recordings
        clear = pyNN.recording.Recorder.clear

        def keeping_clear(recorder):
            recordings.keep(recorder)
            clear(recorder)

        def get_simulator(*arguments):
            self._name_simulator()
            return script_tools.get_simulator(*arguments)

        def get_script_args(n_args, usage=""):
            self._name_simulator()
            return script_tools.get_script_args(n_args, usage)

        self._original_import = builtins.__import__
        argv, path, cwd = sys.argv[:], sys.path[:], os.getcwd()
        numpy_state, python_state = np.random.get_state(), random.getstate()
        with contextlib.ExitStack() as stack:
            stack.enter_context(_in_place_of_pynn(self.sim))
            stack.enter_context(_patched(builtins, "__import__", self._import))
            stack.enter_context(_patched(self.sim, "setup", self._setup))
            stack.enter_context(_patched(self.sim, "reset", self._reset))
            stack.enter_context(_patched(pyNN.recording.Recorder, "clear", keeping_clear))
            stack.enter_context(_patched(pyNN.random.AbstractRNG, "__init__",
                                         self._rng_init(pyNN.random.AbstractRNG.__init__)))
            stack.enter_context(_patched(pyNN.utility, "get_simulator", get_simulator))
            stack.enter_context(_patched(pyNN.utility, "get_script_args", get_script_args))
            for owner, name, what in ((np.random, "seed", "numpy.random.seed"),
                                      (np.random, "default_rng", "numpy.random.default_rng"),
                                      (random, "seed", "random.seed")):
                stack.enter_context(_patched(owner, name, self._seeded(getattr(owner, name),
                                                                       what)))
            sys.argv = [str(self.script), *self.arguments]
            sys.path.insert(0, str(self.script.parent))
            np.random.seed(None)  # numpy's and Python's global generators, as if unseeded
            random.seed(None)
            try:
                yield self
            finally:
                sys.argv[:], sys.path[:] = argv, path
                os.chdir(cwd)
                np.random.set_state(numpy_state)
                random.setstate(python_state)

    def execute(self):
        """Run the script; its recordings are then in :attr:`recordings`."""
        try:
            runpy.run_path(str(self.script), run_name="__main__")
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise ScriptError(f"{self.script.name}: exited with status {exc.code}"
                                  + ("" if self.set_up else self._before_setup())) from exc
        except TrisimError as exc:
            where = script_line(self.script, exc.__traceback__)
            raise type(exc)(f"{where}: {exc}" if where else str(exc)) from exc
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise  # Ctrl-C and the like
            raise self._script_error(exc) from exc
        self.recordings.keep_all(self.sim.state)
        if not self.recordings.by_name():
            raise ScriptError(f"{self.script.name}: recorded nothing, so there is nothing to "
                              "save or compare; record something (population.record('spikes'))")

    def _before_setup(self):
        """What to tell of a script that stopped before it set up a simulator: most often,
        one that reads the simulator's name from its own arguments did not get one."""
        name, backend = self.script.name, self.sim.name
        return (f" before setting up a simulator (a script that takes the simulator's name as "
                f"an argument gets it after --: trisim run {name} --backend {backend} -- "
                f"{backend})")

    def _script_error(self, exc):
        """The one-line error for an exception the script raised."""
        where = script_line(self.script, exc.__traceback__) or self.script.name
        missing = _missing_pynn_name(exc)
        if missing is not None:
            return NotPortableError(f"{where}: {missing} is not in the PyNN API that "
                                    f"{', '.join(f'pyNN.{s}' for s in BACKENDS)} "
                                    "share")
        return ScriptError(f"{where}: {type(exc).__name__}: {exc}")


def _missing_pynn_name(exc):
    """What ``exc`` says the script missed from a PyNN simulator module (``from pyNN.neuron
    import h`` on another backend), else None."""
    if isinstance(exc, ImportError) and exc.name in {f"pyNN.{s}" for s in BACKENDS}:
        match = re.match(r"cannot import name '(\w+)'", str(exc))
        if match:
            return f"{match.group(1)} (imported from a PyNN simulator module)"
    return None


def simulate(script, backend_name, seed, arguments):
    """Run ``script`` on ``backend_name`` with run seed ``seed``; return the Block, the seed
    log and times."""
    sim = backends.load(backend_name, portable=True)
    resources.freeze_imports()
    seeds = Seeds(seed, script)
    run = Session(script, arguments, sim, seeds)
    started, started_cpu = time.perf_counter(), time.process_time()
    with run.installed():
        run.execute()
    annotations = {"model": script.stem, **output.environment(sim), "seed": seed,
                   "dt_ms": sim.get_time_step(), "scale": 1.0,
                   "config": json.dumps(script_config(script, arguments)),
                   "model_source": str(script), "script_seeds": json.dumps(seeds.log)}
    block = output.assemble_block(run.recordings.by_name(), annotations)
    sim.end()
    times = {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - started_cpu}
    return block, seeds.log, {name: round(value, 3) for name, value in times.items()}, sim


def run_script(script, backend_name, out_dir, seed=None, arguments=()):
    """Run the PyNN script ``script`` unchanged on ``backend_name``; write its recordings as
    ``<stem>.nix`` and a ``<stem>.summary.json`` into ``out_dir``. Returns the two paths.

    Everything given is checked before a simulator is imported.
    """
    script = checked_script(script)
    backends.simulator(backend_name)  # a known one
    seed = checked_seed(seed)
    out_dir = output.writable_directory(out_dir)
    block, seed_log, times, sim = simulate(script, backend_name, seed, list(arguments))
    if not sim.is_root:
        return ()
    from trisim.analysis.summary import summarize_populations
    stem = run_name(script.stem, backend_name, seed)
    summary = {
        "model": script.stem,
        "script": str(script),
        "backend": backend_name,
        "seed": seed,
        "seeds": seed_log,
        "duration_ms": _duration(block),
        "dt_ms": block.annotations["dt_ms"],
        "simulator_version": sim.simulator_version,
        "mpi_processes": block.annotations["mpi_processes"],
        "populations": (summarize_populations(block)
                        if any(group.spiketrains for group in block.groups) else {}),
        **times,
        "config": json.loads(block.annotations["config"]),
    }
    nix_path = output.write_block(block, Path(out_dir) / f"{stem}.nix")
    summary_path = output.write_json(summary, Path(out_dir) / f"{stem}.summary.json")
    return nix_path, summary_path


def _duration(block):
    """The longest recorded time span (ms) of the Block."""
    stops = [float(obj.t_stop.rescale("ms")) for segment in block.segments
             for obj in (*segment.spiketrains, *segment.analogsignals)]
    return max(stops, default=0.0)
