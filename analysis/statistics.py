"""Spike-train statistics of a trisim Neo Block, computed with Elephant.

Every statistic Elephant provides is taken from Elephant, so the numbers compared across NEST,
NEURON and Brian2 come from one reviewed implementation. This module selects the spike trains of
each population, samples cells and pairs reproducibly, converts units, and turns the results into
plain Python values for JSON summaries. The summary every run writes (rate and CV per
population) is :mod:`trisim.analysis.summary`'s, without Elephant. Elephant is imported by the
functions that use it: importing it (and SciPy, and MPI through mpi4py) costs about a second,
which models and commands that import this module only to declare what they compare would
otherwise pay on every start.
"""

import numpy as np
import quantities as pq

from trisim.analysis.checks import (check_integer, check_positive_quantity, checked_spiketrains,
                                   finite_or_none)
# the grouping by population needs no Elephant: it lives with the run summary
from trisim.analysis.summary import MIN_SPIKES_FOR_ISI_STATISTICS, spiketrains_by_population


def firing_rates(spiketrains):
    """Mean firing rate of each spike train over its ``[t_start, t_stop]``.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain

    Returns
    -------
    pq.Quantity
        One rate per train, in Hz (Elephant returns the inverse of the train's time unit).
    """
    from elephant.statistics import mean_firing_rate
    spiketrains = checked_spiketrains(spiketrains)
    return pq.Quantity([mean_firing_rate(train).rescale(pq.Hz).item() for train in spiketrains],
                       pq.Hz)


def cv_isi(spiketrains, min_spikes=MIN_SPIKES_FOR_ISI_STATISTICS):
    """Coefficient of variation of the inter-spike intervals of each train (1 for Poisson).

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
    min_spikes : int, optional
        Trains with fewer spikes get NaN; at least 3.

    Returns
    -------
    np.ndarray
        One CV per train.
    """
    from elephant.statistics import cv
    return _isi_statistic(spiketrains, cv, min_spikes)


def lv_isi(spiketrains, min_spikes=MIN_SPIKES_FOR_ISI_STATISTICS):
    """Local variation of the inter-spike intervals of each train (1 for Poisson).

    Unlike the CV, the LV compares neighbouring intervals only, so slow rate changes do not
    inflate it.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
    min_spikes : int, optional
        Trains with fewer spikes get NaN; at least 3.

    Returns
    -------
    np.ndarray
        One LV per train.
    """
    from elephant.statistics import lv
    return _isi_statistic(spiketrains, lv, min_spikes)


def correlation_coefficients(spiketrains, bin_size, n_cells=100, seed=0):
    """Pearson correlation coefficients of binned spike counts over a sample of cells.

    Sampling keeps the cost bounded for large populations; silent trains are left out because
    their correlation is undefined.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        Trains sharing ``t_start`` and ``t_stop``.
    bin_size : pq.Quantity
        Width of the counting bins.
    n_cells : int, optional
        Most trains (with spikes) drawn, without replacement.
    seed : int, optional
        Seed of the sample.

    Returns
    -------
    np.ndarray
        The ``k (k - 1) / 2`` coefficients of the ``k`` sampled trains (upper triangle, row
        major); empty if fewer than two trains have spikes.
    """
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import correlation_coefficient
    spiketrains = checked_spiketrains(spiketrains)
    check_positive_quantity(bin_size, "bin_size", pq.ms)
    check_integer(n_cells, "n_cells", minimum=2)
    check_integer(seed, "seed", minimum=0)
    active = [train for train in spiketrains if len(train) > 0]
    chosen = np.sort(np.random.default_rng(seed).choice(
        len(active), size=min(n_cells, len(active)), replace=False))
    if chosen.size < 2:
        return np.empty(0)
    matrix = correlation_coefficient(BinnedSpikeTrain([active[i] for i in chosen],
                                                      bin_size=bin_size))
    return matrix[np.triu_indices(chosen.size, k=1)]


