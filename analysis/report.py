"""The validation report: one self-contained HTML page with tables and embedded figures.

Figures are :class:`matplotlib.figure.Figure` objects rendered by Agg into PNGs that the page
carries as base64 data URIs, so the page can be mailed or archived on its own; nothing here
touches pyplot or the caller's matplotlib backend.
"""

import base64
import datetime
import html
import io
import math

import elephant
import numpy as np
import quantities as pq
from matplotlib.figure import Figure

from trisim.analysis import validation
from trisim.analysis.summary import spiketrains_by_population

#: Cells per population drawn in the side-by-side rasters.
RASTER_CELLS = 100


def render_report(comparison, runs, model, provenance=()):
    """The HTML page of a validation.

    Parameters
    ----------
    comparison : trisim.analysis.validation.Comparison
        As returned by :func:`~trisim.analysis.validation.compare_backends`.
    runs : dict of str to list of neo.Block
        The runs compared, per label (the first of each is drawn as a raster).
    model : str
        Model name, for the title.
    provenance : sequence of dict, optional
        One row per run (backend, seed, file, versions...), shown as a table.

    Returns
    -------
    str
        A complete HTML document; images are embedded, nothing is fetched.
    """
    decided = [result for result in comparison.results if result["agree"] is not None]
    agreeing = sum(result["agree"] for result in decided)
    verdict = "AGREE" if comparison.agree else "DISAGREE"
    sections = [
        f"<h1>trisim validate: {_text(model)}</h1>",
        f'<p class="verdict {verdict.lower()}">{verdict}: {agreeing} of {len(decided)} '
        f"statistics agree ({_text(', '.join(comparison.labels))}; "
        f"{len(comparison.seeds[comparison.labels[0]])} seeds each)</p>",
        "<h2>Rule</h2>", f"<p>{_text(validation.RULE)}</p>", _thresholds_list(),
        "<h2>Statistics</h2>", _results_table(comparison.results),
        _figure_section("Effect size relative to the seed spread", figure_yardstick(comparison)),
    ]
    for population in comparison.populations:
        sections.append(_figure_section(f"Distributions of population {population} (all seeds "
                                        "pooled)", figure_distributions(comparison, population)))
    sections += [
        _figure_section("Values per run", figure_scalars(comparison)),
        _figure_section("Population-rate spectra (thick: mean over seeds; thin: single seeds)",
                        figure_spectra(comparison)),
        _figure_section("Rasters (first seed of each backend)", figure_rasters(runs)),
        "<h2>Runs</h2>", _provenance_warning(provenance), _table(list(provenance)),
        "<h2>Analysis</h2>", _analysis_parameters(comparison),
    ]
    return _PAGE.format(title=_text(f"trisim validate: {model}"), body="\n".join(sections))


def figure_yardstick(comparison):
    """Effect size divided by seed spread per statistic and pair: agreement is left of 1."""
    rows = [result for result in comparison.results if result["agree"] is not None]
    figure = Figure(figsize=(8, 1 + 0.22 * max(len(rows), 1)), layout="constrained")
    axes = figure.subplots()
    ratios = [_ratio(result["effect_size"], result["seed_spread"]) for result in rows]
    limit = max([2.0] + [ratio for ratio in ratios if math.isfinite(ratio)]) * 1.05
    shown = [min(ratio, limit) for ratio in ratios]
    colours = ["tab:green" if result["agree"] else "tab:red" for result in rows]
    positions = np.arange(len(rows))[::-1]
    axes.barh(positions, shown, color=colours)
    axes.set_yticks(positions, [f"{r['population']} {r['name']}  {' vs '.join(r['backends'])}"
                                for r in rows], fontsize=7)
    axes.axvline(1.0, color="black", linestyle="--", linewidth=1)
    axes.set_xlim(0, limit)
    axes.set_xlabel("effect size / seed spread (agree when <= 1)")
    return figure


