"""Population rhythms: the frequency of the population rate, and the coherence of the cells.

The coherence is Wang and Buzsaki's (1996) measure kappa.

The population frequency is read off the autocorrelation of the population rate, not off the
peak of its spectrum: in a network firing one spike per cell per cycle the rate is a train of
narrow pulses, whose spectrum spreads its power over the harmonics, and with a few hundred
milliseconds of data the largest spectral peak often lands on a harmonic.

Elephant is imported by the functions that use it (as in :mod:`trisim.analysis.statistics`):
models import this module to declare their statistics, and should not pay Elephant's import on
every start.
"""

import numpy as np
import quantities as pq

from trisim.analysis.checks import check_positive_quantity, checked_spiketrains

#: A peak of the autocorrelation counts as the period when it reaches this fraction of the
#: largest peak within the longest period looked for.
PEAK_FRACTION = 0.8


def population_frequency(spiketrains, smoothing=1 * pq.ms, sampling_period=0.25 * pq.ms,
                         max_period=100 * pq.ms):
    """Frequency of the population rhythm: 1 / lag of the autocorrelation's first peak.

    The population rate is the pooled spikes convolved with a Gaussian of SD ``smoothing``
    (Elephant's ``instantaneous_rate``): in a synchronous network each cycle is a volley a
    millisecond or two wide, and a histogram in bins that narrow splits the volleys unevenly
    between bins, so that the autocorrelation's peaks jitter in height. The peak is the first
    local maximum after the first zero crossing that reaches :data:`PEAK_FRACTION` of the
    largest value there (up to ``max_period``), so that neither a small bump nor a multiple
    of the period is taken; its lag is refined by a parabola through the peak sample and its
    neighbours.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        One population, trains sharing ``t_start`` and ``t_stop``.
    smoothing : pq.Quantity, optional
        SD of the Gaussian kernel of the population rate.
    sampling_period : pq.Quantity, optional
        Sampling period of the rate and of the autocorrelation's lags.
    max_period : pq.Quantity, optional
        Longest period looked for (lowest frequency ``1 / max_period``).

    Returns
    -------
    pq.Quantity
        Frequency in Hz; NaN Hz if the rate has no peak after a zero crossing (a constant or
        silent population, a rhythm slower than ``1 / max_period``, or a run too short).

    Examples
    --------
    >>> import neo
    >>> trains = [neo.SpikeTrain(np.arange(5.0, 500.0, 25.0) + 0.1 * cell, t_stop=500.0,
    ...                          units="ms") for cell in range(10)]
    >>> round(float(population_frequency(trains)), 1)
    40.0
    """
    from elephant.kernels import GaussianKernel
    from elephant.signal_processing import cross_correlation_function
    from elephant.statistics import instantaneous_rate
    spiketrains = checked_spiketrains(spiketrains)
    for value, name in ((smoothing, "smoothing"), (sampling_period, "sampling_period"),
                        (max_period, "max_period")):
        check_positive_quantity(value, name, pq.ms)
    span = spiketrains[0].t_stop - spiketrains[0].t_start
    if not any(len(train) for train in spiketrains) or span < 4 * sampling_period:
        return np.nan * pq.Hz  # nothing to correlate (a run shorter than 4 samples included)
    rate = instantaneous_rate(spiketrains, sampling_period, kernel=GaussianKernel(smoothing),
                              pool_spike_trains=True)
    n_lags = int(min(max_period / sampling_period, rate.shape[0] - 1))
    if n_lags < 3 or not np.std(rate.magnitude) > 0:
        return np.nan * pq.Hz
    # biased estimate: long lags, which overlap little of the run, are not inflated
    acf = cross_correlation_function(rate, [0, 0], n_lags=n_lags, scaleopt="biased")
    acf = acf.magnitude.ravel()[n_lags:]
    below = np.flatnonzero(acf < 0)
    if below.size == 0:
        return np.nan * pq.Hz
    after = acf[below[0]:]
    maxima = np.flatnonzero((after[1:-1] >= after[:-2]) & (after[1:-1] > after[2:])) + 1
    maxima = maxima[after[maxima] >= PEAK_FRACTION * after.max()]
    if maxima.size == 0 or not after.max() > 0:
        return np.nan * pq.Hz
    peak = below[0] + int(maxima[0])
    left, centre, right = acf[peak - 1:peak + 2]
    curvature = left - 2 * centre + right
    offset = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
    period = (peak + offset) * sampling_period
    return (1 / period).rescale(pq.Hz)


def coherence_kappa(spiketrains, bin_size=2 * pq.ms):
    """Wang and Buzsaki's coherence: mean over pairs of sum(x y) / sqrt(sum(x) sum(y)).

    ``x`` and ``y`` are the binary spike trains of two cells in bins of ``bin_size`` (1 if the
    cell fired in the bin). kappa is 1 when every cell fires in the same bins; for independent
    cells it is about ``sqrt(p_x p_y)``, the chance level (see :func:`chance_kappa`). Pairs
    with a silent cell are left out.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        One population, trains sharing ``t_start`` and ``t_stop``.
    bin_size : pq.Quantity, optional
        The published 2 ms unless told otherwise.

    Returns
    -------
    float
        NaN if fewer than two cells fired.

    Examples
    --------
    >>> import neo
    >>> trains = [neo.SpikeTrain([10.2, 30.5, 50.1], t_stop=60.0, units="ms")] * 3
    >>> coherence_kappa(trains)
    1.0
    """
    counts = _binary_counts(spiketrains, bin_size)
    active = counts.sum(axis=1) > 0
    if active.sum() < 2:
        return float("nan")
    counts = counts[active]
    coincidences = counts @ counts.T
    occupied = np.diag(coincidences)
    pairwise = coincidences / np.sqrt(np.outer(occupied, occupied))
    upper = np.triu_indices(len(occupied), k=1)
    return float(pairwise[upper].mean())


def chance_kappa(spiketrains, bin_size=2 * pq.ms):
    """kappa of independent cells with the same spike counts: mean over pairs of sqrt(p_x p_y).

    ``p`` is the fraction of bins in which a cell fired; pairs with a silent cell are left out,
    as in :func:`coherence_kappa`.

    Examples
    --------
    >>> import neo
    >>> trains = [neo.SpikeTrain([10.2, 30.5], t_stop=40.0, units="ms")] * 2
    >>> chance_kappa(trains)
    0.1
    """
    counts = _binary_counts(spiketrains, bin_size)
    if counts.shape[1] == 0:
        return float("nan")
    occupancy = counts.mean(axis=1)
    occupancy = occupancy[occupancy > 0]
    if occupancy.size < 2:
        return float("nan")
    root = np.sqrt(occupancy)
    pairs = (root.sum() ** 2 - (root ** 2).sum()) / 2
    return float(pairs / (occupancy.size * (occupancy.size - 1) / 2))


def _binary_counts(spiketrains, bin_size):
    """Cells x bins array of 0/1: did the cell fire in the bin."""
    from elephant.conversion import BinnedSpikeTrain
    spiketrains = checked_spiketrains(spiketrains)
    check_positive_quantity(bin_size, "bin_size", pq.ms)
    if spiketrains[0].t_stop - spiketrains[0].t_start < bin_size:
        return np.zeros((len(spiketrains), 0))  # a run shorter than one bin has no bins
    binned = BinnedSpikeTrain(spiketrains, bin_size=bin_size, tolerance=None)
    return binned.to_bool_array().astype(float)
