"""``trisim conformance``: every NESTML neuron and synapse on every backend, compared with NEST.

Each neuron runs with ``trisim cell`` in its own process per backend (NEST and NEURON keep
global state), under a current step and under spike trains on every port, at each time step
asked for. NEST (NESTML's own target) is the reference; for each other backend the table
gives whether the spike counts are equal, the largest spike-time difference and the RMS
difference of the membrane potential.

Each synapse runs the fixed spike pattern of :mod:`trisim.runners.synapse_probe`, in its own
process per backend too: the weight after each presynaptic spike and what each presynaptic
spike transmitted. The synapse rows give whether the numbers of events (postsynaptic spikes,
transmissions) are equal and the largest absolute and relative differences of those values. A
synapse that draws random numbers draws from each backend's own stream, so its rows compare
statistics of many connections instead (:func:`compare_statistics`).
"""

import json
import re
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from trisim import nestml, output
from trisim.backends import BACKENDS
from trisim.errors import Interrupted, NestmlError, SimulationError
from trisim.runners import synapse_probe
from trisim.runners.batch import checked_jobs
from trisim.runners.process import run_command

REFERENCE = "nest"
# NESTML's shipped neurons the suite always covers, besides trisim's own nestml/ models
SHIPPED = ("iaf_psc_exp", "iaf_cond_exp", "iaf_cond_alpha", "aeif_cond_exp", "izhikevich",
           "hh_cond_exp_traub", "wb_cond_exp")
DURATION = 500.0  # ms
#: CPU seconds one probe process may use (a build, then every stimulus of one backend): a
#: model whose state diverges can make NEST's adaptive solver take ever smaller steps and
#: never finish, which would stop a library run there. The costliest process of the library
#: used about 100 s (a first NEST build of 98 s; Brian2's first run of a Hodgkin-Huxley
#: type compiling its code, 50 s).
PROCESS_CPU_LIMIT_S = 300.0
# Drive (pA) and input weight (PyNN units per port: uS, nA or mV) putting each model in a
# regime of tens of spikes per second, where inputs move spike times; models not listed
# (trisim's own) get DEFAULT_STIMULUS.
STIMULI = {"iaf_psc_exp": (400.0, 0.05), "iaf_cond_exp": (400.0, 0.005),
           "iaf_cond_alpha": (400.0, 0.005), "aeif_cond_exp": (800.0, 0.005),
           "izhikevich": (5.0, 2.0), "hh_cond_exp_traub": (400.0, 0.005),
           "wb_cond_exp": (100.0, 0.005), "wang_buzsaki": (100.0, 0.001),
           "striatal_msn": (500.0, 0.001), "striatal_fsi": (800.0, 0.001)}
DEFAULT_STIMULUS = (400.0, None)  # None: one unit of the port's NESTML weight unit
# The library run (trisim conformance --library): two currents, then the first with inputs,
# weighted by the port's PyNN weight unit (5 nS, 100 pA, 1 mV; other units: one unit)
LIBRARY_CURRENTS = (500.0, 1500.0)  # pA
LIBRARY_WEIGHTS = {"uS": 0.005, "nA": 0.1, "mV": 1.0}
LIBRARY_DTS = (0.1, 0.025)  # ms
LIBRARY_TOLERANCE = 0.2  # ms: the largest spike-time difference to NEST at the finest dt
INPUT_TIMES = "20,22,24,26,28,30,150,152,154,156,300,301,302"
# The relative change of the drive by which the reference backend measures a model's own
# spread: how far its spikes move from a change no integrator can promise to match. A model
# that amplifies rounding (an Izhikevich-type cell whose spikes are found at the end of a
# step) cannot be held closer than this between backends.
PERTURBATION = 1e-9


def default_models():
    """Paths of trisim's own neurons (nestml/) and of the shipped models in :data:`SHIPPED`.
    The synapse probe's postsynaptic cell is an instrument (spikes on command, no drive), not
    a neuron model, and is left out."""
    own = sorted(p for p in (Path(__file__).parents[1] / "nestml").glob("*.nestml")
                 if not p.stem.endswith("_synapse") and p.stem != synapse_probe.PROBE_CELL)
    return own + [nestml.shipped_path(name) for name in SHIPPED]


def synapse_models():
    """Paths of trisim's own synapses (nestml/*_synapse.nestml)."""
    return sorted((Path(__file__).parents[1] / "nestml").glob("*_synapse.nestml"))


def is_synapse(path):
    return Path(path).stem.endswith("_synapse")


def library_models():
    """Every neuron and synapse model the installed NESTML ships, neurons first."""
    return [nestml.library_path(kind) / path.name for kind in ("neurons", "synapses")
            for path in sorted(nestml.library_path(kind).glob("*.nestml"))]


