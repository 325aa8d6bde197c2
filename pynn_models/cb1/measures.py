"""Seed 001's published measures (CB1 L4-L2/3 circuit) taken on runs, and the published values.

Each measure is taken as the published analysis takes it, and compared with the published value.

Per run (:func:`measure_run`): population rates and the mean membrane potential of L4 cells
over the spontaneous window (200-3000 ms, before the first input event at 4 s), the spike time
tiling coefficient (Elephant) of random pairs of active L2/3 cells over the run after 200 ms
(300 ms window, 2000 pairs), and, for the gain protocol, the input-output curves and the
relative gain (slope of the smoothed L2/3 output against the input, divided by the output at
zero input). Across runs: :func:`summarize` (mean and s.d. over seeds per setting and
backend, against the published value), :func:`ordering` (the published claims) and
:func:`paired_tests` (settings compared run by run, as the published seed scan does).
"""

import json

import numpy as np
import quantities as pq

from trisim.analysis.statistics import sttc_sample
from trisim.analysis.summary import spiketrains_by_population
from trisim.errors import InputFileError
from trisim.pynn_models.cb1 import circuit

#: Spontaneous activity is measured over this window of every run (ms).
SPONTANEOUS_WINDOW = (200.0, 3000.0)
#: Spikes before this time (ms) are left out of the STTC (the start from rest).
STTC_START = 200.0
#: STTC coincidence window and pairs of active L2/3 cells drawn.
STTC_DT = 300.0 * pq.ms
STTC_PAIRS = 2000
#: Gain protocol: the output of a pulse is the population rate within +-(width / 4) of its
#: peak, and the 40 outputs are smoothed by a Gaussian of this s.d. (in pulses).
GAIN_WINDOW_FRACTION = 0.25
GAIN_SMOOTHING = 2.0
#: Bin of the population rates kept for figures.
DISPLAY_BIN = 10.0 * pq.ms
#: Cells per population kept for raster figures.
DISPLAY_CELLS = 200

SETTINGS = ("cb1_v1", "cb1_v2m", "cb1_v2m_ko")
LABELS = {"cb1_v1": "V1", "cb1_v2m": "V2M", "cb1_v2m_ko": "V2M-CB1-KO"}

#: Values read off the published summary figure (models.md, seed 001), per setting.
TARGETS = {
    "rate_L23Exc": {"cb1_v1": 0.47, "cb1_v2m": 1.25, "cb1_v2m_ko": 0.47},
    "rate_CB1Inh": {"cb1_v1": 12.5, "cb1_v2m": 17.5, "cb1_v2m_ko": 12.5},
    "rate_PvInh": {"cb1_v1": 20.0, "cb1_v2m": 20.0, "cb1_v2m_ko": 20.0},
    "vm_L4Exc": {"cb1_v1": -64.5, "cb1_v2m": -69.3, "cb1_v2m_ko": -68.0},
    "relative_gain": {"cb1_v1": 1.27, "cb1_v2m": 0.30, "cb1_v2m_ko": 0.68},
    "sttc_L23Exc": {"cb1_v1": 0.07, "cb1_v2m": 0.016, "cb1_v2m_ko": 0.025},
    "gain_max_L4Exc": {"cb1_v1": 26.0, "cb1_v2m": 7.5, "cb1_v2m_ko": 14.0},
    "gain_max_L23Exc": {"cb1_v1": 4.9, "cb1_v2m": 3.9, "cb1_v2m_ko": 2.7},
}

#: The published claims: (measure, larger setting, smaller setting).
CLAIMS = (
    ("rate_L23Exc", "cb1_v2m", "cb1_v1"), ("rate_L23Exc", "cb1_v2m", "cb1_v2m_ko"),
    ("rate_CB1Inh", "cb1_v2m", "cb1_v1"), ("rate_CB1Inh", "cb1_v2m", "cb1_v2m_ko"),
    ("vm_L4Exc", "cb1_v1", "cb1_v2m"), ("vm_L4Exc", "cb1_v1", "cb1_v2m_ko"),
    ("relative_gain", "cb1_v1", "cb1_v2m_ko"), ("relative_gain", "cb1_v2m_ko", "cb1_v2m"),
    ("sttc_L23Exc", "cb1_v1", "cb1_v2m_ko"), ("sttc_L23Exc", "cb1_v1", "cb1_v2m"),
)


def run_config(block):
    """The resolved config a run recorded in its provenance (plain values with units)."""
    try:
        return json.loads(block.annotations["config"])
    except (KeyError, TypeError, ValueError):
        raise InputFileError(f"block {block.name!r} has no config in its annotations; "
                             "was it written by trisim run?") from None


def run_parameters(block):
    """The model parameters of a seed 001 run, validated as the model declares them."""
    return circuit.Parameters(**run_config(block)["parameters"])


def window_rates(spiketrains, t_start, t_stop):
    """Population rate (Hz, silent cells included) of each population over a window (ms)."""
    from elephant.statistics import time_histogram
    # one bin spanning the window (Elephant's mean_firing_rate refuses empty trains)
    width = (t_stop - t_start) * pq.ms
    return {name: float(time_histogram(trains, width, t_start=t_start * pq.ms,
                                       t_stop=t_stop * pq.ms, output="rate")
                        .rescale(pq.Hz).magnitude.item())
            for name, trains in spiketrains.items()}


