"""trisim.analysis.validation: the comparison rule on synthetic runs, then on seed 002 itself.

On seed 002, the same backend with other seeds agrees; 20% stronger inhibition disagrees on
the rates.
"""

import itertools
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy.stats import ks_2samp

from synthetic_runs import poisson_run, poisson_runs
from trisim.analysis import validation
from trisim.analysis.validation import (SAMPLE, SCALAR, Statistic, compare_backends, compare_pair,
                                        ks_distance, log_spectral_distance, permutation_p_value)
from trisim.errors import InputFileError
from trisim.output import read_block


def disagreeing(comparison):
    return {(r["population"], r["name"], tuple(r["backends"]))
            for r in comparison.results if r["agree"] is False}


# the rule on synthetic runs

def test_effect_size_is_the_pooled_ks_distance_and_the_spread_a_quantile_of_seed_pairs():
    rng = np.random.default_rng(7)
    a = [rng.normal(0, 1, 50) for _ in range(3)]
    b = [rng.normal(0.1, 1, 50) for _ in range(4)]
    result = compare_pair(a, b, SAMPLE)
    assert result["effect_size"] == pytest.approx(
        ks_2samp(np.concatenate(a), np.concatenate(b)).statistic)
    within = [ks_2samp(x, y).statistic for group in (a, b)
              for x, y in itertools.combinations(group, 2)]
    assert len(within) == 3 + 6
    assert result["seed_spread"] == pytest.approx(
        np.quantile(within, validation.SEED_SPREAD_QUANTILE))
    assert result["agree"] == (result["effect_size"] <= result["seed_spread"])
    assert result["p_value"] == pytest.approx(
        ks_2samp(np.concatenate(a), np.concatenate(b)).pvalue)


def test_scalars_compare_the_difference_of_means_with_the_seed_to_seed_differences():
    result = compare_pair([1.0, 1.2, 0.9], [1.1, 1.0, 0.95], SCALAR)
    assert result["effect_size"] == pytest.approx(abs(np.mean([1.0, 1.2, 0.9])
                                                      - np.mean([1.1, 1.0, 0.95])))
    assert result["seed_spread"] == pytest.approx(np.quantile([0.2, 0.1, 0.3, 0.1, 0.15, 0.05],
                                                              validation.SEED_SPREAD_QUANTILE))
    assert result["agree"] is True and result["pooled"] == pytest.approx([1.0333, 1.0167], 1e-3)
    assert compare_pair([1.0, 1.2, 0.9], [2.0, 2.1, 1.9], SCALAR)["agree"] is False


def test_same_distribution_with_other_seeds_agrees():
    comparison = compare_backends({"A": poisson_runs([1, 2, 3]), "B": poisson_runs([4, 5, 6])})
    assert comparison.agree
    assert len([r for r in comparison.results if r["agree"] is not None]) == 14


def test_slower_rates_in_one_backend_disagree_on_the_rates_of_its_pairs_only():
    runs = {"A": poisson_runs([1, 2, 3]),
            "B": poisson_runs([1, 2, 3], simulator=1, rate_factor=0.7),
            "C": poisson_runs([1, 2, 3], simulator=2)}
    comparison = compare_backends(runs)
    assert not comparison.agree
    found = disagreeing(comparison)
    for population in ("E", "I"):
        for name in ("rate", "mean_rate"):
            assert {(population, name, ("A", "B")), (population, name, ("B", "C"))} <= found
    assert not any(pair == ("A", "C") for _, _, pair in found)
    assert not any(name in ("cv_isi", "lv_isi") for _, name, _ in found)
    means = {tuple(r["backends"]): r["pooled"] for r in comparison.results
             if (r["population"], r["name"]) == ("E", "mean_rate")}
    assert means[("A", "B")][1] == pytest.approx(0.7 * means[("A", "B")][0], rel=0.1)


def test_a_silent_population_leaves_its_undefined_statistics_out_of_the_verdict():
    silent = (("E", 80, 5.0), ("I", 20, 0.0))
    comparison = compare_backends({"A": poisson_runs([1, 2, 3], rates_hz=silent),
                                   "B": poisson_runs([4, 5, 6], rates_hz=silent)})
    by_key = {(r["population"], r["name"]): r for r in comparison.results}
    for name in ("cv_isi", "lv_isi", "correlation", "sttc", "rate_psd"):
        assert by_key["I", name]["agree"] is None and by_key["I", name]["note"]
    assert by_key["I", "rate"]["effect_size"] == 0 and by_key["I", "rate"]["agree"] is True
    assert comparison.agree


def test_runs_ending_a_hair_apart_are_cut_to_their_common_window():
    same = [poisson_run(seed) for seed in (1, 2, 3)]
    late = [poisson_run(seed, t_stop_ms=2000.00000000003) for seed in (1, 2, 3)]  # same spikes
    comparison = compare_backends({"A": same, "B": late})
    rate = next(r for r in comparison.results if (r["population"], r["name"]) == ("E", "rate"))
    assert rate["effect_size"] == 0.0


def test_runs_of_different_durations_are_refused():
    short = [poisson_run(seed, duration_ms=1000.0) for seed in (1, 2, 3)]
    with pytest.raises(InputFileError, match="different times"):
        compare_backends({"A": poisson_runs([1, 2, 3]), "B": short})


def test_runs_with_different_populations_are_refused():
    other = poisson_runs([1, 2, 3], rates_hz=(("E", 80, 5.0), ("X", 20, 5.0)))
    with pytest.raises(InputFileError, match="populations"):
        compare_backends({"A": poisson_runs([1, 2, 3]), "B": other})


