"""Seed 001's published experiments on its three settings (``trisim experiment cb1_v1 NAME``).

Any of the three settings' names names the circuit.

Each experiment runs every setting x backend x seed as one run of the batch layer, measures
each run (:func:`trisim.pynn_models.cb1.measures.measure_run`, kept beside it with the figure
data of :func:`~trisim.pynn_models.cb1.measures.display_data`), and writes
``cb1_<experiment>.json`` (every run's measures, their mean and s.d. per setting and backend
against the published values, and whether the published ordering holds) and its figures. Runs
go to ``OUT/runs/<experiment>/``; an interrupted experiment resumes where it stopped.

``spontaneous`` (3 s without input: rates, L4 mean Vm), ``time-varying`` (30 s of random input
events: the same, and the L2/3 STTC), ``gain`` (40 pulses from 0 to 8 Hz: input-output curves
and relative gain), ``scan`` (input seeds x event amplitudes, settings compared run by run with
paired t-tests, as the published seed scan) and ``summary`` (the published summary figure from
the experiments already in OUT).
"""

import json
from functools import partial
from typing import Annotated

import numpy as np
from pydantic import BeforeValidator, Field

from trisim.config import Strict, comma_separated
from trisim.errors import InputFileError
from trisim.experiment import Experiment
from trisim.pynn_models.cb1 import measures

SPONTANEOUS_MEASURES = ("rate_L23Exc", "rate_PvInh", "rate_CB1Inh", "rate_L4Exc", "vm_L4Exc")
GAIN_MEASURES = ("relative_gain", "gain_max_L4Exc", "gain_max_L23Exc")

#: name: (input protocol, duration in ms or None for the protocol's own, measures summarised)
PROTOCOLS = {
    "spontaneous": ("none", 3000.0, SPONTANEOUS_MEASURES),
    "time-varying": ("events", 30000.0, SPONTANEOUS_MEASURES + ("sttc_L23Exc",)),
    "gain": ("gain", None, GAIN_MEASURES),
}
#: The published seed scan: input seeds 20-39, largest event amplitudes 3-5 Hz.
SCAN_INPUT_SEEDS = tuple(range(20, 40))
SCAN_AMPLITUDES = tuple(float(a) for a in np.round(np.linspace(3.0, 5.0, 7), 3))


def _seeds(value):
    """``"20-39"``, ``"20,21,25"``, an int or a list, as a list of ints."""
    if isinstance(value, str):
        try:
            seeds = []
            for part in value.split(","):
                first, _, last = part.strip().partition("-")
                seeds += list(range(int(first), int(last or first) + 1))
            return seeds
        except ValueError:
            raise ValueError(f"{value!r}: expected e.g. 20-39 or 20,21,25") from None
    return [value] if isinstance(value, int) else value


def _numbers(value):
    """``"3,4.5"``, a number or a list, as a list of numbers."""
    return [value] if isinstance(value, (int, float)) else comma_separated(value)


class Options(Strict):
    """Options of every experiment of seed 001."""

    settings: Annotated[list[str], BeforeValidator(comma_separated), Field(min_length=1)] = Field(
        list(measures.SETTINGS), description="settings compared, e.g. cb1_v1,cb1_v2m")


class ScanOptions(Options):
    """Options of the seed scan."""

    input_seeds: Annotated[list[int], BeforeValidator(_seeds), Field(min_length=1)] = Field(
        list(SCAN_INPUT_SEEDS), description="input seeds, e.g. 20-39 or 20,21 (published)")
    amplitudes: Annotated[list[float], BeforeValidator(_numbers), Field(min_length=1)] = Field(
        list(SCAN_AMPLITUDES), description="largest event amplitudes in Hz (published 3-5)")


def _settings(request):
    """The models of the settings asked for: configs beside the requested model's."""
    return [request.model.setting(name) for name in request.options.settings]


def _gain_duration(setting, overrides):
    """The gain protocol's duration: the last pulse plus three widths (as published)."""
    p = setting.config(None, overrides).parameters
    return p.gain_start + (p.gain_pulses - 1) * p.gain_period + 3 * p.event_width


def protocol_runs(name, request):
    """Every setting x backend x seed of experiment ``name``, with its input protocol."""
    protocol, default_duration, _ = PROTOCOLS[name]
    settings = _settings(request)
    overrides = (f"input={protocol}",)
    duration = (request.duration or default_duration
                or _gain_duration(settings[0], (*request.overrides, *overrides)))
    return [run for setting in settings for run in request.runs(setting, overrides, duration)]


