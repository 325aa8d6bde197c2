"""trisim.output's NIX layout: one SpikeTrain per population in the file, per-cell trains read."""

import os
import pickle
import subprocess
import sys

import neo
import numpy as np
import pytest
import quantities as pq
from neo.core.spiketrainlist import SpikeTrainList
from neo.io import NixIO

from trisim import output
from trisim.errors import OutputError
from trisim.output import collect_block, per_cell_spiketrains, read_block, write_block


def cell(times, population, index, t_stop=500.0, **annotations):
    return neo.SpikeTrain(times, units="ms", t_start=0 * pq.ms, t_stop=t_stop * pq.ms,
                          source_population=population, source_index=index,
                          channel_id=100 * (population == "I") + index, **annotations)


@pytest.fixture
def block():
    """Two segments' worth of layout in one: E (4 cells, one silent, one with many spikes), I (1
    cell), a one-spike population, signals, an epoch, and a train of no population."""
    rng = np.random.default_rng(3)
    block = neo.Block(name="model", seed=3, config="{}")
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    populations = {
        "E": [cell([1.0, 7.5, 7.5], "E", 0), cell([], "E", 1),
              cell(np.sort(rng.uniform(0, 500, 400)), "E", 2), cell([499.9], "E", 3)],
        "I": [cell([2.0, 3.0], "I", 0, kind="basket")],
        "single": [neo.SpikeTrain([0.25], units="s", t_start=0.1 * pq.s, t_stop=1 * pq.s,
                                  name="only", source_population="single", source_index=0)],
    }
    for name, trains in populations.items():
        v = neo.AnalogSignal(rng.normal(size=(50, 2)), units="mV", sampling_period=1 * pq.ms,
                             name=f"{name}.v", source_population=name)
        segment.spiketrains.extend(trains)
        segment.analogsignals.append(v)
        block.groups.append(neo.Group(trains + [v], name=name))
    segment.spiketrains.append(neo.SpikeTrain([3.0], units="ms", t_stop=10 * pq.ms, label="x"))
    segment.epochs.append(neo.Epoch([1.0] * pq.s, durations=[0.5] * pq.s, labels=["rest"],
                                    name="events"))
    return block


def without_nix_name(annotations):
    return {key: value for key, value in annotations.items() if key != "nix_name"}


