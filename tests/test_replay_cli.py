"""``trisim replay``: outputs on synthetic runs, the position and grouping options, bad input."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import neo
import pytest
import quantities as pq

from trisim.analysis.synthetic import replay_block
from trisim.cli import main
from trisim.output import write_block
from trisim.runners.replay import EVENT_COLUMNS, _parse_position

SUFFIXES = ("replay.json", "replay_events.csv", "replay_rate.png", "replay_fields.png",
            "replay_examples.png", "replay_peri_event.png")


def small_block(**overrides):
    arguments = dict(seed=21, n_place=40, n_cue=10, n_laps=4, rest_duration=30 * pq.s,
                     n_events=10)
    return replay_block(**{**arguments, **overrides})


def rebuilt(block, keep_signals=True, slice_from=None, silent=False):
    """A copy of ``block`` laid out like a trisim run, optionally without its signals, cut to
    start at ``slice_from``, or with every spike removed."""
    segment = neo.Segment(name="run")
    copy = neo.Block(name=block.name)
    copy.segments.append(segment)
    for group in block.groups:
        trains = []
        for train in group.spiketrains:
            train = train.time_slice(slice_from, train.t_stop) if slice_from is not None else train
            times = train.times[:0] if silent else train.times
            trains.append(neo.SpikeTrain(times, t_start=train.t_start, t_stop=train.t_stop,
                                         name=train.name, **train.annotations))
        segment.spiketrains.extend(trains)
        copy.groups.append(neo.Group(trains, name=group.name))
    if keep_signals:
        segment.analogsignals.extend([signal.copy() for signal in block.segments[0].analogsignals])
    return copy


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("runs") / "run.nix"
    write_block(small_block(), path)
    return path


@pytest.fixture(scope="module")
def replayed(run_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("replay")
    assert main(["replay", str(run_file), "--out", str(out), "--shuffles", "200"]) == 0
    return out


def test_replay_writes_events_scores_and_figures(replayed):
    for suffix in SUFFIXES:
        assert (replayed / f"run.{suffix}").stat().st_size > 0, suffix
    for suffix in SUFFIXES[2:]:
        image = matplotlib.image.imread(replayed / f"run.{suffix}")
        assert image.shape[0] > 300 and image.shape[1] > 500, suffix
    report = json.loads((replayed / "run.replay.json").read_text())
    assert report["summary"]["n_events"] == 10  # the planted ones, found by the smoothed rule
    assert report["summary"]["significant_fraction"]["rank_order"] >= 0.8
    assert report["summary"]["forward"] + report["summary"]["reverse"] == 10
    assert report["parameters"]["n_shuffles"] == 200
    assert report["parameters"]["method"] == "smoothed"
    assert report["place_fields"]["n_cells"] == 40
    assert sorted(report["place_fields"]["order_by_centre"]) == list(range(40))
    correlation = report["group_modulation"]["place_cue_correlation"]
    assert correlation["pearson_r"] < 0 and correlation["n_bins"] == 200
    assert set(report["group_modulation"]["peri_event"]) == {"place", "cue"}


def test_events_table_matches_the_json(replayed):
    with open(replayed / "run.replay_events.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    report = json.loads((replayed / "run.replay.json").read_text())
    assert list(rows[0]) == list(EVENT_COLUMNS)
    assert len(rows) == len(report["events"]) == 10
    for row, event in zip(rows, report["events"]):
        assert float(row["start_ms"]) == pytest.approx(event["start_ms"])
        assert row["direction"] == event["direction"] in ("forward", "reverse")
        assert 0 < float(row["rank_order_p"]) <= 1


def test_fields_and_position_may_come_from_another_file(tmp_path):
    block = small_block(n_events=6)
    rest_start = block.segments[0].analogsignals[0].t_stop
    block.segments[0].analogsignals[0].name = "track"
    write_block(block, tmp_path / "online.nix")
    write_block(rebuilt(block, keep_signals=False, slice_from=rest_start), tmp_path / "offline.nix")
    out = tmp_path / "out"
    assert main(["replay", str(tmp_path / "offline.nix"), "--fields", str(tmp_path / "online.nix"),
                 "--position", "track", "--out", str(out), "--shuffles", "50"]) == 0
    report = json.loads((out / "offline.replay.json").read_text())
    assert report["summary"]["n_events"] == 6
    assert report["source"]["fields_file"].endswith("online.nix")
    assert report["parameters"]["window_ms"][0] == pytest.approx(float(rest_start.rescale(pq.ms)))


def test_position_spec_names_a_signal_a_file_or_both(tmp_path):
    fields = tmp_path / "fields.nix"
    assert _parse_position(None, fields) == (fields, "position")
    assert _parse_position("track", fields) == (fields, "track")
    assert _parse_position("other.nix", fields) == (Path("other.nix"), "position")
    assert _parse_position("/data/other.nix:track", fields) == (Path("/data/other.nix"), "track")
    assert _parse_position("C:track", fields) == (fields, "C:track")  # no .nix: a signal name


def test_cells_may_be_grouped_by_an_annotation(run_file, tmp_path):
    assert main(["replay", str(run_file), "--label-by", "source_population", "--method", "binned",
                 "--out", str(tmp_path), "--shuffles", "50"]) == 0
    report = json.loads((tmp_path / "run.replay.json").read_text())
    assert report["parameters"]["label_by"] == "source_population"
    assert report["parameters"]["method"] == "binned" and report["summary"]["n_events"] >= 9


def test_help_documents_the_conventions():
    result = subprocess.run([sys.executable, "-m", "trisim.cli", "replay", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "usage: trisim replay" in result.stdout
    for words in ("--position SPEC", "FILE.nix:NAME", "--label-by", "--fields", "rest"):
        assert words in result.stdout


def write(tmp_path, name, block):
    write_block(block, tmp_path / name)
    return tmp_path / name


@pytest.mark.parametrize("make_args, culprit", [
    (lambda tmp, run: [write(tmp, "signal_only.nix", _signal_only_block())],
     "holds no spike trains"),
    (lambda tmp, run: [write(tmp, "noposition.nix", rebuilt(small_block(), keep_signals=False))],
     "no position signal 'position' (signals: none)"),
    (lambda tmp, run: [write(tmp, "silent.nix", rebuilt(small_block(), silent=True))],
     "no spikes between"),
    (lambda tmp, run: [run, "--label-by", "cell_type"], "has no 'cell_type' annotation"),
    (lambda tmp, run: [run, "--place", "pyramidal"],
     "no group 'pyramidal' of cells (groups: cue, place)"),
    (lambda tmp, run: [tmp / "missing.nix"], "missing.nix: no such file"),
    (lambda tmp, run: [run, "--position", tmp / "other.nix"], "other.nix: no such file"),
    (lambda tmp, run: [run, "--position", "speed"], "no position signal 'speed' (signals: "
     "position)"),
    (lambda tmp, run: [run, "--shuffles", "0"], "shuffles must be at least 1"),
])
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, capsys, run_file, make_args, culprit):
    args = [str(arg) for arg in make_args(tmp_path, run_file)]
    before = set(tmp_path.rglob("*"))
    assert main(["replay", *args, "--out", str(tmp_path / "out")]) == 2
    message = capsys.readouterr().err.strip().splitlines()
    assert len(message) == 1 and culprit in message[0], message
    assert message[0].startswith("trisim replay: error: ")
    assert set(tmp_path.rglob("*")) == before  # nothing written, not even the directory


def _signal_only_block():
    block = small_block(n_place=2, n_cue=0, n_events=1)
    copy = rebuilt(block)
    copy.segments[0].spiketrains = []
    copy.groups = []
    return copy
