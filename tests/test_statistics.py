"""Analytic properties of trisim.analysis.statistics on synthetic spike trains."""

import itertools
import json

import neo
import numpy as np
import pytest
import quantities as pq

from trisim.analysis.statistics import (_sample_pairs, analyze_block, correlation_coefficients,
                                        cv_isi, firing_rates, lv_isi, population_rate,
                                        population_rate_psd, sttc_sample)


def spiketrain(times_ms, duration_ms, **annotations):
    return neo.SpikeTrain(times_ms, units="ms", t_start=0 * pq.ms, t_stop=duration_ms * pq.ms,
                          **annotations)


def poisson_train(rng, rate_hz, duration_ms, depth=0.0, modulation_hz=40.0):
    """Poisson train of mean rate ``rate_hz``, sinusoidally modulated by ``depth`` (thinning)."""
    peak_hz = rate_hz * (1 + depth)
    candidates = np.sort(rng.uniform(0, duration_ms, rng.poisson(peak_hz * duration_ms / 1000)))
    acceptance = (1 + depth * np.sin(2 * np.pi * modulation_hz * candidates / 1000)) / (1 + depth)
    return spiketrain(candidates[rng.uniform(size=candidates.size) < acceptance], duration_ms)


def poisson_trains(n, rate_hz, duration_ms, seed=1, **modulation):
    rng = np.random.default_rng(seed)
    return [poisson_train(rng, rate_hz, duration_ms, **modulation) for _ in range(n)]


# single-train statistics

def test_poisson_rate_is_recovered_in_hz():
    rates = firing_rates(poisson_trains(200, 10.0, 10_000.0))
    assert rates.units == pq.Hz and rates.shape == (200,)
    assert np.mean(rates.magnitude) == pytest.approx(10.0, rel=0.03)


def test_rate_of_a_known_count_is_exact():
    rates = firing_rates([spiketrain([100, 200, 300, 400, 500], 500.0)])
    assert rates.units == pq.Hz and rates.magnitude.tolist() == [10.0]


def test_poisson_intervals_have_cv_and_lv_near_one():
    trains = poisson_trains(50, 20.0, 10_000.0)
    assert np.mean(cv_isi(trains)) == pytest.approx(1.0, abs=0.05)
    assert np.mean(lv_isi(trains)) == pytest.approx(1.0, abs=0.05)


def test_regular_train_has_cv_and_lv_zero():
    regular = [spiketrain(np.arange(10.0, 1000.0, 10.0), 1000.0)]
    assert cv_isi(regular)[0] == pytest.approx(0.0, abs=1e-12)
    assert lv_isi(regular)[0] == pytest.approx(0.0, abs=1e-12)


def test_trains_with_too_few_spikes_get_nan():
    trains = [spiketrain([], 100.0), spiketrain([10, 50], 100.0), spiketrain([10, 20, 40], 100.0)]
    for values in (cv_isi(trains), lv_isi(trains)):
        assert np.isnan(values[:2]).all() and np.isfinite(values[2])
    assert np.isnan(cv_isi(trains, min_spikes=4)).all()


# pairwise statistics

def test_identical_trains_have_correlation_and_sttc_one():
    train = poisson_trains(1, 20.0, 5000.0)[0]
    copies = [train.copy() for _ in range(4)]
    assert correlation_coefficients(copies, 5 * pq.ms) == pytest.approx(np.ones(6))
    assert sttc_sample(copies, 10 * pq.ms) == pytest.approx(np.ones(6))


