"""Replay detection on Neo objects: population events, Bayesian decoding, sequence scores.

Elephant has no replay analysis; this module provides the standard methods on its objects:

- **Candidate events** (:func:`population_events`): bursts of pooled population activity, as a
  :class:`neo.Epoch`. Two rules share one signature: ``"binned"`` (Liao et al. 2024: pooled
  spikes in 100 ms bins, z-scored, segments with z >= 1 extended to the surrounding z >= 0 span)
  and ``"smoothed"`` (the common rule: population rate smoothed with a 15 ms Gaussian, peak above
  mean + 3 SD, bounded where it returns to the mean, 50-500 ms).
- **Decoding** (:func:`decode_position`): Poisson Bayesian decoding with a uniform prior, from
  tuning curves of :mod:`trisim.analysis.place_fields`; the posterior is a
  :class:`neo.AnalogSignal` with one channel per position bin.
- **Sequence scores** (:func:`score_events`): weighted correlation and line fit (Davidson et al.
  2009) of each event's posterior, and rank-order (Spearman) correlation of the cells' firing
  order with their field order, each with a p-value against shuffles (time-bin swap, column
  cycle, cell identity) drawn with a seeded :class:`numpy.random.Generator`, all shuffles of one
  event at once; :func:`significant_fractions` gives the fraction of events significant by each.
- **Group modulation** (:func:`peri_event_histograms`, :func:`group_correlation`): z-scored
  peri-event histograms of groups of cells (e.g. place and cue cells) and the correlation of two
  groups' spike counts in fixed bins.
"""

import neo
import numpy as np
import quantities as pq
from elephant.statistics import time_histogram
from scipy import stats
from scipy.ndimage import gaussian_filter1d
from scipy.special import logsumexp

from trisim.analysis.place_fields import field_properties
from trisim.analysis.checks import check_integer, check_positive_quantity, checked_spiketrains

#: Defaults of the two event rules of :func:`population_events`.
EVENT_RULES = {
    "binned": {"bin_size": 100 * pq.ms, "sigma": 0 * pq.ms, "threshold": 1.0, "boundary": 0.0,
               "min_duration": 0 * pq.ms, "max_duration": np.inf * pq.ms, "merge_gap": 0 * pq.ms},
    "smoothed": {"bin_size": 1 * pq.ms, "sigma": 15 * pq.ms, "threshold": 3.0, "boundary": 0.0,
                 "min_duration": 50 * pq.ms, "max_duration": 500 * pq.ms,
                 "merge_gap": 0 * pq.ms},
}

#: The null distribution each score is compared with, by default.
DEFAULT_SHUFFLES = {"weighted_correlation": "time_swap", "line_fit": "column_cycle",
                    "rank_order": "cell_identity"}

SHUFFLES = ("time_swap", "column_cycle", "cell_identity")

#: How far beyond each end of the track a fitted line may start or end, as a fraction of the
#: track: an event's bounds often extend past the replayed sweep, which needs a steeper line.
LINE_OVERHANG = 0.25

#: Fewest time bins with spikes for the posterior scores of an event.
MIN_ACTIVE_BINS = 3


def population_zscore(spiketrains, method="smoothed", bin_size=None, sigma=None):
    """Z-scored pooled spike count of a population, the signal candidate events are found in.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        Trains sharing ``t_start`` and ``t_stop``.
    method : {"smoothed", "binned"}, optional
        Chooses the defaults of ``bin_size`` and ``sigma`` (see :data:`EVENT_RULES`).
    bin_size : pq.Quantity, optional
        Counting bin (Elephant's :func:`~elephant.statistics.time_histogram`).
    sigma : pq.Quantity, optional
        Standard deviation of the Gaussian smoothing the counts; 0 for none.

    Returns
    -------
    neo.AnalogSignal
        One dimensionless channel, sampled every ``bin_size``; annotated with the parameters and
        the mean and standard deviation of the (smoothed) pooled rate in Hz.

    Raises
    ------
    ValueError
        If the trains hold no spikes (the z-score is undefined).
    """
    rule = _event_rule(method, bin_size=bin_size, sigma=sigma)
    spiketrains = checked_spiketrains(spiketrains)
    bin_size, sigma = rule["bin_size"], rule["sigma"]
    counts = time_histogram(spiketrains, bin_size, output="counts").magnitude[:, 0]
    counts = counts.astype(float)  # gaussian_filter1d would keep an integer type
    width = float(sigma.rescale(pq.ms) / bin_size.rescale(pq.ms))
    smoothed = gaussian_filter1d(counts, width, mode="nearest") if width > 0 else counts
    spread = smoothed.std()
    if not spread > 0:
        raise ValueError("the spike trains hold no spikes (or a constant rate): no events")
    z = (smoothed - smoothed.mean()) / spread
    seconds = float(bin_size.rescale(pq.s))
    return neo.AnalogSignal(z[:, np.newaxis], units=pq.dimensionless, sampling_period=bin_size,
                            t_start=spiketrains[0].t_start, name="population_zscore",
                            method=method, bin_size_ms=float(bin_size.rescale(pq.ms)),
                            sigma_ms=float(sigma.rescale(pq.ms)),
                            mean_rate_hz=float(smoothed.mean() / seconds),
                            std_rate_hz=float(spread / seconds), n_spiketrains=len(spiketrains))