def assert_same_trains(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.units == b.units and a.t_start == b.t_start and a.t_stop == b.t_stop
        np.testing.assert_array_equal(a.magnitude, b.magnitude)
        assert (a.name or None) == (b.name or None)  # NixIO reads a train without name as ""
        assert without_nix_name(a.annotations) == without_nix_name(b.annotations)


def test_round_trip_gives_the_per_cell_trains_and_groups(block, tmp_path):
    write_block(block, tmp_path / "run.nix")
    again = read_block(tmp_path / "run.nix")
    segment, original = again.segments[0], block.segments[0]
    assert_same_trains(segment.spiketrains, original.spiketrains)
    assert all(train.segment is segment for train in segment.spiketrains)
    assert [group.name for group in again.groups] == ["E", "I", "single"]
    for group, expected in zip(again.groups, block.groups):
        assert_same_trains(group.spiketrains, expected.spiketrains)
        in_segment = {id(train) for train in segment.spiketrains}
        assert all(id(train) in in_segment for train in group.spiketrains)
        assert [signal.name for signal in group.analogsignals] == [expected.analogsignals[0].name]
    assert list(segment.epochs[0].labels) == ["rest"]
    assert again.annotations["seed"] == 3


def test_the_file_holds_one_spiketrain_per_population(block, tmp_path):
    write_block(block, tmp_path / "run.nix")
    with NixIO(str(tmp_path / "run.nix"), mode="ro") as io:
        plain = io.read_block()
    trains = plain.segments[0].spiketrains
    assert [train.name for train in trains] == ["E", "I", "single", ""]
    e = trains[0]
    assert len(e) == 404 and np.all(np.diff(e.magnitude) >= 0)
    assert e.annotations["trisim_cells"] == 4 and e.annotations["source_population"] == "E"
    assert list(e.annotations["source_index"]) == [0, 1, 2, 3]
    assert np.bincount(e.array_annotations["cell"], minlength=4).tolist() == [3, 0, 400, 1]
    assert [len(group.spiketrains) for group in plain.groups] == [1, 1, 1]
    assert_same_trains(per_cell_spiketrains(plain).segments[0].spiketrains,
                       block.segments[0].spiketrains)


def test_write_leaves_the_block_untouched(block, tmp_path):
    objects = [block, *block.segments, *block.groups, *block.segments[0].data_children]
    before = [(obj, dict(obj.annotations), getattr(obj, "segment", None)) for obj in objects]
    trains = [list(map(id, container.spiketrains))
              for container in [*block.segments, *block.groups]]
    write_block(block, tmp_path / "run.nix")
    assert [(obj, dict(obj.annotations), getattr(obj, "segment", None))
            for obj in objects] == before
    assert [list(map(id, container.spiketrains))
            for container in [*block.segments, *block.groups]] == trains
    assert all(train.segment is block.segments[0] for train in block.segments[0].spiketrains)


def test_per_cell_files_are_read_as_they_are(block, tmp_path):
    with NixIO(str(tmp_path / "old.nix"), mode="ow") as io:
        io.write_block(block)
    again = read_block(tmp_path / "old.nix")
    assert len(again.segments[0].spiketrains) == 7
    assert_same_trains(again.segments[0].spiketrains, block.segments[0].spiketrains)


class RecordedPopulation:
    """What collect_block asks of a PyNN population (IDs from ``first_id``) and its recorded
    data, with the spikes as PyNN hands them over: one array in a SpikeTrainList."""

    def __init__(self, size, first_id, times, cells, signals=()):
        self.size, self.all_cells = size, np.arange(first_id, first_id + size)
        self.times, self.cells, self.signals = times, np.asarray(cells), list(signals)

    def id_to_index(self, ids):
        return np.asarray(ids) - self.all_cells[0]

    def get_data(self, gather=True):
        data = neo.Block()
        data.segments.append(neo.Segment())
        data.segments[0].spiketrains = SpikeTrainList.from_spike_time_array(
            np.asarray(self.times), self.all_cells[self.cells], self.all_cells,
            t_stop=1e3 * pq.ms, units="ms", t_start=0 * pq.ms, source_population="pynn label",
            source_index=np.arange(self.size))
        data.segments[0].analogsignals.extend(self.signals)
        return data


def test_collected_block_holds_every_population_in_cell_order_once():
    rng = np.random.default_rng(1)
    cells = rng.integers(0, 300, 2000)  # cell of each spike, spikes in time order
    times = np.sort(rng.uniform(0, 1000, 2000))
    v = neo.AnalogSignal(np.zeros((5, 2)), units="mV", sampling_period=1 * pq.ms, name="v")
    block = collect_block({"E": RecordedPopulation(300, 10, times, cells, [v]),
                           "I": RecordedPopulation(2, 400, [5.0, 7.0, 9.0], [1, 0, 1])},
                          {"model": "m", "seed": 1})
    segment = block.segments[0]
    assert block.annotations["seed"] == 1 and [g.name for g in block.groups] == ["E", "I"]
    assert [(t.annotations["source_population"], t.annotations["source_index"],
             t.annotations["channel_id"]) for t in segment.spiketrains] == (
        [("E", i, 10 + i) for i in range(300)] + [("I", 0, 400), ("I", 1, 401)])
    for i, train in enumerate(segment.spiketrains[:300]):  # each cell's spikes, in time order
        np.testing.assert_array_equal(train.magnitude, times[cells == i])
        assert train.units == pq.ms and train.t_stop == 1e3 * pq.ms
    assert [t.magnitude.tolist() for t in segment.spiketrains[300:]] == [[7.0], [5.0, 9.0]]
    assert all(t.segment is segment for t in segment.spiketrains)
    assert [id(t) for g in block.groups for t in g.spiketrains] == [
        id(t) for t in segment.spiketrains]
    assert [s.name for s in segment.analogsignals] == ["E.v"]
    assert [s.name for s in block.groups[0].analogsignals] == ["E.v"]
    assert segment.analogsignals[0].segment is segment


def test_signals_are_collected_by_name_whatever_order_pyNN_gives_them_in():
    # PyNN hands a population's signals over in the order of a set (Python's hash seed)
    def signal(name):
        return neo.AnalogSignal(np.zeros((5, 1)), units="mV", sampling_period=1 * pq.ms,
                                name=name)
    orders = [["v", "gsyn_exc", "gsyn_inh"], ["gsyn_inh", "v", "gsyn_exc"]]
    blocks = [collect_block({"E": RecordedPopulation(1, 0, [1.0], [0], [signal(n) for n in order])},
                            {"model": "m"}) for order in orders]
    for block in blocks:
        assert [s.name for s in block.segments[0].analogsignals] == [
            "E.gsyn_exc", "E.gsyn_inh", "E.v"]



class GatheredPopulation(RecordedPopulation):
    """A population split over two MPI processes (even cells on rank 0, odd on rank 1), whose
    data PyNN's gather merges on rank 0: each rank's Block into rank 0's, trains sorted by ID."""

    def get_data(self, gather=True):
        ranks = []
        for rank in (0, 1):
            local = self.all_cells[rank::2]
            mine = self.cells % 2 == rank
            block = neo.Block()
            block.segments.append(neo.Segment())
            block.segments[0].spiketrains = SpikeTrainList.from_spike_time_array(
                np.asarray(self.times)[mine], self.all_cells[self.cells[mine]], local,
                t_stop=1e3 * pq.ms, units="ms", t_start=0 * pq.ms,
                source_index=self.id_to_index(local))
            ranks.append(block)
        merged = ranks[0]
        merged.merge(pickle.loads(pickle.dumps(ranks[1])))  # as pyNN.recording.gather_blocks
        for segment in merged.segments:
            segment.spiketrains = sorted(segment.spiketrains,
                                         key=lambda train: train.annotations["channel_id"])
        return merged


def test_spikes_gathered_from_two_processes_are_collected_from_both(monkeypatch):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    rng = np.random.default_rng(2)
    cells = rng.integers(0, 20, 200)
    times = np.sort(rng.uniform(0, 1000, 200))
    block = collect_block({"E": GatheredPopulation(20, 5, times, cells)}, {"model": "m"})
    trains = block.segments[0].spiketrains
    assert [t.annotations["source_index"] for t in trains] == list(range(20))
    for i, train in enumerate(trains):  # odd cells (rank 1's) included
        np.testing.assert_array_equal(train.magnitude, times[cells == i])


def _dead_pid():
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_partial_files_of_killed_writers_are_removed_by_the_next_write(tmp_path):
    dead, host = _dead_pid(), output._host()
    stale = [tmp_path / f".run.{dead}.partial.nix",  # as older versions named them
             tmp_path / f".run.summary.{dead}.{host}.partial.json"]
    kept = [tmp_path / f".run.{os.getpid()}.{host}.partial.nix",  # a writer still at work
            tmp_path / f".run.{dead}.otherhost.partial.nix",  # one on another machine
            tmp_path / "run.nix"]
    for path in stale + kept:
        path.write_text("")
    output.write_json({"a": 1}, tmp_path / "summary.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [p.name for p in kept] + ["summary.json"])


def test_an_interrupted_write_leaves_no_file(tmp_path):
    def interrupted(temporary):
        temporary.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        output.write_atomically(tmp_path / "x.json", interrupted)
    assert list(tmp_path.iterdir()) == []


def test_an_output_directory_is_checked_without_creating_it(tmp_path):
    assert output.check_output_directory(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    (tmp_path / "file").write_text("")
    for path, message in ((tmp_path / "file", "file: not a directory$"),
                          (tmp_path / "file" / "sub", r"not a directory \(.*file is not a"),
                          ("/proc/trisim", "/proc/trisim: ")):
        with pytest.raises(OutputError, match=message):
            output.check_output_directory(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
