"""``trisim fi``: a model's single-cell f-I curves on one backend, against their targets.

The model declares ``fi_curves()`` (a list of :class:`trisim.analysis.fi.FICurve`) and
``FI_SETTINGS`` (time step, duration and the time from which spikes are counted, in ms). Every
curve is one population of the curve's cell type, one cell per current, and all curves run in
one simulation. The rates and their targets go to ``<model>_fi_<backend>.json`` and
``<model>_fi_<backend>.png``.
"""

from pathlib import Path

import numpy as np
import quantities as pq

from .. import backends, nestml, output, pynn_models
from ..analysis import fi


def fi_model(model_name):
    """The model module, after checking that it declares f-I curves."""
    return pynn_models.get_providing(model_name, "fi_curves", "declares no f-I curves")


def simulate(curves, backend_name, dt, duration, count_from):
    """Rates (Hz, counted from ``count_from`` ms) of every curve's cells, ``{label: array}``."""
    sim = backends.load(backend_name)
    sim.setup(dt, seed=1)
    # NESTML types first: NEST loads their modules only into an empty network
    cell_types = {curve.cell: sim.nestml_cell_type(nestml.path(curve.cell)) for curve in curves}
    populations = {}
    for curve in curves:
        parameters = dict(curve.parameters, I_e=np.asarray(curve.currents_pa) / 1000.0)  # nA
        population = sim.Population(len(curve.currents_pa), cell_types[curve.cell](**parameters),
                                     label=curve.label)
        if curve.initial_values:
            population.initialize(**curve.initial_values)
        population.record("spikes")
        populations[curve.label] = population
    sim.run(duration)
    rates = {label: fi.rates_in_window(population.get_data().segments[0].spiketrains,
                                       count_from * pq.ms)
             for label, population in populations.items()}
    sim.end()
    return rates


def run(model_name, backend_name, out_dir):
    """Simulate the model's f-I curves on one backend; write the JSON table and the figure.

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
                         "parameters": curve.parameters, "points": results[curve.label]}
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
                     f"{worst['current_pa']:g} pA)")
        lines.append(line)
    return lines