def test_independent_poisson_trains_are_uncorrelated():
    trains = poisson_trains(150, 10.0, 10_000.0)
    coefficients = correlation_coefficients(trains, 5 * pq.ms, n_cells=50)
    assert coefficients.shape == (50 * 49 // 2,)
    assert abs(np.mean(coefficients)) < 0.01
    assert abs(np.mean(sttc_sample(trains, 10 * pq.ms, n_pairs=300))) < 0.03


def test_silent_trains_are_left_out_of_pairs():
    trains = poisson_trains(5, 10.0, 2000.0) + [spiketrain([], 2000.0)] * 3
    assert correlation_coefficients(trains, 5 * pq.ms).shape == (10,)
    assert sttc_sample(trains, 10 * pq.ms).shape == (10,)
    assert correlation_coefficients(trains[4:], 5 * pq.ms).size == 0


def test_samples_depend_on_the_seed_only():
    trains = poisson_trains(60, 10.0, 2000.0)
    first = sttc_sample(trains, 10 * pq.ms, n_pairs=20, seed=7)
    assert np.array_equal(first, sttc_sample(trains, 10 * pq.ms, n_pairs=20, seed=7))
    assert not np.array_equal(first, sttc_sample(trains, 10 * pq.ms, n_pairs=20, seed=8))
    assert not np.array_equal(correlation_coefficients(trains, 5 * pq.ms, n_cells=10, seed=7),
                              correlation_coefficients(trains, 5 * pq.ms, n_cells=10, seed=8))


def test_sampled_pairs_are_distinct_ordered_and_cover_all_when_few():
    first, second = _sample_pairs(1000, 500, np.random.default_rng(0))
    pairs = set(zip(first.tolist(), second.tolist()))
    assert len(pairs) == 500 and all(0 <= i < j < 1000 for i, j in pairs)
    first, second = _sample_pairs(6, 100, np.random.default_rng(0))
    assert set(zip(first.tolist(), second.tolist())) == set(itertools.combinations(range(6), 2))


# population rate and its spectrum

def test_population_rate_integrates_to_spikes_per_cell():
    trains = poisson_trains(30, 8.0, 2000.0)
    rate = population_rate(trains, 5 * pq.ms)
    assert rate.units == pq.Hz and rate.shape == (400, 1)
    assert rate.annotations["bin_size_ms"] == 5.0 and rate.annotations["n_spiketrains"] == 30
    integral = np.sum(rate.magnitude) * 5e-3
    assert integral == pytest.approx(sum(len(t) for t in trains) / 30, rel=1e-12)


def test_rate_modulated_at_40_hz_peaks_at_40_hz():
    trains = poisson_trains(100, 20.0, 4000.0, depth=0.8, modulation_hz=40.0)
    frequencies, psd = population_rate_psd(trains, 2 * pq.ms, frequency_resolution=2 * pq.Hz)
    assert frequencies.units == pq.Hz and psd.shape == frequencies.shape
    assert frequencies.magnitude[np.argmax(psd)] == pytest.approx(40.0, abs=2.0)


def test_analysis_is_valid_json_with_none_for_undefined_values(synthetic_block):
    silent = [spiketrain([], 2000.0, source_population="S") for _ in range(5)]
    synthetic_block.segments[0].spiketrains.extend(silent)
    synthetic_block.groups.append(neo.Group(silent, name="S"))
    analysis = json.loads(json.dumps(analyze_block(synthetic_block), allow_nan=False))
    assert analysis["parameters"]["bin_size_ms"] == 5.0
    excitatory = analysis["populations"]["E"]
    assert excitatory["n"] == 80 and excitatory["rate_hz_mean"] == pytest.approx(5.0, rel=0.1)
    assert len(excitatory["psd"]["frequency_hz"]) == len(excitatory["psd"]["power_hz2_per_hz"])
    assert excitatory["population_rate"]["time_ms"][:2] == [2.5, 7.5]
    assert len(excitatory["population_rate"]["rate_hz"]) == 400
    assert all(excitatory[key] is not None for key in ("cv_isi_mean", "lv_mean", "sttc_mean",
                                                       "correlation_mean", "psd_peak_hz"))
    assert all(analysis["populations"]["S"][key] is None
               for key in ("cv_isi_mean", "lv_mean", "correlation_mean", "correlation_std",
                           "sttc_mean", "psd_peak_hz"))


# argument checks

@pytest.mark.parametrize("call, error, argument", [
    (lambda trains: population_rate(trains, 5.0), TypeError, "bin_size"),
    (lambda trains: population_rate(trains, 5 * pq.mV), ValueError, "bin_size"),
    (lambda trains: population_rate(trains, -5 * pq.ms), ValueError, "bin_size"),
    (lambda trains: population_rate([], 5 * pq.ms), ValueError, "spiketrains"),
    (lambda trains: firing_rates(trains[0]), TypeError, "spiketrains"),
    (lambda trains: firing_rates([trains[0], [1.0, 2.0]]), TypeError, "spiketrains"),
    (lambda trains: cv_isi(trains, min_spikes=2), ValueError, "min_spikes"),
    (lambda trains: sttc_sample(trains, 10 * pq.ms, n_pairs=0), ValueError, "n_pairs"),
    (lambda trains: correlation_coefficients(trains, 5 * pq.ms, seed=1.5), ValueError, "seed"),
    (lambda trains: population_rate_psd(trains, 5 * pq.ms, 2 * pq.ms), ValueError,
     "frequency_resolution"),
])
def test_bad_arguments_are_named(call, error, argument):
    with pytest.raises(error, match=argument):
        call(poisson_trains(3, 10.0, 1000.0))
