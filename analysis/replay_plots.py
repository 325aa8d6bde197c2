"""Figures of a replay analysis: events, place fields, decoded posteriors, peri-event rates.

Population activity with its events, place fields, example events with their decoded
posteriors, and peri-event rates per group of cells.

Like :mod:`trisim.analysis.plots`, figures are :class:`matplotlib.figure.Figure` objects saved
through the Agg renderer, never pyplot.
"""

import numpy as np
import quantities as pq
from matplotlib.figure import Figure

from trisim.analysis.plots import _save
from trisim.analysis.place_fields import field_properties, order_by_field_centre
from trisim.analysis.replay import decode_position
from trisim.analysis.checks import check_integer


def plot_population_events(zscore, events, path):
    """Save the z-scored population activity with the detected events shaded.

    Parameters
    ----------
    zscore : neo.AnalogSignal
        From :func:`trisim.analysis.replay.population_zscore`.
    events : neo.Epoch
        From :func:`trisim.analysis.replay.population_events` (its ``threshold`` and
        ``boundary`` annotations are drawn when present).
    path : str or pathlib.Path
        PNG file to write.

    Returns
    -------
    pathlib.Path
    """
    figure = Figure(figsize=(12, 3.5), layout="constrained")
    axes = figure.subplots()
    axes.plot(zscore.times.rescale(pq.s).magnitude, zscore.magnitude[:, 0], lw=0.5, color="k")
    for start, duration in zip(events.times.rescale(pq.s).magnitude,
                               events.durations.rescale(pq.s).magnitude):
        axes.axvspan(start, start + duration, color="C1", alpha=0.3, lw=0)
    for key, style in (("threshold", "--"), ("boundary", ":")):
        if key in events.annotations:
            axes.axhline(events.annotations[key], ls=style, color="C3", lw=0.8, label=key)
    axes.set_xlabel("time (s)")
    axes.set_ylabel("z-scored pooled rate")
    axes.set_title(f"Population activity and {len(events)} detected events "
                   f"({zscore.annotations.get('method', '')} rule)")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper right")
    return _save(figure, path)


def plot_place_fields(curves, path):
    """Save the tuning curves, each normalised to its peak, sorted by field centre.

    Parameters
    ----------
    curves : trisim.analysis.place_fields.TuningCurves
    path : str or pathlib.Path

    Returns
    -------
    pathlib.Path
    """
    order = order_by_field_centre(field_properties(curves)["centre"])
    rates = curves.rates.rescale(pq.Hz).magnitude[order]
    with np.errstate(invalid="ignore", divide="ignore"):
        normalised = rates / np.nanmax(rates, axis=1, keepdims=True)
    edges = curves.edges.rescale(pq.cm).magnitude
    figure = Figure(figsize=(6, 6), layout="constrained")
    axes = figure.subplots()
    image = axes.pcolormesh(edges, np.arange(len(order) + 1), normalised, cmap="viridis",
                            vmin=0, vmax=1)
    figure.colorbar(image, ax=axes, label="rate / peak rate")
    axes.invert_yaxis()
    axes.set_xlabel("position (cm)")
    axes.set_ylabel("cell (sorted by field centre)")
    axes.set_title(f"Place fields of {len(order)} cells")
    return _save(figure, path)


def plot_example_events(spiketrains, curves, events, path, n_examples=6):
    """Save the spikes and decoded posterior of the best-scoring events, with fitted lines.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        The cells of ``curves``.
    curves : trisim.analysis.place_fields.TuningCurves
    events : neo.Epoch
        Scored by :func:`trisim.analysis.replay.score_events`.
    path : str or pathlib.Path
    n_examples : int, optional
        Events shown, by decreasing line-fit score.

    Returns
    -------
    pathlib.Path
    """
    check_integer(n_examples, "n_examples", minimum=1)
    scores = np.nan_to_num(events.array_annotations["line_fit_score"], nan=-1.0)
    chosen = np.argsort(-scores, kind="stable")[:n_examples]
    figure = Figure(figsize=(2.6 * max(len(chosen), 1), 6), layout="constrained")
    if len(chosen) == 0:
        figure.text(0.5, 0.5, "no events", ha="center", va="center")
        return _save(figure, path)
    axes = figure.subplots(2, len(chosen), squeeze=False, sharey="row")
    rank = np.empty(len(spiketrains), dtype=int)
    rank[order_by_field_centre(field_properties(curves)["centre"])] = np.arange(len(spiketrains))
    bin_size = events.annotations["decoding_bin_ms"] * pq.ms
    for column, index in enumerate(chosen):
        _draw_event(axes[:, column], spiketrains, curves, events, index, rank, bin_size)
    axes[0, 0].set_ylabel("cell (field order)")
    axes[1, 0].set_ylabel("position (cm)")
    figure.suptitle("Best events by line-fit score: spikes, posterior and fitted line")
    return _save(figure, path)


