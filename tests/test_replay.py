"""trisim.analysis.replay against planted sequences and against direct implementations of scores.
"""

import neo
import numpy as np
import pytest
import quantities as pq
from scipy import stats

from trisim.analysis import replay
from trisim.analysis.place_fields import TuningCurves, tuning_curves
from trisim.analysis.replay import (decode_position, group_correlation, line_fit, map_position,
                                    peri_event_histograms, population_events, population_zscore,
                                    rank_order, score_events, weighted_correlation)
from trisim.analysis.synthetic import replay_block


def rest_phase(block):
    """Place and cue spike trains of the rest phase, the position and the planted events."""
    segment = block.segments[0]
    position = segment.analogsignals[0]
    place, cue = ([train.time_slice(position.t_stop, train.t_stop) for train in group.spiketrains]
                  for group in block.groups)
    return place, cue, position, segment.epochs[0]


def match_events(detected, planted):
    """For each planted event, the largest boundary error (ms) of the first detected event
    overlapping it (None if none does), and the number of detected events matching none."""
    starts = detected.times.rescale(pq.ms).magnitude
    stops = starts + detected.durations.rescale(pq.ms).magnitude
    errors, matched = [], set()
    for start, duration in zip(planted.times.rescale(pq.ms).magnitude,
                               planted.durations.rescale(pq.ms).magnitude):
        overlapping = np.flatnonzero((starts < start + duration) & (stops > start))
        if overlapping.size == 0:
            errors.append(None)
            continue
        found = overlapping[0]
        matched.add(found)
        errors.append(max(abs(starts[found] - start), abs(stops[found] - start - duration)))
    return errors, len(starts) - len(matched)


@pytest.fixture(scope="module")
def detection_runs():
    """Three seeds of 20 planted events (150 ms, 5 ms jitter) in 60 s of rest."""
    return [rest_phase(replay_block(seed=seed)) for seed in (0, 1, 2)]


@pytest.fixture(scope="module")
def scored_sequences():
    """20 forward, 20 reverse and 20 shuffled events with moderate (10 ms) jitter, scored in
    their planted windows."""
    block = replay_block(seed=5, n_events=60, rest_duration=120 * pq.s, jitter=10 * pq.ms,
                         directions=("forward", "reverse", "shuffled"))
    place = block.groups[0].spiketrains
    curves = tuning_curves(place, block.segments[0].analogsignals[0])
    planted = block.segments[0].epochs[0]
    return planted.labels, score_events(place, curves, planted, n_shuffles=500, seed=1)


# ground truth: event detection

def test_smoothed_rule_finds_every_planted_event_and_no_other(detection_runs):
    found, false = 0, 0
    for place, _, _, planted in detection_runs:
        errors, extra = match_events(population_events(place), planted)
        found += sum(error is not None for error in errors)
        false += extra
    assert found >= 0.95 * 60 and false <= 2


def test_smoothed_rule_bounds_lie_where_the_smoothed_rate_returns_to_the_mean(detection_runs):
    # A 15 ms Gaussian spreads each burst: with events filling 5% of the rest, the rate is back
    # at its mean about 1.6 sigma (25 ms) beyond the planted span, so bounds at the mean are
    # biased outwards; bounds at mean + 1 SD (boundary=1) are within 20 ms.
    at_mean, at_one_sd = [], []
    for place, _, _, planted in detection_runs:
        at_mean += match_events(population_events(place), planted)[0]
        at_one_sd += match_events(population_events(place, boundary=1.0), planted)[0]
    assert None not in at_one_sd and None not in at_mean
    assert 15 < np.median(at_mean) < 40
    assert np.mean(np.array(at_one_sd) <= 20) >= 0.95


def test_binned_rule_finds_every_planted_event_within_its_bins(detection_runs):
    for place, _, _, planted in detection_runs:
        events = population_events(place, method="binned")
        errors, false = match_events(events, planted)
        assert None not in errors and false <= 1
        # bounds fall on 100 ms bins and reach out to the surrounding z >= 0 span
        assert np.allclose(events.durations.rescale(pq.ms).magnitude % 100, 0)
        assert np.median(errors) <= 100


