"""The published claim as one experiment: ``trisim experiment ca3 claim``.

Trains and replays the baseline circuit (``configs/ca3.yaml``: E->E, PVBC->PYR, MF, MEC and
LEC plastic) and the E->E-only control (``configs/ca3_ee_only.yaml``: PVBC->PYR static) on
each backend and seed, one ``trisim run`` per configuration x backend x seed with
``phase=protocol`` (training, then the offline phase from the weights at ``weights_lap``), and
writes ``claim.json``: every run's offline place-cue correlation (Pearson r and p, 150 ms
bins), its PVBC->PYR weights onto cue and place cells (medians, uS), its event rate, the
fraction of its events that are significant sequences and more; a summary per configuration
and backend over seeds (mean r and its 95% confidence interval, the mean fraction of
significant sequences, the control's r minus the baseline's, seed by seed); and the figures.
Other configurations (``--option configurations=...``) include ``ee_shuffled``
(``configs/ca3_ee_shuffled.yaml``): the baseline's training run again, then the offline phase
with the trained E->E weights permuted among the E->E connections, the sequences' control.

Protocols (``--option protocol=...``): ``published`` (the default and the targets': 30 training
laps, weights at lap 20, 30 offline laps) and ``quick`` (10 + 10, weights at lap 10; the offline
drive is calibrated on lap-20 weights, and from lap-10 weights the network may stay silent).
"""

from dataclasses import replace
from typing import Annotated, Literal

import numpy as np
from pydantic import BeforeValidator, Field

from trisim.config import Strict, comma_separated
from trisim.experiment import Experiment
from trisim.pynn_models.ca3 import measures, plots

#: Configuration name in claim.json: the model setting (config) it runs.
CONFIGURATIONS = {"baseline": "ca3", "ee_only": "ca3_ee_only", "ee_ei": "ca3_ee_ei",
                  "ee_ie_ei": "ca3_ee_ie_ei", "mixed": "ca3_mixed",
                  "ee_shuffled": "ca3_ee_shuffled"}
#: Protocol: (training laps, lap of the weights the offline phase starts from, offline laps).
PROTOCOLS = {"published": (30, 20, 30), "quick": (10, 10, 10)}
#: Seeds over which the targets ask for confidence intervals: fewer cannot fail a criterion
#: on an interval that reaches 0.
MIN_SEEDS = 5
LAP_MS = 200.0 / 30.0 * 1000.0
LEAD_IN_MS = 500.0


class Options(Strict):
    """Options of the claim experiment."""

    protocol: Literal["published", "quick"] = Field("published", description="published: 30 "
                                                    "training laps (weights at lap 20), 30 "
                                                    "offline; quick: 10 + 10")
    configurations: Annotated[list[Literal[tuple(CONFIGURATIONS)]],
                              BeforeValidator(comma_separated)] = Field(
        ["baseline", "ee_only"], min_length=1, description="configurations compared")


def protocol_overrides(protocol, dt=0.1):
    """Config overrides and training duration (ms) of a protocol."""
    training, weights_lap, offline = PROTOCOLS[protocol]
    duration = round((LEAD_IN_MS + training * LAP_MS) / dt) * dt
    return ("phase=protocol", f"weights_lap={weights_lap}", f"offline_laps={offline}"), \
        round(duration, 6)


def claim_runs(request):
    """One protocol run per configuration x backend x seed."""
    overrides, duration = protocol_overrides(request.options.protocol)
    runs = []
    for name in request.options.configurations:
        setting = request.model.setting(CONFIGURATIONS[name])
        directory = request.out_dir / "runs" / request.options.protocol / name
        runs += [replace(run, resume=True)  # an interrupted run continues
                 for run in request.runs(setting, overrides, request.duration or duration,
                                         directory)]
    return runs


def measure(block):
    """A protocol run's measures (JSON-ready): training, weights, offline, and the offline
    events' sequence scores, decoded with the place fields of the training laps up to the
    weights the offline phase starts from (all laps for ``weights_lap`` -1 or 0)."""
    p = _parameters(block)
    trained = measures.weights(block, p["weights_lap"])
    laps = measures.laps(block, "training")[0].size
    fields_laps = (0, int(p["weights_lap"]) if p["weights_lap"] > 0 else laps)
    out = {"training": measures.training(block),
           "training_last_lap": measures.training(block, (max(laps - 1, 0), laps)),
           "weights": trained, "offline": measures.offline(block),
           "sequences": measures.sequences(block, measures.place_curves(block, fields_laps),
                                           seed=int(block.annotations["seed"]))}
    pvbc = trained.get("PVBC_PYR", {})
    out["w_cue"] = pvbc.get("median_onto_cue")
    out["w_place"] = pvbc.get("median_onto_place")
    if "PVBC_PYR" not in trained:  # static: every PVBC->PYR synapse keeps its weight
        out["w_cue"] = out["w_place"] = p["w_PVBC_PYR"] * p["gain_PVBC_PYR"]
    out["cpu_s"] = block.annotations.get("cpu_s_simulation")
    out["wall_s"] = block.annotations.get("wall_s_simulation")
    return _json_ready(out)