def resolve(models, library=False):
    """Model arguments (paths, names of shipped neurons or synapses, or of trisim's synapses)
    as paths; without any, every neuron and synapse of trisim's suite, or of NESTML's
    library (``library``)."""
    def one(model):
        if model.endswith(".nestml"):
            return Path(model)
        if is_synapse(model):
            own = nestml.path(model)
            return own if own.is_file() else nestml.library_path("synapses") / f"{model}.nestml"
        return nestml.shipped_path(model.removesuffix("_neuron"))
    if models:
        return [one(m) for m in models]
    return library_models() if library else default_models() + synapse_models()


def _ports(path):
    text = Path(path).read_text()
    return re.findall(r"^\s*(\w+)\s*<-\s*(?:\w+\s+)?spike\s*$", text, re.MULTILINE)


def _has_drive(path):
    return re.search(r"^\s*I_e\b", Path(path).read_text(), re.MULTILINE) is not None


def drives(path, library=False):
    """[(stimulus name, drive)] a model runs under (drives as
    :func:`trisim.runners.cell.simulate_cells` takes them).

    trisim's suite: the model's current (:data:`STIMULI`), then the same with input spike
    trains on every port. The library run (``library``): :data:`LIBRARY_CURRENTS`, then the
    first with input trains, weighted by :data:`LIBRARY_WEIGHTS`; a model without ``I_e`` runs
    free and with inputs.
    """
    inputs = {port: [float(t) for t in INPUT_TIMES.split(",")] for port in _ports(path)}
    if library:
        if not _has_drive(path):
            return [("free", {}), ("spikes", {"spikes_in": inputs, "weight": LIBRARY_WEIGHTS})]
        currents = [(f"{c:g} pA", {"current_pa": c}) for c in LIBRARY_CURRENTS]
        return currents + [(f"{LIBRARY_CURRENTS[0]:g} pA + spikes",
                            {"current_pa": LIBRARY_CURRENTS[0], "spikes_in": inputs,
                             "weight": LIBRARY_WEIGHTS})]
    current, weight = STIMULI.get(Path(path).stem.removesuffix("_neuron"), DEFAULT_STIMULUS)
    return [("current", {"current_pa": current}),
            ("spikes", {"current_pa": current, "spikes_in": inputs, "weight": weight})]


def uses_random(path):
    """Whether the model draws random numbers (each backend from its own stream)."""
    return re.search(r"\brandom_(normal|uniform)\s*\(", Path(path).read_text()) is not None


def run_cells(path, backend, dt, named_drives, duration=DURATION, drive_factor=1.0):
    """One process running every drive of ``named_drives`` (see :func:`drives`) on one
    backend; returns ``{stimulus: cell result}`` and the process's costs under "costs".
    Currents are multiplied by ``drive_factor``."""
    scaled = [dict(d, current_pa=d["current_pa"] * drive_factor) if d.get("current_pa")
              is not None else d for _, d in named_drives]
    spec = {"path": str(path), "backend_name": backend, "drives": scaled, "dt": dt,
            "duration": duration}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as spec_file:
        json.dump(spec, spec_file)
        spec_file.flush()
        command = [sys.executable, "-m", "trisim.runners.cell", spec_file.name]
        result = json.loads(run_command(command, f"{path} on {backend}", NestmlError,
                                        PROCESS_CPU_LIMIT_S).stdout)
    out = dict(zip([name for name, _ in named_drives], result["cells"]))
    out["costs"] = result["costs"]
    return out


def run_cell(path, backend, dt, stimulus, duration=DURATION, drive_factor=1.0):
    """The result of one stimulus of trisim's suite (``"current"`` or ``"spikes"``)."""
    named = [d for d in drives(path) if d[0] == stimulus]
    return run_cells(path, backend, dt, named, duration, drive_factor)[stimulus]


def compare(reference, other):
    """Spike-count equality, largest spike-time difference (ms) and RMS V difference (mV).

    Spikes stamped at the run's last instant (emitted in its last time step) are counted
    apart (``spikes_at_end``, reference and other): NEST records them, while NEURON and
    Brian2 end the run before the step that would deliver them."""
    end = reference.get("duration_ms")
    a, b = np.asarray(reference["spike_times_ms"]), np.asarray(other["spike_times_ms"])
    at_end = [0, 0]
    if end is not None:
        last = end - 1e-6
        at_end = [int(np.sum(a >= last)), int(np.sum(b >= last))]
        a, b = a[a < last], b[b < last]
    same_count = a.size == b.size
    n = min(a.size, b.size)
    max_dt = float(np.max(np.abs(a[:n] - b[:n]))) if n else 0.0
    va, vb = np.asarray(reference["v_ms"]["V"], float), np.asarray(other["v_ms"]["V"], float)
    m = min(va.size, vb.size)
    rms = float(np.sqrt(np.mean((va[:m] - vb[:m]) ** 2))) if m else 0.0
    return {"spikes": int(a.size), "spikes_other": int(b.size), "same_count": bool(same_count),
            "max_spike_dt_ms": max_dt,
            "rms_v_mv": rms if np.isfinite(rms) else None,  # None: a trace that diverged
            "spikes_at_end": at_end}