def test_events_carry_peaks_spike_counts_and_parameters(detection_runs):
    place, _, _, _ = detection_runs[0]
    events = population_events(place)
    z = population_zscore(place)
    assert np.all(events.array_annotations["peak_z"] >= 3.0)
    assert np.all(events.array_annotations["n_spikes"] > 0)
    starts = events.times.rescale(pq.s).magnitude
    stops = starts + events.durations.rescale(pq.s).magnitude
    peaks = events.array_annotations["peak_time_s"]
    assert np.all((peaks >= starts) & (peaks <= stops))
    assert events.annotations["threshold"] == 3.0 and events.annotations["sigma_ms"] == 15.0
    assert z.annotations["mean_rate_hz"] > 0 and abs(float(z.magnitude.mean())) < 1e-9


def test_runs_reach_the_threshold_and_extend_to_the_boundary():
    z = np.array([-1, 0.5, 1.5, 0.2, -0.5, 0.3, 0.8, -1, 0.1, 2.0, 0.0, 0.4, 3.0, -2])
    starts, stops = replay._runs_reaching(z, boundary=0.0, threshold=1.0)
    assert starts.tolist() == [1, 8] and stops.tolist() == [4, 13]
    merged = replay._merge_runs(np.array([1, 8, 20]), np.array([4, 13, 22]), gap=4)
    assert [list(part) for part in merged] == [[1, 20], [13, 22]]


def test_merge_gap_and_duration_limits_apply(detection_runs):
    place, _, _, _ = detection_runs[0]
    events = population_events(place)
    short = population_events(place, max_duration=150 * pq.ms)
    assert len(short) < len(events)
    assert np.all(short.durations.rescale(pq.ms).magnitude <= 150)
    merged = population_events(place, merge_gap=5 * pq.s)
    assert len(merged) < len(events)


@pytest.mark.parametrize("arguments, message", [
    ({"method": "fancy"}, "unknown method 'fancy'"),
    ({"threshold": 0.5, "boundary": 1.0}, "threshold"),
    ({"bin_size": 5 * pq.mV}, "bin_size"),
    ({"min_duration": -1 * pq.ms}, "min_duration"),
])
def test_bad_event_parameters_are_refused(detection_runs, arguments, message):
    place = detection_runs[0][0]
    with pytest.raises(ValueError, match=message):
        population_events(place, **arguments)


def test_silent_population_has_no_zscore():
    silent = [neo.SpikeTrain([], units="s", t_stop=10 * pq.s) for _ in range(3)]
    with pytest.raises(ValueError, match="no spikes"):
        population_events(silent)


# ground truth: sequence scores

def test_planted_sequences_are_significant(scored_sequences):
    labels, scored = scored_sequences
    for score in ("weighted_correlation", "line_fit", "rank_order"):
        significant = scored.array_annotations[f"{score}_p"] < 0.05
        for direction in ("forward", "reverse"):
            assert significant[labels == direction].mean() >= 0.9, (score, direction)
        # 20 shuffled orders are too few to measure a 5% rate (next test), not to see most fail
        assert significant[labels == "shuffled"].mean() <= 0.2, score


def test_forward_and_reverse_replay_differ_in_sign(scored_sequences):
    labels, scored = scored_sequences
    annotations = scored.array_annotations
    for score in ("weighted_correlation", "rank_order", "line_fit_slope_cm_per_s"):
        assert np.all(annotations[score][labels == "forward"] > 0), score
        assert np.all(annotations[score][labels == "reverse"] < 0), score
    # the planted sweep covers 200 cm in 150 ms
    speeds = np.abs(annotations["line_fit_slope_cm_per_s"][labels != "shuffled"])
    assert 900 < np.median(speeds) < 1600


def test_shuffled_cell_orders_reach_the_nominal_rate():
    block = replay_block(seed=7, n_events=150, rest_duration=300 * pq.s, directions=("shuffled",))
    place = block.groups[0].spiketrains
    curves = tuning_curves(place, block.segments[0].analogsignals[0])
    scored = score_events(place, curves, block.segments[0].epochs[0], n_shuffles=300, seed=2)
    for score in ("weighted_correlation", "line_fit", "rank_order"):
        p_values = scored.array_annotations[f"{score}_p"]
        assert np.all(np.isfinite(p_values))
        assert np.mean(p_values < 0.05) <= 0.10, score
        # under the null the p-values spread over [0, 1]
        assert 0.3 < np.median(p_values) < 0.7, score