def population_events(spiketrains, method="smoothed", **parameters):
    """Candidate replay events: bursts of the pooled activity of a population.

    An event is a maximal run of the z-scored pooled count (:func:`population_zscore`) at or
    above ``boundary`` that reaches ``threshold``; runs closer than ``merge_gap`` are merged,
    then events shorter than ``min_duration`` or longer than ``max_duration`` are dropped.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
    method : {"smoothed", "binned"}, optional
        ``"binned"``: the rule of Liao et al. (2024), 100 ms bins, threshold 1, boundary 0, no
        duration limits. ``"smoothed"``: 1 ms bins smoothed with a 15 ms Gaussian, threshold 3,
        boundary 0, 50-500 ms.
    **parameters
        Override the method's defaults (:data:`EVENT_RULES`): ``bin_size``, ``sigma``
        (quantities), ``threshold``, ``boundary`` (in SD), ``min_duration``, ``max_duration``,
        ``merge_gap`` (quantities).

    Returns
    -------
    neo.Epoch
        One entry per event, labelled ``"event"``; array annotations ``peak_z``, ``peak_time_s``
        and ``n_spikes``; the rule's parameters as annotations.

    Examples
    --------
    >>> import neo, numpy as np, quantities as pq
    >>> rng = np.random.default_rng(0)
    >>> trains = [neo.SpikeTrain(np.sort(np.r_[rng.uniform(0, 10, 10), rng.normal(5, 0.02, 3)]),
    ...                          units="s", t_stop=10 * pq.s) for _ in range(30)]
    >>> events = population_events(trains)
    >>> len(events), bool(4.9 < events.times.rescale(pq.s)[0].item() < 5.0)
    (1, True)
    """
    rule = _event_rule(method, **parameters)
    z_signal = population_zscore(spiketrains, method, rule["bin_size"], rule["sigma"])
    z = z_signal.magnitude[:, 0]
    bin_ms = float(rule["bin_size"].rescale(pq.ms))
    starts, stops = _runs_reaching(z, rule["boundary"], rule["threshold"])
    starts, stops = _merge_runs(starts, stops, float(rule["merge_gap"].rescale(pq.ms)) / bin_ms)
    length = (stops - starts) * bin_ms
    keep = (length >= float(rule["min_duration"].rescale(pq.ms))) & (
        length <= float(rule["max_duration"].rescale(pq.ms)))
    starts, stops = starts[keep], stops[keep]
    counts = time_histogram(spiketrains, rule["bin_size"], output="counts").magnitude[:, 0]
    peaks = np.array([start + np.argmax(z[start:stop]) for start, stop in zip(starts, stops)],
                     dtype=int)
    t0 = float(z_signal.t_start.rescale(pq.ms))
    return neo.Epoch(times=(t0 + starts * bin_ms) * pq.ms, durations=length[keep] * pq.ms,
                     labels=np.full(len(starts), "event"), name=f"population_events_{method}",
                     array_annotations={
                         "peak_z": z[peaks],
                         "peak_time_s": (t0 + (peaks + 0.5) * bin_ms) / 1000.0,
                         "n_spikes": np.array([counts[a:b].sum() for a, b in zip(starts, stops)],
                                              dtype=int)},
                     method=method, **_plain_rule(rule))


def decode_position(spiketrains, curves, bin_size=20 * pq.ms, t_start=None, t_stop=None,
                    min_rate=0.1 * pq.Hz):
    """Posterior probability of position in each time bin (Poisson model, uniform prior).

    With tuning curves ``f_i(x)`` and counts ``n_i`` in a bin of width ``tau``,
    ``P(x | n) ∝ prod_i f_i(x)**n_i exp(-tau f_i(x))``, normalised over the positions the
    animal visited while running.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        The cells of ``curves``, in the same order.
    curves : trisim.analysis.place_fields.TuningCurves
    bin_size : pq.Quantity, optional
    t_start, t_stop : pq.Quantity, optional
        Decoded span; by default that of the first train. Spikes in a last partial bin are
        dropped.
    min_rate : pq.Quantity, optional
        Floor of the tuning curves, so a spike far from a cell's field lowers but does not zero
        the posterior there.

    Returns
    -------
    neo.AnalogSignal
        ``(n_time_bins, n_position_bins)``, dimensionless, sampled every ``bin_size`` from the
        bins' left edges; NaN rows for bins without spikes; array annotation ``position_cm`` (bin
        centres); annotation ``bin_size_ms``.
    """
    spiketrains = checked_spiketrains(spiketrains)
    decoder = _Decoder(curves, min_rate, len(spiketrains))
    check_positive_quantity(bin_size, "bin_size", pq.ms)
    t_start = spiketrains[0].t_start if t_start is None else t_start
    t_stop = spiketrains[0].t_stop if t_stop is None else t_stop
    bin_s = float(bin_size.rescale(pq.s))
    n_bins = int(np.floor(float((t_stop - t_start).rescale(pq.s)) / bin_s + 1e-9))
    if n_bins < 1:
        raise ValueError(f"no whole bin of {bin_size} between {t_start} and {t_stop}")
    times, cells = _pooled_spikes(spiketrains)
    counts = _bin_counts(times, cells, len(spiketrains),
                         float(t_start.rescale(pq.s)) + bin_s * np.arange(n_bins + 1))
    posterior = decoder.posterior(counts, bin_s)
    posterior[counts.sum(axis=1) == 0] = np.nan
    return neo.AnalogSignal(posterior, units=pq.dimensionless, sampling_period=bin_size,
                            t_start=t_start, name="posterior",
                            array_annotations={"position_cm": decoder.positions},
                            bin_size_ms=float(bin_size.rescale(pq.ms)))