def own_spread(path, dt, stimulus, reference, duration=DURATION):
    """How far the reference backend's spikes move when the drive changes by
    :data:`PERTURBATION`: the floor under any two backends' difference. Returns the
    largest spike-time difference (ms) to ``reference`` (a :func:`run_cell` result on
    :data:`REFERENCE`) and whether the spike count stayed the same."""
    perturbed = run_cell(path, REFERENCE, dt, stimulus, duration, 1.0 + PERTURBATION)
    row = compare(reference, perturbed)
    return row["max_spike_dt_ms"], row["same_count"]


def _diverged(results, named):
    """``{stimulus: recorded variable}`` of the stimuli of ``named`` under which a result of
    ``results`` (one backend's :func:`run_cells`) recorded values that are not finite."""
    return {_stimulus(name): results[name]["recorded"] for name, _ in named
            if not np.all(np.isfinite(np.asarray(results[name]["v_ms"]["V"], float)))}


def _error_line(exc):
    """The innermost message of a failed run (run_command names the run, the runner the
    file; the table names both already)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return re.sub(r"^.*?\.nestml(?: on \w+)?: ", "", text.split(": error: ", 1)[-1], count=1)


N_RANDOM_CELLS = 20  # cells per stimulus of a model that draws random numbers


def _stimulus(name):
    """The stimulus of a drive's name (a random model's cells are "<stimulus>#<k>")."""
    return name.split("#")[0]


def _random_rows(model, dt, named, results, progress):
    """Rows of a model that draws random numbers: per stimulus, the spike counts of its
    N_RANDOM_CELLS cells on each backend against NEST's, by |z| of the difference of means."""
    rows = []
    stimuli = list(dict.fromkeys(_stimulus(name) for name, _ in named))
    for stimulus in stimuli:
        def counts(result):
            return [len(result[f"{stimulus}#{k}"]["spike_times_ms"])
                    for k in range(N_RANDOM_CELLS)]
        reference = counts(results[REFERENCE])
        for backend, result in results.items():
            if backend == REFERENCE:
                continue
            other = counts(result)
            z = _z(reference, other)
            rows.append({"model": model, "dt_ms": dt, "stimulus": stimulus, "backend": backend,
                         "recorded": result[f"{stimulus}#0"]["recorded"], "random": True,
                         "spikes": float(np.mean(reference)), "spikes_other": float(np.mean(other)),
                         "same_count": bool(z <= Z_TOLERANCE), "z_spike_count": z,
                         "max_spike_dt_ms": 0.0, "rms_v_mv": 0.0, "own_spread_ms": 0.0,
                         "own_spread_same_count": True})
            if progress:
                progress(rows[-1])
    return rows


def _on_every_backend(run_on, model, dt, failures, progress, backends=BACKENDS):
    """``{backend: run_on(backend)}`` for each of ``backends`` that runs; each failure is
    appended to ``failures`` as a row. When the reference fails, no other backend is tried."""
    results = {}
    for backend in backends:
        try:
            results[backend] = run_on(backend)
        except (NestmlError, SimulationError) as exc:
            failures.append({"model": model, "dt_ms": dt, "backend": backend,
                             "error": _error_line(exc)})
            if progress:
                progress(failures[-1])
            if backend == REFERENCE:
                break
    return results


def _reference_cells(path, dt, named, duration, model, failures, progress):
    """The reference's results for the drives of ``named``, run in one process. When that run
    fails (the run, not the model: a crash, or a solver that stalls until
    :data:`PROCESS_CPU_LIMIT_S`), each stimulus runs in a process of its own, so that a drive
    NEST cannot finish leaves the others compared; each such stimulus gives a failure row that
    names it. Raises the first failure when no stimulus runs."""
    try:
        return run_cells(path, REFERENCE, dt, named, duration)
    except SimulationError as exc:
        groups = {}
        for name, drive in named:  # a random model's cells of one stimulus stay together
            groups.setdefault(_stimulus(name), []).append((name, drive))
        if len(groups) == 1:
            raise
        first = exc
    results = {}
    for stimulus, group in groups.items():
        try:
            one = run_cells(path, REFERENCE, dt, group, duration)
        except SimulationError as exc:
            failures.append({"model": model, "dt_ms": dt, "backend": REFERENCE,
                             "stimulus": stimulus, "error": _error_line(exc)})
            if progress:
                progress(failures[-1])
            continue
        costs = one.pop("costs")
        if "costs" in results:  # the first process's build; every process's run
            for key in ("run_cpu_s", "run_wall_s"):
                results["costs"][key] += costs[key]
        else:
            results["costs"] = costs
        results.update(one)
    if "costs" not in results:
        raise first
    return results