def figure_distributions(comparison, population):
    """Every distribution statistic of ``population``, one histogram per backend, overlaid."""
    statistics = [statistic for statistic in comparison.statistics
                  if statistic.kind == validation.SAMPLE and _applies(statistic, population)]
    columns = 2
    rows = max(1, math.ceil(len(statistics) / columns))
    figure = Figure(figsize=(10, 2.8 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for panel, statistic in zip(axes, statistics):
        pooled = {label: _finite(np.concatenate(
            [np.asarray(run[population][statistic.name], dtype=float)
             for run in comparison.measurements[label]]))
            for label in comparison.labels}
        everything = np.concatenate(list(pooled.values()))
        if everything.size == 0:
            panel.text(0.5, 0.5, "no values", ha="center", transform=panel.transAxes)
        else:
            edges = np.histogram_bin_edges(everything, bins=min(40, max(5, everything.size // 20)))
            for number, (label, values) in enumerate(pooled.items()):
                panel.hist(values, bins=edges, density=True, histtype="step", linewidth=1.5,
                           color=f"C{number}", label=f"{label} (n={values.size})")
            panel.legend(fontsize=7)
        panel.set_xlabel(statistic.label)
        panel.set_ylabel("density")
        panel.set_title(f"{population}: {statistic.name}", fontsize=10)
    for panel in axes[len(statistics):]:
        panel.set_visible(False)
    return figure


def figure_scalars(comparison):
    """Each one-value-per-run statistic against the seed, one marker per backend and population."""
    statistics = [statistic for statistic in comparison.statistics
                  if statistic.kind == validation.SCALAR]
    figure = Figure(figsize=(5 * max(1, len(statistics)), 3.2), layout="constrained")
    axes = figure.subplots(1, max(1, len(statistics)), squeeze=False)[0]
    markers = "osD^v<>"
    for panel, statistic in zip(axes, statistics):
        for number, label in enumerate(comparison.labels):
            for index, population in enumerate(comparison.populations):
                if not _applies(statistic, population):
                    continue
                values = [run[population][statistic.name]
                          for run in comparison.measurements[label]]
                panel.plot(range(len(values)), values, marker=markers[index % len(markers)],
                           linestyle=":", color=f"C{number}", label=f"{label} {population}")
        seeds = comparison.seeds[comparison.labels[0]]
        shared = all(comparison.seeds[label] == seeds for label in comparison.labels)
        panel.set_xticks(range(len(seeds)), [str(seed) if shared else str(number + 1)
                                             for number, seed in enumerate(seeds)])
        panel.set_xlabel("seed" if shared else "run (the backends have different seeds)")
        panel.set_ylabel(statistic.label)
        panel.legend(fontsize=7, ncols=2)
    return figure


def figure_spectra(comparison):
    """Every spectrum statistic, one panel per population, one colour per backend."""
    panels = [(statistic, population) for statistic in comparison.statistics
              if statistic.kind == validation.SPECTRUM
              for population in comparison.populations if _applies(statistic, population)]
    figure = Figure(figsize=(5 * max(1, len(panels)), 3.5), layout="constrained")
    axes = figure.subplots(1, max(1, len(panels)), squeeze=False)[0]
    for panel, (statistic, population) in zip(axes, panels):
        for number, label in enumerate(comparison.labels):
            spectra = [_magnitudes(run[population][statistic.name])
                       for run in comparison.measurements[label]]
            frequencies = spectra[0][0]
            above_zero = frequencies > 0
            for _, power in spectra:
                panel.semilogy(frequencies[above_zero], power[above_zero], color=f"C{number}",
                               linewidth=0.5, alpha=0.4)
            mean = np.mean([power for _, power in spectra], axis=0)
            panel.semilogy(frequencies[above_zero], mean[above_zero], color=f"C{number}",
                           linewidth=2, label=label)
        panel.set_xlabel("frequency (Hz)")
        panel.set_ylabel(statistic.label)
        panel.set_title(f"{population}: {statistic.name}", fontsize=10)
        panel.legend(fontsize=7)
    return figure


def figure_rasters(runs, max_cells=RASTER_CELLS):
    """The first run of each label side by side: the first ``max_cells`` cells per population."""
    figure = Figure(figsize=(4.5 * len(runs), 4.5), layout="constrained")
    axes = figure.subplots(1, len(runs), sharey=True, squeeze=False)[0]
    for panel, (label, blocks) in zip(axes, runs.items()):
        first_row = 0
        populations = spiketrains_by_population(blocks[0])
        for number, (name, spiketrains) in enumerate(populations.items()):
            shown = spiketrains[:max_cells]
            times = np.concatenate([train.times.rescale(pq.ms).magnitude for train in shown])
            rows = np.concatenate([np.full(len(train), first_row + row)
                                   for row, train in enumerate(shown)])
            panel.plot(times, rows, "|", markersize=2, color=f"C{number}", label=name)
            first_row += len(shown)
        seed = blocks[0].annotations.get("seed", "?")
        panel.set_title(f"{label}, seed {seed}", fontsize=10)
        panel.set_xlabel("time (ms)")
        panel.legend(loc="upper right", fontsize=7, markerscale=4)
    axes[0].set_ylabel(f"cell (first {max_cells} of each population)")
    return figure


def figure_to_data_uri(figure):
    """The figure as a ``data:image/png;base64,...`` URI."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure_section(title, figure):
    return (f"<h2>{_text(title)}</h2>\n"
            f'<img alt="{_text(title)}" src="{figure_to_data_uri(figure)}">')


def _results_table(results):
    header = ("<tr><th>population</th><th>statistic</th><th>backends</th>"
              "<th>pooled value per backend</th><th>p-value</th><th>effect size</th>"
              "<th>seed spread</th><th>effect / spread</th><th>agree</th></tr>")
    rows = []
    for result in results:
        agree = {True: "yes", False: "NO", None: "not compared"}[result["agree"]]
        css = {True: "yes", False: "no", None: "none"}[result["agree"]]
        means = ("" if result["pooled"] is None
                 else " / ".join(_number(value) for value in result["pooled"]))
        ratio = ("" if result["agree"] is None
                 else _number(_ratio(result["effect_size"], result["seed_spread"])))
        note = f' title="{_text(result["note"])}"' if result.get("note") else ""
        rows.append(f'<tr class="{css}"{note}><td>{_text(result["population"])}</td>'
                    f'<td>{_text(result["name"])}</td>'
                    f'<td>{_text(" vs ".join(result["backends"]))}</td><td>{means}</td>'
                    f'<td>{_number(result["p_value"], 2)}</td>'
                    f'<td title="{_text(result["distance"])}">{_number(result["effect_size"])}'
                    f'</td><td>{_number(result["seed_spread"])}</td><td>{ratio}</td>'
                    f"<td>{agree}</td></tr>")
    legend = ("<p class=\"small\">Pooled value: mean of the values (distributions, values per "
              "run) or frequency (Hz) of the spectral peak (spectra). Effect size and seed "
              "spread: Kolmogorov-Smirnov distance for distributions, absolute difference in the "
              "statistic's unit for values per run, log-spectral distance in dB for spectra. "
              "Hover a cell for details.</p>")
    return f"<table>{header}{''.join(rows)}</table>{legend}"


def _thresholds_list():
    items = [("SEED_SPREAD_QUANTILE", validation.SEED_SPREAD_QUANTILE,
              "quantile of the seed-to-seed distances the effect size may reach (simulated "
              "false disagreements: 0.5% of distribution comparisons and 7% of one-value-per-run "
              "comparisons with 3 seeds, 0% and 1% with 5; see trisim/analysis/validation.py)"),
             ("MIN_SEEDS", validation.MIN_SEEDS, "fewest seeds per backend"),
             ("MIN_SAMPLE_SIZE", validation.MIN_SAMPLE_SIZE,
              "fewest values a run needs for a distribution statistic")]
    return "<ul>" + "".join(f"<li><code>{name} = {value}</code>: {_text(what)}</li>"
                            for name, value, what in items) + "</ul>"


def _analysis_parameters(comparison):
    statistics = "".join(f"<li><code>{_text(s.name)}</code> ({_text(s.kind)}): "
                         f"{_text(s.label)}</li>" for s in comparison.statistics)
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return (f"<ul>{statistics}</ul><p class=\"small\">Bins of {validation.BIN_SIZE.item():g} ms "
            f"for correlations and the population rate (Welch spectrum, Elephant's default of "
            f"8 half-overlapping segments); STTC window {validation.STTC_WINDOW.item():g} ms; "
            f"all pairs of the same {validation.CORRELATION_CELLS} cells per population (drawn "
            f"by index, so every backend's run of one seed compares the same cells) for "
            f"correlations, of the same {validation.STTC_CELLS} cells for the STTC. Elephant "
            f"{_text(elephant.__version__)}. Report written {created}.</p>")


def _provenance_warning(provenance):
    """A warning when the runs were made by different trisim commits or simulator versions."""
    warnings = []
    for key, what in (("trisim_git_commit", "trisim commits"),
                      ("simulator_version", "simulator versions")):
        by_backend = {}
        for row in provenance:
            by_backend.setdefault(row.get("backend"), set()).add(row.get(key))
        values = set().union(*by_backend.values()) if by_backend else set()
        if key == "trisim_git_commit" and len(values) > 1:
            warnings.append(f"The runs were made by {len(values)} {what} "
                            f"({', '.join(sorted(str(v)[:7] for v in values))}): a difference "
                            f"may come from a change of code, not of simulator.")
        elif key != "trisim_git_commit" and any(len(v) > 1 for v in by_backend.values()):
            warnings.append(f"Runs of one backend were made by different {what}.")
    return "".join(f'<p class="warning">{_text(warning)}</p>' for warning in warnings)


def _table(rows):
    if not rows:
        return "<p>none</p>"
    columns = list(rows[0])
    header = "".join(f"<th>{_text(column)}</th>" for column in columns)
    body = "".join("<tr>" + "".join(f"<td>{_text(row.get(column))}</td>" for column in columns)
                   + "</tr>" for row in rows)
    return f"<table><tr>{header}</tr>{body}</table>"


def _applies(statistic, population):
    return statistic.populations is None or population in statistic.populations


def _ratio(effect, spread):
    if spread > 0:
        return effect / spread
    return 0.0 if effect == 0 else math.inf


def _finite(values):
    return values[np.isfinite(values)]


def _magnitudes(spectrum):
    return tuple(np.asarray(getattr(part, "magnitude", part), dtype=float) for part in spectrum)


def _number(value, digits=3):
    if value is None:
        return ""
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:.{digits}g}"


def _text(value):
    return html.escape("" if value is None else str(value))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 75em; margin: 1em auto; padding: 0 1em; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }}
tr.no td {{ background: #fdd; }}
tr.none td {{ color: #888; }}
.verdict {{ font-size: 1.3em; font-weight: bold; padding: 0.4em; }}
.verdict.agree {{ background: #dfd; }}
.verdict.disagree {{ background: #fdd; }}
.small {{ font-size: 0.85em; color: #444; }}
.warning {{ background: #ffe9b3; padding: 0.3em; }}
img {{ max-width: 100%; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""
