"""``trisim replay``: candidate events, place fields, sequence scores and group modulation.

Conventions (documented in ``trisim replay --help`` and the README):

- Cells are grouped by population (the Block's groups, or the ``source_population`` annotation),
  or with ``label_by`` by the value of a spike-train annotation (e.g. ``cell_type``). The group
  ``place`` detects events, gets place fields and is decoded; every group gets peri-event
  histograms, and ``place`` and ``cue`` (when present) are correlated in 150 ms bins.
- The position is a one-channel AnalogSignal or IrregularlySampledSignal in units of length,
  named ``position`` by default, in the file the fields come from (``fields_path``, by default
  the run itself); ``position`` may name another signal (``NAME``), another file
  (``FILE.nix``) or both (``FILE.nix:NAME``).
- Events are detected in the rest phase: after the position signal ends when it comes from the
  run file itself and ends before the run does, else over the whole run.
"""

import csv
from pathlib import Path

import neo
import numpy as np
import quantities as pq

from trisim import output
from trisim.analysis import place_fields, replay_plots, summary
from trisim.analysis import replay as methods
from trisim.errors import ConfigError, InputFileError

#: Columns of the events table (CSV), in order.
EVENT_COLUMNS = ("event", "start_ms", "stop_ms", "duration_ms", "peak_z", "n_spikes",
                 "n_active_cells", "n_time_bins", "n_active_bins", "weighted_correlation",
                 "weighted_correlation_p", "line_fit_score", "line_fit_p",
                 "line_fit_slope_cm_per_s", "line_fit_intercept_cm", "rank_order",
                 "rank_order_p", "direction")


def replay(nix_path, out_dir=None, fields_path=None, position=None, place="place", cue="cue",
           label_by=None, method="smoothed", bin_size_ms=20.0, n_shuffles=1000, seed=0,
           alpha=0.05):
    """Write ``<stem>.replay.json``, ``<stem>.replay_events.csv`` and four PNG figures.

    ``out_dir`` defaults to the directory of ``nix_path``. Returns the written paths. Raises
    :class:`~trisim.errors.InputFileError` (and writes nothing) for a file without spike trains,
    without the place group or the position signal, or without spikes to analyse, and
    :class:`~trisim.errors.ConfigError` for a non-positive bin or number of shuffles.
    """
    if not bin_size_ms > 0:
        raise ConfigError(f"the decoding bin must be positive, got {bin_size_ms} ms")
    if n_shuffles < 1:
        raise ConfigError(f"the number of shuffles must be at least 1, got {n_shuffles}")
    nix_path = Path(nix_path)
    fields_path = nix_path if fields_path is None else Path(fields_path)
    groups, curves, signal, window = _inputs(nix_path, fields_path, position, place, label_by)
    rest = {name: [train.time_slice(*window) for train in trains]
            for name, trains in groups.items()}
    if not any(len(train) for train in rest[place]):
        raise InputFileError(f"{nix_path}: group {place!r} has no spikes between "
                             f"{float(window[0].rescale(pq.ms)):g} and "
                             f"{float(window[1].rescale(pq.ms)):g} ms (empty run)")
    zscore = methods.population_zscore(rest[place], method)
    events = methods.population_events(rest[place], method)
    scored = methods.score_events(rest[place], curves, events, bin_size_ms * pq.ms, n_shuffles,
                                  seed)
    histograms = {name: methods.peri_event_histograms(trains, events, align="peak")
                  for name, trains in rest.items()}
    out_dir = output.writable_directory(out_dir or nix_path.parent)
    report = _report(nix_path, fields_path, signal, window, scored, curves, histograms, rest,
                     place, cue, alpha)
    report["parameters"].update(method=method, label_by=label_by, place=place, cue=cue)
    stem = out_dir / nix_path.stem
    figures = {
        "replay_rate": lambda tmp: replay_plots.plot_population_events(zscore, events, tmp),
        "replay_fields": lambda tmp: replay_plots.plot_place_fields(curves, tmp),
        "replay_examples": lambda tmp: replay_plots.plot_example_events(rest[place], curves,
                                                                        scored, tmp),
        "replay_peri_event": lambda tmp: replay_plots.plot_peri_event(histograms, tmp)}
    return [output.write_json(report, Path(f"{stem}.replay.json")),
            output.write_atomically(Path(f"{stem}.replay_events.csv"),
                                    lambda tmp: _write_csv(report["events"], tmp)),
            *(output.write_atomically(Path(f"{stem}.{name}.png"), draw)
              for name, draw in figures.items())]


