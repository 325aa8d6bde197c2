"""trisim.analysis.report: a self-contained HTML page with the verdict, the rule and figures."""

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from synthetic_runs import poisson_runs
from trisim.analysis import report, validation
from trisim.analysis.validation import compare_backends

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs():
    return {"A": poisson_runs([1, 2, 3]),
            "B <b>": poisson_runs([1, 2, 3], simulator=1, rate_factor=0.7)}


@pytest.fixture(scope="module")
def page(runs):
    comparison = compare_backends(runs)
    provenance = [{"backend": "A", "seed": 1, "file": "a.nix", "reused": True}]
    return comparison, report.render_report(comparison, runs, "synthetic", provenance)


def images(html):
    return [base64.b64decode(data) for data in
            re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_page_is_self_contained(page):
    _, html = page
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    references = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
    assert references and all(reference.startswith("data:image/png;base64,")
                              for reference in references)
    assert "<script" not in html and "<link" not in html


def test_page_embeds_every_figure_as_png(page):
    comparison, html = page
    pngs = images(html)
    # yardstick, one distribution figure per population, values per run, spectra, rasters
    assert len(pngs) == 4 + len(comparison.populations)
    assert all(png.startswith(PNG) and len(png) > 5000 for png in pngs)


def test_page_states_the_verdict_the_rule_and_its_thresholds(page):
    comparison, html = page
    assert not comparison.agree and "DISAGREE" in html
    assert report.html.escape(validation.RULE) in html
    assert f"SEED_SPREAD_QUANTILE = {validation.SEED_SPREAD_QUANTILE}" in html
    assert f"MIN_SEEDS = {validation.MIN_SEEDS}" in html


def test_table_has_one_row_per_result_and_marks_disagreements(page):
    comparison, html = page
    rows = re.findall(r'<tr class="(yes|no|none)"', html)
    assert len(rows) == len(comparison.results)
    assert rows.count("no") == sum(r["agree"] is False for r in comparison.results) > 0


def test_runs_of_different_commits_are_pointed_out(runs):
    comparison = compare_backends(runs)
    rows = [{"backend": "A", "seed": 1, "trisim_git_commit": "a" * 40, "simulator_version": "1"},
            {"backend": "A", "seed": 2, "trisim_git_commit": "b" * 40, "simulator_version": "1"}]
    html = report.render_report(comparison, runs, "synthetic", rows)
    assert 'class="warning"' in html and "2 trisim commits (aaaaaaa, bbbbbbb)" in html
    rows[1]["trisim_git_commit"] = "a" * 40
    assert 'class="warning"' not in report.render_report(comparison, runs, "synthetic", rows)


def test_labels_are_escaped(page):
    _, html = page
    assert "B <b>" not in html and "B &lt;b&gt;" in html


def test_figures_are_matplotlib_figures_without_pyplot(runs):
    comparison = compare_backends(runs)
    figures = [report.figure_yardstick(comparison), report.figure_scalars(comparison),
               report.figure_spectra(comparison), report.figure_rasters(runs),
               report.figure_distributions(comparison, "E")]
    assert all(isinstance(figure, Figure) for figure in figures)
    raster_panels = [axes for axes in figures[3].axes if axes.get_visible()]
    assert [axes.get_title() for axes in raster_panels] == ["A, seed 1", "B <b>, seed 1"]
    distribution_panels = [axes for axes in figures[4].axes if axes.get_visible()]
    assert len(distribution_panels) == sum(s.kind == validation.SAMPLE
                                           for s in validation.DEFAULT_STATISTICS)


def test_rendering_leaves_pyplot_unimported():
    code = ("import sys; sys.path.insert(0, 'tests'); from synthetic_runs import poisson_runs; "
            "from trisim.analysis import report, validation; "
            "runs = {'A': poisson_runs([1, 2, 3]), 'B': poisson_runs([4, 5, 6])}; "
            "report.render_report(validation.compare_backends(runs), runs, 'm'); "
            "print('matplotlib.pyplot' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "False"
