"""trisim.analysis.checks: the shared argument checks name the argument and accept what is valid."""

import math

import neo
import numpy as np
import pytest
import quantities as pq

from trisim.analysis.checks import (check_integer, check_positive_quantity, checked_spiketrains,
                                    finite_or_none)


def _train(times=(1.0, 2.0)):
    return neo.SpikeTrain(times * pq.ms, t_stop=10 * pq.ms)


def test_finite_or_none():
    assert finite_or_none(np.float64(2.5)) == 2.5
    assert finite_or_none(math.nan) is None
    assert finite_or_none(-math.inf) is None


def test_checked_spiketrains_returns_a_list_of_the_trains():
    trains = (_train(), _train((3.0,)))
    assert checked_spiketrains(iter(trains)) == list(trains)


@pytest.mark.parametrize("value, error, text", [
    (_train(), TypeError, "not a single SpikeTrain"),
    ([], ValueError, "empty"),
    ([_train(), np.arange(3)], TypeError, "found ndarray"),
])
def test_checked_spiketrains_refuses(value, error, text):
    with pytest.raises(error, match=text):
        checked_spiketrains(value)


@pytest.mark.parametrize("value, error, text", [
    (5.0, TypeError, "bin_size must be a scalar quantities.Quantity"),
    ([1, 2] * pq.ms, TypeError, "bin_size must be a scalar"),
    (5 * pq.mV, ValueError, "bin_size must be in units of ms"),
    (0 * pq.ms, ValueError, "bin_size must be positive"),
])
def test_check_positive_quantity_names_the_argument(value, error, text):
    with pytest.raises(error, match=text):
        check_positive_quantity(value, "bin_size", pq.ms)


def test_check_positive_quantity_accepts_a_convertible_unit():
    check_positive_quantity(0.002 * pq.s, "bin_size", pq.ms)


@pytest.mark.parametrize("value", [True, 1.0, 0, "3"])
def test_check_integer_refuses(value):
    with pytest.raises(ValueError, match="n_pairs must be an integer >= 1"):
        check_integer(value, "n_pairs", minimum=1)


def test_check_integer_accepts_numpy_integers():
    check_integer(np.int64(4), "n_pairs", minimum=1)