def _inputs(nix_path, fields_path, position, place, label_by):
    """The run's cell groups, the place fields, the position signal and the rest window."""
    block = output.read_block(nix_path)
    groups = cell_groups(block, label_by, nix_path)
    place_trains = _group(groups, place, nix_path)
    fields_block = block if fields_path == nix_path else output.read_block(fields_path)
    signal_path, signal = find_position(position, fields_path, fields_block)
    fields_groups = groups if fields_block is block else cell_groups(fields_block, label_by,
                                                                     fields_path)
    field_trains = _matching_cells(place_trains, _group(fields_groups, place, fields_path),
                                   fields_path, nix_path)
    curves = place_fields.tuning_curves(field_trains, signal)
    return groups, curves, signal, _rest_window(place_trains, signal, signal_path == nix_path)


def cell_groups(block, label_by, path):
    """Spike trains by population, or by the value of the spike-train annotation ``label_by``.

    Raises
    ------
    InputFileError
        If the Block holds no spike trains, or a train lacks the ``label_by`` annotation.
    """
    try:
        if label_by is None:
            return summary.spiketrains_by_population(block)
        groups = {}
        for train in (t for segment in block.segments for t in segment.spiketrains):
            if label_by not in train.annotations:
                raise InputFileError(f"spike train {train.name!r} has no {label_by!r} annotation")
            groups.setdefault(str(train.annotations[label_by]), []).append(train)
        if not groups:
            raise InputFileError(f"block {block.name!r} holds no spike trains")
        return groups
    except InputFileError as exc:
        raise InputFileError(f"{path}: {exc}") from None


def find_position(spec, fields_path, fields_block):
    """The position signal named by ``spec`` (see the module docstring) and the file it is in."""
    path, name = _parse_position(spec, Path(fields_path))
    block = fields_block if path == Path(fields_path) else output.read_block(path)
    signals = [signal for segment in block.segments
               for signal in (*segment.analogsignals, *segment.irregularlysampledsignals)]
    matches = [signal for signal in signals if signal.name == name]
    if not matches:
        found = ", ".join(sorted({str(signal.name) for signal in signals})) or "none"
        raise InputFileError(f"{path}: no position signal {name!r} (signals: {found}); give "
                             "--position NAME, FILE.nix or FILE.nix:NAME")
    try:
        return path, place_fields._checked_position(matches[0])
    except ValueError as exc:
        raise InputFileError(f"{path}: {exc}") from None


def _parse_position(spec, fields_path):
    """``(file, signal name)`` of a ``--position`` value: NAME, FILE.nix or FILE.nix:NAME."""
    if not spec:
        return fields_path, "position"
    file_part, colon, name_part = spec.rpartition(":")
    if colon and file_part.endswith(".nix"):
        return Path(file_part), name_part or "position"
    if spec.endswith(".nix"):
        return Path(spec), "position"
    return fields_path, spec


def _group(groups, name, path):
    """The spike trains of group ``name``, or an error listing the groups there are."""
    if name not in groups:
        raise InputFileError(f"{path}: no group {name!r} of cells (groups: "
                             f"{', '.join(sorted(groups))}); choose one with --place")
    return groups[name]


def _matching_cells(trains, field_trains, fields_path, nix_path):
    """The fields file's trains in the order of the run's: by ``source_index``, else by order."""
    if fields_path == nix_path:
        return trains
    if len(field_trains) != len(trains):
        raise InputFileError(f"{fields_path}: {len(field_trains)} place cells, but {nix_path} "
                             f"has {len(trains)}")
    by_index = {train.annotations.get("source_index"): train for train in field_trains}
    if None in by_index or len(by_index) != len(field_trains):
        return list(field_trains)
    try:
        return [by_index[train.annotations.get("source_index")] for train in trains]
    except KeyError as exc:
        raise InputFileError(f"{fields_path}: no place cell with source_index {exc}, which "
                             f"{nix_path} has") from None