def test_scores_are_reproducible_with_the_seed_and_vary_without_it(scored_sequences):
    labels, scored = scored_sequences
    block = replay_block(seed=5, n_events=60, rest_duration=120 * pq.s, jitter=10 * pq.ms,
                         directions=("forward", "reverse", "shuffled"))
    place = block.groups[0].spiketrains
    curves = tuning_curves(place, block.segments[0].analogsignals[0])
    events = block.segments[0].epochs[0][:6]
    again = score_events(place, curves, events, n_shuffles=500, seed=1)
    other = score_events(place, curves, events, n_shuffles=500, seed=3)
    p = "weighted_correlation_p"
    assert np.array_equal(again.array_annotations[p], scored.array_annotations[p][:6])
    assert not np.array_equal(other.array_annotations[p], again.array_annotations[p])
    assert p not in events.array_annotations  # the input Epoch is left as it was


def test_every_shuffle_can_be_chosen_for_the_posterior_scores(scored_sequences):
    labels, _ = scored_sequences
    block = replay_block(seed=5, n_events=60, rest_duration=120 * pq.s, jitter=10 * pq.ms,
                         directions=("forward", "reverse", "shuffled"))
    place = block.groups[0].spiketrains
    curves = tuning_curves(place, block.segments[0].analogsignals[0])
    events = block.segments[0].epochs[0][:9]
    for shuffle in replay.SHUFFLES:
        scored = score_events(place, curves, events, n_shuffles=200, seed=0,
                              shuffles={"weighted_correlation": shuffle, "line_fit": shuffle})
        assert scored.annotations["line_fit_shuffle"] == shuffle
        significant = scored.array_annotations["weighted_correlation_p"] < 0.05
        assert significant[labels[:9] != "shuffled"].all(), shuffle


def test_unknown_shuffles_are_refused(scored_sequences):
    with pytest.raises(ValueError, match="unknown shuffle 'time_swap' for rank_order"):
        replay._checked_shuffles({"rank_order": "time_swap"})
    with pytest.raises(ValueError, match="unknown score 'radon'"):
        replay._checked_shuffles({"radon": "time_swap"})


def test_events_too_small_to_score_get_nan():
    block = replay_block(seed=0, n_place=20, n_cue=0, n_laps=2, rest_duration=10 * pq.s,
                         n_events=2)
    place = block.groups[0].spiketrains
    curves = tuning_curves(place, block.segments[0].analogsignals[0])
    start = block.segments[0].analogsignals[0].t_stop + 0.2 * pq.s
    tiny = neo.Epoch([float(start.rescale(pq.s))] * pq.s, durations=[1.0] * pq.ms)
    scored = score_events(place, curves, tiny, n_shuffles=10)
    for key in ("weighted_correlation", "line_fit_p", "rank_order"):
        assert np.isnan(scored.array_annotations[key][0]), key
    assert scored.array_annotations["n_time_bins"][0] == 1


# decoding

def test_decoding_error_while_running_is_a_few_cm():
    block = replay_block(seed=3, n_laps=12, n_events=1, rest_duration=5 * pq.s)
    place = block.groups[0].spiketrains
    position = block.segments[0].analogsignals[0]
    half = position.t_start + position.duration / 2
    curves = tuning_curves([train.time_slice(train.t_start, half) for train in place],
                           position.time_slice(position.t_start, half))
    posterior = decode_position(place, curves, 250 * pq.ms, half, position.t_stop)
    decoded = map_position(posterior)
    centres = decoded.times + 125 * pq.ms
    true = np.interp(centres.rescale(pq.s).magnitude, position.times.rescale(pq.s).magnitude,
                     position.magnitude[:, 0])
    speed = np.abs(np.gradient(true, 0.25))
    running = (speed > 5) & np.isfinite(decoded.magnitude[:, 0])
    error = np.abs(decoded.magnitude[running, 0] - true[running])
    assert running.sum() > 50 and np.median(error) < 5


def test_posterior_rows_sum_to_one_and_empty_bins_are_nan():
    block = replay_block(seed=0, n_place=20, n_cue=0, n_laps=2, rest_duration=10 * pq.s,
                         n_events=2)
    place = block.groups[0].spiketrains
    curves = tuning_curves(place, block.segments[0].analogsignals[0])
    posterior = decode_position(place, curves, 10 * pq.ms)
    values = posterior.magnitude
    empty = np.isnan(values).all(axis=1)
    counts = np.array([np.histogram(train.times.rescale(pq.s).magnitude,
                                    posterior.times.rescale(pq.s).magnitude[[0, -1]])[0]
                       for train in place])
    assert empty.any() and (~empty).any() and counts.sum() > 0
    assert np.allclose(values[~empty].sum(axis=1), 1.0)
    assert posterior.shape[1] == curves.rates.shape[1]
    assert np.isnan(map_position(posterior).magnitude[empty, 0]).all()


