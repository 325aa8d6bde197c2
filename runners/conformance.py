"""``trisim conformance``: every NESTML neuron and synapse on every backend, compared with NEST.

Each neuron runs with ``trisim cell`` in its own process per backend (NEST and NEURON keep
global state), under a current step and under spike trains on every port, at each time step
asked for. NEST (NESTML's own target) is the reference; for each other backend the table
gives whether the spike counts are equal, the largest spike-time difference and the RMS
difference of the membrane potential.

Each synapse (``nestml/*_synapse.nestml``) runs the fixed spike pattern of
:mod:`trisim.runners.synapse_probe`, in its own process per backend too: for a plastic weight,
the weight after each presynaptic spike; for a synapse whose weight does not change, what it
transmits at each presynaptic spike, in units of its weight. The synapse rows give whether the
numbers of events are equal (postsynaptic spikes of a plastic synapse, transmissions
otherwise) and the largest absolute and relative differences of those values. Stochastic
release draws from each backend's own random stream, so its rows compare the fraction of
spikes released at p = 0.3 instead, and count releases at p = 1 and p = 0 exactly.
"""

import json
import re
import sys
from pathlib import Path

import numpy as np

from trisim import nestml, output
from trisim.errors import NestmlError
from trisim.runners import synapse_probe
from trisim.runners.process import run_command

BACKENDS = ("nest", "neuron", "brian2")
REFERENCE = "nest"
# NESTML's shipped neurons the suite always covers, besides trisim's own nestml/ models
SHIPPED = ("iaf_psc_exp", "iaf_cond_exp", "iaf_cond_alpha", "aeif_cond_exp", "izhikevich",
           "hh_cond_exp_traub", "wb_cond_exp")
DURATION = 500.0  # ms
# Drive (pA) and input weight (PyNN units per port: uS, nA or mV) putting each model in a
# regime of tens of spikes per second, where inputs move spike times; models not listed
# (trisim's own) get DEFAULT_STIMULUS.
STIMULI = {"iaf_psc_exp": (400.0, 0.05), "iaf_cond_exp": (400.0, 0.005),
           "iaf_cond_alpha": (400.0, 0.005), "aeif_cond_exp": (800.0, 0.005),
           "izhikevich": (5.0, 2.0), "hh_cond_exp_traub": (400.0, 0.005),
           "wb_cond_exp": (100.0, 0.005), "wang_buzsaki": (100.0, 0.001),
           "striatal_msn": (500.0, 0.001), "striatal_fsi": (800.0, 0.001)}
DEFAULT_STIMULUS = (400.0, None)  # None: one unit of the port's NESTML weight unit
INPUT_TIMES = "20,22,24,26,28,30,150,152,154,156,300,301,302"
# The relative change of the drive by which the reference backend measures a model's own
# spread: how far its spikes move from a change no integrator can promise to match. A model
# that amplifies rounding (an Izhikevich-type cell whose spikes are found at the end of a
# step) cannot be held closer than this between backends.
PERTURBATION = 1e-9


def default_models():
    """Paths of trisim's own neurons (nestml/) and of the shipped models in :data:`SHIPPED`."""
    own = sorted(p for p in (Path(__file__).parents[1] / "nestml").glob("*.nestml")
                 if not p.stem.endswith("_synapse"))
    return own + [nestml.shipped_path(name) for name in SHIPPED]


def synapse_models():
    """Paths of trisim's own synapses (nestml/*_synapse.nestml)."""
    return sorted((Path(__file__).parents[1] / "nestml").glob("*_synapse.nestml"))


def is_synapse(path):
    return Path(path).stem.endswith("_synapse")


def resolve(models):
    """Model arguments (paths, names of shipped neurons or of trisim's synapses) as paths;
    without any, every neuron and synapse."""
    def one(model):
        if model.endswith(".nestml"):
            return Path(model)
        if is_synapse(model):
            return nestml.path(model)
        return nestml.shipped_path(model.removesuffix("_neuron"))
    return [one(m) for m in models] or default_models() + synapse_models()


def _ports(path):
    text = Path(path).read_text()
    return re.findall(r"^\s*(\w+)\s*<-\s*(?:\w+\s+)?spike\s*$", text, re.MULTILINE)


