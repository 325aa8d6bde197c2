"""``trisim analyze``: Elephant statistics and plots of one saved run."""

from pathlib import Path

from .. import output
from ..analysis import plots, statistics


def _plain(value):
    """NIX gives annotations back as numpy scalars; JSON wants Python ones."""
    return value.item() if hasattr(value, "item") else value


def analyze(nix_path, out_dir=None):
    """Write ``<stem>.analysis.json``, ``<stem>.raster.png`` and ``<stem>.rates.png``.

    ``out_dir`` defaults to the directory of ``nix_path``. Returns the written paths.
    """
    nix_path = Path(nix_path)
    block = output.read_block(nix_path)
    by_population = statistics.spiketrains_by_population(block)  # fails early on a run without spikes
    out_dir = output.writable_directory(out_dir or nix_path.parent)
    stem = nix_path.stem
    report = statistics.analyze_block(block)
    report["source"] = {"file": str(nix_path), "populations": sorted(by_population),
                        **{key: _plain(block.annotations.get(key)) for key in
                           ("model", "backend", "seed", "simulator_version", "trisim_version")}}
    return [
        output.write_json(report, out_dir / f"{stem}.analysis.json"),
        output.write_atomically(out_dir / f"{stem}.raster.png",
                                lambda tmp: plots.plot_raster_with_rate(block, tmp)),
        output.write_atomically(out_dir / f"{stem}.rates.png",
                                lambda tmp: plots.plot_rate_histogram(block, tmp)),
    ]
