"""What the CA3 runs are judged by: training activity, trained weights, offline replay.

Functions take a run's Neo Block (as :mod:`.protocol` writes it) and return JSON-ready values.
The generic analyses (tuning curves, events, peri-event histograms, correlations, sequence
scores) are trisim's (:mod:`trisim.analysis`); here they are applied with the published
protocol's choices.
"""

import numpy as np
import quantities as pq

from trisim.pynn_models.ca3 import protocol

#: Published analysis windows and bins (analysis.ipynb of soltesz-lab/ca3_biophysical).
EVENT_BIN = 100 * pq.ms
CORRELATION_BIN = 150 * pq.ms
PERI_EVENT_WINDOW = 2 * pq.s
#: A place cell's field counts as at its input's place within this distance.
FIELD_TOLERANCE_CM = 15.0
#: Around the lap's cue position, what counts as "at the cue".
CUE_WINDOW_CM = 15.0
#: Sequence scores: shuffles per event and score (cost: docs/models/ca3.md), and the p below
#: which an event is a significant sequence (the fraction expected by chance).
SEQUENCE_SHUFFLES = 1000
SEQUENCE_ALPHA = 0.05


def epoch(block, name):
    for e in block.segments[0].epochs:
        if e.name == name:
            return e
    raise KeyError(f"the run has no {name!r} epoch")


def phase_window(block, phase):
    """[start, stop) in ms of a phase ("training" or "offline") of the run."""
    phases = epoch(block, "phases")
    labels = list(phases.labels)
    if phase not in labels:
        raise KeyError(f"the run has no {phase} phase")
    index = labels.index(phase)
    start = float(phases.times[index].rescale(pq.ms))
    return start, start + float(phases.durations[index].rescale(pq.ms))


def laps(block, phase):
    """Start times (ms), durations (ms) and cue positions (cm; NaN offline) of a phase's laps."""
    e = epoch(block, "laps")
    mine = np.asarray(e.labels) == phase
    return (e.times.rescale(pq.ms).magnitude[mine], e.durations.rescale(pq.ms).magnitude[mine],
            np.asarray(e.array_annotations["cue_cm"], dtype=float)[mine])


def cells(block, population):
    """The spike trains of one population, in cell order."""
    trains = [t for t in block.segments[0].spiketrains
              if t.annotations.get("source_population") == population]
    return sorted(trains, key=lambda t: t.annotations["source_index"])


def by_class(block):
    """PYR spike trains split into place and cue cells."""
    pyr = cells(block, "PYR")
    return ([t for t in pyr if t.annotations["cell_type"] == "place"],
            [t for t in pyr if t.annotations["cell_type"] == "cue"])


def signal(block, name):
    seg = block.segments[0]
    for s in seg.analogsignals:
        if s.name == name:
            return s
    raise KeyError(name)


def rate(trains, t_start, t_stop):
    """Mean rate (Hz) of each train in [t_start, t_stop) (ms)."""
    return np.array([np.count_nonzero((t.magnitude >= t_start) & (t.magnitude < t_stop))
                     for t in trains]) / ((t_stop - t_start) / 1000.0)


def lap_window(block, phase, first_lap, last_lap):
    """[start, stop) in ms of a phase's laps first_lap .. last_lap - 1."""
    starts, durations, _ = laps(block, phase)
    last = min(last_lap, starts.size) - 1
    return float(starts[first_lap]), float(starts[last] + durations[last])