def mean_membrane_potential(signal, spiketrains, t_start, t_stop, around_spikes):
    """Mean subthreshold potential (mV) of the recorded cells over a window (ms): samples
    within ``around_spikes`` ms of a spike of the cell are left out (as published), then the
    cells' means are averaged. None if no cell has a sample left.

    Parameters
    ----------
    signal : neo.AnalogSignal
        Membrane potential, one channel per recorded cell (``channel_index`` = cell index).
    spiketrains : list of neo.SpikeTrain
        The population's trains, annotated with ``source_index``.
    """
    times = signal.times.rescale(pq.ms).magnitude
    values = signal.rescale(pq.mV).magnitude
    by_index = {int(train.annotations["source_index"]): train for train in spiketrains}
    channels = signal.array_annotations.get("channel_index", np.arange(signal.shape[1]))
    means = []
    for column, cell in enumerate(channels):
        keep = (times > t_start) & (times < t_stop)
        for spike in by_index[int(cell)].times.rescale(pq.ms).magnitude:
            keep &= np.abs(times - spike) > around_spikes
        if keep.any():
            means.append(values[keep, column].mean())
    return float(np.mean(means)) if means else None


def gain_curve(spiketrains, pulse_times, amplitudes, half_window):
    """Output of a population for each input pulse: its rate (Hz) within ``half_window`` ms of
    the pulse's peak, raw and smoothed across pulses (Gaussian, :data:`GAIN_SMOOTHING`)."""
    from scipy.ndimage import gaussian_filter1d
    # counts in arbitrary windows: one pass over the pooled spike times (Elephant bins on a
    # regular grid only)
    pooled = np.sort(np.concatenate([train.times.rescale(pq.ms).magnitude
                                     for train in spiketrains]))
    counts = (np.searchsorted(pooled, pulse_times + half_window)
              - np.searchsorted(pooled, pulse_times - half_window))
    raw = counts / (len(spiketrains) * 2 * half_window * 1e-3)
    return {"input_hz": np.asarray(amplitudes).tolist(), "output_hz": raw.tolist(),
            "smoothed_hz": gaussian_filter1d(raw, GAIN_SMOOTHING).tolist()}


def relative_gain(curve):
    """Slope of the smoothed output against the input, divided by the output at zero input
    (per Hz of input); None when the output at zero input is zero."""
    slope = np.polyfit(curve["input_hz"], curve["smoothed_hz"], 1)[0]
    baseline = curve["smoothed_hz"][0]
    return float(slope / baseline) if baseline > 0 else None


def measure_run(block):
    """Every measure of one run that its input protocol allows, JSON-ready."""
    parameters = run_parameters(block)
    spiketrains = spiketrains_by_population(block)
    t_stop = float(next(iter(spiketrains.values()))[0].t_stop.rescale(pq.ms).magnitude)
    annotations = block.annotations
    result = {"setting": annotations["model"], "backend": annotations["backend"],
              "seed": int(annotations["seed"]), "scale": float(annotations["scale"]),
              "input": parameters.input, "input_seed": parameters.input_seed,
              "event_max_hz": parameters.event_max, "duration_ms": t_stop,
              "config": run_config(block)}
    first_event = circuit.input_events(parameters, t_stop)[0]
    quiet_until = min(SPONTANEOUS_WINDOW[1], t_stop,
                      first_event[0] - 3 * parameters.event_width if first_event.size else np.inf)
    if quiet_until > SPONTANEOUS_WINDOW[0]:
        window = (SPONTANEOUS_WINDOW[0], quiet_until)
        result["spontaneous_window_ms"] = list(window)
        for name, rate in window_rates(spiketrains, *window).items():
            result[f"rate_{name}"] = rate
        signals = {signal.name: signal for signal in block.segments[0].analogsignals}
        if "L4Exc.v" in signals:
            result["vm_L4Exc"] = mean_membrane_potential(
                signals["L4Exc.v"], spiketrains["L4Exc"], *window, parameters.t_refrac)
    late = [train.time_slice(STTC_START * pq.ms, None) for train in spiketrains["L23Exc"]]
    sttc = sttc_sample(late, STTC_DT, n_pairs=STTC_PAIRS, seed=result["seed"])
    result["sttc_L23Exc"] = float(np.mean(sttc)) if sttc.size else None
    result["sttc_pairs"] = int(sttc.size)
    if parameters.input == "gain":
        times, amplitudes = circuit.input_events(parameters, t_stop)
        half = GAIN_WINDOW_FRACTION * parameters.event_width
        for name in ("L4Exc", "L23Exc"):
            curve = gain_curve(spiketrains[name], times, amplitudes, half)
            result[f"gain_{name}"] = curve
            result[f"gain_max_{name}"] = curve["smoothed_hz"][-1]
        result["relative_gain"] = relative_gain(result["gain_L23Exc"])
    return result


