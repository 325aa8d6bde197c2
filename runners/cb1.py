"""``trisim cb1``: the published experiments of seed 001 on its three settings.

Each experiment runs every setting x backend x seed as one ``trisim run`` in its own process
(NEST and NEURON keep global state), measures each run in a worker process
(:func:`trisim.pynn_models.cb1_measures.measure_run`), and writes ``OUT/cb1_<experiment>.json`` (every run's
measures, their mean and s.d. per setting and backend against the published values, and
whether the published ordering holds) and its figures. Runs go to ``OUT/runs/``; a run whose
measures are already there with the same resolved config is reused, so an interrupted
experiment resumes where it stopped.

Experiments (:data:`EXPERIMENTS`): ``spontaneous`` (3 s without input: rates, L4 mean Vm),
``time-varying`` (30 s of random input events: the same, and the L2/3 STTC), ``gain`` (40
pulses from 0 to 8 Hz: input-output curves and relative gain) and :func:`scan` (input seeds x
event amplitudes, settings compared run by run with paired t-tests, as the published seed
scan). :func:`summary` draws the published summary figure from the experiments in a directory.
"""

import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trisim import output
from trisim.pynn_models.cb1 import measures as measures_module
from trisim.backends import BACKENDS
from trisim.errors import BackendError, ConfigError, InputFileError, unknown_name
from trisim.runners.process import run_command
from trisim.runners.run import output_stem, resolve_config

SPONTANEOUS_MEASURES = ("rate_L23Exc", "rate_PvInh", "rate_CB1Inh", "rate_L4Exc", "vm_L4Exc")
GAIN_MEASURES = ("relative_gain", "gain_max_L4Exc", "gain_max_L23Exc")

#: name: (input protocol, duration in ms or None for the protocol's own, measures summarised)
EXPERIMENTS = {
    "spontaneous": ("none", 3000.0, SPONTANEOUS_MEASURES),
    "time-varying": ("events", 30000.0, SPONTANEOUS_MEASURES + ("sttc_L23Exc",)),
    "gain": ("gain", None, GAIN_MEASURES),
}
#: The published seed scan: input seeds 20-39, largest event amplitudes 3-5 Hz.
SCAN_INPUT_SEEDS = tuple(range(20, 40))
SCAN_AMPLITUDES = tuple(np.round(np.linspace(3.0, 5.0, 7), 3))


@dataclass
class RunSpec:
    """One setting x backend x seed (x input values) and where it goes."""

    setting: str
    backend: str
    seed: int
    overrides: tuple
    directory: Path
    config: dict = field(default=None, repr=False)

    @property
    def stem(self):
        return self.directory / output_stem(self.setting, self.backend, self.seed)


def experiment(name, settings=measures_module.SETTINGS, backends=("nest", "neuron", "brian2"),
               n_seeds=1, out_dir="out/cb1", overrides=(), scale=None, duration=None, jobs=1,
               progress=None):
    """Run experiment ``name`` (see :data:`EXPERIMENTS`); return the paths written.

    ``progress(done, total)``, if given, is called as runs finish.
    """
    if name not in EXPERIMENTS:
        raise unknown_name("experiment", name, EXPERIMENTS)
    protocol, default_duration, names = EXPERIMENTS[name]
    settings, backends = _checked_names(settings, backends)
    _check_positive_int(n_seeds, "seeds")
    overrides = (*overrides, f"input={protocol}")
    duration = duration or default_duration or _gain_duration(settings[0], overrides)
    out_dir = output.writable_directory(out_dir)
    specs = []
    for setting in settings:
        first_seed = resolve_config(setting, None, overrides, None, scale, duration)[1] \
            .simulation.seed
        specs += [RunSpec(setting, backend, first_seed + offset, tuple(overrides),
                          out_dir / "runs" / name)
                  for backend in backends for offset in range(n_seeds)]
    runs = execute(specs, scale, duration, jobs, progress)
    table = {"experiment": name, "settings": list(settings), "backends": list(backends),
             "seeds": sorted({spec.seed for spec in specs}), "scale": runs[0]["scale"],
             "duration_ms": duration, "overrides": list(overrides),
             "runs": [_without_config(run) for run in runs]}
    table["summary"] = measures_module.summarize(runs, names)
    table["ordering"] = measures_module.ordering(table["summary"])
    return _write_experiment(table, specs, out_dir)