def training(block, window=None):
    """Training activity over laps ``window = (first, last)`` (default: all of them).

    Returns place and cue cells' mean rates and their t-test, the PVBC rate, each place cell's
    field (peak rate and centre in the last lap window, from a tuning curve) against the place of
    its mossy fibre input, and the cue cells' rate near each lap's cue against elsewhere.
    """
    from scipy import stats
    from trisim.analysis import place_fields
    place, cue = by_class(block)
    n_laps = laps(block, "training")[0].size
    first, last = window or (0, n_laps)
    t0, t1 = lap_window(block, "training", first, last)
    place_rates, cue_rates = rate(place, t0, t1), rate(cue, t0, t1)
    test = stats.ttest_ind(place_rates, cue_rates)
    position = signal(block, "position").time_slice(t0 * pq.ms, t1 * pq.ms)
    curves = place_fields.tuning_curves(place, position, bin_size=2 * pq.cm, sigma=3 * pq.cm,
                                        track=(0 * pq.cm, _track_length(block) * pq.cm))
    rates = np.nan_to_num(curves.rates.magnitude)
    peaks = rates.max(axis=1)
    centres = curves.centres.magnitude[rates.argmax(axis=1)]
    expected = np.array([t.annotations["field_centre_cm"] for t in place])
    active = peaks > 1.0
    near = np.abs(centres - expected) <= FIELD_TOLERANCE_CM
    return {
        "laps": [int(first), int(last)],
        "place_rate_hz": float(place_rates.mean()), "cue_rate_hz": float(cue_rates.mean()),
        "place_vs_cue_t": float(test.statistic), "place_vs_cue_p": float(test.pvalue),
        "pvbc_rate_hz": float(rate(cells(block, "PVBC"), t0, t1).mean()),
        "field_peak_hz_mean": float(peaks[active].mean()) if active.any() else 0.0,
        "field_peak_hz_sd": float(peaks[active].std()) if active.any() else 0.0,
        "fraction_place_with_field_at_input": float(np.mean(active & near)),
        "fraction_place_active": float(active.mean()),
        **cue_response(block, cue, first, last),
    }


def _track_length(block):
    return float(np.nanmax(signal(block, "position").magnitude)) + 1e-6


def cue_response(block, cue, first, last):
    """Cue cells' rate within CUE_WINDOW_CM of each lap's cue and elsewhere on the track."""
    starts, durations, cues = laps(block, "training")
    position = signal(block, "position")
    t = position.times.rescale(pq.ms).magnitude
    x = position.magnitude[:, 0]
    at_cue, away, time_at, time_away = 0, 0, 0.0, 0.0
    period = float(position.sampling_period.rescale(pq.ms)) if hasattr(position,
                                                                        "sampling_period") else 1
    spikes = np.concatenate([c.magnitude for c in cue]) if cue else np.empty(0)
    for lap in range(first, min(last, starts.size)):
        t0, t1 = starts[lap], starts[lap] + durations[lap]
        inside = (t >= t0) & (t < t1)
        if not inside.any():  # a lap cut short before the first position sample
            continue
        near = np.abs(x[inside] - cues[lap]) <= CUE_WINDOW_CM
        time_at += near.sum() * period
        time_away += (~near).sum() * period
        lap_spikes = spikes[(spikes >= t0) & (spikes < t1)]
        spike_x = np.interp(lap_spikes, t[inside], x[inside])
        close = np.abs(spike_x - cues[lap]) <= CUE_WINDOW_CM
        at_cue += close.sum()
        away += (~close).sum()
    n = max(len(cue), 1)
    return {"cue_rate_at_cue_hz": float(at_cue / n / max(time_at, 1e-9) * 1000.0),
            "cue_rate_away_hz": float(away / n / max(time_away, 1e-9) * 1000.0)}