@pytest.mark.parametrize("runs, message", [
    ({"A": [1, 2, 3]}, "at least two backends"),
    ({"A": [1, 2, 3], "B": [1, 2]}, "B: 2 run"),
])
def test_too_few_backends_or_seeds_are_refused(runs, message):
    runs = {label: poisson_runs(seeds) for label, seeds in runs.items()}
    with pytest.raises(ValueError, match=message):
        compare_backends(runs)


def test_a_model_statistic_is_compared_on_its_populations_only():
    def active_fraction(spiketrains):
        return float(np.mean([len(train) > 0 for train in spiketrains]))

    statistic = Statistic("active_fraction", "fraction of active cells", SCALAR, active_fraction,
                          populations=("E",))
    comparison = compare_backends({"A": poisson_runs([1, 2, 3]), "B": poisson_runs([4, 5, 6])},
                                  validation.DEFAULT_STATISTICS + (statistic,))
    found = [r["population"] for r in comparison.results if r["name"] == "active_fraction"]
    assert found == ["E"]


def test_a_statistic_of_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        Statistic("x", "x", "curve", len)


@pytest.mark.parametrize("name, n_cells", [("correlation", validation.CORRELATION_CELLS),
                                           ("sttc", validation.STTC_CELLS)])
def test_pairwise_statistics_take_the_same_cells_whichever_are_silent(name, n_cells):
    trains = list(poisson_run(1, rates_hz=(("E", 300, 20.0),)).groups[0].spiketrains)
    assert all(len(train) > 0 for train in trains)
    chosen = validation.same_cells(list(range(len(trains))), n_cells)
    silenced = list(trains)
    for index in range(len(trains)):
        if index not in chosen:
            silenced[index] = trains[index][:0]  # silent cells outside the sample
    statistic = next(s for s in validation.DEFAULT_STATISTICS if s.name == name)
    values = statistic.compute(trains)
    assert values.size == n_cells * (n_cells - 1) // 2
    assert np.array_equal(values, statistic.compute(silenced))


def test_permutation_test_tries_every_split():
    pool, distance = np.mean, lambda x, y: abs(x - y)
    # 20 splits of 6 runs into 3 + 3; only the observed one and its mirror are as far apart
    assert permutation_p_value([1.0, 1.1, 1.2], [5.0, 5.1, 5.2], pool, distance) == 0.1
    assert permutation_p_value([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], pool, distance) == 1.0


def test_log_spectral_distance_is_the_rms_of_the_power_ratio_in_db():
    frequencies = np.array([0.0, 10.0, 20.0, 30.0])
    first = (frequencies, np.array([9.0, 1.0, 1.0, 1.0]))
    second = (frequencies, np.array([1.0, 10.0, 1.0, 0.1]))
    # 0 Hz left out; ratios -10, 0 and +10 dB
    assert log_spectral_distance(first, second) == pytest.approx(np.sqrt(200 / 3))
    assert ks_distance([1, 2, 3, 4], [3, 4, 5, 6]) == 0.5


# seed 002 on NEST: the same backend with other seeds, and a deliberate change

SMALL = ["--scale", "0.05", "--duration", "1000"]
STRONGER_INHIBITION = "w_i=1.2 nS"  # 20% above the published 1.0 nS


def trisim_run(out, seed, *extra):
    command = [sys.executable, "-m", "trisim.cli", "run", "coba_stp", "--backend", "nest",
               "--seed", str(seed), *SMALL, "--out", str(out), *extra]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return read_block(out / f"coba_stp_nest_seed{seed}.nix")


@pytest.fixture(scope="module")
def nest_runs(tmp_path_factory):
    """Seed 002 at 1/20 scale for 1 s on NEST: seeds 1-6, and seeds 1-3 with w_i 20% higher."""
    published, inhibited = tmp_path_factory.mktemp("published"), tmp_path_factory.mktemp("w_i")
    jobs = [(published, seed) for seed in range(1, 7)]
    jobs += [(inhibited, seed, "--set", STRONGER_INHIBITION) for seed in (1, 2, 3)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        blocks = list(pool.map(lambda job: trisim_run(*job), jobs))
    return {"seeds 1-3": blocks[0:3], "seeds 4-6": blocks[3:6], "w_i +20%": blocks[6:9]}


@pytest.mark.slow
def test_nest_with_other_seeds_agrees_with_itself(nest_runs):
    comparison = compare_backends({"nest seeds 1-3": nest_runs["seeds 1-3"],
                                   "nest seeds 4-6": nest_runs["seeds 4-6"]})
    assert comparison.agree, disagreeing(comparison)
    assert len([r for r in comparison.results if r["agree"] is not None]) >= 12


@pytest.mark.slow
def test_stronger_inhibition_in_one_run_disagrees_on_the_rates(nest_runs):
    comparison = compare_backends({"nest": nest_runs["seeds 1-3"],
                                   "nest, w_i +20%": nest_runs["w_i +20%"]})
    assert not comparison.agree
    found = {(population, name) for population, name, _ in disagreeing(comparison)}
    assert {("E", "rate"), ("E", "mean_rate"), ("I", "mean_rate")} <= found
    assert not found & {("E", "cv_isi"), ("E", "lv_isi"), ("I", "cv_isi"), ("I", "lv_isi")}
    for population in ("E", "I"):
        result = next(r for r in comparison.results
                      if (r["population"], r["name"]) == (population, "mean_rate"))
        published, inhibited = result["pooled"]
        assert inhibited < 0.9 * published  # stronger inhibition: slower firing