def suite(models, dts, progress=None, library=False, duration=DURATION):
    """Run every model x dt on every backend, all stimuli of a model (:func:`drives`) in one
    process per backend. Returns ``{"rows", "failures", "costs"}``: the comparison rows,
    each with the reference's own spread (its spikes under drives changed by
    :data:`PERTURBATION`); the failures; the cost of each process (see
    :func:`trisim.runners.cell.simulate_cells`).

    A model the reference cannot build or run gives one failure row (``"error"``) and is not
    run elsewhere; a stimulus the reference cannot run gives a failure row naming it
    (``"stimulus"``) and is not run elsewhere; a failure on another backend gives that
    backend's failure row.
    """
    rows, failures, costs = [], [], []
    for path in models:
        model = Path(path).stem
        named = drives(path, library)
        if uses_random(path):  # compared by statistics over cells with their own streams
            named = [(f"{name}#{k}", drive) for name, drive in named
                     for k in range(N_RANDOM_CELLS)]
        for dt in dts:
            results = _on_every_backend(
                lambda _: _reference_cells(path, dt, named, duration, model, failures, progress),
                model, dt, failures, progress, backends=[REFERENCE])
            if REFERENCE not in results:
                break  # a model NEST cannot run: not at another dt either
            ran = [(name, drive) for name, drive in named if name in results[REFERENCE]]
            # a stimulus under which the reference itself diverges has nothing to compare with
            diverged = _diverged(results[REFERENCE], ran)
            for stimulus, recorded in diverged.items():
                failures.append({"model": model, "dt_ms": dt, "backend": REFERENCE,
                                 "stimulus": stimulus, "error": f"{recorded} is not finite "
                                 "(the model diverges under this stimulus)"})
                if progress:
                    progress(failures[-1])
            ran = [(name, drive) for name, drive in ran if _stimulus(name) not in diverged]
            if ran:  # (else only the reference's costs are kept)
                results.update(_on_every_backend(
                    lambda backend: run_cells(path, backend, dt, ran, duration),
                    model, dt, failures, progress, backends=BACKENDS[1:]))
            if uses_random(path):
                rows += _random_rows(model, dt, ran, results, progress)
                costs += [{"model": model, "dt_ms": dt, "backend": backend, **result["costs"]}
                          for backend, result in results.items()]
                continue
            perturbed = (run_cells(path, REFERENCE, dt, ran, duration, 1.0 + PERTURBATION)
                         if any(d.get("current_pa") for _, d in ran) else None)
            for stimulus, _ in ran:
                reference = results[REFERENCE][stimulus]
                spread = compare(reference, perturbed[stimulus]) if perturbed else None
                for backend, result in results.items():
                    if backend == REFERENCE:
                        continue
                    rows.append({"model": model, "dt_ms": dt, "stimulus": stimulus,
                                 "backend": backend, "recorded": reference["recorded"],
                                 **compare(reference, result[stimulus]),
                                 "own_spread_ms": spread["max_spike_dt_ms"] if spread else 0.0,
                                 "own_spread_same_count": spread["same_count"] if spread
                                 else True})
                    if progress:
                        progress(rows[-1])
            costs += [{"model": model, "dt_ms": dt, "backend": backend, **result["costs"]}
                      for backend, result in results.items()]
    return {"rows": rows, "failures": failures, "costs": costs}


# -- synapses -------------------------------------------------------------------------------
RELATIVE_TOLERANCE = 1e-6  # deterministic synapses: largest difference / largest value
Z_TOLERANCE = 4.0  # random synapses: largest |z| of a compared statistic


def run_synapse(path, backend, dt):
    """One run of the generic synapse probe (:mod:`trisim.runners.synapse_probe`), in a fresh
    process; returns its result."""
    command = [sys.executable, "-m", "trisim.runners.synapse_probe", str(path), backend,
               str(dt)]
    result = run_command(command, f"{path} on {backend}", NestmlError, PROCESS_CPU_LIMIT_S)
    return json.loads(result.stdout.strip().splitlines()[-1])


def compare_trajectories(reference, other):
    """Deterministic synapses: whether the numbers of postsynaptic spikes and of
    transmissions are equal, and the largest absolute and relative (to the reference's
    largest magnitude) differences of the weights after each presynaptic spike and of what
    each transmitted, over the values both have."""
    keys = ("weights", "transmitted") if reference.get("weights_between_events", True) \
        else ("transmitted",)
    pairs = [(np.ravel(reference[key]).astype(float), np.ravel(other[key]).astype(float))
             for key in keys]
    largest = scale = 0.0
    for a, b in pairs:
        n = min(a.size, b.size)
        if n:
            largest = max(largest, float(np.max(np.abs(a[:n] - b[:n]))))
        if a.size:
            scale = max(scale, float(np.max(np.abs(a))))
    events = [len(reference["post"]), len(other["post"])]
    same = (events[0] == events[1]
            and all(a.size == b.size for a, b in pairs))
    relative = largest / scale if scale > 0 else largest
    return {"events": events[0], "events_other": events[1], "same_events": bool(same),
            "values": int(sum(a.size for a, _ in pairs)), "max_abs_diff": largest,
            "max_rel_diff": relative, "agrees": bool(same and relative <= RELATIVE_TOLERANCE)}


