"""Analytic properties of trisim.analysis.place_fields, and fields of synthetic cells recovered."""

import neo
import numpy as np
import pytest
import quantities as pq
from scipy import stats

from trisim.analysis.place_fields import (TuningCurves, field_properties, order_by_field_centre,
                                          position_at, running_speed, spatial_information,
                                          tuning_curves)
from trisim.analysis.synthetic import linear_track_position, replay_block


@pytest.fixture(scope="module")
def run_block():
    return replay_block(seed=11, n_events=1, rest_duration=5 * pq.s)


def train(times_s, t_stop_s):
    return neo.SpikeTrain(np.sort(times_s), units="s", t_stop=t_stop_s * pq.s)


def test_fields_of_synthetic_cells_are_recovered(run_block):
    place = run_block.groups[0].spiketrains
    properties = field_properties(tuning_curves(place, run_block.segments[0].analogsignals[0]))
    truth = np.array([cell.annotations["field_centre_cm"] for cell in place])
    error = np.abs(properties["centre"].rescale(pq.cm).magnitude - truth)
    assert np.median(error) < 2 and error.max() < 10  # fields cut by the track ends shift inwards
    peaks = properties["peak_rate"].rescale(pq.Hz).magnitude
    assert 10 < np.median(peaks) < 18  # 15 Hz Gaussian fields + 0.1 Hz, smoothed by 4 cm
    order = order_by_field_centre(properties["centre"])
    assert stats.spearmanr(order, np.argsort(truth)).statistic > 0.99


def test_place_cells_carry_spatial_information_and_cue_cells_none(run_block):
    position = run_block.segments[0].analogsignals[0]
    place, cue = (group.spiketrains for group in run_block.groups)
    assert np.median(spatial_information(tuning_curves(place, position))) > 1.5
    assert np.median(spatial_information(tuning_curves(cue, position))) < 0.2


def test_a_constant_rate_gives_a_flat_curve():
    position = linear_track_position(n_laps=20, pause=0 * pq.s)
    duration = float(position.t_stop.rescale(pq.s))
    rng = np.random.default_rng(2)
    constant = train(rng.uniform(0, duration, rng.poisson(20 * duration)), duration)
    rates = tuning_curves([constant], position, bin_size=20 * pq.cm).rates.magnitude[0]
    assert rates.mean() == pytest.approx(20, rel=0.05)
    assert rates.std() < 0.15 * rates.mean()


def test_spikes_and_time_while_still_are_left_out():
    position = linear_track_position(n_laps=2, pause=2 * pq.s)  # still at 200 cm, 6.67-8.67 s
    still = train(np.linspace(7.0, 8.5, 50), float(position.t_stop.rescale(pq.s)))
    curves = tuning_curves([still], position, bin_size=10 * pq.cm, sigma=0 * pq.cm)
    assert np.nansum(curves.rates.magnitude) == 0
    # each traversal crosses each 10 cm bin in 1/3 s; 2 traversals, pauses not counted
    assert np.allclose(curves.occupancy.rescale(pq.s).magnitude, 2 / 3, atol=0.06)  # 20 ms samples
    too_slow = tuning_curves([still], position, bin_size=10 * pq.cm, sigma=0 * pq.cm,
                             min_speed=40 * pq.cm / pq.s)  # faster than the animal ever runs
    assert too_slow.occupancy.magnitude.sum() == 0 and np.isnan(too_slow.rates.magnitude).all()


def test_unvisited_bins_are_nan():
    position = neo.AnalogSignal(np.linspace(0, 49, 50)[:, None], units="cm",
                                sampling_period=0.1 * pq.s)  # 10 cm/s up to 49 cm
    curves = tuning_curves([train([1.0], 5.0)], position, bin_size=10 * pq.cm,
                           sigma=0 * pq.cm, track=(0 * pq.cm, 100 * pq.cm))
    assert curves.rates.shape == (1, 10)
    assert np.isnan(curves.rates.magnitude[0, 5:]).all()
    assert np.isfinite(curves.rates.magnitude[0, :5]).all()


def test_irregular_sampling_gives_the_same_curves_as_regular():
    regular = linear_track_position(n_laps=4, pause=0.5 * pq.s, sampling_period=10 * pq.ms)
    irregular = neo.IrregularlySampledSignal(regular.times, regular.magnitude, units="cm",
                                             time_units="s")
    rng = np.random.default_rng(3)
    duration = float(regular.t_stop.rescale(pq.s))
    cells = [train(rng.uniform(0, duration, 200), duration) for _ in range(3)]
    assert np.allclose(tuning_curves(cells, regular).rates.magnitude,
                       tuning_curves(cells, irregular).rates.magnitude, equal_nan=True)


def test_spatial_information_of_a_cell_firing_in_one_of_four_bins_is_two_bits():
    curves = TuningCurves(np.array([[8.0, 0, 0, 0], [2.0, 2, 2, 2]]) * pq.Hz,
                          np.arange(5.0) * pq.cm, np.ones(4) * pq.s)
    assert spatial_information(curves) == pytest.approx([2.0, 0.0])


def test_field_bounds_centre_and_silent_cells():
    rates = np.array([[0, 1, 5, 10, 5, 1, 0, 4, 0], [0.0] * 9])
    curves = TuningCurves(rates * pq.Hz, np.arange(10.0) * 10 * pq.cm, np.ones(9) * pq.s)
    properties = field_properties(curves, threshold=0.2)
    # bins 2-4 are at or above 2 Hz around the peak; the bin at 4 Hz beyond a gap is not
    assert properties["size"][0] == 30 * pq.cm
    assert properties["centre"][0] == 35 * pq.cm and properties["peak_position"][0] == 35 * pq.cm
    assert np.isnan(properties["centre"][1]) and np.isnan(properties["peak_rate"][1])
    assert order_by_field_centre(properties["centre"]).tolist() == [0, 1]


def test_position_and_speed_follow_the_track():
    position = linear_track_position(n_laps=2, pause=1 * pq.s)
    assert position_at(position, [0.0, 10 / 3] * pq.s).magnitude == pytest.approx([0, 100])
    speed = running_speed(position).magnitude[:, 0]
    assert np.median(speed) == pytest.approx(30)
    assert (speed < 1).mean() == pytest.approx(1 / 7.667, abs=0.01)  # pauses: 1 s in 7.67


@pytest.mark.parametrize("signal, message", [
    (neo.AnalogSignal(np.zeros((10, 2)), units="cm", sampling_period=1 * pq.s), "one channel"),
    (neo.AnalogSignal(np.zeros((10, 1)), units="mV", sampling_period=1 * pq.s), "length"),
    (neo.AnalogSignal(np.zeros((1, 1)), units="cm", sampling_period=1 * pq.s), "two samples"),
])
def test_bad_positions_are_refused(signal, message):
    with pytest.raises(ValueError, match=message):
        tuning_curves([train([1.0], 10)], signal)


def test_position_must_be_a_signal():
    with pytest.raises(TypeError, match="position must be"):
        position_at(np.arange(3.0), [1.0] * pq.s)


def test_docstring_examples_run():
    import doctest

    from trisim.analysis import place_fields as module
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
