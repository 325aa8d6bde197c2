"""Figures of one run: a spike raster over the population rates, and the firing-rate distributions.

Figures are :class:`matplotlib.figure.Figure` objects saved through the Agg renderer, so nothing
here touches pyplot or the caller's matplotlib backend.
"""

from pathlib import Path

import numpy as np
import quantities as pq
from matplotlib.figure import Figure

from trisim.analysis.checks import check_integer, check_positive_quantity
from trisim.analysis.statistics import firing_rates, population_rate
from trisim.analysis.summary import spiketrains_by_population
from trisim.errors import OutputError


def plot_raster_with_rate(block, path, max_cells_per_population=200, bin_size=5 * pq.ms):
    """Save a spike raster, one colour per population, above the population rates.

    Parameters
    ----------
    block : neo.Block
    path : str or pathlib.Path
        PNG file to write.
    max_cells_per_population : int, optional
        Only the first cells of each population are drawn, to keep the raster readable.
    bin_size : pq.Quantity, optional
        Bin of the population rates.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    check_integer(max_cells_per_population, "max_cells_per_population", minimum=1)
    check_positive_quantity(bin_size, "bin_size", pq.ms)
    populations = spiketrains_by_population(block)
    figure = Figure(figsize=(10, 7), layout="constrained")
    raster, rate_axes = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    first_row = 0
    for number, (name, spiketrains) in enumerate(populations.items()):
        colour = f"C{number}"
        shown = spiketrains[:max_cells_per_population]
        times = np.concatenate([train.times.rescale(pq.ms).magnitude for train in shown])
        rows = np.concatenate([np.full(len(train), first_row + row)
                               for row, train in enumerate(shown)])
        raster.plot(times, rows, "|", color=colour, markersize=3, label=name)
        first_row += len(shown)
        rate = population_rate(spiketrains, bin_size)
        bin_edges = np.append(rate.times.rescale(pq.ms).magnitude,
                              rate.t_stop.rescale(pq.ms).magnitude)
        rate_axes.stairs(rate.magnitude.ravel(), bin_edges, color=colour, label=name)
    raster.set_ylim(-0.5, first_row - 0.5)
    raster.set_ylabel("cell")
    raster.set_title(f"Spikes of the first {max_cells_per_population} cells (at most) of each "
                     "population")
    raster.legend(loc="upper right", markerscale=4)
    rate_axes.set_xlabel("time (ms)")
    rate_axes.set_ylabel("rate (Hz)")
    rate_axes.set_title(f"Population rate ({bin_size.rescale(pq.ms).item():g} ms bins)")
    return _save(figure, path)


def plot_rate_histogram(block, path):
    """Save the distribution of per-cell firing rates, one panel per population.

    Parameters
    ----------
    block : neo.Block
    path : str or pathlib.Path
        PNG file to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    rates = {name: firing_rates(spiketrains).magnitude
             for name, spiketrains in spiketrains_by_population(block).items()}
    # Common bins, so the populations can be compared panel to panel.
    edges = np.histogram_bin_edges(np.concatenate(list(rates.values())), bins="auto")
    figure = Figure(figsize=(7, 2.5 * len(rates) + 0.5), layout="constrained")
    axes = figure.subplots(len(rates), 1, sharex=True, squeeze=False)[:, 0]
    for number, (panel, (name, population_rates)) in enumerate(zip(axes, rates.items())):
        panel.hist(population_rates, bins=edges, color=f"C{number}")
        panel.set_ylabel("cells")
        panel.set_title(f"{name}: {population_rates.size} cells, mean "
                        f"{population_rates.mean():.2f} Hz")
    axes[-1].set_xlabel("firing rate (Hz)")
    figure.suptitle("Firing rates of single cells")
    return _save(figure, path)


def _save(figure, path):
    """Write ``figure`` as a PNG at ``path`` and return the path."""
    path = Path(path)
    try:
        figure.savefig(path, format="png", dpi=100)
    except OSError as error:
        raise OutputError(f"cannot write figure {path}: {error}") from error
    return path
