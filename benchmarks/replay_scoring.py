"""Scoring replay events: trisim's vectorised shuffles against a loop, and against nelpy.

nelpy's line-fit score is the comparison.

Not part of the test suite. Prints the results as JSON and writes them to
``benchmarks/results/replay_scoring.json``; wall and CPU times both, since the machine may be
shared.

1. 200 planted events (forward, reverse, shuffled order; ``trisim.analysis.synthetic``), each
   scored by ``score_events`` with 2000 shuffles for each of the three scores (weighted
   correlation against time-bin swaps, line fit against column cycles, rank order against
   cell-identity shuffles).
2. The same scores computed with a Python loop over shuffles (one shuffled posterior or ranking
   at a time, each scored with numpy), timed on ``--loop-events`` events and extrapolated to all.
3. With ``--nelpy-python PATH`` (a Python with nelpy installed, e.g. a throwaway venv; trisim
   does not depend on it): nelpy 0.2.1 has no weighted-correlation score, so its Davidson line
   score (``nelpy.analysis.replay.trajectory_score_array``) is compared with trisim's on the
   same posteriors: for trisim's best line, and for nelpy's own line (a regression through the
   most probable positions). nelpy 0.2.1 needs numpy-1 aliases and ``mpl_toolkits.axes_grid``,
   which the helper provides as shims before importing it.

Usage: ``python benchmarks/replay_scoring.py [--events N] [--shuffles N] [--loop-events N]
[--nelpy-python PATH]``
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import quantities as pq
from scipy import stats

from trisim.analysis import replay
from trisim.analysis.place_fields import field_properties, tuning_curves
from trisim.analysis.synthetic import replay_block

RESULTS = Path(__file__).with_name("results")
BAND = 15 * pq.cm
BIN_S = 0.02

NELPY_HELPER = """
import json, sys
import numpy as np
for alias, kind in (("int", int), ("float", float), ("object", object), ("complex", complex)):
    if alias not in np.__dict__:
        setattr(np, alias, kind)  # removed in numpy 2, used by nelpy 0.2.1
import mpl_toolkits.axes_grid1, mpl_toolkits.axes_grid1.inset_locator
sys.modules["mpl_toolkits.axes_grid"] = mpl_toolkits.axes_grid1
sys.modules["mpl_toolkits.axes_grid.inset_locator"] = mpl_toolkits.axes_grid1.inset_locator
import nelpy
from nelpy.analysis.replay import trajectory_score_array
data = np.load(sys.argv[1])
half_width, results = int(data["half_width"]), {"ours_line": [], "own_line": []}
for index in range(len(data["n_bins"])):
    posterior = data[f"posterior_{index}"].T  # nelpy: positions x time, NaN for empty bins
    slope, intercept = data["slope_bins"][index], data["start_bins"][index]
    results["ours_line"].append(float(trajectory_score_array(
        posterior, slope=slope, intercept=intercept, w=half_width, normalize=True)))
    results["own_line"].append(float(trajectory_score_array(
        posterior, w=half_width, normalize=True)))