def weights(block, lap=None):
    """Median weights of each plastic pathway at ``lap`` (default: the last read), by the
    class of the target (PYR targets) or source (PYR sources), with the initial weight.

    PVBC -> PYR onto cue vs onto place cells is also tested (Mann-Whitney), as published.
    """
    from scipy import stats
    pyr = cells(block, "PYR")
    is_place = np.array([t.annotations["cell_type"] == "place" for t in pyr])
    out = {}
    for pathway, trained in protocol.trained_weights(block).items():
        laps = [int(value) for value in trained.laps]
        row = len(laps) - 1 if lap is None or lap < 0 else laps.index(lap)
        w = trained.values[row]
        sources, targets = trained.sources, trained.targets
        entry = {"lap": int(laps[row]), "initial": trained.initial_weight_uS,
                 "median": float(np.median(w)), "mean": float(w.mean())}
        if trained.target_population == "PYR":
            onto_place = is_place[targets]
            entry["median_onto_place"] = float(np.median(w[onto_place])) if onto_place.any() \
                else None
            entry["median_onto_cue"] = float(np.median(w[~onto_place])) if (~onto_place).any() \
                else None
        if pathway == "PVBC_PYR" and is_place.any() and (~is_place).any():
            onto_place = is_place[targets]
            test = stats.mannwhitneyu(w[~onto_place], w[onto_place], alternative="greater")
            entry["cue_vs_place_mannwhitney_p"] = float(test.pvalue)
            entry["cue_over_place_median_ratio"] = float(np.median(w[~onto_place])
                                                         / np.median(w[onto_place]))
        if pathway == "PYR_PYR":
            entry.update(_ee_by_distance(w, sources, targets, pyr, is_place))
        out[pathway] = entry
    return out


def _ee_by_distance(w, sources, targets, pyr, is_place):
    """Place -> place E->E weights against the distance of the two cells' input places."""
    from scipy import stats
    centre = np.array([t.annotations["field_centre_cm"] for t in pyr])
    both = is_place[sources] & is_place[targets]
    if not both.any():
        return {}
    distance = np.abs(centre[sources[both]] - centre[targets[both]])
    rho = stats.spearmanr(distance, w[both])
    return {"place_place_weight_vs_distance_spearman": float(rho.statistic),
            "place_place_weight_vs_distance_p": float(rho.pvalue)}


