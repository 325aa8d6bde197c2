"""Place fields: occupancy-normalised, smoothed spatial tuning curves from Neo spike trains.

The animal's position is a one-channel :class:`neo.AnalogSignal` or
:class:`neo.IrregularlySampledSignal` in units of length (trisim's convention: a signal named
``"position"`` in cm in the run's Segment). Only the time the animal runs at ``min_speed`` or
faster counts, for spikes and for occupancy alike, so that spikes fired while resting (replay)
do not enter the fields.
"""

from typing import NamedTuple

import neo
import numpy as np
import quantities as pq
from scipy.ndimage import gaussian_filter1d

from trisim.analysis.checks import check_positive_quantity, checked_spiketrains


class TuningCurves(NamedTuple):
    """Spatial tuning curves of a list of cells.

    Attributes
    ----------
    rates : pq.Quantity
        ``(n_cells, n_bins)`` firing rates in Hz; NaN where the animal never ran.
    edges : pq.Quantity
        ``n_bins + 1`` bin edges, in cm.
    occupancy : pq.Quantity
        Running time spent in each bin, in s (not smoothed).
    """

    rates: pq.Quantity
    edges: pq.Quantity
    occupancy: pq.Quantity

    @property
    def centres(self):
        """Bin centres, in cm."""
        return (self.edges[:-1] + self.edges[1:]) / 2


def position_at(position, times):
    """Position of the animal at ``times``, linearly interpolated.

    Parameters
    ----------
    position : neo.AnalogSignal or neo.IrregularlySampledSignal
        One channel, in units of length.
    times : pq.Quantity
        Times within the signal's span (outside it, the first or last sample is returned).

    Returns
    -------
    pq.Quantity
        Positions in cm, one per time.
    """
    position = _checked_position(position)
    return np.interp(times.rescale(pq.s).magnitude, position.times.rescale(pq.s).magnitude,
                     position.rescale(pq.cm).magnitude[:, 0]) * pq.cm


def running_speed(position):
    """Absolute running speed at each sample of ``position`` (central differences).

    Parameters
    ----------
    position : neo.AnalogSignal or neo.IrregularlySampledSignal

    Returns
    -------
    neo.AnalogSignal or neo.IrregularlySampledSignal
        Same type and times as ``position``, in cm/s, named ``"speed"``.
    """
    position = _checked_position(position)
    times = position.times.rescale(pq.s).magnitude
    speed = np.abs(np.gradient(position.rescale(pq.cm).magnitude[:, 0], times))
    return type(position)(**_signal_arguments(position, speed[:, np.newaxis] * pq.cm / pq.s,
                                              "speed"))


def tuning_curves(spiketrains, position, bin_size=4 * pq.cm, sigma=4 * pq.cm,
                  min_speed=5 * pq.cm / pq.s, track=None):
    """Occupancy-normalised, Gaussian-smoothed firing rate of each cell along the track.

    Spike counts and running time per spatial bin are smoothed with the same Gaussian, then
    divided; bins the animal never ran through are NaN.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        Spikes outside the position signal's time span are ignored.
    position : neo.AnalogSignal or neo.IrregularlySampledSignal
    bin_size : pq.Quantity, optional
    sigma : pq.Quantity, optional
        Standard deviation of the smoothing Gaussian; 0 for none.
    min_speed : pq.Quantity, optional
        Samples and spikes at a lower running speed are left out.
    track : tuple of pq.Quantity, optional
        ``(start, end)`` of the track; by default the range of ``position``.

    Returns
    -------
    TuningCurves

    Examples
    --------
    >>> import neo, numpy as np, quantities as pq
    >>> position = neo.AnalogSignal(np.linspace(0, 100, 101)[:, None], units="cm",
    ...                             sampling_period=0.1 * pq.s)   # 10 cm/s over 10 s
    >>> train = neo.SpikeTrain([2.0, 2.05, 2.1] * pq.s, t_stop=10 * pq.s)
    >>> curves = tuning_curves([train], position, bin_size=10 * pq.cm, sigma=0 * pq.cm)
    >>> curves.rates[0].magnitude.round(1).tolist()
    [0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    spiketrains = checked_spiketrains(spiketrains)
    position = _checked_position(position)
    check_positive_quantity(bin_size, "bin_size", pq.cm)
    check_positive_quantity(min_speed, "min_speed", pq.cm / pq.s)
    edges = _bin_edges(position, bin_size, track)
    t = position.times.rescale(pq.s).magnitude
    x = position.rescale(pq.cm).magnitude[:, 0]
    speed = running_speed(position).magnitude[:, 0]
    threshold = float(min_speed.rescale(pq.cm / pq.s))
    running = speed >= threshold
    occupancy = np.histogram(x[running], edges, weights=np.gradient(t)[running])[0]
    counts = np.array([_running_spike_counts(train.times.rescale(pq.s).magnitude, t, x, speed,
                                             threshold, edges) for train in spiketrains])
    width = float(sigma.rescale(pq.cm)) / float(bin_size.rescale(pq.cm))
    smoothed_time = _smooth(occupancy, width)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(occupancy > 0, _smooth(counts, width) / smoothed_time, np.nan)
    return TuningCurves(rates * pq.Hz, edges * pq.cm, occupancy * pq.s)


def spatial_information(curves):
    """Skaggs information rate of each cell, in bits per spike.

    ``sum_i p_i (r_i / r) log2(r_i / r)`` over the visited bins ``i``, with ``p_i`` the fraction
    of running time spent in bin ``i`` and ``r = sum_i p_i r_i`` the mean rate.

    Parameters
    ----------
    curves : TuningCurves

    Returns
    -------
    np.ndarray
        One value per cell; NaN for a cell that never fired while running.
    """
    visited = curves.occupancy.magnitude > 0
    p = curves.occupancy.magnitude[visited] / curves.occupancy.magnitude[visited].sum()
    rates = curves.rates.rescale(pq.Hz).magnitude[:, visited]
    mean = rates @ p
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = rates / mean[:, np.newaxis]
        terms = np.where(ratio > 0, ratio * np.log2(ratio), 0.0)
    return np.where(mean > 0, terms @ p, np.nan)


def field_properties(curves, threshold=0.2):
    """Peak, centre and size of each cell's main place field, and its spatial information.

    The main field is the contiguous run of bins around the rate peak where the rate is at least
    ``threshold`` times the peak; its centre is the rate-weighted mean position over that run.

    Parameters
    ----------
    curves : TuningCurves
    threshold : float, optional
        Fraction of the peak rate that bounds the field.

    Returns
    -------
    dict
        ``peak_rate`` (Hz), ``peak_position``, ``centre`` and ``size`` (cm), ``mean_rate`` (Hz,
        occupancy-weighted) and ``spatial_information`` (bits/spike), one entry per cell; NaN for
        silent cells.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    rates = np.nan_to_num(curves.rates.rescale(pq.Hz).magnitude)
    x = curves.centres.rescale(pq.cm).magnitude
    peak_bin = np.argmax(rates, axis=1)
    peak = rates[np.arange(len(rates)), peak_bin]
    inside = _field_masks(rates, peak_bin, threshold * peak)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (rates * inside) @ x / (rates * inside).sum(axis=1)
    silent = peak <= 0
    occupancy = curves.occupancy.magnitude
    return {"peak_rate": np.where(silent, np.nan, peak) * pq.Hz,
            "peak_position": np.where(silent, np.nan, x[peak_bin]) * pq.cm,
            "centre": np.where(silent, np.nan, centre) * pq.cm,
            "size": np.where(silent, np.nan, inside.sum(axis=1) * np.diff(x[:2])) * pq.cm,
            "mean_rate": rates @ occupancy / occupancy.sum() * pq.Hz,
            "spatial_information": spatial_information(curves)}