def plot_peri_event(histograms, path):
    """Save the mean z-scored peri-event histogram of each group, with its standard error.

    Parameters
    ----------
    histograms : dict of str to neo.AnalogSignal
        Group name to :func:`trisim.analysis.replay.peri_event_histograms`.
    path : str or pathlib.Path

    Returns
    -------
    pathlib.Path
    """
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.subplots()
    for number, (name, signal) in enumerate(histograms.items()):
        values = signal.magnitude
        counted = np.sum(np.isfinite(values), axis=1)
        if values.shape[1] == 0 or not counted.any():
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nanmean(values, axis=1)
            sem = np.nanstd(values, axis=1) / np.sqrt(counted)
        times = signal.times.rescale(pq.s).magnitude
        axes.plot(times, mean, color=f"C{number}", label=f"{name} ({values.shape[1]} events)")
        axes.fill_between(times, mean - sem, mean + sem, color=f"C{number}", alpha=0.3, lw=0)
    axes.axvline(0, color="k", lw=0.5)
    axes.set_xlabel("time from event (s)")
    axes.set_ylabel("z-scored pooled count")
    axes.set_title("Peri-event activity per group (mean ± s.e.m.)")
    if axes.get_legend_handles_labels()[0]:
        axes.legend()
    return _save(figure, path)


def _draw_event(axes, spiketrains, curves, events, index, rank, bin_size):
    """Raster (cells in field order) above the posterior with its fitted line, for one event."""
    annotations = {key: values[index] for key, values in events.array_annotations.items()}
    start = events.times[index].rescale(pq.s)
    n_bins = int(annotations["n_time_bins"])
    stop = start + n_bins * bin_size.rescale(pq.s)
    raster, image = axes
    for cell, train in enumerate(spiketrains):
        times = train.time_slice(start, stop).times.rescale(pq.s) - start
        raster.plot(times.magnitude * 1000, np.full(len(times), rank[cell]), "|", color="k",
                    markersize=3)
    raster.set_ylim(len(spiketrains), -1)
    raster.set_title(f"event {index}\nr = {annotations['weighted_correlation']:.2f} "
                     f"(p = {annotations['weighted_correlation_p']:.3f})", fontsize=9)
    posterior = decode_position(spiketrains, curves, bin_size, start, stop)
    x = np.asarray(posterior.array_annotations["position_cm"])
    edges_t = np.arange(n_bins + 1) * bin_size.rescale(pq.ms).magnitude
    step = np.median(np.diff(x)) if x.size > 1 else 1.0
    image.pcolormesh(edges_t, np.append(x - step / 2, x[-1] + step / 2),
                     np.nan_to_num(posterior.magnitude.T), cmap="magma", vmin=0)
    line_t = edges_t[[0, -1]]
    line_x = annotations["line_fit_intercept_cm"] + annotations["line_fit_slope_cm_per_s"] * (
        line_t / 1000)
    image.plot(line_t, line_x, color="c", lw=1)
    image.set_ylim(x[0] - step / 2, x[-1] + step / 2)  # the line may run beyond the track
    image.set_xlabel("time in event (ms)")
    image.set_title(f"line fit {annotations['line_fit_score']:.2f} "
                    f"(p = {annotations['line_fit_p']:.3f})", fontsize=9)
    raster.set_xlim(image.get_xlim())