results["nelpy_version"] = nelpy.__version__
print(json.dumps(results))
"""


def synthetic_events(n_events, seed=0):
    """Place cells, their fields and ``n_events`` planted events in their planted windows."""
    block = replay_block(seed=seed, n_events=n_events, rest_duration=(2 * n_events + 10) * pq.s,
                         jitter=10 * pq.ms, directions=("forward", "reverse", "shuffled"))
    place = block.groups[0].spiketrains
    curves = tuning_curves(place, block.segments[0].analogsignals[0])
    return place, curves, block.segments[0].epochs[0]


def event_data(place, curves, events):
    """Per event: spike counts in 20 ms bins, active bins, posterior, firing and field ranks."""
    decoder = replay._Decoder(curves, 0.1 * pq.Hz, len(place))
    times, cells = replay._pooled_spikes(place)
    centres = field_properties(curves)["centre"].magnitude
    data = []
    for start, duration in zip(events.times.rescale(pq.s).magnitude,
                               events.durations.rescale(pq.s).magnitude):
        n_bins = int(np.ceil(duration / BIN_S - 1e-9))
        counts = replay._bin_counts(times, cells, len(place), start + BIN_S * np.arange(n_bins + 1))
        active = counts.sum(axis=1) > 0
        posterior = decoder.posterior(counts, BIN_S) * active[:, np.newaxis]
        ranks = replay._event_ranks(times, cells, centres, start, start + n_bins * BIN_S)
        data.append((counts, active, posterior, ranks))
    return decoder, data


def loop_scores(decoder, data, n_shuffles, seed):
    """The three scores and p-values, one shuffle at a time."""
    rng = np.random.default_rng(seed)
    band_bins = replay._band_bins(BAND, decoder.positions)
    x = decoder.positions
    results = []
    for counts, active, posterior, (order, field_rank) in data:
        t = np.arange(len(posterior), dtype=float)
        n_active = int(active.sum())
        correlation = replay._weighted_correlation(posterior, t, x)
        null_correlation = [replay._weighted_correlation(posterior[rng.permutation(len(t))], t, x)
                            for _ in range(n_shuffles)]
        score = replay._line_fit(posterior, band_bins, n_active)[0]
        null_score = []
        for _ in range(n_shuffles):
            cycled = np.array([np.roll(row, rng.integers(len(x))) for row in posterior])
            null_score.append(replay._line_fit(cycled, band_bins, n_active)[0])
        rho = stats.spearmanr(order, field_rank).statistic
        null_rho = [stats.spearmanr(order, rng.permutation(field_rank)).statistic
                    for _ in range(n_shuffles)]
        results.append({
            "weighted_correlation": correlation,
            "weighted_correlation_p": replay._p_value(np.abs(null_correlation), abs(correlation)),
            "line_fit_score": score, "line_fit_p": replay._p_value(np.array(null_score), score),
            "rank_order": rho, "rank_order_p": replay._p_value(np.abs(null_rho), abs(rho))})
    return results


def nelpy_comparison(python, decoder, data, scored):
    """nelpy's line scores on our posteriors, from a separate interpreter."""
    half_width = int(np.floor(replay._band_bins(BAND, decoder.positions) + 1e-9))
    starts, slopes = [], []
    for (_, _, posterior, _), slope_cm_s, intercept_cm in zip(
            data, scored.array_annotations["line_fit_slope_cm_per_s"],
            scored.array_annotations["line_fit_intercept_cm"]):
        step = float(np.median(np.diff(decoder.positions)))
        slope_bins = slope_cm_s * BIN_S / step  # position bins per time bin
        starts.append((intercept_cm + slope_cm_s * BIN_S / 2 - decoder.positions[0]) / step)
        slopes.append(slope_bins)
    arrays = {f"posterior_{i}": np.where(active[:, np.newaxis], posterior, np.nan)
              for i, (_, active, posterior, _) in enumerate(data)}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posteriors.npz"
        np.savez(path, half_width=half_width, n_bins=[len(p) for _, _, p, _ in data],
                 slope_bins=np.array(slopes), start_bins=np.round(starts), **arrays)
        started = time.perf_counter()
        result = subprocess.run([python, "-c", NELPY_HELPER, str(path)], capture_output=True,
                                text=True, timeout=3600)
        wall = time.perf_counter() - started
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1]}
    nelpy = json.loads(result.stdout.strip().splitlines()[-1])
    ours = scored.array_annotations["line_fit_score"]
    same_line = np.array(nelpy["ours_line"])
    own_line = np.array(nelpy["own_line"])
    # nelpy wraps a band that leaves the track round to the other end; ours counts nothing there
    ends = np.array([[start, start + slope * (len(posterior) - 1)] for start, slope, (_, _,
                     posterior, _) in zip(np.round(starts), slopes, data)])
    on_track = (ends.min(axis=1) >= 0) & (ends.max(axis=1) <= len(decoder.positions) - 1)
    difference = np.abs(same_line - ours)
    return {"nelpy_version": nelpy["nelpy_version"], "wall_s": round(wall, 2),
            "lines_on_track": int(on_track.sum()), "lines": int(on_track.size),
            "same_line_on_track_max_abs_difference": float(np.max(difference[on_track],
                                                                  initial=0.0)),
            "same_line_max_abs_difference": float(np.nanmax(difference)),
            "same_line_median_abs_difference": float(np.nanmedian(difference)),
            "same_line_pearson_r": float(stats.pearsonr(same_line, ours).statistic),
            "own_line_pearson_r": float(stats.pearsonr(own_line, ours).statistic),
            "ours_minus_own_line_median": float(np.nanmedian(ours - own_line)),
            "fraction_ours_at_least_own_line": float(np.mean(ours >= own_line - 1e-6)),
            "own_line_minus_ours_max": float(np.nanmax(own_line - ours))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--shuffles", type=int, default=2000)
    parser.add_argument("--loop-events", type=int, default=5)
    parser.add_argument("--nelpy-python", help="a Python interpreter with nelpy installed")
    args = parser.parse_args()
    place, curves, events = synthetic_events(args.events)
    started, cpu_started = time.perf_counter(), time.process_time()
    scored = replay.score_events(place, curves, events, n_shuffles=args.shuffles, seed=0,
                                 band=BAND)
    vectorised, vectorised_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    decoder, data = event_data(place, curves, events)
    started, cpu_started = time.perf_counter(), time.process_time()
    looped = loop_scores(decoder, data[:args.loop_events], args.shuffles, seed=0)
    loop_subset, loop_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    same = {key: bool(np.allclose([row[key] for row in looped],
                                  scored.array_annotations[key][:args.loop_events],
                                  rtol=1e-4, equal_nan=True))
            for key in ("weighted_correlation", "line_fit_score", "rank_order")}
    report = {"events": args.events, "shuffles": args.shuffles, "cpu_count": os.cpu_count(),
              "load_average_1min": os.getloadavg()[0],
              "vectorised_s": round(vectorised, 2), "vectorised_cpu_s": round(vectorised_cpu, 2),
              "loop_s_measured": round(loop_subset, 2), "loop_events_measured": args.loop_events,
              "loop_s_extrapolated": round(loop_subset * args.events / args.loop_events, 1),
              "loop_cpu_s_extrapolated": round(loop_cpu * args.events / args.loop_events, 1),
              "observed_scores_identical": same,
              "significant_fraction": {
                  label: {score: float(np.mean(scored.array_annotations[f"{score}_p"][
                      events.labels == label] < 0.05))
                      for score in ("weighted_correlation", "line_fit", "rank_order")}
                  for label in ("forward", "reverse", "shuffled")}}
    if args.nelpy_python:
        report["nelpy"] = nelpy_comparison(args.nelpy_python, decoder, data, scored)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "replay_scoring.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