def _json_ready(value):
    """``value`` with NaN and infinities as None (JSON has neither): e.g. the correlation of
    a group that did not fire."""
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def keep(block):
    """Arrays for the figures."""
    return plots.display_data(block)


def _parameters(block):
    import json
    config = json.loads(str(block.annotations["config"]))["parameters"]
    return {key: _number(value) for key, value in config.items()}


def _number(value):
    if isinstance(value, str):
        head = value.split(" ")[0]
        try:
            return float(head)
        except ValueError:
            return value
    return value


def configuration_of(result):
    """The configuration name of a run (its model setting's)."""
    return {setting: name for name, setting in CONFIGURATIONS.items()}[result.run.model.name]


def claim_report(request, results):
    """claim.json and the figures."""
    runs = []
    for result in results:
        m = result.measures
        runs.append({"backend": result.run.backend,
                     "configuration": configuration_of(result),
                     "seed": result.run.seed, "r": m["offline"]["r"], "p": m["offline"]["p"],
                     "w_cue": m["w_cue"], "w_place": m["w_place"],
                     "event_rate_hz": m["offline"]["event_rate_hz"],
                     "significant_fraction": m.get("sequences", {}).get("significant_fraction"),
                     "measures": m})
    table = {"experiment": "claim", "protocol": request.options.protocol,
             "protocol_laps": dict(zip(("training", "weights_lap", "offline"),
                                       PROTOCOLS[request.options.protocol])),
             "backends": list(request.backends),
             "configurations": list(request.options.configurations), "runs": runs,
             "summary": summarize(runs), "published": PUBLISHED}
    table["verdict"] = verdict(table["summary"])
    table = _json_ready(table)
    files = {"claim.json": table}
    for name, draw in plots.claim_figures(table, results, configuration_of).items():
        files[name] = draw
    return files


#: The published values (Liao et al. 2024; biophysical model, analysis.ipynb).
PUBLISHED = {"baseline": {"r": -0.0714, "p": 0.0104, "n_bins": 1288, "spearman_rho": -0.051,
                          "events": 31, "window_s": 193.3, "w_cue": 2.38e-3,
                          "w_place": 1.52e-3, "field_peak_hz": [20.6, 13.3]},
             "ee_ie_ei": {"r": -0.263, "p": 0.002, "n_bins": 133}}


def summarize(runs):
    """Per configuration and backend, over seeds: mean r with its 95% confidence interval
    (t distribution), event rate, the mean fraction of events that are significant sequences
    by each score, peri-event z at 0 of place and cue cells, weights; and per backend the
    control's r minus the baseline's, seed by seed."""
    summary = {}
    for configuration in sorted({run["configuration"] for run in runs}):
        for backend in sorted({run["backend"] for run in runs}):
            rows = [run for run in runs if run["configuration"] == configuration
                    and run["backend"] == backend]
            if not rows:
                continue
            r = np.array([row["r"] for row in rows], dtype=float)
            entry = {"n_seeds": len(rows), "r_mean": _mean(r), "r_ci95": _ci(r),
                     "event_rate_hz_mean": _mean([row["event_rate_hz"] for row in rows]),
                     "significant_fraction_mean": {
                         score: _mean([(row.get("significant_fraction") or {}).get(score)
                                       for row in rows]) for score in SEQUENCE_SCORES},
                     "w_cue_mean": _mean([row["w_cue"] for row in rows]),
                     "w_place_mean": _mean([row["w_place"] for row in rows]),
                     "w_cue_over_place_mean": _mean(
                         [_ratio(row["w_cue"], row["w_place"]) for row in rows]),
                     "w_cue_vs_place_mannwhitney_p_max": _max(
                         [row["measures"].get("weights", {}).get("PVBC_PYR", {}).get(
                             "cue_vs_place_mannwhitney_p") for row in rows])}
            for group in ("place", "cue"):
                entry[f"peri_event_z0_{group}_mean"] = _mean(
                    [row["measures"]["offline"].get(f"peri_event_z0_{group}")
                     for row in rows])
            summary.setdefault(configuration, {})[backend] = entry
    if "baseline" in summary and "ee_only" in summary:
        for backend in summary["baseline"]:
            base = {run["seed"]: run["r"] for run in runs
                    if run["configuration"] == "baseline" and run["backend"] == backend}
            control = {run["seed"]: run["r"] for run in runs
                       if run["configuration"] == "ee_only" and run["backend"] == backend}
            paired = np.array([_number_or_nan(control[s]) - _number_or_nan(base[s])
                               for s in sorted(set(base) & set(control))], dtype=float)
            summary.setdefault("ee_only_minus_baseline", {})[backend] = {
                "r_difference_mean": _mean(paired), "r_difference_ci95": _ci(paired),
                "n_seeds": int(paired.size)}
    return summary


#: The sequence scores of the measures (short names in the printed lines).
SEQUENCE_SCORES = {"weighted_correlation": "wc", "line_fit": "line", "rank_order": "rank"}


def _number_or_nan(value):
    return np.nan if value is None else float(value)