def map_position(posterior):
    """Most probable position in each time bin of a posterior from :func:`decode_position`.

    Returns
    -------
    neo.AnalogSignal
        One channel in cm at the posterior's times; NaN in bins without spikes.
    """
    values = posterior.magnitude
    empty = np.isnan(values).all(axis=1)
    best = np.argmax(np.nan_to_num(values, nan=-1.0), axis=1)
    x = np.where(empty, np.nan, posterior.array_annotations["position_cm"][best])
    return neo.AnalogSignal(x[:, np.newaxis], units=pq.cm,
                            sampling_period=posterior.sampling_period,
                            t_start=posterior.t_start, name="decoded_position")


class _Decoder:
    """Log tuning curves and their sums, prepared once for decoding many bins and shuffles."""

    def __init__(self, curves, min_rate, n_cells):
        rates = curves.rates.rescale(pq.Hz).magnitude
        if rates.shape[0] != n_cells:
            raise ValueError(f"curves have {rates.shape[0]} cells but {n_cells} spike trains "
                             "were given")
        check_positive_quantity(min_rate, "min_rate", pq.Hz)
        self.valid = ~np.isnan(rates).any(axis=0)
        if not self.valid.any():
            raise ValueError("the tuning curves have no position visited while running")
        floored = np.maximum(np.nan_to_num(rates), float(min_rate.rescale(pq.Hz)))
        self.log_rates = np.log(floored[:, self.valid])  # (n_cells, n_valid)
        self.rate_sum = floored[:, self.valid].sum(axis=0)
        self.positions = curves.centres.rescale(pq.cm).magnitude[self.valid]

    def posterior(self, counts, bin_s):
        """Posterior over the valid positions, ``(..., n_x)``, of ``counts (..., n_cells)`` in
        bins of ``bin_s`` seconds: the Poisson log likelihood, normalised."""
        log_likelihood = counts @ self.log_rates - bin_s * self.rate_sum
        return np.exp(log_likelihood - logsumexp(log_likelihood, axis=-1, keepdims=True))


def _pooled_spikes(spiketrains):
    """All spike times in s, sorted, with the index of the train each comes from."""
    times = np.concatenate([train.times.rescale(pq.s).magnitude for train in spiketrains])
    cells = np.repeat(np.arange(len(spiketrains)), [len(train) for train in spiketrains])
    order = np.argsort(times, kind="stable")
    return times[order], cells[order]


def _bin_counts(times, cells, n_cells, edges):
    """``(n_bins, n_cells)`` spike counts of sorted pooled spikes in the bins ``edges`` (s)."""
    first, last = np.searchsorted(times, [edges[0], edges[-1]], side="left")
    inside = slice(first, last)
    bins = np.searchsorted(edges, times[inside], side="right") - 1
    n_bins = len(edges) - 1
    flat = np.bincount(bins * n_cells + cells[inside], minlength=n_bins * n_cells)
    return flat.reshape(n_bins, n_cells).astype(float)


def _event_rule(method, **overrides):
    """The parameters of an event rule: the method's defaults updated with ``overrides``."""
    if method not in EVENT_RULES:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(EVENT_RULES)}")
    rule = dict(EVENT_RULES[method])
    unknown = set(overrides) - set(rule)
    if unknown:
        raise TypeError(f"unknown event parameters {sorted(unknown)}; valid: {', '.join(rule)}")
    rule.update({key: value for key, value in overrides.items() if value is not None})
    check_positive_quantity(rule["bin_size"], "bin_size", pq.ms)
    for name in ("sigma", "min_duration", "max_duration", "merge_gap"):
        value = rule[name]
        if not isinstance(value, pq.Quantity) or value.size != 1 or not float(
                value.rescale(pq.ms)) >= 0:
            raise ValueError(f"{name} must be a non-negative time quantity, got {value!r}")
    if not float(rule["threshold"]) >= float(rule["boundary"]):
        raise ValueError(f"threshold ({rule['threshold']}) must be at least boundary "
                         f"({rule['boundary']})")
    return rule


def _plain_rule(rule):
    """Event-rule parameters as plain floats (times in ms), for annotations."""
    return {(f"{key}_ms" if isinstance(value, pq.Quantity) else key):
            float(value.rescale(pq.ms)) if isinstance(value, pq.Quantity) else float(value)
            for key, value in rule.items()}


