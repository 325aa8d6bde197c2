"""trisim.analysis.oscillation on spike trains whose rhythm and coherence are known."""

import neo
import numpy as np
import pytest
import quantities as pq

from trisim.analysis.oscillation import chance_kappa, coherence_kappa, population_frequency


def train(times_ms, duration_ms=1000.0):
    return neo.SpikeTrain(np.sort(times_ms), units="ms", t_stop=duration_ms)


def volleys(frequency_hz, n_cells, jitter_ms, rng, duration_ms=1000.0, skip=0.0):
    """Every cell fires once per cycle, jittered around the volley; it skips a cycle with
    probability ``skip``."""
    cycles = np.arange(20.0, duration_ms - 20.0, 1000.0 / frequency_hz)
    trains = []
    for _ in range(n_cells):
        fired = cycles[rng.uniform(size=cycles.size) >= skip]
        trains.append(train(fired + rng.normal(0.0, jitter_ms, fired.size), duration_ms))
    return trains


def poisson(rate_hz, n_cells, rng, duration_ms=1000.0):
    return [train(rng.uniform(0.0, duration_ms, rng.poisson(rate_hz * duration_ms / 1000)),
                  duration_ms) for _ in range(n_cells)]


@pytest.mark.parametrize("frequency", [17.0, 39.2, 73.0])
def test_frequency_of_jittered_volleys(frequency):
    trains = volleys(frequency, 50, 1.0, np.random.default_rng(1))
    assert float(population_frequency(trains)) == pytest.approx(frequency, rel=0.01)


def test_frequency_is_the_period_not_a_harmonic_when_cycles_are_skipped():
    # cells skip half the cycles: each fires at half the rhythm, the population keeps it
    trains = volleys(40.0, 100, 0.5, np.random.default_rng(2), skip=0.5)
    assert float(population_frequency(trains)) == pytest.approx(40.0, rel=0.01)


def test_frequency_of_an_arrhythmic_or_silent_population_is_nan_or_not_the_rate():
    assert np.isnan(population_frequency([train([]), train([])]))
    asynchronous = population_frequency(poisson(40.0, 100, np.random.default_rng(3)))
    assert np.isnan(asynchronous) or abs(float(asynchronous) - 40.0) > 2.0


def test_kappa_is_one_for_identical_trains_and_chance_for_independent_ones():
    rng = np.random.default_rng(4)
    same = train(rng.uniform(0.0, 1000.0, 40))
    assert coherence_kappa([same] * 5) == pytest.approx(1.0)
    independent = poisson(40.0, 60, rng)
    chance = chance_kappa(independent)
    assert chance == pytest.approx(40.0 * 0.002, rel=0.15)  # rate x bin
    assert coherence_kappa(independent) == pytest.approx(chance, abs=0.01)


def test_kappa_falls_with_jitter_and_grows_with_the_bin():
    rng = np.random.default_rng(5)
    # volleys on a bin edge split between two bins: even without jitter kappa stays below 1
    tight, loose = (volleys(40.0, 40, jitter, rng) for jitter in (0.2, 3.0))
    assert coherence_kappa(tight) > 0.7 > 0.3 > coherence_kappa(loose)
    assert coherence_kappa(loose, 10 * pq.ms) > coherence_kappa(loose, 2 * pq.ms)


def test_kappa_leaves_silent_cells_out():
    rng = np.random.default_rng(6)
    firing = volleys(40.0, 10, 0.2, rng)
    assert coherence_kappa(firing + [train([])] * 10) == pytest.approx(coherence_kappa(firing))
    assert np.isnan(coherence_kappa([firing[0], train([])]))


@pytest.mark.parametrize("function", [population_frequency, coherence_kappa, chance_kappa])
def test_a_run_shorter_than_one_bin_has_no_measure(function):
    # a simulation of 0.05 ms in which both cells fired at its start
    assert np.isnan(function([train([0.01], 0.05), train([0.02], 0.05)]))


@pytest.mark.parametrize("function", [population_frequency, coherence_kappa, chance_kappa])
def test_bad_input_is_refused(function):
    with pytest.raises(TypeError):
        function(train([1.0]))  # one train, not a list
    with pytest.raises(ValueError, match="empty"):
        function([])