def scan(settings=measures_module.SETTINGS, backends=("nest",), input_seeds=SCAN_INPUT_SEEDS,
         amplitudes=SCAN_AMPLITUDES, out_dir="out/cb1", overrides=(), scale=None,
         duration=None, jobs=1, progress=None):
    """The published seed scan: 30 s of input events for every input seed x largest event
    amplitude x setting (one network seed); the L2/3 STTC of the settings compared with paired
    t-tests per amplitude. Returns the paths written."""
    settings, backends = _checked_names(settings, backends)
    if not input_seeds or not amplitudes:
        raise ConfigError("scan: needs at least one input seed and one amplitude")
    duration = duration or EXPERIMENTS["time-varying"][1]
    out_dir = output.writable_directory(out_dir)
    specs = []
    for input_seed in input_seeds:
        for amplitude in amplitudes:
            values = (*overrides, "input=events", f"input_seed={int(input_seed)}",
                      f"event_max={float(amplitude):g} Hz")
            directory = out_dir / "runs" / "scan" / f"input{int(input_seed)}_max{amplitude:g}Hz"
            for setting in settings:
                seed = resolve_config(setting, None, values, None, scale, duration)[1] \
                    .simulation.seed
                specs += [RunSpec(setting, backend, seed, values, directory)
                          for backend in backends]
    runs = execute(specs, scale, duration, jobs, progress)
    table = {"experiment": "scan", "settings": list(settings), "backends": list(backends),
             "input_seeds": [int(s) for s in input_seeds],
             "amplitudes_hz": [float(a) for a in amplitudes], "scale": runs[0]["scale"],
             "duration_ms": duration, "overrides": list(overrides),
             "runs": [_without_config(run) for run in runs]}
    table["paired_tests"] = measures_module.paired_tests(runs, "sttc_L23Exc")
    return _write_experiment(table, specs, out_dir)


def summary(out_dir="out/cb1"):
    """The published summary figure from the experiments found in ``out_dir``."""
    from trisim.pynn_models.cb1 import plots as cb1_plots
    out_dir = Path(out_dir)
    tables = {}
    for name in (*EXPERIMENTS, "scan"):
        path = out_dir / f"cb1_{name}.json"
        if path.is_file():
            tables[name] = json.loads(path.read_text())
    if not tables:
        raise InputFileError(f"{out_dir}: no cb1_<experiment>.json; run an experiment first")
    path = out_dir / "cb1_summary.png"
    return [output.write_atomically(path, lambda tmp: cb1_plots.plot_summary(tables, tmp))]


def execute(specs, scale, duration, jobs, progress=None):
    """Measures of every run in ``specs``: reused, measured from its file, or simulated first.

    Everything is checked before the first simulation: each run's resolved config is computed
    up front (an unknown key or bad value fails here).
    """
    _check_positive_int(jobs, "jobs")
    for spec in specs:
        if spec.backend not in BACKENDS:
            raise unknown_name("backend", spec.backend, BACKENDS)
        spec.config = resolve_config(spec.setting, None, spec.overrides, spec.seed, scale,
                                     duration)[1].as_dict()
        spec.directory.mkdir(parents=True, exist_ok=True)
    done = [0]
    context = multiprocessing.get_context("spawn")  # a fork would copy simulator state
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as measurers, \
            ThreadPoolExecutor(max_workers=jobs) as pool:
        def one(spec):
            result = _reused(spec)
            if result is None:
                _simulate(spec, scale, duration)
                result = measurers.submit(measure_file, str(spec.stem) + ".nix").result()
                if result["config"] != spec.config:
                    raise BackendError(f"{spec.stem}.nix: the run did not record the "
                                       "requested config")
            done[0] += 1
            if progress:
                progress(done[0], len(specs))
            return result
        return list(pool.map(one, specs))


