"""``trisim fi``: a model's single-cell input-output curves on one backend, against targets.

The model declares ``fi_curves()`` (a list of :class:`trisim.analysis.fi.FICurve`) and
``FI_SETTINGS`` (time step, duration and the time from which spikes are counted, in ms). Every
curve is one population of the curve's cell type: one cell per current for an f-I curve,
``cells_per_input`` cells per input rate for an f-f curve, whose Poisson afferents are drawn in
numpy from one seed (``trisim.inputs``), so every backend gets the same spikes. All curves run
in one simulation. The rates and their targets go to ``<model>_fi_<backend>.json`` and
``<model>_fi_<backend>.png``.
"""

from pathlib import Path

import numpy as np
import quantities as pq

from trisim import backends, nestml, output
from trisim import model as models
from trisim.analysis import fi
from trisim.errors import ConfigError
from trisim.inputs import connect_trains, step_spike_times

#: Afferents of a group merged into one spike train (at most one spike per step and train;
#: at 10 Hz and 0.1 ms, 8 afferents lose 0.4% of their spikes to that).
AFFERENTS_PER_TRAIN = 8


def fi_model(model_name):
    """The model module, after checking that it declares f-I curves."""
    model = models.load(model_name)
    if not hasattr(model.module, "fi_curves"):
        raise ConfigError(f"model {model.name!r} declares no f-I curves")
    return model.module


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


def simulate(curves, backend_name, dt, duration, count_from):
    """Rates (Hz, counted from ``count_from`` ms) of every curve, one per input, ``{label:
    array}``."""
    sim = backends.load(backend_name)
    sim.setup(dt, seed=1)
    rng = np.random.default_rng(1)
    # NESTML types first: NEST loads their modules only into an empty network
    cell_types = {curve.cell: sim.nestml_cell_type(nestml.path(curve.cell)) for curve in curves}
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
            connect_drive(sim, curve, population, dt, duration, rng)
        population.record("spikes")
        populations[curve.label] = population
    sim.run(duration)
    rates = {}
    for curve in curves:
        cells = fi.rates_in_window(populations[curve.label].get_data().segments[0].spiketrains,
                                   count_from * pq.ms)
        rates[curve.label] = cells.reshape(len(curve.inputs), -1).mean(axis=1)
    sim.end()
    return rates


def run(model_name, backend_name, out_dir):
    """Simulate the model's input-output curves on one backend; write the JSON table and the figure.

    Returns the two paths and the table.
    """
    model = fi_model(model_name)
    backends.load(backend_name)  # an unknown backend fails before the curves are computed
    out_dir = output.writable_directory(out_dir)
    settings = model.FI_SETTINGS
    curves = model.fi_curves()
    rates = simulate(curves, backend_name, settings["dt"], settings["duration"],
                     settings["count_from"])
    results = {curve.label: fi.compare(curve, rates[curve.label]) for curve in curves}
    table = {"model": model_name, "backend": backend_name,
             "dt_ms": settings["dt"], "duration_ms": settings["duration"],
             "counted_from_ms": settings["count_from"],
             "curves": [{"label": curve.label, "cell": curve.cell, "source": curve.source,
                         "parameters": curve.parameters, "input": curve.input_key,
                         "points": results[curve.label]}
                        for curve in curves]}
    stem = f"{model_name}_fi_{backend_name}"
    title = (f"{model_name} on {backend_name}: single cells, rate from "
             f"{settings['count_from']:g} to {settings['duration']:g} ms")
    return (output.write_json(table, Path(out_dir) / f"{stem}.json"),
            output.write_atomically(Path(out_dir) / f"{stem}.png",
                                    lambda tmp: fi.plot_fi(results, title, tmp)),
            table)


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
