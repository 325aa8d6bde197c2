"""trisim.analysis.summary: populations of a Block and the run summary, equal to Elephant's."""

import json
import subprocess
import sys

import neo
import numpy as np
import pytest
import quantities as pq

from trisim.analysis.statistics import cv_isi, firing_rates
from trisim.analysis.summary import spiketrains_by_population, summarize_populations
from trisim.errors import InputFileError
from trisim.output import read_block, write_block


def spiketrain(times_ms, duration_ms, **annotations):
    return neo.SpikeTrain(times_ms, units="ms", t_start=0 * pq.ms, t_stop=duration_ms * pq.ms,
                          **annotations)


# spiketrains_by_population

def test_populations_are_read_from_groups(synthetic_block):
    populations = spiketrains_by_population(synthetic_block)
    assert {name: len(trains) for name, trains in populations.items()} == {"E": 80, "I": 20}
    assert all(train.annotations["source_population"] == name
               for name, trains in populations.items() for train in trains)


def test_populations_fall_back_to_annotations_without_groups(synthetic_block):
    from_groups = spiketrains_by_population(synthetic_block)
    synthetic_block.groups = []
    from_annotations = spiketrains_by_population(synthetic_block)
    assert from_annotations.keys() == from_groups.keys()
    for name in from_groups:
        assert [id(t) for t in from_annotations[name]] == [id(t) for t in from_groups[name]]


def test_populations_survive_a_nix_round_trip(synthetic_block, tmp_path):
    write_block(synthetic_block, tmp_path / "run.nix")
    populations = spiketrains_by_population(read_block(tmp_path / "run.nix"))
    assert {name: len(trains) for name, trains in populations.items()} == {"E": 80, "I": 20}
    expected = spiketrains_by_population(synthetic_block)
    assert all(np.array_equal(a.magnitude, b.magnitude)
               for name in expected for a, b in zip(populations[name], expected[name]))


def test_spiketrain_without_population_raises(synthetic_block):
    synthetic_block.groups = []
    del synthetic_block.segments[0].spiketrains[3].annotations["source_population"]
    with pytest.raises(InputFileError, match="source_population"):
        spiketrains_by_population(synthetic_block)


@pytest.mark.parametrize("with_group", [True, False])
def test_block_without_spiketrains_raises(with_group):
    block = neo.Block(name="empty")
    segment = neo.Segment()
    block.segments.append(segment)
    v = neo.AnalogSignal(np.zeros((10, 1)), units="mV", sampling_period=1 * pq.ms, name="v",
                         source_population="E")
    segment.analogsignals.append(v)
    if with_group:
        block.groups.append(neo.Group([v], name="E"))
    with pytest.raises(InputFileError, match="no spike trains"):
        spiketrains_by_population(block)


# block summaries

def test_summary_matches_spike_counts_and_is_json(synthetic_block):
    summary = summarize_populations(synthetic_block)
    for group in synthetic_block.groups:
        n_cells, n_spikes = len(group.spiketrains), sum(len(t) for t in group.spiketrains)
        duration_s = 2.0
        assert summary[group.name]["n"] == n_cells
        assert summary[group.name]["rate_hz"] == pytest.approx(n_spikes / n_cells / duration_s)
        assert summary[group.name]["cv_isi"] == pytest.approx(1.0, abs=0.2)
    json.dumps(summary, allow_nan=False)


def test_summary_cv_is_none_without_enough_spikes():
    block = neo.Block()
    block.segments.append(neo.Segment())
    # a list, not a generator: neo's ObjectList.extend iterates its argument twice
    block.segments[0].spiketrains.extend(
        [spiketrain([5.0 * i], 100.0, source_population="sparse") for i in range(4)])
    assert summarize_populations(block) == {"sparse": {"n": 4, "rate_hz": 10.0, "cv_isi": None}}


def test_summary_equals_elephants_rates_and_cvs():
    rng = np.random.default_rng(3)
    trains = []
    for i in range(60):  # some silent, some with 1-2 spikes, in ms and in s, offset starts
        times = np.sort(rng.uniform(100.0, 2100.0, rng.integers(0, 40)))
        train = neo.SpikeTrain(times, units="ms", t_start=100 * pq.ms, t_stop=2100 * pq.ms,
                               source_population="P")
        trains.append(train.rescale(pq.s) if i % 3 == 0 else train)
    block = neo.Block()
    block.segments.append(neo.Segment())
    block.segments[0].spiketrains.extend(trains)
    summary = summarize_populations(block)["P"]
    cvs = cv_isi(trains)
    assert summary["rate_hz"] == pytest.approx(np.mean(firing_rates(trains).magnitude), rel=1e-13)
    assert summary["cv_isi"] == pytest.approx(np.mean(cvs[np.isfinite(cvs)]), rel=1e-13)


def test_the_run_summary_does_not_import_elephant():
    # trisim run writes the summary after every simulation; Elephant (and SciPy) cost a second
    code = ("import sys, trisim.analysis.summary; "
            "print(sorted({'elephant', 'scipy'} & set(sys.modules)))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert imported == "[]"
