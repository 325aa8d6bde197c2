"""Seed 001 (pynn_models/cb1/: circuit, measures, experiments), small scale, on every backend.

Settings, input protocols, measures, and small-scale runs of every setting on every backend
through the generic experiment command.
"""

import json
import subprocess
import sys
from pathlib import Path

import neo
import numpy as np
import pytest
import quantities as pq
from scipy import stats

from trisim import backends
from trisim.pynn_models.cb1 import circuit as cb1
from trisim.pynn_models.cb1 import measures
from trisim.runners import experiment
from trisim.runners.run import resolve_config

SCENARIOS = Path(__file__).with_name("cb1_scenarios.py")


def parameters(setting="cb1_v1", *overrides):
    return resolve_config(setting, None, overrides)[1].parameters


def test_settings_differ_only_in_the_published_values():
    v1, v2m, ko = (parameters(name).model_dump() for name in measures.SETTINGS)
    differing = {key: (v1[key], v2m[key], ko[key]) for key in v1
                 if not v1[key] == v2m[key] == ko[key]}
    assert differing == {"p_CB1Inh_L4Exc": (0.025, 0.05, 0.05),
                         "psyn_CB1Inh_L23Exc": (0.5, 0.25, 0.5)}


def test_events_follow_the_published_process_and_depend_on_the_input_seed_only():
    p = parameters("cb1_v1", "input=events")
    times, amplitudes = cb1.input_events(p, 30000.0)
    assert times[0] >= p.event_start + p.event_width and times[-1] < 30000.0
    assert np.all(np.diff(times) >= p.event_width)
    assert abs(np.mean(np.diff(times)) - (p.event_width + p.event_mean_interval)) < 500
    assert amplitudes.min() >= 0 and amplitudes.max() <= p.event_max
    shorter = cb1.input_events(p, 15000.0)[0]
    assert np.array_equal(shorter, times[:shorter.size])  # the duration cuts, never redraws
    other = cb1.input_events(parameters("cb1_v1", "input=events", "input_seed=5"), 30000.0)[0]
    assert not np.array_equal(other[:5], times[:5])
    assert cb1.input_events(p, p.event_start)[0].size == 0  # a run that ends before the first


def test_gain_pulses_and_their_waveform():
    p = parameters("cb1_v2m", "input=gain")
    times, amplitudes = cb1.input_events(p, 40000.0)
    assert np.allclose(times, 200.0 + 1000.0 * np.arange(40))
    assert np.allclose(amplitudes, np.linspace(0.0, 8.0, 40))
    rate = cb1.input_rate(p, times, 40000.0)
    assert np.allclose(rate, amplitudes, atol=1e-4)  # neighbours 5 s.d. away add < 1e-4 Hz
    half_width = cb1.input_rate(p, times[-1:] + p.event_width, 40000.0)
    assert half_width[0] == pytest.approx(8.0 * np.exp(-0.5), rel=1e-3)


def test_spontaneous_input_is_none():
    times, _ = cb1.input_events(parameters(), 3000.0)
    assert times.size == 0 and not cb1.input_rate(parameters(), np.arange(10.0), 3000.0).any()


def test_relative_gain_is_slope_over_the_output_at_zero_input():
    x = np.linspace(0.0, 8.0, 40)
    curve = {"input_hz": x.tolist(), "smoothed_hz": (0.5 + 0.25 * x).tolist()}
    assert measures.relative_gain(curve) == pytest.approx(0.5)
    assert measures.relative_gain({**curve, "smoothed_hz": (0.25 * x).tolist()}) is None


def test_gain_curve_counts_the_population_rate_around_each_pulse():
    train = neo.SpikeTrain([95.0, 105.0, 149.0, 500.0, 1010.0], units="ms", t_stop=2000.0)
    empty = neo.SpikeTrain([], units="ms", t_stop=2000.0)
    curve = measures.gain_curve([train, empty], np.array([100.0, 1000.0]), [0.0, 1.0], 50.0)
    # 3 and 1 spikes in 100 ms windows, over 2 cells: 15 and 5 Hz
    assert curve["output_hz"] == pytest.approx([15.0, 5.0])


def test_mean_membrane_potential_leaves_out_samples_near_spikes():
    v = np.full((1000, 1), -65.0)
    v[480:521, 0] = 0.0  # a spike at 50 ms and its surroundings, sampled every 0.1 ms
    signal = neo.AnalogSignal(v, units="mV", sampling_period=0.1 * pq.ms,
                              array_annotations={"channel_index": np.array([0])})
    train = neo.SpikeTrain([50.0], units="ms", t_stop=100.0, source_index=0)
    assert measures.mean_membrane_potential(signal, [train], 0.0, 100.0, 5.0) \
        == pytest.approx(-65.0)
    assert measures.mean_membrane_potential(signal, [train], 0.0, 100.0, 1.0) > -64.0


