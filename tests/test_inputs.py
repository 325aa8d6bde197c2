"""trisim.inputs: spike trains follow their rates step by step and repeat with the seed."""

import numpy as np
import pytest

from trisim.inputs import step_spike_times

DT = 0.1


def steps_of(trains):
    """Step index of every spike (spikes are stamped at the end of their step)."""
    return np.concatenate([np.round(train / DT).astype(int) - 1 for train in trains])


def test_constant_rate_fires_each_step_with_its_probability():
    trains = step_spike_times(np.full(20000, 1500.0), 400, DT, np.random.default_rng(1))
    counts = np.array([train.size for train in trains])
    # Bernoulli per step: mean n q and variance n q (1 - q), q = 0.15, n = 20000 steps
    assert abs(counts.mean() - 3000) < 10
    assert abs(counts.var() / (3000 * 0.85) - 1) < 0.2
    for train in trains[:20]:
        on_grid = train / DT
        assert np.allclose(on_grid, np.round(on_grid)) and np.all(np.diff(on_grid) > 0.5)


def test_time_varying_rate_is_followed_step_by_step():
    q = np.concatenate([np.zeros(100), np.full(100, 0.4), np.linspace(0.0, 0.2, 100)])
    trains = step_spike_times(q / DT * 1e3, 20000, DT, np.random.default_rng(2))
    fraction = np.bincount(steps_of(trains), minlength=q.size) / 20000
    assert np.all(fraction[:100] == 0)
    assert np.abs(fraction - q).max() < 5 * np.sqrt(0.25 / 20000)


def test_same_seed_same_trains():
    rate = np.full(1000, 200.0)
    a = step_spike_times(rate, 5, DT, np.random.default_rng(3))
    b = step_spike_times(rate, 5, DT, np.random.default_rng(3))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_more_than_one_spike_per_step_is_refused():
    with pytest.raises(ValueError, match="more than one spike per 0.1 ms step"):
        step_spike_times(np.full(10, 20000.0), 1, DT, np.random.default_rng(0))


def test_silent_input_gives_empty_trains():
    assert [t.size for t in step_spike_times(np.zeros(50), 3, DT, np.random.default_rng(0))] \
        == [0, 0, 0]
