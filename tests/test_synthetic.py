"""The synthetic replay data: layout, reproducibility, and the planted structure it claims."""

import numpy as np
import pytest
import quantities as pq
from scipy import stats

from trisim.analysis.synthetic import (event_starts, linear_track_position, replay_block,
                                       sequence_spikes)
from trisim.output import read_block, write_block


@pytest.fixture(scope="module")
def block():
    return replay_block(seed=4, n_place=40, n_cue=10, n_laps=4, rest_duration=30 * pq.s,
                        n_events=12, directions=("forward", "reverse", "shuffled"))


def test_block_is_laid_out_like_a_trisim_run(block):
    assert len(block.segments) == 1
    segment = block.segments[0]
    assert [(group.name, len(group.spiketrains)) for group in block.groups] == [("place", 40),
                                                                                ("cue", 10)]
    for group in block.groups:
        assert [train.annotations["source_index"] for train in group.spiketrains] == list(
            range(len(group.spiketrains)))
        assert {train.annotations["source_population"] for train in group.spiketrains} == {
            group.name}
    position = segment.analogsignals[0]
    assert position.name == "position" and position.units == pq.cm
    assert segment.epochs[0].name == "planted_events"
    assert list(segment.epochs[0].labels[:3]) == ["forward", "reverse", "shuffled"]
    rest_start = float(position.t_stop.rescale(pq.s))
    assert np.all(segment.epochs[0].times.rescale(pq.s).magnitude > rest_start)
    assert all(train.t_stop == segment.spiketrains[0].t_stop for train in segment.spiketrains)


def test_block_survives_a_nix_round_trip(block, tmp_path):
    write_block(block, tmp_path / "synthetic.nix")
    again = read_block(tmp_path / "synthetic.nix")
    assert [len(train) for train in again.segments[0].spiketrains] == [
        len(train) for train in block.segments[0].spiketrains]
    assert list(again.segments[0].epochs[0].labels) == list(block.segments[0].epochs[0].labels)
    assert [(group.name, [train.annotations["source_index"] for train in group.spiketrains])
            for group in again.groups] == [(group.name, list(range(len(group.spiketrains))))
                                           for group in block.groups]


def test_same_seed_same_data_other_seed_other_data(block):
    again = replay_block(seed=4, n_place=40, n_cue=10, n_laps=4, rest_duration=30 * pq.s,
                         n_events=12, directions=("forward", "reverse", "shuffled"))
    other = replay_block(seed=5, n_place=40, n_cue=10, n_laps=4, rest_duration=30 * pq.s,
                         n_events=12, directions=("forward", "reverse", "shuffled"))
    times = [train.magnitude for train in block.segments[0].spiketrains]
    assert all(np.array_equal(a, b.magnitude) for a, b in zip(times, again.segments[0].spiketrains))
    assert not all(np.array_equal(a, b.magnitude) for a, b in zip(times,
                                                                   other.segments[0].spiketrains))


def test_track_runs_back_and_forth_with_pauses():
    position = linear_track_position(n_laps=3, track_length=100 * pq.cm,
                                     speed=50 * pq.cm / pq.s, pause=1 * pq.s)
    x = position.magnitude[:, 0]
    t = position.times.rescale(pq.s).magnitude
    assert x.min() == 0 and x.max() == pytest.approx(100)
    assert np.interp([1.0, 4.0, 7.0], t, x) == pytest.approx([50, 50, 50], abs=1)
    assert np.interp(2.5, t, x) == pytest.approx(100)  # paused at the far end


def test_sequences_fire_in_field_order_with_the_requested_participation():
    rng = np.random.default_rng(0)
    fractions = np.linspace(0.01, 0.99, 200)
    starts = np.array([1.0, 3.0, 5.0]) * pq.s
    spikes = sequence_spikes(fractions, starts, 100 * pq.ms, ["forward", "reverse", "shuffled"],
                             rng, participation=0.6, spikes_per_cell=1.0, jitter=1 * pq.ms)
    per_event = [[times[(times > s - 0.05) & (times < s + 0.15)] for times in spikes]
                 for s in (1.0, 3.0, 5.0)]
    for event, sign in zip(per_event, (1, -1, 0)):
        fired = [i for i, times in enumerate(event) if times.size]
        assert len(fired) / len(fractions) == pytest.approx(0.6, abs=0.1)
        rho = stats.spearmanr(fractions[fired], [event[i][0] for i in fired]).statistic
        assert (rho > 0.95) if sign > 0 else (rho < -0.95) if sign < 0 else abs(rho) < 0.3


def test_cue_cells_are_suppressed_during_planted_events(block):
    segment = block.segments[0]
    starts = segment.epochs[0].times.rescale(pq.s).magnitude
    cue_times = np.concatenate([train.rescale(pq.s).magnitude
                                for train in block.groups[1].spiketrains])
    inside = sum(((cue_times >= s) & (cue_times < s + 0.15)).sum() for s in starts)
    expected = 10 * 2.0 * 0.15 * len(starts)  # 10 cells at 2 Hz, 150 ms events
    assert inside < 0.5 * expected


def test_event_starts_are_spaced_and_checked():
    starts = event_starts(10, 0 * pq.s, 20 * pq.s, np.random.default_rng(1),
                          min_interval=1.5 * pq.s).magnitude
    assert np.all(np.diff(starts) >= 1.5) and starts[0] >= 1.5 and starts[-1] <= 18.5
    with pytest.raises(ValueError, match="do not fit"):
        event_starts(20, 0 * pq.s, 20 * pq.s, np.random.default_rng(1))


def test_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="unknown directions"):
        sequence_spikes(np.array([0.5]), [1.0] * pq.s, 100 * pq.ms, ["sideways"],
                        np.random.default_rng(0))


def test_docstring_examples_run():
    import doctest

    from trisim.analysis import synthetic as module
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