def _rest_window(trains, signal, same_file):
    """Start and stop of the span searched for events (see the module docstring)."""
    start, stop = trains[0].t_start, trains[0].t_stop
    ends = signal.t_stop.rescale(stop.units) if isinstance(signal, neo.AnalogSignal) else \
        signal.times[-1].rescale(stop.units)
    if same_file and start < ends < stop:
        start = ends
    return start, stop


def _report(nix_path, fields_path, signal, window, scored, curves, histograms, rest, place, cue,
            alpha):
    """The JSON report: source, parameters, summary, place fields, group modulation, events."""
    rows = _event_rows(scored)
    significant = methods.significant_fractions(scored, alpha)
    minutes = float((window[1] - window[0]).rescale(pq.s)) / 60
    correlation = (methods.group_correlation(rest[place], rest[cue]) if cue in rest else None)
    return {
        "source": {"file": str(nix_path), "fields_file": str(fields_path),
                   "position_signal": str(signal.name)},
        "parameters": {"window_ms": [float(t.rescale(pq.ms)) for t in window], "alpha": alpha,
                       **{key: _finite(value) for key, value in scored.annotations.items()}},
        "summary": {"n_events": len(rows), "events_per_minute": len(rows) / minutes,
                    "significant_fraction": significant,
                    "forward": sum(row["direction"] == "forward" for row in rows),
                    "reverse": sum(row["direction"] == "reverse" for row in rows)},
        "place_fields": _fields_report(curves, rest[place]),
        "group_modulation": {
            "peri_event": {name: {"time_s": signal_.times.rescale(pq.s).magnitude.tolist(),
                                  "mean_z": _finite_list(_nanmean_rows(signal_.magnitude))}
                           for name, signal_ in histograms.items()},
            "place_cue_correlation": None if correlation is None else
            {key: _finite(value) for key, value in correlation.items()}},
        "events": rows,
    }


def _event_rows(scored):
    """One dict per event with :data:`EVENT_COLUMNS` (None for undefined values)."""
    starts = scored.times.rescale(pq.ms).magnitude
    durations = scored.durations.rescale(pq.ms).magnitude
    rows = []
    for index, (start, duration) in enumerate(zip(starts, durations)):
        values = {key: scored.array_annotations[key][index]
                  for key in EVENT_COLUMNS if key in scored.array_annotations}
        correlation = values["weighted_correlation"]
        direction = "" if not np.isfinite(correlation) else (
            "forward" if correlation > 0 else "reverse")
        rows.append({"event": index, "start_ms": float(start), "stop_ms": float(start + duration),
                     "duration_ms": float(duration),
                     **{key: _finite(value) for key, value in values.items()},
                     "direction": direction})
    return rows


def _fields_report(curves, trains):
    """Per-cell field properties, in the order of the cells, and the order by field centre."""
    properties = place_fields.field_properties(curves)
    columns = {"centre_cm": properties["centre"], "peak_rate_hz": properties["peak_rate"],
               "size_cm": properties["size"], "mean_rate_hz": properties["mean_rate"],
               "spatial_information_bits_per_spike": properties["spatial_information"]}
    return {"n_cells": len(trains),
            "bin_size_cm": float(np.diff(curves.edges.rescale(pq.cm).magnitude[:2])[0]),
            "order_by_centre": place_fields.order_by_field_centre(properties["centre"]).tolist(),
            "cells": [{"name": str(train.name),
                       **{key: _finite(np.asarray(values)[index])
                          for key, values in columns.items()}}
                      for index, train in enumerate(trains)]}


def _write_csv(rows, path):
    """The events table as CSV, empty cells for undefined values."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EVENT_COLUMNS)
        writer.writeheader()
        writer.writerows({key: "" if row[key] is None else row[key] for key in EVENT_COLUMNS}
                         for row in rows)


def _nanmean_rows(values):
    """Mean over events (columns) of each bin, NaN where no event has a value."""
    counted = np.isfinite(values).sum(axis=1)
    return np.where(counted > 0, np.nansum(values, axis=1) / np.maximum(counted, 1), np.nan)


def _finite_list(values):
    return [_finite(value) for value in values]


def _finite(value):
    """A JSON-ready scalar: int stays int, NaN becomes None."""
    value = _plain(value)
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    return float(value) if np.isfinite(value) else None


def _plain(value):
    """NIX and numpy give numpy scalars; JSON wants Python ones."""
    return value.item() if hasattr(value, "item") else value