def sttc_sample(spiketrains, dt, n_pairs=200, seed=0):
    """Spike time tiling coefficients (Cutts & Eglen 2014) of randomly drawn pairs of trains.

    Unlike binned correlation, the STTC does not depend on the firing rates; silent trains are
    left out because their STTC is undefined.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
    dt : pq.Quantity
        Coincidence window.
    n_pairs : int, optional
        Most distinct pairs drawn, without replacement.
    seed : int, optional
        Seed of the sample.

    Returns
    -------
    np.ndarray
        One STTC per pair; empty if fewer than two trains have spikes.
    """
    from elephant.spike_train_correlation import spike_time_tiling_coefficient
    spiketrains = checked_spiketrains(spiketrains)
    check_positive_quantity(dt, "dt", pq.ms)
    check_integer(n_pairs, "n_pairs", minimum=1)
    check_integer(seed, "seed", minimum=0)
    active = [train for train in spiketrains if len(train) > 0]
    first, second = _sample_pairs(len(active), n_pairs, np.random.default_rng(seed))
    return np.array([spike_time_tiling_coefficient(active[i], active[j], dt=dt)
                     for i, j in zip(first, second)])


def population_rate(spiketrains, bin_size):
    """Firing rate averaged over all trains (silent ones included), in bins of ``bin_size``.

    Spikes in a last bin shorter than ``bin_size`` are discarded (Elephant warns).

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        Trains sharing ``t_start`` and ``t_stop``.
    bin_size : pq.Quantity

    Returns
    -------
    neo.AnalogSignal
        One channel in Hz, sampled every ``bin_size`` from the bins' left edges; annotated with
        ``bin_size_ms`` and ``n_spiketrains``.
    """
    from elephant.statistics import time_histogram
    spiketrains = checked_spiketrains(spiketrains)
    check_positive_quantity(bin_size, "bin_size", pq.ms)
    rate = time_histogram(spiketrains, bin_size, output="rate").rescale(pq.Hz)
    rate.name = "population_rate"
    rate.annotate(bin_size_ms=float(bin_size.rescale(pq.ms)), n_spiketrains=len(spiketrains))
    return rate


def population_rate_psd(spiketrains, bin_size, frequency_resolution=None):
    """Power spectral density of the population rate (Welch, Hann windows, half overlap).

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
    bin_size : pq.Quantity
        Bin of the population rate; the spectrum extends to ``1 / (2 bin_size)``.
    frequency_resolution : pq.Quantity, optional
        Spacing of the frequencies; finer means fewer, longer segments. By default the rate is
        cut into 8 segments (Elephant's default).

    Returns
    -------
    frequencies : pq.Quantity
        In Hz, from 0.
    psd : pq.Quantity
        Power of the rate per frequency, in Hz**2 / Hz.
    """
    from elephant.spectral import welch_psd
    if frequency_resolution is not None:
        check_positive_quantity(frequency_resolution, "frequency_resolution", pq.Hz)
    rate = population_rate(spiketrains, bin_size)
    # Welch also detrends each segment; removing the mean here keeps the mean rate out of the
    # 0 Hz bin whatever Elephant's detrend default is.
    frequencies, psd = welch_psd(rate - rate.mean(), frequency_resolution=frequency_resolution)
    return frequencies.rescale(pq.Hz), psd[0].rescale(pq.Hz)


def analyze_block(block, bin_size=5 * pq.ms, sttc_dt=10 * pq.ms, n_pairs=200, n_cells=100,
                  seed=0):
    """All statistics of each population of a Block, as a JSON-serialisable dict.

    Parameters
    ----------
    block : neo.Block
    bin_size : pq.Quantity, optional
        Bin of the spike counts correlated and of the population rate and its spectrum.
    sttc_dt : pq.Quantity, optional
        Coincidence window of the STTC.
    n_pairs : int, optional
        Pairs drawn for the STTC.
    n_cells : int, optional
        Cells drawn for the correlation coefficients.
    seed : int, optional
        Seed of both samples.

    Returns
    -------
    dict
        ``{"parameters": {...}, "populations": {name: {...}}}``; undefined values (NaN) are None.
    """
    import elephant
    check_positive_quantity(bin_size, "bin_size", pq.ms)
    check_positive_quantity(sttc_dt, "sttc_dt", pq.ms)
    check_integer(n_pairs, "n_pairs", minimum=1)
    check_integer(n_cells, "n_cells", minimum=2)
    check_integer(seed, "seed", minimum=0)
    populations = spiketrains_by_population(block)
    parameters = {"bin_size_ms": float(bin_size.rescale(pq.ms)),
                  "sttc_dt_ms": float(sttc_dt.rescale(pq.ms)),
                  "n_pairs": int(n_pairs), "n_cells": int(n_cells), "seed": int(seed),
                  "psd": "elephant.spectral.welch_psd, 8 half-overlapping Hann segments",
                  "elephant_version": elephant.__version__}
    return {"parameters": parameters,
            "populations": {name: _analyze_population(spiketrains, bin_size, sttc_dt, n_pairs,
                                                      n_cells, seed)
                            for name, spiketrains in populations.items()}}


