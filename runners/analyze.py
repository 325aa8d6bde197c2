"""``trisim analyze``: Elephant statistics and plots of one saved run."""

import json
from pathlib import Path

from trisim import model as models
from trisim import output
from trisim.analysis import plots, statistics, summary


def _plain(value):
    """NIX gives annotations back as numpy scalars; JSON wants Python ones."""
    return value.item() if hasattr(value, "item") else value


def analyze(nix_path, out_dir=None):
    """Write ``<stem>.analysis.json``, ``<stem>.raster.png``, ``<stem>.rates.png`` and, for a
    model that draws its own figure of a run, ``<stem>.model.png``.

    ``out_dir`` defaults to the directory of ``nix_path``. Returns the written paths.
    """
    nix_path = Path(nix_path)
    block = output.read_block(nix_path)
    by_population = summary.spiketrains_by_population(block)  # fails early on a run without spikes
    out_dir = output.writable_directory(out_dir or nix_path.parent)
    stem = nix_path.stem
    report = statistics.analyze_block(block)
    report["source"] = {"file": str(nix_path), "populations": sorted(by_population),
                        **{key: _plain(block.annotations.get(key)) for key in
                           ("model", "backend", "seed", "simulator_version", "trisim_version")}}
    paths = [
        output.write_json(report, out_dir / f"{stem}.analysis.json"),
        output.write_atomically(out_dir / f"{stem}.raster.png",
                                lambda tmp: plots.plot_raster_with_rate(block, tmp)),
        output.write_atomically(out_dir / f"{stem}.rates.png",
                                lambda tmp: plots.plot_rate_histogram(block, tmp)),
    ]
    model_plot = _model_plot(block)
    if model_plot is not None:
        paths.append(output.write_atomically(out_dir / f"{stem}.model.png", model_plot))
    return paths


def _model_plot(block):
    """``write(path)`` drawing the model's own figure of the run (a model module's
    ``plot(block, parameters, path)``, with the parameters the run recorded), or None."""
    model = models.of_run(block.annotations)
    if model is None or model.plot is None:
        return None  # a model that cannot be found any more, or draws no figure of its own
    try:
        parameters = model.module.Parameters(
            **json.loads(block.annotations["config"])["parameters"])
    except (KeyError, TypeError, ValueError):
        return None  # a run without its config
    return lambda path: model.plot(block, parameters, path)