def test_posterior_follows_bayes_rule_for_one_spike():
    rates = np.array([[1.0, 10.0, 1.0], [5.0, 5.0, 5.0]]) * pq.Hz
    curves = TuningCurves(rates, np.array([0.0, 10, 20, 30]) * pq.cm, np.ones(3) * pq.s)
    trains = [neo.SpikeTrain([0.05], units="s", t_stop=0.1 * pq.s),
              neo.SpikeTrain([], units="s", t_stop=0.1 * pq.s)]
    posterior = decode_position(trains, curves, 100 * pq.ms).magnitude[0]
    # P(x) ∝ f1(x) exp(-tau (f1 + f2)); f2 is flat so it cancels
    expected = rates[0].magnitude * np.exp(-0.1 * rates[0].magnitude)
    assert np.allclose(posterior, expected / expected.sum())


def test_decoding_checks_that_cells_match_curves():
    curves = TuningCurves(np.ones((2, 3)) * pq.Hz, np.arange(4.0) * pq.cm, np.ones(3) * pq.s)
    with pytest.raises(ValueError, match="2 cells but 1 spike trains"):
        decode_position([neo.SpikeTrain([0.1], units="s", t_stop=1 * pq.s)], curves)


# scores against direct implementations

def posterior_signal(weights, bin_size=20 * pq.ms, positions=None):
    positions = np.arange(weights.shape[1]) * 4.0 + 2 if positions is None else positions
    return neo.AnalogSignal(weights, units=pq.dimensionless, sampling_period=bin_size,
                            array_annotations={"position_cm": positions})


def test_weighted_correlation_matches_numpy_weighted_covariance():
    rng = np.random.default_rng(4)
    weights = rng.random((9, 30)) ** 4
    t, x = np.meshgrid(np.arange(9), np.arange(30) * 4.0 + 2, indexing="ij")
    covariance = np.cov(t.ravel(), x.ravel(), aweights=weights.ravel())
    expected = covariance[0, 1] / np.sqrt(covariance[0, 0] * covariance[1, 1])
    assert weighted_correlation(posterior_signal(weights)) == pytest.approx(expected)
    # vectorised over shuffles, each stack entry is scored on its own
    stack = rng.random((5, 9, 30))
    together = replay._weighted_correlation(stack, np.arange(9.0), np.arange(30.0))
    one_by_one = [replay._weighted_correlation(item, np.arange(9.0), np.arange(30.0))
                  for item in stack]
    assert np.allclose(together, one_by_one)


def brute_force_line_fit(weights, half_width, overhang):
    """Every line from bin a (first time bin) to bin b (last), one at a time, ends up to
    ``overhang`` bins beyond the track; positions off the track weigh nothing."""
    n_t, n_x = weights.shape
    best = (-1.0, None, None)
    for a in range(-overhang, n_x + overhang):
        for b in range(-overhang, n_x + overhang):
            centres = a + np.floor((b - a) * np.arange(n_t) / (n_t - 1) + 0.5).astype(int)
            score = band_score(weights, centres, half_width)
            if score > best[0] + 1e-9:
                best = (score, a, b)
    return best


def band_score(weights, centres, half_width):
    return sum(weights[t, j] for t, centre in enumerate(centres)
               for j in range(centre - half_width, centre + half_width + 1)
               if 0 <= j < weights.shape[1])


def test_line_fit_finds_the_best_line_of_a_brute_force_search():
    rng = np.random.default_rng(5)
    for n_t, n_x in ((6, 12), (9, 8), (2, 7)):
        weights = rng.random((n_t, n_x)) ** 6
        weights /= weights.sum(axis=1, keepdims=True)
        overhang = int(round(replay.LINE_OVERHANG * n_x))
        score, a, b = brute_force_line_fit(weights, 2, overhang)
        fast, start, end = replay._line_fit(weights, 2.0, n_t)
        assert fast == pytest.approx(score / n_t, rel=1e-5)
        # the line returned scores what it claims
        centres = start + np.floor((end - start) * np.arange(n_t) / (n_t - 1) + 0.5).astype(int)
        assert band_score(weights, centres, 2) == pytest.approx(score, rel=1e-5)