def _runs_reaching(z, boundary, threshold):
    """Start and stop (exclusive) indices of maximal runs of ``z >= boundary`` whose maximum
    reaches ``threshold``."""
    edges = np.diff(np.concatenate([[0], (z >= boundary).astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if starts.size == 0:
        return starts, stops
    # between runs z < boundary <= threshold, so each segment's maximum is its run's
    reaches = np.maximum.reduceat(z, starts) >= threshold
    return starts[reaches], stops[reaches]


def _merge_runs(starts, stops, gap):
    """Merge runs separated by at most ``gap`` bins (none if ``gap`` is 0)."""
    if starts.size < 2 or gap <= 0:
        return starts, stops
    apart = starts[1:] - stops[:-1] > gap
    return starts[np.concatenate([[True], apart])], stops[np.concatenate([apart, [True]])]


def weighted_correlation(posterior):
    """Correlation of time and position weighted by the posterior of one event.

    Parameters
    ----------
    posterior : neo.AnalogSignal
        From :func:`decode_position` (over the event); bins without spikes (NaN) weigh 0.

    Returns
    -------
    float
        In [-1, 1]: positive for a forward sequence, negative for a reverse one.
    """
    weights, x = _posterior_arrays(posterior)
    return float(_weighted_correlation(weights, np.arange(len(weights), dtype=float), x))


def line_fit(posterior, band=15 * pq.cm):
    """Best line through the posterior of one event (Davidson et al. 2009).

    Candidate lines join any position bin at the first time bin to any at the last, ends up to
    :data:`LINE_OVERHANG` of the track beyond it included; a line's score is the posterior within
    ``band`` of the bin it passes at each time bin (none off the track), averaged over the bins
    with spikes.

    Parameters
    ----------
    posterior : neo.AnalogSignal
        From :func:`decode_position`; needs at least two time bins.
    band : pq.Quantity, optional
        Half-width of the band around the line.

    Returns
    -------
    dict
        ``score`` (mean posterior in the band, in [0, 1]), ``slope`` (velocity, cm/s) and
        ``intercept`` (position at the start of the first bin, cm) of the best line.
    """
    weights, x = _posterior_arrays(posterior)
    if len(weights) < 2:
        raise ValueError("a line fit needs at least two time bins")
    bin_s = float(posterior.sampling_period.rescale(pq.s))
    score, start, end = _line_fit(weights, _band_bins(band, x), int((weights.sum(1) > 0).sum()))
    return {"score": float(score), **_line_in_units(start, end, len(weights), x, bin_s)}


def rank_order(spiketrains, field_centres, t_start, t_stop):
    """Spearman correlation of the cells' firing order in an event with their field order.

    Each cell that fires in ``[t_start, t_stop)`` and has a field contributes the median time of
    its spikes there.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
    field_centres : pq.Quantity
        One per train; NaN for a cell without a field.
    t_start, t_stop : pq.Quantity

    Returns
    -------
    float
        Spearman's rho (:func:`scipy.stats.spearmanr`); NaN with fewer than 3 such cells.
    """
    spiketrains = checked_spiketrains(spiketrains)
    times, cells = _pooled_spikes(spiketrains)
    order, rank_of_field = _event_ranks(times, cells, np.asarray(field_centres, dtype=float),
                                        float(t_start.rescale(pq.s)), float(t_stop.rescale(pq.s)))
    if order.size < 3:
        return np.nan
    return float(stats.spearmanr(order, rank_of_field).statistic)


def _posterior_arrays(posterior):
    """Weights (NaN rows as zeros) and position bin centres of a posterior AnalogSignal."""
    if not isinstance(posterior, neo.AnalogSignal) or "position_cm" not in \
            posterior.array_annotations:
        raise TypeError("posterior must be a neo.AnalogSignal from decode_position")
    return (np.nan_to_num(posterior.magnitude.astype(float)),
            np.asarray(posterior.array_annotations["position_cm"], dtype=float))


def _weighted_correlation(weights, t, x):
    """Weighted correlation of ``t`` and ``x`` over the last two axes of ``weights (..., T, X)``."""
    total = weights.sum(axis=(-2, -1))
    over_t, over_x = weights.sum(axis=-1), weights.sum(axis=-2)
    mean_t, mean_x = over_t @ t / total, over_x @ x / total
    covariance = (weights @ x) @ t / total - mean_t * mean_x
    variance_t = over_t @ t ** 2 / total - mean_t ** 2
    variance_x = over_x @ x ** 2 / total - mean_x ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return covariance / np.sqrt(variance_t * variance_x)


def _line_fit(weights, band_bins, n_active):
    """Best line through the posterior ``weights (T, X)`` of one event: its score, start and end
    position bins (see :func:`_line_scores`)."""
    scores, starts, ends = _line_scores(weights[np.newaxis], band_bins)
    best = int(np.argmax(scores[:, 0]))
    return float(scores[best, 0]) / max(n_active, 1), int(starts[best]), int(ends[best])


def _line_scores(weights, band_bins):
    """Weight near every line, ``(n_lines, n)``, for ``n`` posteriors ``weights (n, T, X)``.

    The line from bin ``a`` at the first time bin to bin ``a + k`` at the last passes bin
    ``a + floor(k t / (T - 1) + 1/2)`` at time bin ``t``; its score sums, over time, the weight
    within ``band_bins`` of that bin (none where the line is off the track). Every line whose
    ends lie on the track or up to :data:`LINE_OVERHANG` of it beyond either end is scored, one
    slope ``k`` at a time for all starts and posteriors at once. Also returns each line's start
    and end bins (negative or past the last bin for ends beyond the track).
    """
    _, n_t, n_x = weights.shape
    pad = int(round(LINE_OVERHANG * n_x))
    # (T, X + 2 pad + 1, n): cumulative weight over position (flat beyond the track),
    # contiguous over the posteriors
    cumulative = np.zeros((n_t, n_x + 2 * pad + 1, len(weights)), dtype=np.float32)
    np.cumsum(np.ascontiguousarray(np.moveaxis(weights, 0, -1), dtype=np.float32), axis=1,
              out=cumulative[:, pad + 1:pad + n_x + 1])
    cumulative[:, pad + n_x + 1:] = cumulative[:, pad + n_x:pad + n_x + 1]
    half_width = int(np.floor(band_bins + 1e-9))
    n_p = n_x + 2 * pad
    bins = np.arange(n_p)
    banded = (cumulative[:, np.minimum(bins + half_width + 1, n_p)]
              - cumulative[:, np.maximum(bins - half_width, 0)])  # weight within the band
    fraction = np.arange(n_t) / max(n_t - 1, 1)
    slopes = np.arange(-(n_p - 1), n_p)
    offsets = np.concatenate([[0], np.cumsum(n_p - np.abs(slopes))])
    scores = np.empty((offsets[-1], len(weights)), dtype=np.float32)
    starts = np.empty(offsets[-1], dtype=int)
    for k, offset in zip(slopes, offsets):
        low, high = max(0, -k), min(n_p, n_p - k)  # starts whose line ends within the grid
        shifts = low + np.floor(k * fraction + 0.5).astype(int)
        totals = scores[offset:offset + high - low]
        np.copyto(totals, banded[0, shifts[0]:shifts[0] + high - low])
        for t in range(1, n_t):
            totals += banded[t, shifts[t]:shifts[t] + high - low]
        starts[offset:offset + high - low] = np.arange(low, high) - pad
    return scores, starts, starts + np.repeat(slopes, n_p - np.abs(slopes))


def _band_bins(band, x):
    """Half-width of the line band in position bins."""
    check_positive_quantity(band, "band", pq.cm)
    step = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
    return float(band.rescale(pq.cm)) / step


def _line_in_units(start, end, n_t, x, bin_s):
    """Slope (cm/s) and intercept (cm at the first bin's left edge) of a line in bin units."""
    step = float(np.median(np.diff(x))) if len(x) > 1 else 0.0
    slope = (end - start) * step / (max(n_t - 1, 1) * bin_s)
    return {"slope": float(slope), "intercept": float(x[0] + start * step - slope * bin_s / 2)}


def _event_ranks(times, cells, centres, t_start, t_stop):
    """Ranks of the median spike time and of the field centre of the cells firing in an event."""
    first, last = np.searchsorted(times, [t_start, t_stop], side="left")
    cells_in, times_in = cells[first:last], times[first:last]
    active = np.unique(cells_in)
    active = active[np.isfinite(centres[active])]
    medians = np.array([np.median(times_in[cells_in == cell]) for cell in active])
    return stats.rankdata(medians), stats.rankdata(centres[active])


def score_events(spiketrains, curves, events, bin_size=20 * pq.ms, n_shuffles=1000, seed=0,
                 shuffles=None, band=15 * pq.cm, min_cells=5, min_rate=0.1 * pq.Hz,
                 min_edge_spikes=2):
    """Sequence scores of each event and their p-values against shuffles.

    Each event is cut into ``bin_size`` bins (the last one extends past the event's end) and
    trimmed to the span from the first to the last bin with at least ``min_edge_spikes``
    spikes, which is decoded (:func:`decode_position`). Its posterior gets a weighted
    correlation and a line-fit score, its cells a rank-order correlation; each score is
    compared with the same score of ``n_shuffles`` shuffled versions of the event:

    - ``"time_swap"``: the time bins of the posterior in a random order;
    - ``"column_cycle"``: each time bin's posterior circularly shifted by a random number of
      position bins;
    - ``"cell_identity"``: the cells' tuning curves permuted among the cells before decoding (for
      the rank order: the field order permuted among the firing cells).

    The p-value is ``(1 + #{shuffles scoring at least as high}) / (1 + n_shuffles)``, on the
    absolute value for the two correlations, so forward and reverse replay are both detected;
    the sign of a correlation tells the direction.

    Why the trimming: every time bin with a spike weighs the same in the weighted correlation
    (its posterior sums to 1), however few spikes it holds, and bins at either end of an event
    have the largest lever on a correlation with time. Events found in the pooled activity
    (:func:`population_events`) usually begin and end with bins holding one background spike;
    decoded anywhere on the track, two such bins took a clean reverse sequence of 8 bins from
    r = -0.99 to r = -0.29 (p = 0.4) on synthetic data where line fit and rank order gave
    p = 0.003 (``tests/test_replay.py``). ``min_edge_spikes=1`` scores the untrimmed event.

    Time-bin swaps and column cycles also break the dependence between neighbouring time bins
    that a cell firing across both creates, so they are slightly liberal: on synthetic events
    (:func:`trisim.analysis.synthetic.replay_block`) with shuffled cell order and 10 ms spike
    jitter, 7-8% of 300 events reached p < 0.05 with them and 4-6% with the cell-identity
    shuffle; with 5 ms jitter, 3-7% with either.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        The cells of ``curves``, in the same order.
    curves : trisim.analysis.place_fields.TuningCurves
    events : neo.Epoch
        E.g. from :func:`population_events`.
    bin_size : pq.Quantity, optional
        Decoding time bin.
    n_shuffles : int, optional
    seed : int, optional
        Seed of the shuffles (one :func:`numpy.random.default_rng` for all events).
    shuffles : dict, optional
        Shuffle per score, updating :data:`DEFAULT_SHUFFLES`; ``"rank_order"`` takes
        ``"cell_identity"`` only.
    band : pq.Quantity, optional
        Half-width of the line-fit band.
    min_cells : int, optional
        Fewest firing cells with a field for a rank-order score.
    min_rate : pq.Quantity, optional
        Floor of the tuning curves in decoding.
    min_edge_spikes : int, optional
        Fewest spikes of the first and last time bin scored (see above).

    Returns
    -------
    neo.Epoch
        ``events`` with array annotations added, NaN where a score is undefined (fewer than
        :data:`MIN_ACTIVE_BINS` time bins with spikes, fewer than ``min_cells`` cells):
        ``weighted_correlation``, ``line_fit_score``, ``line_fit_slope_cm_per_s``,
        ``line_fit_intercept_cm``, ``rank_order`` and a ``<score>_p`` for each of the three, plus
        ``n_time_bins``, ``n_active_bins`` and ``n_active_cells`` (of the trimmed span) and
        ``scored_start_s``, ``scored_stop_s`` (the span); the shuffles, ``n_shuffles``,
        ``seed``, ``decoding_bin_ms``, ``band_cm``, ``min_cells`` and ``min_edge_spikes`` as
        annotations.
    """
    spiketrains = checked_spiketrains(spiketrains)
    shuffles = _checked_shuffles(shuffles)
    check_integer(n_shuffles, "n_shuffles", minimum=1)
    check_integer(seed, "seed", minimum=0)
    check_integer(min_cells, "min_cells", minimum=3)
    check_integer(min_edge_spikes, "min_edge_spikes", minimum=1)
    check_positive_quantity(bin_size, "bin_size", pq.ms)
    if not isinstance(events, neo.Epoch):
        raise TypeError(f"events must be a neo.Epoch, not {type(events).__name__}")
    decoder = _Decoder(curves, min_rate, len(spiketrains))
    spikes = _pooled_spikes(spiketrains)
    centres = field_properties(curves)["centre"].magnitude
    settings = {"bin_s": float(bin_size.rescale(pq.s)), "n_shuffles": n_shuffles,
                "shuffles": shuffles, "band_bins": _band_bins(band, decoder.positions),
                "min_cells": min_cells, "min_edge_spikes": min_edge_spikes,
                "rng": np.random.default_rng(seed)}
    starts = events.times.rescale(pq.s).magnitude
    stops = starts + events.durations.rescale(pq.s).magnitude
    rows = [_score_event(spikes, decoder, centres, start, stop, settings)
            for start, stop in zip(starts, stops)]
    columns = {key: np.array([row[key] for row in rows]) for key in _SCORE_COLUMNS}
    # a new Epoch: Epoch.copy() would share (and let us change) the input's array annotations
    return neo.Epoch(times=events.times, durations=events.durations, labels=events.labels,
                     name=events.name,
                     array_annotations={**{key: np.copy(value) for key, value in
                                           events.array_annotations.items()}, **columns},
                     **{**events.annotations,
                        **{f"{score}_shuffle": name for score, name in shuffles.items()},
                        "n_shuffles": n_shuffles, "seed": seed,
                        "decoding_bin_ms": float(bin_size.rescale(pq.ms)),
                        "band_cm": float(band.rescale(pq.cm)), "min_cells": min_cells,
                        "min_edge_spikes": min_edge_spikes})


_SCORE_COLUMNS = ("weighted_correlation", "weighted_correlation_p", "line_fit_score",
                  "line_fit_p", "line_fit_slope_cm_per_s", "line_fit_intercept_cm", "rank_order",
                  "rank_order_p", "n_time_bins", "n_active_bins", "n_active_cells",
                  "scored_start_s", "scored_stop_s")


def _score_event(spikes, decoder, centres, start, stop, settings):
    """The scores of one event ``[start, stop)`` (s), as a dict of :data:`_SCORE_COLUMNS`."""
    times, cells = spikes
    bin_s = settings["bin_s"]
    n_bins = max(1, int(np.ceil((stop - start) / bin_s - 1e-9)))
    counts = _bin_counts(times, cells, decoder.log_rates.shape[0],
                         start + bin_s * np.arange(n_bins + 1))
    full = np.flatnonzero(counts.sum(axis=1) >= settings["min_edge_spikes"])
    first, last = (full[0], full[-1] + 1) if full.size else (0, 0)
    counts = counts[first:last]
    start, n_bins = start + first * bin_s, last - first
    active = counts.sum(axis=1) > 0
    row = dict.fromkeys(_SCORE_COLUMNS, np.nan)
    row.update(n_time_bins=n_bins, n_active_bins=int(active.sum()),
               n_active_cells=int((counts.sum(axis=0) > 0).sum()),
               scored_start_s=start, scored_stop_s=start + n_bins * bin_s)
    if active.sum() >= MIN_ACTIVE_BINS:
        row.update(_posterior_scores(counts, active, decoder, settings))
    order, field_rank = _event_ranks(times, cells, centres, start, n_bins * bin_s + start)
    if order.size >= settings["min_cells"]:
        row.update(_rank_order_scores(order, field_rank, settings))
    return row


def _posterior_scores(counts, active, decoder, settings):
    """Weighted correlation and line fit of an event's posterior, with shuffle p-values."""
    bin_s, n_shuffles, rng = settings["bin_s"], settings["n_shuffles"], settings["rng"]
    posterior = decoder.posterior(counts, bin_s) * active[:, np.newaxis]
    t = np.arange(len(counts), dtype=float)
    x = decoder.positions
    n_active = int(active.sum())
    null = {}
    for name in dict.fromkeys(settings["shuffles"][score]  # in a fixed order, for the seed
                              for score in ("weighted_correlation", "line_fit")):
        null[name] = _shuffled_posteriors(name, posterior, counts, active, decoder, bin_s,
                                          n_shuffles, rng)
    correlation = _weighted_correlation(posterior, t, x)
    null_correlation = _weighted_correlation(null[settings["shuffles"]["weighted_correlation"]],
                                             t, x)
    score, start, end = _line_fit(posterior, settings["band_bins"], n_active)
    null_score = _line_scores(null[settings["shuffles"]["line_fit"]],
                              settings["band_bins"])[0].max(axis=0) / n_active
    fitted = _line_in_units(start, end, len(counts), x, bin_s)
    return {"weighted_correlation": correlation,
            "weighted_correlation_p": _p_value(np.abs(null_correlation), abs(correlation)),
            "line_fit_score": score, "line_fit_p": _p_value(null_score, score),
            "line_fit_slope_cm_per_s": fitted["slope"],
            "line_fit_intercept_cm": fitted["intercept"]}


def _rank_order_scores(order, field_rank, settings):
    """Spearman's rho of firing order against field order, with a cell-identity p-value."""
    rng, n_shuffles = settings["rng"], settings["n_shuffles"]
    a = (order - order.mean()) / order.std()
    b = (field_rank - field_rank.mean()) / field_rank.std()
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return {}  # all cells tied in time or in field order: rho undefined
    rho = float(a @ b / a.size)
    permutations = rng.random((n_shuffles, a.size)).argsort(axis=1)
    null = b[permutations] @ a / a.size
    return {"rank_order": rho, "rank_order_p": _p_value(np.abs(null), abs(rho))}


def _shuffled_posteriors(name, posterior, counts, active, decoder, bin_s, n_shuffles, rng):
    """``(n_shuffles, T, X)`` posteriors of one event under the shuffle ``name``."""
    n_t, n_x = posterior.shape
    if name == "time_swap":
        return posterior[rng.random((n_shuffles, n_t)).argsort(axis=1)]
    if name == "column_cycle":
        # shifting a column by k reads the window of [column, column] starting at n_x - k
        windows = np.lib.stride_tricks.sliding_window_view(
            np.concatenate([posterior, posterior], axis=1), n_x, axis=1)
        shifts = rng.integers(0, n_x, (n_shuffles, n_t))
        return windows[np.arange(n_t), (n_x - shifts) % n_x]
    permutations = rng.random((n_shuffles, counts.shape[1])).argsort(axis=1)
    # giving cell i the curve of cell p(i) is giving curve j the counts of p^-1(j)
    shuffled = counts[:, np.argsort(permutations, axis=1)].transpose(1, 0, 2)
    return decoder.posterior(shuffled, bin_s) * active[:, np.newaxis]


def significant_fractions(scored, alpha=0.05):
    """Fraction of the scored events significant by each score: p below ``alpha``.

    Parameters
    ----------
    scored : neo.Epoch
        From :func:`score_events`.
    alpha : float, optional
        Significance level; under the null the fraction is ``alpha`` (chance).

    Returns
    -------
    dict
        ``{score: fraction}`` for ``"weighted_correlation"``, ``"line_fit"`` and
        ``"rank_order"``, over the events whose score is defined; None where none is.
    """
    fractions = {}
    for score in DEFAULT_SHUFFLES:
        p_values = np.asarray(scored.array_annotations[f"{score}_p"], dtype=float)
        defined = p_values[np.isfinite(p_values)]
        fractions[score] = float(np.mean(defined < alpha)) if defined.size else None
    return fractions


def _p_value(null, observed):
    """Monte-Carlo p-value: ``(1 + #{null >= observed}) / (1 + n)``; NaN if undefined."""
    if not np.isfinite(observed):
        return np.nan
    return float((1 + np.count_nonzero(null >= observed - 1e-12)) / (1 + null.size))


def _checked_shuffles(shuffles):
    """:data:`DEFAULT_SHUFFLES` updated with ``shuffles``, after checking names."""
    chosen = dict(DEFAULT_SHUFFLES)
    for score, name in (shuffles or {}).items():
        if score not in DEFAULT_SHUFFLES:
            raise ValueError(f"unknown score {score!r}; valid: {', '.join(DEFAULT_SHUFFLES)}")
        valid = ("cell_identity",) if score == "rank_order" else SHUFFLES
        if name not in valid:
            raise ValueError(f"unknown shuffle {name!r} for {score}; valid: {', '.join(valid)}")
        chosen[score] = name
    return chosen


def peri_event_histograms(spiketrains, events, window=2 * pq.s, bin_size=150 * pq.ms,
                          align="start"):
    """Pooled spike counts of a group of cells around each event, z-scored per event.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        One group of cells (e.g. the cue cells); their spikes are pooled.
    events : neo.Epoch
    window : pq.Quantity, optional
        The histogram spans ``[-window, window]`` around each event (rounded to whole bins).
    bin_size : pq.Quantity, optional
    align : {"start", "centre", "peak"}, optional
        The time of an event: its start, its midpoint, or its ``peak_time_s`` array annotation
        (from :func:`population_events`).

    Returns
    -------
    neo.AnalogSignal
        ``(n_bins, n_events)`` z-scores, sampled at bin centres relative to the events (one bin
        is centred on 0); bins beyond the recording are NaN and left out of the z-score;
        annotations ``align``, ``bin_size_ms``, ``window_ms`` and ``n_spiketrains``. Average over
        events with ``np.nanmean(signal, axis=1)``.
    """
    spiketrains = checked_spiketrains(spiketrains)
    check_positive_quantity(window, "window", pq.ms)
    check_positive_quantity(bin_size, "bin_size", pq.ms)
    reference = _event_times(events, align)
    bin_s = float(bin_size.rescale(pq.s))
    half = int(round(float(window.rescale(pq.s)) / bin_s))
    offsets = (np.arange(-half, half + 2) - 0.5) * bin_s
    times, cells = _pooled_spikes(spiketrains)
    first, last = (float(t.rescale(pq.s)) for t in (spiketrains[0].t_start, spiketrains[0].t_stop))
    z = np.full((offsets.size - 1, reference.size), np.nan)
    for column, time in enumerate(reference):
        edges = time + offsets
        counts = np.histogram(times, edges)[0].astype(float)
        counts[(edges[:-1] < first) | (edges[1:] > last)] = np.nan
        spread = np.nanstd(counts)
        if spread > 0:
            z[:, column] = (counts - np.nanmean(counts)) / spread
    return neo.AnalogSignal(z, units=pq.dimensionless, sampling_period=bin_size,
                            t_start=-half * bin_size.rescale(pq.s), name="peri_event_zscore",
                            align=align, bin_size_ms=float(bin_size.rescale(pq.ms)),
                            window_ms=half * bin_s * 1000, n_spiketrains=len(spiketrains))


def group_correlation(first, second, bin_size=150 * pq.ms, t_start=None, t_stop=None):
    """Correlation of two groups' pooled spike counts in fixed bins (e.g. place vs cue cells).

    Parameters
    ----------
    first, second : list of neo.SpikeTrain
        The two groups, over a common span.
    bin_size : pq.Quantity, optional
        Liao et al. (2024) used 150 ms.
    t_start, t_stop : pq.Quantity, optional
        Span counted; by default that of the first group's first train.

    Returns
    -------
    dict
        ``pearson_r``, ``pearson_p``, ``spearman_rho``, ``spearman_p`` (two-sided,
        :mod:`scipy.stats`) and ``n_bins``; the statistics are NaN if a group is silent.
    """
    first, second = checked_spiketrains(first), checked_spiketrains(second)
    check_positive_quantity(bin_size, "bin_size", pq.ms)
    t_start = first[0].t_start if t_start is None else t_start
    t_stop = first[0].t_stop if t_stop is None else t_stop
    a, b = (time_histogram([train.time_slice(t_start, t_stop) for train in group], bin_size,
                           t_start=t_start, t_stop=t_stop, output="counts").magnitude[:, 0]
            for group in (first, second))
    result = {"pearson_r": np.nan, "pearson_p": np.nan, "spearman_rho": np.nan,
              "spearman_p": np.nan, "n_bins": int(a.size)}
    if a.size > 2 and a.std() > 0 and b.std() > 0:
        pearson, spearman = stats.pearsonr(a, b), stats.spearmanr(a, b)
        result.update(pearson_r=float(pearson.statistic), pearson_p=float(pearson.pvalue),
                      spearman_rho=float(spearman.statistic), spearman_p=float(spearman.pvalue))
    return result


def _event_times(events, align):
    """Reference time in s of each event: its start, centre or ``peak_time_s``."""
    if not isinstance(events, neo.Epoch):
        raise TypeError(f"events must be a neo.Epoch, not {type(events).__name__}")
    starts = events.times.rescale(pq.s).magnitude
    if align == "start":
        return starts
    if align == "centre":
        return starts + events.durations.rescale(pq.s).magnitude / 2
    if align == "peak":
        if "peak_time_s" not in events.array_annotations:
            raise ValueError("align='peak' needs events with a 'peak_time_s' array annotation "
                             "(from population_events)")
        return np.asarray(events.array_annotations["peak_time_s"], dtype=float)
    raise ValueError(f"unknown align {align!r}; valid: start, centre, peak")