def run_cell(path, backend, dt, stimulus, duration=DURATION, drive_factor=1.0):
    """One ``trisim cell`` run, in a fresh process; returns its JSON result. The model's drive
    is multiplied by ``drive_factor``."""
    current, weight = STIMULI.get(Path(path).stem.removesuffix("_neuron"), DEFAULT_STIMULUS)
    current *= drive_factor
    command = [sys.executable, "-m", "trisim.cli", "cell", str(path), "--backend", backend,
               "--dt", str(dt), "--duration", str(duration), "--current", str(current)]
    if stimulus == "spikes":  # the same drive, with input spike trains on every port
        command += ["--weight", str(weight)] if weight is not None else []
        for port in _ports(path):
            command += ["--spikes-in", f"{port}:{INPUT_TIMES}"]
    return json.loads(run_command(command, f"{path} on {backend}", NestmlError).stdout)


def compare(reference, other):
    """Spike-count equality, largest spike-time difference (ms) and RMS V difference (mV)."""
    a, b = np.asarray(reference["spike_times_ms"]), np.asarray(other["spike_times_ms"])
    same_count = a.size == b.size
    n = min(a.size, b.size)
    max_dt = float(np.max(np.abs(a[:n] - b[:n]))) if n else 0.0
    va, vb = np.asarray(reference["v_ms"]["V"]), np.asarray(other["v_ms"]["V"])
    m = min(va.size, vb.size)
    return {"spikes": int(a.size), "spikes_other": int(b.size), "same_count": bool(same_count),
            "max_spike_dt_ms": max_dt, "rms_v_mv": float(np.sqrt(np.mean((va[:m] - vb[:m]) ** 2)))}


def own_spread(path, dt, stimulus, reference, duration=DURATION):
    """How far the reference backend's spikes move when the drive changes by
    :data:`PERTURBATION`: the floor under any two backends' difference. Returns the
    largest spike-time difference (ms) to ``reference`` (a :func:`run_cell` result on
    :data:`REFERENCE`) and whether the spike count stayed the same."""
    perturbed = run_cell(path, REFERENCE, dt, stimulus, duration, 1.0 + PERTURBATION)
    row = compare(reference, perturbed)
    return row["max_spike_dt_ms"], row["same_count"]


def suite(models, dts, stimuli=("current", "spikes"), progress=None):
    """Run every model x dt x stimulus on every backend; return the comparison rows, each
    with the reference's own spread (:func:`own_spread`)."""
    rows = []
    for path in models:
        for dt in dts:
            for stimulus in stimuli:
                results = {b: run_cell(path, b, dt, stimulus) for b in BACKENDS}
                spread, spread_same_count = own_spread(path, dt, stimulus, results[REFERENCE])
                for backend in BACKENDS:
                    if backend != REFERENCE:
                        rows.append({"model": Path(path).stem, "dt_ms": dt, "stimulus": stimulus,
                                     "backend": backend,
                                     **compare(results[REFERENCE], results[backend]),
                                     "own_spread_ms": spread,
                                     "own_spread_same_count": spread_same_count})
                if progress:
                    progress(rows[-1])
    return rows


# -- synapses -------------------------------------------------------------------------------
RELEASE_COMPARED = 0  # index in RELEASE_P of the probability whose transmitted fraction is compared


def run_synapse(path, backend, dt):
    """One synapse probe run (see :mod:`synapse_probe`), in a fresh process; returns
    ``{"values": [...], "events": N}`` (stochastic release: its probe's result)."""
    model = Path(path).stem
    if model in synapse_probe.PLASTIC_PARAMETERS:
        arguments = ["plasticity", backend, model, dt]
    elif model in synapse_probe.TRANSMISSION:
        arguments = ["transmission", backend, model, dt]
    elif model == "stochastic_release_synapse":
        arguments = ["stochastic_release", backend, synapse_probe.RELEASE_SEED, dt]
    else:
        raise NestmlError(f"{path}: no spike pattern for this synapse in trisim conformance; "
                          f"synapses: {', '.join(p.stem for p in synapse_models())}")
    command = [sys.executable, "-m", "trisim.runners.synapse_probe", *map(str, arguments)]
    result = run_command(command, f"{path} on {backend}", NestmlError)
    data = json.loads(result.stdout.strip().splitlines()[-1])
    if arguments[0] == "plasticity":
        return {"values": data["weights"], "events": len(data["post"])}
    if arguments[0] == "transmission":
        return {"values": data["efficacy"], "events": len(data["t"])}
    return data