def test_summary_ordering_and_paired_tests():
    rng = np.random.default_rng(0)
    runs = []
    for input_seed in range(6):
        common = rng.normal(0.0, 0.005)  # shared by the settings of one input seed: pairing
        for setting, sttc in (("cb1_v1", 0.07), ("cb1_v2m", 0.016), ("cb1_v2m_ko", 0.025)):
            runs.append({"setting": setting, "backend": "nest", "seed": 1,
                         "input_seed": input_seed, "event_max_hz": 4.0,
                         "sttc_L23Exc": sttc + common + rng.normal(0.0, 0.001)})
    summary = measures.summarize(runs, ["sttc_L23Exc"])
    assert summary["nest"]["cb1_v1"]["sttc_L23Exc"]["n"] == 6
    assert all(row["holds"] for row in measures.ordering(summary)["nest"])
    tests = {tuple(row["settings"]): row for row in measures.paired_tests(runs, "sttc_L23Exc")}
    assert tests[("cb1_v1", "cb1_v2m")]["p"] < 1e-4 and tests[("cb1_v1", "cb1_v2m")]["n"] == 6
    assert tests[("cb1_v2m", "cb1_v2m_ko")]["t"] < 0


def test_bad_runner_input_is_refused_before_any_run(tmp_path):
    from trisim.errors import ConfigError, UnknownNameError
    with pytest.raises(UnknownNameError, match="unknown setting 'cb1_v3'"):
        experiment.run("cb1_v1", "spontaneous", "nest", out_dir=tmp_path,
                       options=["settings=cb1_v1,cb1_v3"])
    with pytest.raises(ConfigError, match="input_sed: unknown key"):
        experiment.run("cb1_v1", "spontaneous", "nest", out_dir=tmp_path,
                       overrides=["input_sed=3"], options=["settings=cb1_v1"])
    with pytest.raises(ConfigError, match="--option input_seeds: '20-x': expected e.g. 20-39"):
        experiment.run("cb1_v1", "scan", out_dir=tmp_path, options=["input_seeds=20-x"])
    assert not any(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_release_probability_sets_the_transmitted_fraction(backend):
    result = subprocess.run([sys.executable, str(SCENARIOS), backend], capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    releases = json.loads(result.stdout.strip().splitlines()[-1])
    n = releases["n_spikes"]
    counts = {}
    for name, setting in releases["settings"].items():
        count = len(setting["released"])
        counts[name] = count
        # each spike releases at most once, with the setting's probability...
        assert len(set(setting["released"])) == count
        assert stats.binomtest(count, n, setting["p"]).pvalue > 1e-3, (name, count)
        # ...and a release transmits the whole weight (all or none, not w * p)
        assert np.allclose(setting["jumps"], setting["weight"], rtol=0.05)
    # V1 (p 0.5) transmits measurably more of the same train than V2M (p 0.25)
    table = [[counts["cb1_v1"], n - counts["cb1_v1"]], [counts["cb1_v2m"], n - counts["cb1_v2m"]]]
    assert stats.fisher_exact(table, alternative="greater").pvalue < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_every_setting_runs(backend, tmp_path):
    small = {"scale": 0.02, "duration": 600.0, "jobs": 2,
             "options": [f"settings={','.join(measures.SETTINGS)}"]}
    paths, _ = experiment.run("cb1_v1", "spontaneous", backend, out_dir=tmp_path, **small)
    assert {path.name for path in paths} == {"cb1_spontaneous.json", "cb1_spontaneous.png",
                                             f"cb1_spontaneous_raster_{backend}.png"}
    summary = json.loads((tmp_path / "cb1_spontaneous.json").read_text())["summary"][backend]
    for setting in measures.SETTINGS:
        rates = {name: summary[setting][f"rate_{name}"]["mean"]
                 for name in ("L23Exc", "PvInh", "CB1Inh")}
        assert 5.0 < rates["PvInh"] < 60.0 and 5.0 < rates["CB1Inh"] < 60.0, rates
        assert 0.0 < rates["L23Exc"] < rates["CB1Inh"], rates
    # CB1 -> L4 at p 0.05 (KO) instead of 0.025 (V1) hyperpolarises L4 (the network at this
    # size is too small and correlated for the L2/3 claims; the full-size figures test them)
    assert summary["cb1_v1"]["vm_L4Exc"]["mean"] > summary["cb1_v2m_ko"]["vm_L4Exc"]["mean"] + 1.0
    # a second call reuses every run
    runs = sorted((tmp_path / "runs").rglob("*.nix"))
    stamps = [path.stat().st_mtime for path in runs]
    experiment.run("cb1_v1", "spontaneous", backend, out_dir=tmp_path, **small)
    assert len(runs) == 3 and [path.stat().st_mtime for path in runs] == stamps