def _mean(values):
    """Mean of the finite values; None without any."""
    values = np.array([_number_or_nan(v) for v in values], dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else None


def _ratio(a, b):
    return a / b if a is not None and b else None


def _max(values):
    values = [v for v in values if v is not None]
    return float(max(values)) if values else None


def verdict(summary):
    """Per backend, the claim's criteria (True, False, or None when the runs cannot tell, e.g.
    one seed) and the verdict: ``reproduced`` when all hold, ``not reproduced`` when one
    fails, else ``undecided``.

    Criteria (the targets of the published claim): baseline r < 0 with its 95% confidence
    interval over seeds below 0; the E->E-only control's not (interval reaching 0 or above);
    the control's r above the baseline's by more than 0.1 (mean of the seed-by-seed
    differences); PVBC->PYR onto cue cells above onto place cells in the baseline (median
    ratio >= 1.3, Mann-Whitney p < 1e-6 in every seed); in the baseline's events, cue cells'
    peri-event z at the centre below 0 and place cells' above 1.

    An interval that excludes 0 is evidence at any number of seeds; one that reaches 0 is
    evidence only over the targets' :data:`MIN_SEEDS` seeds (with two seeds the 95% interval
    is 12.7 standard errors wide): with fewer, such a criterion is None, not False.
    """
    out = {}
    for backend, base in summary.get("baseline", {}).items():
        control = summary.get("ee_only", {}).get(backend)
        difference = summary.get("ee_only_minus_baseline", {}).get(backend, {})
        base_sign = _sign(base)
        control_sign = None if control is None else _sign(control)
        criteria = {
            "baseline_r_negative": None if base_sign is None else base_sign < 0,
            "control_r_not_negative": None if control_sign is None else control_sign >= 0,
            "control_minus_baseline_above_0.1": (
                None if difference.get("r_difference_mean") is None
                else bool(difference["r_difference_mean"] > 0.1)),
            "pvbc_weights_cue_above_place": (
                None if base["w_cue_over_place_mean"] is None
                or base["w_cue_vs_place_mannwhitney_p_max"] is None
                else bool(base["w_cue_over_place_mean"] >= 1.3
                          and base["w_cue_vs_place_mannwhitney_p_max"] < 1e-6)),
            "cue_dip_in_events": (
                None if base["peri_event_z0_cue_mean"] is None
                or base["peri_event_z0_place_mean"] is None
                else bool(base["peri_event_z0_cue_mean"] < 0
                          and base["peri_event_z0_place_mean"] > 1)),
        }
        values = list(criteria.values())
        out[backend] = {"criteria": criteria, "verdict": (
            "not reproduced" if False in values else
            "reproduced" if all(value is True for value in values) else "undecided")}
    return out


def _sign(entry):
    """The sign of the mean r over seeds as its 95% interval shows it: -1 (below 0) or +1
    (above 0) at any number of seeds, 0 when the interval holds 0 over :data:`MIN_SEEDS`
    seeds or more, else None (too few seeds to tell)."""
    ci = entry["r_ci95"]
    if ci is None:
        return None
    if ci[1] < 0:
        return -1
    if ci[0] > 0:
        return 1
    return 0 if entry["n_seeds"] >= MIN_SEEDS else None


def _ci(values):
    """95% confidence interval of the mean (t distribution); None with fewer than 2."""
    from scipy import stats
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return None
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return [float(values.mean() - half), float(values.mean() + half)]


def claim_lines(files):
    """What the command prints: r per configuration and backend (with the event rate and the
    fraction of events that are significant sequences), and the verdict."""
    table = files["claim.json"]
    lines = [f"{backend}: {entry['verdict']} "
             f"({', '.join(f'{k} {v}' for k, v in entry['criteria'].items())})"
             for backend, entry in table["verdict"].items()]
    for configuration, backends in table["summary"].items():
        for backend, entry in backends.items():
            if "r_mean" in entry:
                fractions = entry.get("significant_fraction_mean", {})
                lines.append(f"{configuration} {backend}: r = {_shown(entry['r_mean'])} "
                             f"(95% CI {entry['r_ci95']}, {entry['n_seeds']} seeds), "
                             f"events {_shown(entry['event_rate_hz_mean'])} Hz, sequences "
                             f"p<{measures.SEQUENCE_ALPHA} "
                             + ", ".join(f"{short} {_shown(fractions.get(score))}"
                                         for score, short in SEQUENCE_SCORES.items())
                             + f" (chance {measures.SEQUENCE_ALPHA})")
            else:
                lines.append(f"{configuration} {backend}: r difference "
                             f"{entry['r_difference_mean']} (95% CI "
                             f"{entry['r_difference_ci95']})")
    return lines


def _shown(value):
    return "n/a" if value is None else f"{value:.3f}"


EXPERIMENTS = {
    "claim": Experiment(
        "offline place-cue correlation with PVBC->PYR plasticity (baseline) and without "
        "(ee_only): train, replay, compare", report=claim_report, runs=claim_runs,
        measure=measure, keep=keep, options=Options, seeds=5, lines=claim_lines),
}