def compare_trajectories(reference, other):
    """Whether the event counts are equal, and the largest absolute and relative (to the
    reference's largest magnitude) differences of the values, over the values both have."""
    a, b = np.asarray(reference["values"], float), np.asarray(other["values"], float)
    n = min(a.size, b.size)
    largest = float(np.max(np.abs(a[:n] - b[:n]))) if n else 0.0
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    return {"events": int(reference["events"]), "events_other": int(other["events"]),
            "same_events": bool(reference["events"] == other["events"] and a.size == b.size),
            "values": int(a.size), "max_abs_diff": largest,
            "max_rel_diff": largest / scale if scale > 0 else largest}


def compare_releases(reference, other):
    """Stochastic release: the counts at p = 1 and p = 0 exactly, the fraction released at
    RELEASE_P[RELEASE_COMPARED] (its difference, and that over its standard error)."""
    counts = [[len(s) for s in r["released_spikes"]] for r in (reference, other)]
    n = reference["n_spikes"]
    k = RELEASE_COMPARED
    fractions = [c[k] / n for c in counts]
    pooled = (counts[0][k] + counts[1][k]) / (2 * n)
    error = np.sqrt(2 * pooled * (1 - pooled) / n) if 0 < pooled < 1 else 0.0
    difference = abs(fractions[1] - fractions[0])
    exact = [i for i in range(len(synapse_probe.RELEASE_P)) if i != k]
    return {"events": counts[0][k], "events_other": counts[1][k],
            "same_events": all(counts[0][i] == counts[1][i] for i in exact),
            "values": n, "max_abs_diff": difference, "max_rel_diff": difference,
            "fraction": fractions[0], "fraction_other": fractions[1],
            "z": difference / error if error else 0.0,
            "same_releases": reference["released_spikes"][k] == other["released_spikes"][k]}


COMPARED = {"plasticity": "weight after each presynaptic spike; events: postsynaptic spikes",
            "transmission": "transmitted efficacy (units of w) per presynaptic spike; "
                            "events: transmissions",
            "release": "fraction released at p = {p} of {n} spikes (events); counts at "
                       "p = 1 and 0 exact"}


def synapse_suite(models, dts, progress=None):
    """Run every synapse x dt on every backend; return the comparison rows."""
    rows = []
    for path in models:
        model = Path(path).stem
        kind = ("plasticity" if model in synapse_probe.PLASTIC_PARAMETERS else
                "transmission" if model in synapse_probe.TRANSMISSION else "release")
        for dt in dts:
            results = {b: run_synapse(path, b, dt) for b in BACKENDS}
            for backend in BACKENDS:
                if backend == REFERENCE:
                    continue
                compare_one = compare_releases if kind == "release" else compare_trajectories
                row = compare_one(results[REFERENCE], results[backend])
                compared = COMPARED[kind].format(p=synapse_probe.RELEASE_P[RELEASE_COMPARED],
                                                 n=row["values"])
                if kind == "release":
                    compared += (": identical releases (same random stream)"
                                 if row["same_releases"] else
                                 f": {row['fraction']:.3f} vs {row['fraction_other']:.3f}, "
                                 f"|z| = {row['z']:.2f} (each backend's own random stream)")
                rows.append({"model": model, "dt_ms": dt, "backend": backend, "kind": kind,
                             "compared": compared, **row})
                if progress:
                    progress(rows[-1])
    return rows


def _table(header, lines):
    """A Markdown table: ``header`` (column names) and one list of cell texts per row."""
    rows = [header, ["---"] * len(header), *lines]
    return "".join("| " + " | ".join(map(str, row)) + " |\n" for row in rows)


def _yes(flag):
    return "yes" if flag else "NO"


def synapse_markdown(rows):
    return _table(["synapse", "dt (ms)", "backend", "compared", "events (NEST / other)",
                   "equal events", "largest difference", "relative"],
                  [[r["model"], r["dt_ms"], r["backend"], r["compared"],
                    f"{r['events']} / {r['events_other']}", _yes(r["same_events"]),
                    f"{r['max_abs_diff']:.3g}", f"{r['max_rel_diff']:.3g}"] for r in rows])


