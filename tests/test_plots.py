"""The figures of trisim.analysis.plots are written as valid PNG files of the intended size."""

import matplotlib.image
import pytest

from trisim.analysis.plots import plot_raster_with_rate, plot_rate_histogram
from trisim.errors import OutputError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, width, height):
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert path.stat().st_size > 10_000  # more than an empty canvas
    assert matplotlib.image.imread(path).shape[:2] == (height, width)


def test_raster_with_rate_is_a_png(synthetic_block, tmp_path):
    path = plot_raster_with_rate(synthetic_block, tmp_path / "raster.png",
                                 max_cells_per_population=50)
    assert path == tmp_path / "raster.png"
    assert_png(path, width=1000, height=700)


def test_rate_histogram_is_a_png_with_a_panel_per_population(synthetic_block, tmp_path):
    path = plot_rate_histogram(synthetic_block, str(tmp_path / "rates.png"))
    assert_png(path, width=700, height=550)


def test_unwritable_path_raises_output_error(synthetic_block, tmp_path):
    with pytest.raises(OutputError, match="missing"):
        plot_rate_histogram(synthetic_block, tmp_path / "missing" / "rates.png")


def test_max_cells_must_be_positive(synthetic_block, tmp_path):
    with pytest.raises(ValueError, match="max_cells_per_population"):
        plot_raster_with_rate(synthetic_block, tmp_path / "raster.png", max_cells_per_population=0)