def order_by_field_centre(centres):
    """Indices that sort cells by field centre, cells without a field (NaN) last.

    Parameters
    ----------
    centres : pq.Quantity or np.ndarray

    Returns
    -------
    np.ndarray
    """
    return np.argsort(np.asarray(centres, dtype=float), kind="stable")


def _field_masks(rates, peak_bin, floor):
    """Boolean ``(n_cells, n_bins)``: the contiguous bins around each peak at or above ``floor``."""
    below = rates < floor[:, np.newaxis]
    bins = np.arange(rates.shape[1])
    # the nearest bin below the floor on each side of the peak bounds the field
    left = np.where(below & (bins < peak_bin[:, np.newaxis]), bins, -1).max(axis=1)
    right = np.where(below & (bins > peak_bin[:, np.newaxis]), bins, rates.shape[1]).min(axis=1)
    return (bins > left[:, np.newaxis]) & (bins < right[:, np.newaxis])


def _running_spike_counts(times, t, x, speed, min_speed, edges):
    """Histogram over ``edges`` of the positions at which a cell fired (``times``, s) while
    running, from the samples ``t`` (s), ``x`` (cm) and ``speed`` (cm/s) of the track."""
    times = times[(times >= t[0]) & (times <= t[-1])]
    fast = np.interp(times, t, speed) >= min_speed
    return np.histogram(np.interp(times[fast], t, x), edges)[0]


def _smooth(values, width):
    """Gaussian smoothing along the last axis, ``width`` in bins; zeros beyond the track."""
    if width == 0:
        return np.asarray(values, dtype=float)
    return gaussian_filter1d(np.asarray(values, dtype=float), width, axis=-1, mode="constant")


def _bin_edges(position, bin_size, track):
    """Spatial bin edges in cm covering ``track`` (or the range of ``position``)."""
    if track is None:
        x = position.rescale(pq.cm).magnitude
        start, end = float(np.nanmin(x)), float(np.nanmax(x))
    else:
        start, end = (float(bound.rescale(pq.cm)) for bound in track)
    if not end > start:
        raise ValueError(f"the track must have a positive length, got {start} to {end} cm")
    size = float(bin_size.rescale(pq.cm))
    n_bins = max(1, int(np.ceil((end - start) / size - 1e-9)))
    return start + size * np.arange(n_bins + 1)


def _signal_arguments(signal, values, name):
    """Keyword arguments that rebuild ``signal``'s type with new ``values`` at the same times."""
    if isinstance(signal, neo.AnalogSignal):
        return {"signal": values, "sampling_period": signal.sampling_period,
                "t_start": signal.t_start, "name": name}
    return {"times": signal.times, "signal": values, "name": name}


def _checked_position(position):
    """Return ``position`` after checking it is a one-channel signal in units of length."""
    if not isinstance(position, (neo.AnalogSignal, neo.IrregularlySampledSignal)):
        raise TypeError("position must be a neo.AnalogSignal or neo.IrregularlySampledSignal, "
                        f"not {type(position).__name__}")
    if position.shape[1] != 1:
        raise ValueError(f"position must have one channel, {position.name!r} has "
                         f"{position.shape[1]}")
    if position.shape[0] < 2:
        raise ValueError(f"position {position.name!r} needs at least two samples")
    try:
        position.units.rescale(pq.cm)
    except ValueError:
        raise ValueError(f"position {position.name!r} must be in units of length, not "
                         f"{position.dimensionality}") from None
    return position