def markdown(rows):
    return _table(["model", "dt (ms)", "stimulus", "backend", "spikes (NEST)", "equal count",
                   "max spike dt (ms)", "RMS dV (mV)",
                   f"NEST's own spread (ms), drive x (1 + {PERTURBATION:g})"],
                  [[r["model"], r["dt_ms"], r["stimulus"], r["backend"], r["spikes"],
                    _yes(r["same_count"]), f"{r['max_spike_dt_ms']:.3g}",
                    f"{r['rms_v_mv']:.2g}",
                    f"{r['own_spread_ms']:.3g}"
                    + ("" if r["own_spread_same_count"] else ", count changes")] for r in rows])


def _curves(axes, rows, key, floor, style="-"):
    """One line per model and backend: the worst ``key`` at each dt (``floor`` for 0);
    ``style``: a line style, or a function of the model name giving one."""
    for model, backend in sorted({(r["model"], r["backend"]) for r in rows}):
        points = [(r["dt_ms"], max(r[key], floor)) for r in rows
                  if (r["model"], r["backend"]) == (model, backend)]
        dts = sorted({d for d, _ in points})
        worst = [max(v for d, v in points if d == dt) for dt in dts]
        axes.loglog(dts, worst, style(model) if callable(style) else style, marker="o",
                    label=f"{model} ({backend})")
    axes.set_xlabel("time step (ms)")


def _legend(axes, rows):
    if rows:
        axes.legend(fontsize=6, ncol=2)
    else:
        axes.text(0.5, 0.5, "none run", ha="center", va="center", transform=axes.transAxes)


def plot(rows, path, synapse_rows=()):
    """Largest spike-time difference (neurons, with NEST's own spread where it is not 0) and
    largest relative difference of the compared synaptic values (synapses) versus dt, one
    line per model and backend."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(12, 4.5))
    neurons, synapses = figure.subplots(1, 2)
    _curves(neurons, rows, "max_spike_dt_ms", 1e-7)
    sensitive = {r["model"] for r in rows if r["own_spread_ms"] > 0}
    # one line per model: the rows of both compared backends carry the same spread
    _curves(neurons, [dict(r, backend=f"NEST, drive x (1 + {PERTURBATION:g})") for r in rows
                      if r["model"] in sensitive], "own_spread_ms", 1e-7, style=":")
    _legend(neurons, rows)
    neurons.set_ylabel("largest spike-time difference to NEST (ms); 1e-7 = none")
    neurons.set_title("NESTML neurons against NEST (dotted: NEST's own spread)")
    synapse_rows = list(synapse_rows)
    _curves(synapses, synapse_rows, "max_rel_diff", 1e-17,
            style=lambda model: "--" if model == "stochastic_release_synapse" else "-")
    _legend(synapses, synapse_rows)
    synapses.set_ylabel("largest relative difference to NEST; 1e-17 = none")
    synapses.set_title("NESTML synapses (dashed: released fraction)")
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=120)


def row_line(row):
    """One line about a finished row, as ``trisim conformance`` prints it while it works."""
    if "same_count" in row:  # a neuron
        return (f"{row['model']} dt={row['dt_ms']} {row['stimulus']} {row['backend']}: "
                f"{'equal' if row['same_count'] else 'DIFFERENT'} spike counts, "
                f"max spike dt {row['max_spike_dt_ms']:.3g} ms (NEST's own spread "
                f"{row['own_spread_ms']:.3g} ms)")
    return (f"{row['model']} dt={row['dt_ms']} {row['backend']}: "
            f"{'equal' if row['same_events'] else 'DIFFERENT'} event counts, "
            f"largest difference {row['max_abs_diff']:.3g}")


def run(models, dts, out_dir, progress=None):
    """Run the suite and write ``conformance.json``, ``conformance.md`` and ``conformance.png``."""
    paths = resolve(models)
    out_dir = output.writable_directory(out_dir)
    rows = suite([p for p in paths if not is_synapse(p)], dts, progress=progress)
    synapse_rows = synapse_suite([p for p in paths if is_synapse(p)], dts, progress=progress)
    tables = "\n".join(table(r) for table, r in ((markdown, rows),
                                                  (synapse_markdown, synapse_rows)) if r)
    return [output.write_json({"reference": REFERENCE, "duration_ms": DURATION, "rows": rows,
                               "synapse_rows": synapse_rows}, out_dir / "conformance.json"),
            output.write_atomically(out_dir / "conformance.md",
                                    lambda tmp: Path(tmp).write_text(tables)),
            output.write_atomically(out_dir / "conformance.png",
                                    lambda tmp: plot(rows, tmp, synapse_rows))]