def test_lines_may_end_beyond_the_track():
    weights = np.zeros((10, 40))
    weights[np.arange(2, 8), 5 + 6 * np.arange(6)] = 1.0  # a sweep in the middle 6 of 10 bins
    weights[[0, 1, 8, 9], [30, 3, 20, 33]] = 1.0  # background spikes in the margins
    score, start, end = replay._line_fit(weights, 0.0, 10)
    assert score == pytest.approx(0.6)  # the whole sweep, no margin
    assert start < 0 and end >= 40  # steeper than the track allows end to end


def test_line_fit_recovers_a_planted_trajectory_in_units():
    weights = np.zeros((8, 50))
    weights[np.arange(8), 5 + 5 * np.arange(8)] = 1.0  # 5 bins (20 cm) per 20 ms bin
    fit = line_fit(posterior_signal(weights), band=2 * pq.cm)  # only the planted line scores 1
    assert fit["score"] == pytest.approx(1.0)
    assert fit["slope"] == pytest.approx(1000.0)  # cm/s
    # at the first bin's centre (10 ms) the line is at bin 5 (22 cm)
    assert fit["intercept"] + fit["slope"] * 0.010 == pytest.approx(22.0)


def test_rank_order_matches_scipy_spearman():
    rng = np.random.default_rng(6)
    centres = rng.permutation(12) * 10.0
    times = rng.uniform(0, 0.1, 12) + 1.0
    trains = [neo.SpikeTrain([t, t + 0.001], units="s", t_stop=2 * pq.s) for t in times]
    rho = rank_order(trains, centres, 0.9 * pq.s, 1.2 * pq.s)
    assert rho == pytest.approx(stats.spearmanr(times, centres).statistic)
    # vectorised null: a permutation of the field ranks gives the same value as scipy
    order, field_rank = replay._event_ranks(*replay._pooled_spikes(trains), centres, 0.9, 1.2)
    settings = {"rng": np.random.default_rng(0), "n_shuffles": 50}
    vectorised = replay._rank_order_scores(order, field_rank, settings)["rank_order"]
    assert vectorised == pytest.approx(rho)


def test_shuffles_preserve_what_they_should():
    rng = np.random.default_rng(8)
    posterior = rng.random((6, 20))
    swapped = replay._shuffled_posteriors("time_swap", posterior, None, None, None, 0.02, 40, rng)
    assert swapped.shape == (40, 6, 20)
    assert all(sorted(map(tuple, item)) == sorted(map(tuple, posterior)) for item in swapped)
    cycled = replay._shuffled_posteriors("column_cycle", posterior, None, None, None, 0.02, 40,
                                         rng)
    assert np.allclose(np.sort(cycled, axis=2), np.sort(posterior, axis=1)[np.newaxis])
    assert not np.allclose(cycled, posterior)


def test_cell_identity_shuffle_decodes_with_permuted_curves():
    rng = np.random.default_rng(9)
    rates = rng.uniform(0.5, 20, (7, 10)) * pq.Hz
    curves = TuningCurves(rates, np.arange(11.0) * pq.cm, np.ones(10) * pq.s)
    decoder = replay._Decoder(curves, 0.1 * pq.Hz, 7)
    counts = rng.poisson(0.5, (4, 7)).astype(float)
    active = counts.sum(axis=1) > 0
    posterior = decoder.posterior(counts, 0.02) * active[:, np.newaxis]
    shuffled = replay._shuffled_posteriors("cell_identity", posterior, counts, active, decoder,
                                           0.02, 3, np.random.default_rng(1))
    permutations = np.random.default_rng(1).random((3, 7)).argsort(axis=1)
    for item, permutation in zip(shuffled, permutations):
        permuted = replay._Decoder(TuningCurves(rates[permutation], curves.edges,
                                                curves.occupancy), 0.1 * pq.Hz, 7)
        assert np.allclose(item, permuted.posterior(counts, 0.02) * active[:, np.newaxis])


def test_p_value_counts_ties_and_the_observation():
    assert replay._p_value(np.array([0.1, 0.5, 0.5, 0.9]), 0.5) == pytest.approx(4 / 5)
    assert replay._p_value(np.zeros(99), 1.0) == pytest.approx(0.01)
    assert np.isnan(replay._p_value(np.zeros(3), np.nan))


