"""``trisim sweep``: one model on one backend over the values of one config key.

Each value x seed is one run of the batch layer (:mod:`trisim.runners.batch`: each in its own
process, reused when its provenance records the same resolved config), writing into
``OUT/<key>-<index>/``. The summaries' statistics (each population's rate and the model's own
statistics) go to ``<model>_sweep_<key>_<backend>.json`` and are plotted against the value in
``<model>_sweep_<key>_<backend>.png``: the model's ``SWEEP_STATISTICS`` (flattened summary keys,
e.g. ``model_statistics.kappa``) if it declares them, else the population rates.
"""

from pathlib import Path

import numpy as np

from trisim import model as models
from trisim import output
from trisim.config import unit_of
from trisim.errors import ConfigError
from trisim.experiment import Run
from trisim.runners import batch


def sweep(model, key, values, backend, out_dir, config_path=None, overrides=(),
          n_seeds=1, scale=None, duration=None, jobs=1, progress_bar=None):
    """Run ``model`` (a name or path, see :func:`trisim.model.load`) on ``backend`` for each
    of ``values`` of config ``key`` (``n_seeds`` seeds each: the config's and the ones after
    it); write the table and the figure; return their paths and the table.

    ``progress_bar(total)``, if given, returns a callable told how many runs have finished.
    """
    if not values:
        raise ConfigError(f"sweep {key}: no values given")
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ConfigError(f"seeds: {n_seeds!r}; must be a positive integer")
    jobs = batch.checked_jobs(jobs)
    model = models.load(model)
    out_dir = Path(out_dir)
    runs = []
    for index, value in enumerate(values):
        given = (*overrides, f"{key}={value}")
        first_seed = model.config(config_path, given, None, scale, duration).simulation.seed
        runs += [Run(model, backend, seed, out_dir / f"{key}-{index}", given, scale, duration,
                     config_path) for seed in batch.seed_range(first_seed, n_seeds)]
    batch.check(runs)  # an unknown key or a bad value fails here, before anything is written
    first = runs[0].config()
    section = "parameters" if key in type(first.parameters).model_fields else "simulation"
    unit = unit_of(type(getattr(first, section)), key)
    out_dir = output.writable_directory(out_dir)
    results = batch.execute(runs, jobs, progress_bar)
    rows = [{"value": run.overrides[-1].partition("=")[2],
             "x": float(getattr(getattr(run.config(), section), key)), "seed": run.seed,
             "statistics": _flatten(result.summary)} for run, result in zip(runs, results)]
    table = {"model": model.name, "backend": backend, "key": key, "unit": unit,
             "overrides": list(overrides), "rows": rows}
    names = model.sweep_statistics or sorted(
        name for name in rows[0]["statistics"] if name.endswith(".rate_hz"))
    stem = f"{model.name}_sweep_{key}_{backend}"
    return (output.write_json(table, out_dir / f"{stem}.json"),
            output.write_atomically(out_dir / f"{stem}.png",
                                    lambda tmp: plot_sweep(table, names, tmp)),
            table)


def _flatten(summary):
    """Numeric values of a run summary's populations and model statistics, as dotted keys."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for name, item in value.items():
                walk(f"{prefix}.{name}" if prefix else name, item)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[prefix] = float(value)
        elif value is None:
            flat[prefix] = None

    walk("populations", summary.get("populations", {}))
    walk("model_statistics", summary.get("model_statistics", {}))
    return flat


def plot_sweep(table, names, path):
    """One panel per statistic: the value of each seed (dots) and their mean (line)."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(4.2 * len(names), 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(names)))
    xs = sorted({row["x"] for row in table["rows"]})
    for panel, name in zip(axes, names):
        values = {x: [row["statistics"].get(name) for row in table["rows"] if row["x"] == x]
                  for x in xs}
        values = {x: [v for v in vs if v is not None] for x, vs in values.items()}
        for x, vs in values.items():
            panel.plot([x] * len(vs), vs, "o", color="C0", alpha=0.5, markersize=4)
        means = [(x, np.mean(vs)) for x, vs in values.items() if vs]
        if means:
            panel.plot(*zip(*means), "-", color="C0")
        panel.set_xlabel(f"{table['key']} ({table['unit']})" if table["unit"] else table["key"])
        panel.set_title(name.removeprefix("model_statistics."), fontsize=9)
    figure.suptitle(f"{table['model']} on {table['backend']}"
                    + (f" ({', '.join(table['overrides'])})" if table["overrides"] else ""))
    figure.savefig(path, format="png", dpi=110)
