"""Single cells as a circuit of their own, one population per f-I curve, and the ``fi`` experiment.

A model declares the ``fi`` experiment with it.

A model with single-cell curves (:class:`trisim.analysis.fi.FICurve`: f-I curves under constant
currents, f-f curves under Poisson afferents) declares a small companion model whose ``build``
is :func:`build` of its curves (e.g. ``wang_buzsaki_fi``: one uncoupled cell per drive), and
``EXPERIMENTS = {"fi": fi_experiment(...)}``. ``trisim experiment MODEL fi`` then runs the
companion once per backend (in its own process, through the batch layer like any run), takes
each curve's rates from the run file and compares them with the curve's targets:
``<model>_fi_<backend>.json`` and ``.png``.

Poisson afferents are drawn in numpy from the run's seed (:mod:`trisim.inputs`), so every
backend gets the same spikes.
"""

import json
from functools import lru_cache, partial

import numpy as np
import quantities as pq

from trisim import nestml
from trisim.analysis import fi
from trisim.analysis.summary import spiketrains_by_population
from trisim.config import Strict, quantity
from trisim.experiment import Experiment
from trisim.inputs import connect_trains, step_spike_times

#: Afferents of a group merged into one spike train (at most one spike per step and train;
#: at 10 Hz and 0.1 ms, 8 afferents lose 0.4% of their spikes to that).
AFFERENTS_PER_TRAIN = 8


class Parameters(Strict):
    """What a single-cell run needs besides its curves."""

    count_from: quantity("ms") = 500.0  # spikes before this time are left out of the rates


def build(sim, curves, simulation, rng):
    """One population per curve on ``sim``: one cell per current of an f-I curve, or
    ``cells_per_input`` cells per input rate of an f-f curve with its Poisson afferents.
    Returns the populations by curve label."""
    # NESTML types first: NEST loads their modules only into an empty network
    cell_types = {curve.cell: sim.nestml_cell_type(_cell_file(curve.cell)) for curve in curves}
    populations = {}
    for curve in curves:
        if curve.drive is None:
            parameters = dict(curve.parameters, I_e=np.asarray(curve.inputs) / 1000.0)  # nA
            size = len(curve.inputs)
        else:
            parameters, size = curve.parameters, len(curve.inputs) * curve.drive.cells_per_input
        population = sim.Population(size, cell_types[curve.cell](**parameters),
                                    label=curve.label)
        if curve.initial_values:
            population.initialize(**curve.initial_values)
        if curve.drive is not None:
            connect_drive(sim, curve, population, simulation.dt, simulation.duration, rng)
        populations[curve.label] = population
    return populations


def _cell_file(cell):
    """A curve's cell: one of trisim's NESTML neurons by name, or a .nestml path."""
    return cell if str(cell).endswith(".nestml") else nestml.path(cell)


def connect_drive(sim, curve, population, dt, duration, rng):
    """Poisson afferents of ``curve.drive`` onto ``population``, cell ``i`` at input
    ``curve.inputs[i // cells_per_input]``."""
    drive = curve.drive
    steps = int(round(duration / dt))
    cell_inputs = np.repeat(curve.inputs, drive.cells_per_input) / drive.afferents()  # Hz each
    for number, (count, weights) in enumerate(drive.groups):
        per_train = np.diff(np.linspace(0, count, -(-count // AFFERENTS_PER_TRAIN) + 1).round())
        trains, targets = [], []
        for cell, rate in enumerate(cell_inputs):
            for afferents in per_train:
                trains += step_spike_times(np.full(steps, rate * afferents), 1, dt, rng)
                targets.append(cell)
        connect_trains(sim, trains, population, targets, weights, dt,
                       f"{curve.label} afferents {number}")


def cell_rates(block):
    """Each cell's rate (Hz) from the run's ``count_from`` on, per population, with the run's
    time step and duration: the measure of a single-cell run."""
    config = json.loads(block.annotations["config"])
    count_from = Parameters(**config["parameters"]).count_from
    spiketrains = spiketrains_by_population(block)
    return {"dt_ms": float(block.annotations["dt_ms"]),
            "duration_ms": float(next(iter(spiketrains.values()))[0].t_stop.rescale(pq.ms)),
            "count_from_ms": count_from,
            "rates_hz": {label: fi.rates_in_window(trains, count_from * pq.ms).tolist()
                         for label, trains in spiketrains.items()}}


def fi_experiment(curves, setting, description):
    """The ``fi`` experiment of a model: its ``setting`` (the companion model's name, a config
    in the model's configs folder) on each backend; ``curves(duration, count_from)`` gives the
    curves with their targets for the run's protocol (the companion's ``build`` calls
    ``curves()``: the cells alone)."""
    return Experiment(description, report=partial(_report, lru_cache(None)(curves)),
                      runs=partial(_runs, setting), measure=cell_rates, lines=_lines)


def _runs(setting, request):
    return request.runs(request.model.setting(setting),
                        directory=request.out_dir / "runs" / request.experiment)


def _report(curves, request, results):
    """Per backend, each curve's rate per input against its targets: a table and a figure."""
    files = {}
    for result in results:
        measured, backend = result.measures, result.run.backend
        protocol = curves(measured["duration_ms"], measured["count_from_ms"])
        compared = {}
        for curve in protocol:
            cells = np.asarray(measured["rates_hz"][curve.label])
            compared[curve.label] = fi.compare(curve,
                                               cells.reshape(len(curve.inputs), -1).mean(axis=1))
        table = {"model": request.model.name, "backend": backend,
                 "dt_ms": measured["dt_ms"], "duration_ms": measured["duration_ms"],
                 "counted_from_ms": measured["count_from_ms"],
                 "curves": [{"label": curve.label, "cell": curve.cell, "source": curve.source,
                             "parameters": curve.parameters, "input": curve.input_key,
                             "points": compared[curve.label]} for curve in protocol]}
        stem = f"{request.model.name}_fi_{backend}"
        title = (f"{request.model.name} on {backend}: single cells, rate from "
                 f"{measured['count_from_ms']:g} to {measured['duration_ms']:g} ms")
        files[f"{stem}.json"] = table
        files[f"{stem}.png"] = partial(fi.plot_fi, compared, title)
    return files


def _lines(files):
    """Per backend and curve: the rates, the points within tolerance, the worst difference."""
    lines = []
    for table in files.values():
        if isinstance(table, dict):
            lines += [f"{table['backend']}: {line}" for line in summary_lines(table)]
    return lines


def summary_lines(table):
    """One line per curve: points within tolerance, and the worst relative difference."""
    lines = []
    for curve in table["curves"]:
        judged = [p for p in curve["points"] if p["target_hz"] is not None]
        rates = ", ".join(f"{p['rate_hz']:.3g}" for p in curve["points"])
        line = f"{curve['label']}: {rates} Hz"
        if judged:
            worst = max(judged, key=lambda p: abs(p["relative_difference"]))
            line += (f"; {sum(p['within_tolerance'] for p in judged)} of {len(judged)} within "
                     f"tolerance (worst {worst['relative_difference']:+.1%} at "
                     f"{worst[curve['input']]:g} {fi.INPUT_UNITS[curve['input']]})")
        lines.append(line)
    return lines