def measure_file(nix_path):
    """Measure one run file and keep its measures (``.cb1.json``) and figure data
    (``.display.npz``) beside it; return the measures."""
    block = output.read_block(nix_path)
    result = measures_module.measure_run(block)
    data = measures_module.display_data(block)
    stem = Path(nix_path).with_suffix("")
    output.write_atomically(stem.with_suffix(".display.npz"), lambda tmp: np.savez(tmp, **data))
    output.write_json(result, stem.with_suffix(".cb1.json"))
    return result


def _reused(spec):
    """The kept measures of ``spec``'s run if they were taken with its config, else None."""
    path = Path(str(spec.stem) + ".cb1.json")
    if path.is_file() and Path(str(spec.stem) + ".display.npz").is_file():
        kept = json.loads(path.read_text())
        if kept.get("config") == spec.config:
            return kept
    return None


def _simulate(spec, scale, duration):
    """``trisim run`` of one spec in a fresh interpreter."""
    command = [sys.executable, "-m", "trisim.cli", "run", spec.setting, "--backend",
               spec.backend, "--seed", str(spec.seed), "--out", str(spec.directory),
               "--duration", repr(float(duration))]
    for override in spec.overrides:
        command += ["--set", override]
    if scale is not None:
        command += ["--scale", repr(float(scale))]
    run_command(command, f"{spec.setting} on {spec.backend} seed {spec.seed}")


def _write_experiment(table, specs, out_dir):
    """The experiment's JSON and figures; returns their paths."""
    from trisim.pynn_models.cb1 import plots as cb1_plots
    name = table["experiment"].replace("-", "_")
    paths = [output.write_json(table, out_dir / f"cb1_{name}.json")]
    figures = cb1_plots.experiment_figures(table)
    for suffix, draw in figures.items():
        paths.append(output.write_atomically(out_dir / f"cb1_{name}{suffix}.png", draw))
    if table["experiment"] != "scan":
        for backend in table["backends"]:
            displays = {}  # the first seed of each setting
            for spec in specs:
                if spec.backend == backend and spec.setting not in displays:
                    displays[spec.setting] = dict(np.load(str(spec.stem) + ".display.npz"))
            paths.append(output.write_atomically(
                out_dir / f"cb1_{name}_raster_{backend}.png",
                lambda tmp: cb1_plots.plot_rasters(displays, table, backend, tmp)))
    return paths


def _gain_duration(setting, overrides):
    """The gain protocol's duration: the last pulse plus three widths (as published)."""
    parameters = resolve_config(setting, None, overrides)[1].parameters
    return (parameters.gain_start + (parameters.gain_pulses - 1) * parameters.gain_period
            + 3 * parameters.event_width)


def _without_config(run):
    return {key: value for key, value in run.items() if key != "config"}


def _checked_names(settings, backends):
    settings = _split(settings)
    backends = _split(backends)
    for setting in settings:
        if setting not in measures_module.SETTINGS:
            raise unknown_name("setting", setting, measures_module.SETTINGS)
    for backend in backends:
        if backend not in BACKENDS:
            raise unknown_name("backend", backend, BACKENDS)
    if not settings or not backends:
        raise ConfigError("at least one setting and one backend are needed")
    return settings, backends


def _split(names):
    if isinstance(names, str):
        names = [name.strip() for name in names.split(",") if name.strip()]
    return list(dict.fromkeys(names))


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name}: {value!r}; must be a positive integer")


def parse_seeds(text):
    """``"20-39"`` or ``"20,21,25"`` as a list of ints."""
    try:
        seeds = []
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            seeds += list(range(int(first), int(last or first) + 1))
        return seeds
    except ValueError:
        raise ConfigError(f"--input-seeds {text!r}: expected e.g. 20-39 or 20,21,25") from None


def parse_amplitudes(text):
    """``"3,4,5"`` (Hz) as a list of floats."""
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--amplitudes {text!r}: expected values in Hz, e.g. 3,4,5") from None