def protocol_report(name, request, results):
    """The table of experiment ``name`` (measures, their summary, the published ordering) and
    its figures."""
    protocol, _, names = PROTOCOLS[name]
    runs = [result.measures for result in results]
    table = {"experiment": name, "settings": list(request.options.settings),
             "backends": list(request.backends),
             "seeds": sorted({result.run.seed for result in results}),
             "scale": runs[0]["scale"], "duration_ms": results[0].run.duration,
             "overrides": [*request.overrides, f"input={protocol}"],
             "runs": [_without_config(run) for run in runs]}
    table["summary"] = measures.summarize(runs, names)
    table["ordering"] = measures.ordering(table["summary"])
    return _files(table, results)


def scan_runs(request):
    """30 s of input events for every input seed x largest event amplitude x setting."""
    options = request.options
    settings = _settings(request)
    duration = request.duration or PROTOCOLS["time-varying"][1]
    runs = []
    for input_seed in options.input_seeds:
        for amplitude in options.amplitudes:
            values = ("input=events", f"input_seed={int(input_seed)}",
                      f"event_max={float(amplitude):g} Hz")
            directory = (request.out_dir / "runs" / "scan"
                         / f"input{int(input_seed)}_max{amplitude:g}Hz")
            for setting in settings:
                runs += request.runs(setting, values, duration, directory)
    return runs


def scan_report(request, results):
    """The seed scan's table: the L2/3 STTC of the settings compared with paired t-tests per
    amplitude."""
    runs = [result.measures for result in results]
    table = {"experiment": "scan", "settings": list(request.options.settings),
             "backends": list(request.backends),
             "input_seeds": [int(seed) for seed in request.options.input_seeds],
             "amplitudes_hz": [float(a) for a in request.options.amplitudes],
             "scale": runs[0]["scale"], "duration_ms": results[0].run.duration,
             "overrides": list(request.overrides),
             "runs": [_without_config(run) for run in runs]}
    table["paired_tests"] = measures.paired_tests(runs, "sttc_L23Exc")
    return _files(table, results)


def summary_report(request, results):
    """The published summary figure from the experiment tables in the output directory."""
    tables = {}
    for name in (*PROTOCOLS, "scan"):
        path = request.out_dir / f"{_stem(name)}.json"
        if path.is_file():
            tables[name] = json.loads(path.read_text())
    if not tables:
        raise InputFileError(f"{request.out_dir}: no cb1_<experiment>.json; run an experiment "
                             "first")
    from trisim.pynn_models.cb1 import plots  # matplotlib: imported when drawing
    return {"cb1_summary.png": partial(plots.plot_summary, tables)}


def _stem(name):
    return f"cb1_{name.replace('-', '_')}"


def _files(table, results):
    """The experiment's JSON, its figures and, but for the scan, one raster figure per
    backend (the first seed of each setting)."""
    from trisim.pynn_models.cb1 import plots  # matplotlib: imported when drawing
    stem = _stem(table["experiment"])
    files = {f"{stem}.json": table}
    for suffix, draw in plots.experiment_figures(table).items():
        files[f"{stem}{suffix}.png"] = draw
    if table["experiment"] != "scan":
        for backend in table["backends"]:
            displays = {}
            for result in results:
                if result.run.backend == backend and result.run.model.name not in displays:
                    displays[result.run.model.name] = result.arrays()
            files[f"{stem}_raster_{backend}.png"] = partial(plots.plot_rasters, displays, table,
                                                            backend)
    return files


def _without_config(run):
    return {key: value for key, value in run.items() if key != "config"}


def _protocol(name, description):
    return Experiment(description, report=partial(protocol_report, name),
                      runs=partial(protocol_runs, name), measure=measures.measure_run,
                      keep=measures.display_data, options=Options)


EXPERIMENTS = {
    "spontaneous": _protocol("spontaneous", "3 s without input: rates and L4 mean Vm over "
                             "200-3000 ms"),
    "time-varying": _protocol("time-varying", "30 s of random input events onto L4: the "
                              "same, and the STTC of L2/3 pairs"),
    "gain": _protocol("gain", "40 pulses from 0 to 8 Hz: L4 and L2/3 input-output curves, "
                      "relative gain"),
    "scan": Experiment("time-varying for input seeds x largest event amplitudes (NEST by "
                       "default): STTC per setting, paired t-tests between settings",
                       report=scan_report, runs=scan_runs, measure=measures.measure_run,
                       options=ScanOptions, backends=("nest",)),
    "summary": Experiment("the published summary figure from the experiments already in OUT",
                          report=summary_report),
}
