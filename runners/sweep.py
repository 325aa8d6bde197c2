"""``trisim sweep``: one model on one backend over the values of one config key.

Each value x seed is one ``trisim run`` in its own process (NEST and NEURON keep global state),
writing into ``OUT/<key>-<index>/``; a run already there is reused if its summary records the
same resolved config. The summaries' statistics (each population's rate and the model's own
statistics) go to ``<model>_sweep_<key>_<backend>.json`` and are plotted against the value in
``<model>_sweep_<key>_<backend>.png``: the model's ``SWEEP_STATISTICS`` (flattened summary keys,
e.g. ``model_statistics.kappa``) if it declares them, else the population rates.
"""

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from trisim import output
from trisim.backends import BACKENDS
from trisim.config import unit_of
from trisim.errors import ConfigError, unknown_name
from trisim.runners.process import run_command
from trisim.runners.run import output_stem, resolve_config


def sweep(model, key, values, backend, out_dir, config_path=None, overrides=(),
          n_seeds=1, scale=None, duration=None, jobs=1):
    """Run ``model`` (a name or path, see :func:`trisim.model.load`) for each of ``values`` of
    config ``key``; write the table and the figure; return their paths and the table."""
    if backend not in BACKENDS:
        raise unknown_name("backend", backend, BACKENDS)
    if not values:
        raise ConfigError(f"sweep {key}: no values given")
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ConfigError(f"seeds: {n_seeds!r}; must be a positive integer")
    model, _ = resolve_config(model, config_path, overrides, None, scale, duration)
    model_name = model.name
    planned = []  # (value text, its number in the declared unit, seed, config dict)
    for value in values:
        for offset in range(n_seeds):
            base = model.config(config_path, [*overrides, f"{key}={value}"], None, scale,
                                duration)
            seed = base.simulation.seed + offset
            cfg = model.config(config_path, [*overrides, f"{key}={value}"], seed, scale,
                               duration)
            section = cfg.parameters if key in type(cfg.parameters).model_fields \
                else cfg.simulation
            planned.append((value, float(getattr(section, key)), seed, cfg.as_dict()))
    unit = unit_of(type(section), key)
    out_dir = output.writable_directory(out_dir)
    runs = [(value, number, seed, config, out_dir / f"{key}-{values.index(value)}")
            for value, number, seed, config in planned]
    arguments = ["run", model.reference, "--backend", backend]
    if config_path is not None:
        arguments += ["--config", str(Path(config_path).resolve())]
    for override in overrides:
        arguments += ["--set", override]
    for option, given in (("--scale", scale), ("--duration", duration)):
        if given is not None:
            arguments += [option, repr(float(given))]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        summaries = list(pool.map(lambda run: _summary(model_name, backend, key, arguments, *run),
                                  runs))
    rows = [{"value": value, "x": number, "seed": seed, "statistics": _flatten(summary)}
            for (value, number, seed, _, _), summary in zip(runs, summaries)]
    table = {"model": model_name, "backend": backend, "key": key, "unit": unit,
             "overrides": list(overrides), "rows": rows}
    names = model.sweep_statistics or sorted(
        name for name in rows[0]["statistics"] if name.endswith(".rate_hz"))
    stem = f"{model_name}_sweep_{key}_{backend}"
    return (output.write_json(table, out_dir / f"{stem}.json"),
            output.write_atomically(out_dir / f"{stem}.png",
                                    lambda tmp: plot_sweep(table, names, tmp)),
            table)


def _summary(model_name, backend, key, arguments, value, number, seed, config, directory):
    """The summary of one run: reused from ``directory`` if it has this config, else run."""
    summary_path = directory / f"{output_stem(model_name, backend, seed)}.summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        if summary.get("config") == config:
            return summary
    command = [sys.executable, "-m", "trisim.cli", *arguments, "--set", f"{key}={value}",
               "--seed", str(seed), "--out", str(directory)]
    run_command(command, f"{key}={value} seed {seed} on {backend}")
    return json.loads(summary_path.read_text())


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