def _z(a, b):
    """|difference of the means| over its standard error (0 for two constant samples)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    error = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size) if min(a.size, b.size) > 1 \
        else 0.0
    difference = abs(a.mean() - b.mean()) if a.size and b.size else 0.0
    return float(difference / error) if error > 0 else (0.0 if difference == 0 else np.inf)


def compare_statistics(reference, other):
    """Synapses that draw random numbers (each backend its own stream): |z| of the
    differences of the fraction of spikes transmitted, of the mean and the spread of what
    was transmitted, and of the mean final weight; the largest decides."""
    transmitted = [np.ravel(r["transmitted"]).astype(float) for r in (reference, other)]
    # values that differ by floating-point rounding alone (a backend's sums of steps) are one
    # value: else a spread of exactly 0 against one of 1e-16 is a difference of many |z|
    resolution = 1e-12 * max(np.max(np.abs(v), initial=0.0) for v in transmitted)

    def sample(values, result):
        if resolution > 0:
            values = np.round(values / resolution) * resolution
        return values, values != 0, np.asarray(result["weights"][-1], float)
    a_values, a_sent, a_weights = sample(transmitted[0], reference)
    b_values, b_sent, b_weights = sample(transmitted[1], other)
    a_sent_values, b_sent_values = a_values[a_sent], b_values[b_sent]
    spread = [np.abs(v - v.mean()) for v in (a_sent_values, b_sent_values)] \
        if a_sent_values.size > 1 and b_sent_values.size > 1 else [[0.0], [0.0]]
    zs = {"fraction": _z(a_sent, b_sent), "mean": _z(a_sent_values, b_sent_values),
          "spread": _z(*spread), "weight": _z(a_weights, b_weights)}
    largest = max(zs.values())
    return {"events": int(a_sent.sum()), "events_other": int(b_sent.sum()),
            "same_events": bool(largest <= Z_TOLERANCE), "values": int(a_values.size),
            "max_abs_diff": float(abs(a_values.mean() - b_values.mean())) if a_values.size
            else 0.0, "max_rel_diff": largest, "z": zs,
            "agrees": bool(largest <= Z_TOLERANCE)}


def synapse_suite(models, dts, progress=None):
    """Run every synapse x dt on every backend under the probe; return
    ``{"rows", "failures", "costs"}`` as :func:`suite` does."""
    rows, failures, costs = [], [], []
    for path in models:
        model = Path(path).stem
        for dt in dts:
            results = _on_every_backend(lambda backend: run_synapse(path, backend, dt),
                                        model, dt, failures, progress)
            if REFERENCE not in results:
                break
            reference = results[REFERENCE]
            for backend, result in results.items():
                if backend == REFERENCE:
                    continue
                random = reference["random"]
                row = (compare_statistics if random else compare_trajectories)(reference, result)
                compared = ("statistics of what was transmitted and of the final weights "
                            f"over {synapse_probe.N_RANDOM} connections (largest |z|)" if random else
                            "weight after each presynaptic spike and what it transmitted")
                rows.append({"model": model, "dt_ms": dt, "backend": backend,
                             "kind": "random" if random else
                             "plastic" if reference["plastic"] else "static",
                             "compared": compared, **row})
                if progress:
                    progress(rows[-1])
            costs += [{"model": model, "dt_ms": dt, "backend": backend, **result["costs"]}
                      for backend, result in results.items()]
    return {"rows": rows, "failures": failures, "costs": costs}


def _table(header, lines):
    """A Markdown table: ``header`` (column names) and one list of cell texts per row."""
    rows = [header, ["---"] * len(header), *lines]
    return "".join("| " + " | ".join(map(str, row)) + " |\n" for row in rows)


def _yes(flag):
    return "yes" if flag else "NO"


def synapse_markdown(rows):
    return _table(["synapse", "dt (ms)", "backend", "kind", "compared",
                   "postsynaptic spikes or transmissions (NEST / other)", "agrees",
                   "largest difference", "relative (random: |z|)"],
                  [[r["model"], r["dt_ms"], r["backend"], r["kind"], r["compared"],
                    f"{r['events']} / {r['events_other']}", _yes(r["agrees"]),
                    f"{r['max_abs_diff']:.3g}", f"{r['max_rel_diff']:.3g}"] for r in rows])


def _rms_text(rms):
    return "not finite" if rms is None else f"{rms:.2g}"


def markdown(rows):
    return _table(["model", "dt (ms)", "stimulus", "backend", "spikes (NEST)", "equal count",
                   "max spike dt (ms)", "RMS dV (mV)",
                   f"NEST's own spread (ms), drive x (1 + {PERTURBATION:g})"],
                  [[r["model"], r["dt_ms"], r["stimulus"], r["backend"], r["spikes"],
                    _yes(r["same_count"]), f"{r['max_spike_dt_ms']:.3g}",
                    _rms_text(r["rms_v_mv"]),
                    f"{r['own_spread_ms']:.3g}"
                    + ("" if r["own_spread_same_count"] else ", count changes")] for r in rows])


BACKEND_STYLES = {"neuron": "-", "brian2": "--"}
MAX_LEGEND = 12  # lines; more are told apart by style (backend) only


def _curves(axes, rows, key, floor, style=None):
    """One line per model and backend: the worst ``key`` at each dt (``floor`` for 0);
    solid NEURON, dashed Brian2 (or ``style``)."""
    pairs = sorted({(r["model"], r["backend"]) for r in rows})
    for model, backend in pairs:
        points = [(r["dt_ms"], max(r[key], floor)) for r in rows
                  if (r["model"], r["backend"]) == (model, backend)]
        dts = sorted({d for d, _ in points})
        worst = [max(v for d, v in points if d == dt) for dt in dts]
        axes.loglog(dts, worst, style or BACKEND_STYLES.get(backend, "-"), marker="o",
                    label=f"{model.removesuffix('_neuron')} ({backend})")
    axes.set_xlabel("time step (ms)")
    return len(pairs)


def _legend(axes, lines):
    if not lines:
        axes.text(0.5, 0.5, "none run", ha="center", va="center", transform=axes.transAxes)
    elif lines <= MAX_LEGEND:
        axes.legend(fontsize=6, ncol=2)
    else:
        axes.text(0.02, 0.98, f"{lines} lines: solid NEURON, dashed Brian2", fontsize=7,
                  va="top", transform=axes.transAxes)


def plot(rows, path, synapse_rows=()):
    """Largest spike-time difference (neurons, with NEST's own spread where it is not 0),
    largest relative difference of deterministic synapses' weights and transmissions, and
    largest |z| of random synapses' statistics, versus dt, one line per model and backend."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(15, 4.8))
    neurons, synapses, random = figure.subplots(1, 3)
    lines = _curves(neurons, rows, "max_spike_dt_ms", 1e-7)
    sensitive = {r["model"] for r in rows if r["own_spread_ms"] > 0}
    # one line per model: the rows of both compared backends carry the same spread
    lines += _curves(neurons, [dict(r, backend="NEST") for r in rows if r["model"] in sensitive],
                     "own_spread_ms", 1e-7, style=":")
    neurons.axhline(LIBRARY_TOLERANCE, color="grey", lw=0.8)
    _legend(neurons, lines)
    neurons.set_ylabel("largest spike-time difference to NEST (ms); 1e-7 = none")
    neurons.set_title("NESTML neurons against NEST (dotted: NEST's own spread)", fontsize=9)
    deterministic = [r for r in synapse_rows if r["kind"] != "random"]
    _legend(synapses, _curves(synapses, deterministic, "max_rel_diff", 1e-17))
    synapses.axhline(RELATIVE_TOLERANCE, color="grey", lw=0.8)
    synapses.set_ylabel("largest relative difference to NEST; 1e-17 = none")
    synapses.set_title("NESTML synapses: weights and transmissions", fontsize=9)
    stochastic = [r for r in synapse_rows if r["kind"] == "random"]
    _legend(random, _curves(random, stochastic, "max_rel_diff", 1e-3))
    random.axhline(Z_TOLERANCE, color="grey", lw=0.8)
    random.set_ylabel("largest |z| of the compared statistics")
    random.set_title("NESTML synapses drawing random numbers", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=120)


def row_line(row):
    """One line about a finished row, as ``trisim conformance`` prints it while it works."""
    if "error" in row:
        stimulus = f" {row['stimulus']}" if "stimulus" in row else ""
        return (f"{row['model']} dt={row['dt_ms']}{stimulus} {row['backend']}: "
                f"FAILS: {row['error']}")
    if "same_count" in row:  # a neuron
        return (f"{row['model']} dt={row['dt_ms']} {row['stimulus']} {row['backend']}: "
                f"{'equal' if row['same_count'] else 'DIFFERENT'} spike counts, "
                f"max spike dt {row['max_spike_dt_ms']:.3g} ms (NEST's own spread "
                f"{row['own_spread_ms']:.3g} ms)")
    return (f"{row['model']} dt={row['dt_ms']} {row['backend']}: "
            f"{'equal' if row['same_events'] else 'DIFFERENT'} event counts, "
            f"largest difference {row['max_abs_diff']:.3g}")


def _worst(rows, key):
    """The largest ``key`` of ``rows``; None if a row's is None (not finite)."""
    values = [r[key] for r in rows]
    return None if None in values else max(values, default=0.0)


def verdicts(rows, failures, dts, tolerance=LIBRARY_TOLERANCE):
    """Per neuron model and backend: whether it agrees with NEST at the finest time step
    (equal spike counts under every stimulus, largest spike-time difference at most
    ``tolerance`` ms), differs only as far as NEST's own spread, differs, or fails (with the
    first line of its error); with the worst spike-time difference at each time step."""
    finest = min(dts)
    out, not_compared = {}, {}
    for failure in failures:
        if "stimulus" in failure:  # a stimulus the reference could not run
            not_compared.setdefault(failure["model"], {}).setdefault(
                failure["stimulus"], f"dt {failure['dt_ms']:g} ms: {failure['error']}")
            continue
        out.setdefault(failure["model"], {})[failure["backend"]] = {
            "verdict": "fails", "error": failure["error"]}
    for model, backend in sorted({(r["model"], r["backend"]) for r in rows}):
        if backend in out.get(model, {}):
            continue
        mine = [r for r in rows if (r["model"], r["backend"]) == (model, backend)]
        last = [r for r in mine if r["dt_ms"] == finest]
        close = all(r["same_count"] and r["max_spike_dt_ms"] <= tolerance
                    and r["rms_v_mv"] is not None for r in last)
        within = all((r["same_count"] or not r["own_spread_same_count"])
                     and r["rms_v_mv"] is not None
                     and r["max_spike_dt_ms"] <= max(tolerance, 2 * r["own_spread_ms"])
                     for r in last)
        random = any(r.get("random") for r in mine)
        out.setdefault(model, {})[backend] = {
            "verdict": ("agrees by spike-count statistics" if random else "agrees")
            if close and last else "within NEST's own spread" if within and last else "differs",
            "max_spike_dt_ms": {dt: _worst([r for r in mine if r["dt_ms"] == dt],
                                           "max_spike_dt_ms") for dt in dts},
            "rms_v_mv": _worst(last, "rms_v_mv"),
            "spikes": {r["stimulus"]: r["spikes"] for r in last},
            "recorded": last[0]["recorded"] if last else None,
            "not_compared": not_compared.get(model, {})}
    return out


def _verdict_cells(by_backend, describe):
    """One table cell per backend compared with NEST: "not run", "fails: <error>", or
    ``describe(verdict)`` of a backend that ran."""
    cells = []
    for backend in BACKENDS[1:]:
        v = by_backend.get(backend)
        if v is None:
            cells.append("not run")
        elif v["verdict"] == "fails":
            cells.append(f"fails: {v['error']}")
        else:
            cells.append(describe(v))
    return cells


def verdict_markdown(verdicts_by_model, dts):
    """One row per neuron model: NEST's spike counts, and per other backend its verdict,
    the worst spike-time difference at each time step and the RMS difference of the
    recorded variable at the finest one."""
    lines = []
    for model, by_backend in verdicts_by_model.items():
        cells = _verdict_cells(by_backend, lambda v: (
            f"{v['verdict']}; " + " / ".join(f"{v['max_spike_dt_ms'][dt]:.2g}" for dt in dts)
            + f" ms; RMS {_rms_text(v['rms_v_mv'])}"
            + "".join(f"; not compared under {stimulus} ({REFERENCE}: {error})"
                      for stimulus, error in v.get("not_compared", {}).items())))
        spikes = next((v["spikes"] for v in by_backend.values() if "spikes" in v), {})
        lines.append([model.removesuffix("_neuron"), " / ".join(map(str, spikes.values())),
                      *cells])
    dt_text = " / ".join(f"{dt:g}" for dt in dts)
    return _table(["model", "spikes on NEST (per stimulus)",
                   *[f"{b}: verdict; worst spike dt at dt {dt_text} ms; RMS (finest dt)"
                     for b in BACKENDS[1:]]], lines)


def synapse_verdicts(rows, failures, dts):
    """Per synapse model and backend: whether every time step's probe agrees with NEST
    (deterministic: within RELATIVE_TOLERANCE; random: |z| within Z_TOLERANCE), or fails."""
    out = {}
    for failure in failures:
        out.setdefault(failure["model"], {})[failure["backend"]] = {
            "verdict": "fails", "error": failure["error"]}
    for model, backend in sorted({(r["model"], r["backend"]) for r in rows}):
        if backend in out.get(model, {}):
            continue
        mine = [r for r in rows if (r["model"], r["backend"]) == (model, backend)]
        out.setdefault(model, {})[backend] = {
            "verdict": "agrees" if all(r["agrees"] for r in mine) else "differs",
            "kind": mine[0]["kind"], "worst": {dt: _worst([r for r in mine if r["dt_ms"] == dt],
                                                          "max_rel_diff") for dt in dts}}
    return out


def synapse_verdict_markdown(verdicts_by_model, dts):
    lines = []
    for model, by_backend in verdicts_by_model.items():
        cells = _verdict_cells(by_backend, lambda v: (
            f"{v['verdict']}; " + " / ".join(f"{v['worst'][dt]:.2g}" for dt in dts)))
        kind = next((v["kind"] for v in by_backend.values() if "kind" in v), "")
        lines.append([model.removesuffix("_synapse"), kind, *cells])
    dt_text = " / ".join(f"{dt:g}" for dt in dts)
    return _table(["synapse", "kind", *[f"{b}: verdict; largest relative difference "
                                        f"(random: |z|) at dt {dt_text} ms"
                                        for b in BACKENDS[1:]]], lines)


def cost_markdown(costs):
    """CPU seconds per model and backend to make the cell type (a synapse: the synapse type
    and its probe cell's type) and run it (one process, all stimuli or the probe), first
    (when it built the model) and from the cache."""
    lines = []
    for model, backend in sorted({(c["model"], c["backend"]) for c in costs}):
        mine = [c for c in costs if (c["model"], c["backend"]) == (model, backend)]
        built = [c for c in mine if c["built"]]
        cached = [c for c in mine if not c["built"]]

        def text(rows):
            if not rows:
                return "-"
            c = rows[0]
            return f"{c['type_cpu_s']:.1f} + {c['run_cpu_s']:.1f} (dt {c['dt_ms']:g})"
        lines.append([model, backend, text(built), text(cached)])
    return _table(["model", "backend", "built here: type + run CPU s",
                   "cached: type + run CPU s"], lines)


def run(models, dts, out_dir, progress=None, library=False, jobs=1):
    """Run the suite and write ``conformance.json``, ``conformance.md`` and ``conformance.png``.

    ``library``: NESTML's shipped neurons and synapses (all of them unless ``models`` names
    some), under the library's stimuli; a model that fails is reported, not fatal. The files
    are written again after each model, so a run stopped part-way (the library takes about
    an hour of CPU time the first time) keeps the models it finished. ``jobs`` models run at a time (their simulations are child
    processes, so threads suffice to wait for them); the files list the models in order.
    """
    paths = resolve(models, library)
    jobs = checked_jobs(jobs)
    out_dir = output.writable_directory(out_dir)
    done = {}  # path -> its suite's result, as models finish

    def one_model(path):
        return (synapse_suite([path], dts, progress=progress) if is_synapse(path) else
                suite([path], dts, progress=progress, library=library))

    written = None
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(one_model, path): path for path in paths}
        for future in as_completed(futures):
            result = future.result()
            failures = result["failures"]
            if not library and failures:
                raise NestmlError(f"{failures[0]['model']} on {failures[0]['backend']}: "
                                  f"{failures[0]['error']}")
            done[futures[future]] = result
            written = _write(out_dir, dts, library, **_collected(paths, done))
    except KeyboardInterrupt as exc:  # a child's own count (0 of 1 runs) means nothing here
        raise Interrupted([Path(p).stem for p in paths if p in done], len(paths),
                          getattr(exc, "signal_name", "SIGINT"), unit="models",
                          kept=f"in {out_dir}") from None
    finally:
        pool.shutdown(cancel_futures=True)
    return written or _write(out_dir, dts, library, **_collected(paths, done))