def offline(block, first_lap=1):
    """The offline phase by the published analysis: from lap ``first_lap`` (the first lap
    has spatial input) to the end, the place-cue correlation of pooled counts in 150 ms bins
    (Pearson and Spearman), the place-PVBC correlation, population events of the place cells
    (:func:`offline_events`), their rate and durations, and the place and cue cells'
    peri-event z-scores (+-2 s, 150 ms bins) at the event centres."""
    from trisim.analysis import replay
    (t0, t1), (place_w, cue_w, pvbc_w) = offline_window(block, first_lap)
    correlation = replay.group_correlation(place_w, cue_w, CORRELATION_BIN, t0, t1)
    with_pvbc = replay.group_correlation(place_w, pvbc_w, CORRELATION_BIN, t0, t1)
    seconds = float((t1 - t0).rescale(pq.s))
    result = {"window_ms": [float(t0), float(t1.rescale(pq.ms))],
              "r": correlation["pearson_r"], "p": correlation["pearson_p"],
              "spearman_rho": correlation["spearman_rho"],
              "spearman_p": correlation["spearman_p"], "n_bins": correlation["n_bins"],
              "r_place_pvbc": with_pvbc["pearson_r"],
              "place_rate_hz": float(rate(place_w, float(t0), float(t1)).mean()),
              "cue_rate_hz": float(rate(cue_w, float(t0), float(t1)).mean()),
              "pvbc_rate_hz": float(rate(pvbc_w, float(t0), float(t1)).mean())}
    events = offline_events(place_w)
    n = 0 if events is None else len(events)
    result.update(n_events=n, event_rate_hz=n / seconds)
    if n:
        durations = events.durations.rescale(pq.ms).magnitude
        result.update(event_duration_ms_median=float(np.median(durations)))
        for name, group in (("place", place_w), ("cue", cue_w)):
            z = replay.peri_event_histograms(group, events, PERI_EVENT_WINDOW, CORRELATION_BIN,
                                             align="centre")
            mean = np.nanmean(np.asarray(z.magnitude), axis=1)
            result[f"peri_event_z_{name}"] = [float(v) for v in mean]
            result[f"peri_event_z0_{name}"] = float(mean[mean.size // 2])
        result["peri_event_t_s"] = [float(v) for v in z.times.rescale(pq.s).magnitude]
    return result


def offline_window(block, first_lap=1):
    """The offline phase analysed, from lap ``first_lap`` to its end: ``(t0, t1)`` (ms
    quantities) and the place, cue and PVBC cells' trains cut to it."""
    place, cue = by_class(block)
    starts, _, _ = laps(block, "offline")
    t0 = (starts[first_lap] if first_lap < starts.size else starts[-1]) * pq.ms
    t1 = phase_window(block, "offline")[1] * pq.ms
    window = [[t.time_slice(t0, t1) for t in group] for group in (place, cue,
                                                                    cells(block, "PVBC"))]
    for group in window:
        for train in group:
            train.t_start = t0
    return (t0, t1), window


def offline_events(place):
    """Population events of the place cells, as published: 100 ms bins, z >= 1 extended to
    z >= 0, the first event dropped; None without any spike."""
    from trisim.analysis import replay
    try:
        return replay.population_events(place, "binned", bin_size=EVENT_BIN)[1:]
    except ValueError:  # no spikes at all
        return None


def place_curves(block, window):
    """Tuning curves of the place cells over the training laps ``window = (first, last)``,
    as ``trisim replay`` makes them (4 cm bins smoothed over 4 cm, running time only)."""
    from trisim.analysis import place_fields
    place, _ = by_class(block)
    t0, t1 = lap_window(block, "training", *window)
    position = signal(block, "position").time_slice(t0 * pq.ms, t1 * pq.ms)
    return place_fields.tuning_curves(place, position)


def sequences(block, curves, seed=0, n_shuffles=SEQUENCE_SHUFFLES):
    """Sequence scores of the offline events (those of :func:`offline`), decoded with the
    place cells' tuning curves ``curves`` (:func:`place_curves`): see
    :func:`sequence_scores`."""
    _, (place, _, _) = offline_window(block)
    return sequence_scores(place, curves, offline_events(place), seed, n_shuffles)


def sequence_scores(place, curves, events, seed=0, n_shuffles=SEQUENCE_SHUFFLES):
    """Each event's sequence scores against shuffles and the fraction of events significant
    (p < :data:`SEQUENCE_ALPHA`, which is the fraction expected by chance) by each score.

    The scores of :func:`trisim.analysis.replay.score_events` (``trisim replay``'s): Bayesian
    decoding in 20 ms bins, then the weighted correlation of the posterior against time-bin
    swaps, the best line (15 cm band) against column cycles, and the rank order of the
    cells' firing against their field order against cell-identity shuffles; ``n_shuffles``
    each, drawn from ``seed``.

    Returns
    -------
    dict
        ``n_events``; per score, ``significant_fraction`` (None without a scored event) and
        ``n_scored`` (events with a defined score: enough active time bins or cells); per
        event, ``weighted_correlation`` (its sign is the direction), the best line's
        ``line_fit_slope_cm_per_s`` and each score's p (``p``).

    The line fit against column cycles also finds a posterior that stays in one place (a
    line of slope near 0) significant: it tests that the decoded position is coherent in
    time, not that it moves; the other two test an order.
    """
    from trisim.analysis import replay
    scores = tuple(replay.DEFAULT_SHUFFLES)
    result = {"n_shuffles": n_shuffles, "alpha": SEQUENCE_ALPHA,
              "n_events": 0 if events is None else len(events)}
    if not result["n_events"]:
        return {**result, "significant_fraction": dict.fromkeys(scores),
                "n_scored": dict.fromkeys(scores, 0)}
    scored = replay.score_events(place, curves, events, n_shuffles=n_shuffles, seed=seed)
    p_values = {score: np.asarray(scored.array_annotations[f"{score}_p"], dtype=float)
                for score in scores}
    return {**result,
            "significant_fraction": replay.significant_fractions(scored, SEQUENCE_ALPHA),
            "n_scored": {score: int(np.isfinite(p).sum()) for score, p in p_values.items()},
            **{key: [float(v) for v in scored.array_annotations[key]]
               for key in ("weighted_correlation", "line_fit_slope_cm_per_s")},
            "p": {score: [float(v) for v in p] for score, p in p_values.items()}}