def display_data(block, cells=DISPLAY_CELLS):
    """What the figures of a run need, small enough to keep beside it: the input F(t), spikes
    of the first ``cells`` cells and the rate of each population, one membrane potential per
    population (1 ms samples). A dict of numpy arrays (for ``numpy.savez``)."""
    from elephant.statistics import time_histogram
    parameters = run_parameters(block)
    spiketrains = spiketrains_by_population(block)
    t_stop = next(iter(spiketrains.values()))[0].t_stop.rescale(pq.ms)
    t = np.arange(0.0, t_stop.magnitude, 1.0)
    data = {"t_ms": t, "input_hz": circuit.input_rate(parameters, t, t_stop.magnitude)}
    for name, trains in spiketrains.items():
        shown = trains[:cells]
        data[f"{name}.spike_ms"] = np.concatenate(
            [train.times.rescale(pq.ms).magnitude for train in shown] + [np.empty(0)])
        data[f"{name}.spike_cell"] = np.concatenate(
            [np.full(len(train), row) for row, train in enumerate(shown)] + [np.empty(0)])
        data[f"{name}.shown_cells"] = np.array([len(shown)])
        rate = time_histogram(trains, DISPLAY_BIN, output="rate").rescale(pq.Hz)
        data[f"{name}.rate_hz"] = rate.magnitude.ravel()
    data["rate_bin_ms"] = np.array([DISPLAY_BIN.magnitude])
    for signal in block.segments[0].analogsignals:
        if signal.name.endswith(".v"):
            step = max(1, int(round(1.0 / signal.sampling_period.rescale(pq.ms).magnitude)))
            data[f"{signal.name}_mv"] = signal.rescale(pq.mV).magnitude[::step, 0]
    return data


def summarize(measures, names):
    """Mean and s.d. over runs of each measure, per setting and backend, with the published
    value and the relative deviation of the mean from it.

    Parameters
    ----------
    measures : list of dict
        :func:`measure_run` results.
    names : sequence of str
        Measures to summarise.

    Returns
    -------
    dict
        ``{backend: {setting: {name: {"mean", "sd", "n", "target", "deviation"}}}}``.
    """
    table = {}
    for run in measures:
        table.setdefault(run["backend"], {}).setdefault(run["setting"], []).append(run)
    summary = {}
    for backend, by_setting in table.items():
        for setting, runs in by_setting.items():
            entry = summary.setdefault(backend, {}).setdefault(setting, {})
            for name in names:
                values = [run[name] for run in runs if run.get(name) is not None]
                if not values:
                    continue
                mean = float(np.mean(values))
                target = TARGETS.get(name, {}).get(setting)
                entry[name] = {"mean": mean, "sd": float(np.std(values)), "n": len(values),
                               "target": target,
                               "deviation": (None if target is None
                                             else (mean - target) / abs(target))}
    return summary


def ordering(summary):
    """Whether each published claim holds, per backend: ``{backend: [{claim, holds}, ...]}``
    (a claim whose measure is missing for either setting is left out)."""
    verdicts = {}
    for backend, by_setting in summary.items():
        rows = []
        for name, larger, smaller in CLAIMS:
            a = by_setting.get(larger, {}).get(name)
            b = by_setting.get(smaller, {}).get(name)
            if a is None or b is None:
                continue
            rows.append({"claim": f"{name}: {LABELS[larger]} > {LABELS[smaller]}",
                         "values": [a["mean"], b["mean"]], "holds": a["mean"] > b["mean"]})
        verdicts[backend] = rows
    return verdicts


def paired_tests(measures, name, pair_by=("backend", "seed", "input_seed", "event_max_hz")):
    """Paired t-tests of ``name`` between every two settings, runs paired by ``pair_by``
    (the published seed scan pairs runs of one input seed), per value of the other keys.

    Returns
    -------
    list of dict
        One row per group (``backend`` and ``event_max_hz``) and pair of settings: the means,
        the number of pairs, t and p (None with fewer than 2 pairs).
    """
    from scipy.stats import ttest_rel
    values = {}
    for run in measures:
        if run.get(name) is None:
            continue
        key = tuple(run[k] for k in pair_by)
        values.setdefault(key, {})[run["setting"]] = run[name]
    groups = {}
    for key, by_setting in values.items():
        group = (key[pair_by.index("backend")], key[pair_by.index("event_max_hz")])
        groups.setdefault(group, []).append(by_setting)
    rows = []
    for (backend, amplitude), runs in sorted(groups.items()):
        for i, first in enumerate(SETTINGS):
            for second in SETTINGS[i + 1:]:
                pairs = np.array([[run[first], run[second]] for run in runs
                                  if first in run and second in run])
                row = {"backend": backend, "event_max_hz": amplitude,
                       "settings": [first, second], "n": len(pairs),
                       "means": pairs.mean(axis=0).tolist() if len(pairs) else None,
                       "t": None, "p": None}
                if len(pairs) >= 2 and np.ptp(pairs[:, 0] - pairs[:, 1]) > 0:
                    test = ttest_rel(pairs[:, 0], pairs[:, 1])
                    row["t"], row["p"] = float(test.statistic), float(test.pvalue)
                rows.append(row)
    return rows