def _collected(paths, done):
    """The results of the finished models of ``paths`` (``done``: path -> result), in the
    order of ``paths``, gathered by kind: ``{"neuron": {...}, "synapse": {...}}``."""
    results = {kind: {"rows": [], "failures": [], "costs": []} for kind in ("neuron", "synapse")}
    for path in paths:
        if path in done:
            kind = "synapse" if is_synapse(path) else "neuron"
            for part, values in done[path].items():
                results[kind][part] += values
    return results


def _write(out_dir, dts, library, neuron, synapse):
    """The three files of :func:`run` for the models run so far (``neuron``, ``synapse``:
    the collected results of :func:`suite` and :func:`synapse_suite`)."""
    rows, synapse_rows = neuron["rows"], synapse["rows"]
    judged = verdicts(rows, neuron["failures"], dts)
    judged_synapses = synapse_verdicts(synapse_rows, synapse["failures"], dts)
    costs = neuron["costs"] + synapse["costs"]
    sections = []
    if judged:
        sections.append(verdict_markdown(judged, dts))
    if judged_synapses:
        sections.append(synapse_verdict_markdown(judged_synapses, dts))
    if rows:
        sections.append(markdown(rows))
    if synapse_rows:
        sections.append(synapse_markdown(synapse_rows))
    if costs:
        sections.append(cost_markdown(costs))
    return [output.write_json({"reference": REFERENCE, "duration_ms": DURATION, "dts_ms": dts,
                               "library": library, "verdicts": judged, "rows": rows,
                               "failures": neuron["failures"], "costs": costs,
                               "synapse_verdicts": judged_synapses,
                               "synapse_rows": synapse_rows,
                               "synapse_failures": synapse["failures"]},
                              out_dir / "conformance.json"),
            output.write_atomically(out_dir / "conformance.md",
                                    lambda tmp: Path(tmp).write_text("\n".join(sections))),
            output.write_atomically(out_dir / "conformance.png",
                                    lambda tmp: plot(rows, tmp, synapse_rows))]