def _analyze_population(spiketrains, bin_size, sttc_dt, n_pairs, n_cells, seed):
    """The per-population entry of :func:`analyze_block`."""
    rates = firing_rates(spiketrains).magnitude
    correlations = correlation_coefficients(spiketrains, bin_size, n_cells, seed)
    frequencies, psd = population_rate_psd(spiketrains, bin_size)
    rate = population_rate(spiketrains, bin_size)
    bin_centres = rate.times.rescale(pq.ms) + bin_size.rescale(pq.ms) / 2
    return {"n": len(spiketrains),
            "rate_hz_mean": float(rates.mean()),
            "rate_hz_std": float(rates.std()),
            "cv_isi_mean": _mean_or_none(cv_isi(spiketrains)),
            "lv_mean": _mean_or_none(lv_isi(spiketrains)),
            "correlation_mean": _mean_or_none(correlations),
            "correlation_std": _std_or_none(correlations),
            "sttc_mean": _mean_or_none(sttc_sample(spiketrains, sttc_dt, n_pairs, seed)),
            "psd_peak_hz": _peak_frequency(frequencies.magnitude, psd.magnitude),
            "psd": {"frequency_hz": frequencies.magnitude.tolist(),
                    "power_hz2_per_hz": [finite_or_none(p) for p in psd.magnitude]},
            "population_rate": {"time_ms": bin_centres.magnitude.tolist(),
                                "rate_hz": [finite_or_none(r) for r in rate.magnitude.ravel()]}}


def _isi_statistic(spiketrains, statistic, min_spikes):
    """Apply ``statistic`` to the intervals of each train with at least ``min_spikes`` spikes."""
    from elephant.statistics import isi
    spiketrains = checked_spiketrains(spiketrains)
    check_integer(min_spikes, "min_spikes", minimum=MIN_SPIKES_FOR_ISI_STATISTICS)
    return np.array([statistic(isi(train).magnitude) if len(train) >= min_spikes else np.nan
                     for train in spiketrains], dtype=float)


def _sample_pairs(n, n_pairs, rng):
    """Draw ``min(n_pairs, n (n - 1) / 2)`` distinct index pairs ``i < j`` among ``n`` items.

    Pairs are drawn by their rank in the upper triangle, so memory grows with ``n``, not ``n**2``.
    """
    row_starts = np.concatenate([[0], np.cumsum(np.arange(n - 1, 0, -1))])
    n_all = n * (n - 1) // 2
    ranks = np.sort(rng.choice(n_all, size=min(n_pairs, n_all), replace=False))
    first = np.searchsorted(row_starts, ranks, side="right") - 1
    second = first + 1 + ranks - row_starts[first]
    return first, second


def _peak_frequency(frequencies, psd):
    """Frequency of the largest power above 0 Hz, None if the spectrum is flat zero."""
    above_zero = psd[1:]
    if above_zero.size == 0 or not np.any(above_zero > 0):
        return None
    return float(frequencies[1:][np.argmax(above_zero)])


def _mean_or_none(values):
    """Mean of the finite values as a float, None if there are none."""
    finite = _finite_values(values)
    return float(finite.mean()) if finite.size else None


def _std_or_none(values):
    """Standard deviation of the finite values as a float, None if there are none."""
    finite = _finite_values(values)
    return float(finite.std()) if finite.size else None


def _finite_values(values):
    """The finite entries of ``values``: NaN marks an undefined statistic (a silent cell...)."""
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]
