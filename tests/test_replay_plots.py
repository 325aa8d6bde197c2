"""The figures of trisim.analysis.replay_plots are valid PNG files, with and without events."""

import matplotlib.image
import pytest
import quantities as pq

from trisim.analysis.place_fields import tuning_curves
from trisim.analysis.replay import (peri_event_histograms, population_events, population_zscore,
                                    score_events)
from trisim.analysis.replay_plots import (plot_example_events, plot_peri_event, plot_place_fields,
                                          plot_population_events)
from trisim.analysis.synthetic import replay_block
from trisim.errors import OutputError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def analysed():
    block = replay_block(seed=31, n_place=30, n_cue=8, n_laps=4, rest_duration=20 * pq.s,
                         n_events=6)
    position = block.segments[0].analogsignals[0]
    place, cue = ([train.time_slice(position.t_stop, train.t_stop) for train in group.spiketrains]
                  for group in block.groups)
    curves = tuning_curves(block.groups[0].spiketrains, position)
    events = population_events(place)
    return place, cue, curves, events, score_events(place, curves, events, n_shuffles=20)


def assert_png(path, width, height):
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert path.stat().st_size > 10_000  # more than an empty canvas
    assert matplotlib.image.imread(path).shape[:2] == (height, width)


def test_population_events_figure(analysed, tmp_path):
    place, _, _, events, _ = analysed
    path = plot_population_events(population_zscore(place), events, tmp_path / "rate.png")
    assert_png(path, width=1200, height=350)


def test_place_fields_figure(analysed, tmp_path):
    _, _, curves, _, _ = analysed
    assert_png(plot_place_fields(curves, tmp_path / "fields.png"), width=600, height=600)


def test_example_events_figure_shows_the_requested_number(analysed, tmp_path):
    place, _, curves, _, scored = analysed
    path = plot_example_events(place, curves, scored, tmp_path / "examples.png", n_examples=4)
    assert_png(path, width=1040, height=600)  # 2.6 inches per event at 100 dpi


def test_example_events_figure_without_events(analysed, tmp_path):
    place, _, curves, _, scored = analysed
    path = plot_example_events(place, curves, scored[:0], tmp_path / "none.png")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_peri_event_figure(analysed, tmp_path):
    place, cue, _, events, _ = analysed
    histograms = {"place": peri_event_histograms(place, events),
                  "cue": peri_event_histograms(cue, events)}
    assert_png(plot_peri_event(histograms, tmp_path / "peth.png"), width=600, height=400)


def test_unwritable_path_raises_output_error(analysed, tmp_path):
    _, _, curves, _, _ = analysed
    with pytest.raises(OutputError, match="missing"):
        plot_place_fields(curves, tmp_path / "missing" / "fields.png")