# group modulation

def test_place_cells_burst_and_cue_cells_pause_at_events(detection_runs):
    place, cue, _, _ = detection_runs[0]
    events = population_events(place)
    place_histograms = peri_event_histograms(place, events, align="peak")
    cue_histograms = peri_event_histograms(cue, events, align="peak")
    zero = np.argmin(np.abs(place_histograms.times.rescale(pq.s).magnitude))
    assert place_histograms.shape == (27, len(events))  # +-2 s in 150 ms bins, one on 0
    assert np.nanmean(place_histograms.magnitude[zero]) > 3
    assert np.nanmean(cue_histograms.magnitude[zero]) < -0.5
    # z-scored per event
    assert np.allclose(np.nanmean(place_histograms.magnitude, axis=0), 0, atol=1e-9)


def test_bins_beyond_the_recording_are_left_out():
    train = neo.SpikeTrain(np.linspace(0.05, 9.95, 100), units="s", t_stop=10 * pq.s)
    events = neo.Epoch([0.5] * pq.s, durations=[0.1] * pq.s)
    histograms = peri_event_histograms([train], events, window=1 * pq.s, bin_size=100 * pq.ms)
    times = histograms.times.rescale(pq.s).magnitude
    assert np.isnan(histograms.magnitude[times < -0.5, 0]).all()
    assert np.isfinite(histograms.magnitude[times > -0.45, 0]).all()


def test_place_and_cue_counts_are_anticorrelated(detection_runs):
    place, cue, _, _ = detection_runs[0]
    result = group_correlation(place, cue)
    assert result["n_bins"] == 400  # 60 s in 150 ms bins
    assert result["pearson_r"] < -0.1 and result["pearson_p"] < 0.05
    itself = group_correlation(place, place)
    assert itself["pearson_r"] == pytest.approx(1.0)
    assert itself["spearman_rho"] == pytest.approx(1.0)


def test_silent_group_has_undefined_correlation(detection_runs):
    place, _, _, _ = detection_runs[0]
    silent = [neo.SpikeTrain([], units="s", t_start=place[0].t_start, t_stop=place[0].t_stop)]
    assert np.isnan(group_correlation(place, silent)["pearson_r"])


def test_docstring_examples_run():
    import doctest

    from trisim.analysis import replay as module
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_weighted_correlation_of_detected_events_needs_their_sparse_edge_bins_trimmed():
    # planted sequences found by the published rule (100 ms bins, z >= 1 grown to z >= 0):
    # the events begin and end with bins holding a background spike or two
    block = replay_block(seed=3, n_events=12)
    place, _, position, planted = rest_phase(block)
    curves = tuning_curves(block.groups[0].spiketrains, position)
    events = population_events(place, "binned")
    assert len(events) == len(planted)
    trimmed, untrimmed = (score_events(block.groups[0].spiketrains, curves, events,
                                       n_shuffles=300, seed=1, min_edge_spikes=m)
                          for m in (2, 1))

    def found(scored, score):
        return int(np.sum(scored.array_annotations[f"{score}_p"] < 0.05))

    # rank order finds every event either way; the weighted correlation, each bin weighing
    # the same whatever its spikes, is pulled towards 0 by the sparse edge bins untrimmed
    assert found(trimmed, "rank_order") == found(untrimmed, "rank_order") == 12
    assert found(trimmed, "weighted_correlation") >= 10 > found(untrimmed,
                                                                "weighted_correlation")
    assert found(trimmed, "line_fit") > found(untrimmed, "line_fit")
    r_trimmed, r_untrimmed = (np.abs(scored.array_annotations["weighted_correlation"])
                              for scored in (trimmed, untrimmed))
    assert np.median(r_trimmed) > 0.8 and np.median(r_untrimmed) < 0.7
    assert r_trimmed.max() > 0.99 > 0.95 > r_untrimmed.max()
    spans = trimmed.array_annotations
    assert np.all(spans["scored_start_s"] >= events.times.rescale(pq.s).magnitude - 1e-9)
    # the direction is the planted one wherever the correlation is significant
    significant = spans["weighted_correlation_p"] < 0.05
    signs = np.sign(spans["weighted_correlation"][significant])
    expected = np.where(planted.labels[significant] == "forward", 1, -1)
    np.testing.assert_array_equal(signs, expected)
