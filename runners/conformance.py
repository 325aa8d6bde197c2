"""``trisim conformance``: every NESTML neuron on every backend, compared spike by spike.

Each model runs with ``trisim cell`` in its own process per backend (NEST and NEURON keep
global state), under a current step and under spike trains on every port, at each time step
asked for. NEST (NESTML's own target) is the reference; for each other backend the table
gives whether the spike counts are equal, the largest spike-time difference and the RMS
difference of the membrane potential.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from .. import output
from ..errors import NestmlError

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


def shipped_path(name):
    """The .nestml file NESTML installs for one of its shipped neurons."""
    path = Path(sys.prefix) / "models" / "neurons" / f"{name}_neuron.nestml"
    if not path.is_file():
        raise NestmlError(f"{path}: NESTML's shipped model {name!r} is not installed")
    return path


def default_models():
    """Paths of trisim's own neurons (nestml/) and of the shipped models in :data:`SHIPPED`."""
    own = sorted(p for p in (Path(__file__).parents[1] / "nestml").glob("*.nestml")
                 if not p.stem.endswith("_synapse"))
    return own + [shipped_path(name) for name in SHIPPED]


def resolve(models):
    """Model arguments (paths, or names of shipped models) as paths."""
    return [Path(m) if m.endswith(".nestml") else shipped_path(m.removesuffix("_neuron"))
            for m in models] or default_models()


def _ports(path):
    text = Path(path).read_text()
    return re.findall(r"^\s*(\w+)\s*<-\s*(?:\w+\s+)?spike\s*$", text, re.MULTILINE)


def run_cell(path, backend, dt, stimulus, duration=DURATION):
    """One ``trisim cell`` run, in a fresh process; returns its JSON result."""
    current, weight = STIMULI.get(Path(path).stem.removesuffix("_neuron"), DEFAULT_STIMULUS)
    command = [sys.executable, "-m", "trisim.cli", "cell", str(path), "--backend", backend,
               "--dt", str(dt), "--duration", str(duration), "--current", str(current)]
    if stimulus == "spikes":  # the same drive, with input spike trains on every port
        command += ["--weight", str(weight)] if weight is not None else []
        for port in _ports(path):
            command += ["--spikes-in", f"{port}:{INPUT_TIMES}"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        message = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise NestmlError(f"{path} on {backend}: {message}")
    return json.loads(result.stdout)


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


def suite(models, dts, stimuli=("current", "spikes"), progress=None):
    """Run every model x dt x stimulus on every backend; return the comparison rows."""
    rows = []
    for path in models:
        for dt in dts:
            for stimulus in stimuli:
                results = {b: run_cell(path, b, dt, stimulus) for b in BACKENDS}
                for backend in BACKENDS:
                    if backend != REFERENCE:
                        rows.append({"model": Path(path).stem, "dt_ms": dt, "stimulus": stimulus,
                                     "backend": backend,
                                     **compare(results[REFERENCE], results[backend])})
                if progress:
                    progress(rows[-1])
    return rows


def markdown(rows):
    lines = ["| model | dt (ms) | stimulus | backend | spikes (NEST) | equal count | "
             "max spike dt (ms) | RMS dV (mV) |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['dt_ms']} | {r['stimulus']} | {r['backend']} | "
                     f"{r['spikes']} | {'yes' if r['same_count'] else 'NO'} | "
                     f"{r['max_spike_dt_ms']:.3g} | {r['rms_v_mv']:.2g} |")
    return "\n".join(lines) + "\n"


def plot(rows, path):
    """Largest spike-time difference versus dt, one line per model and backend."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    keys = sorted({(r["model"], r["backend"]) for r in rows})
    for model, backend in keys:
        points = sorted((r["dt_ms"], max(r["max_spike_dt_ms"], 1e-7)) for r in rows
                        if (r["model"], r["backend"]) == (model, backend))
        dts, worst = zip(*[(dt, max(v for d, v in points if d == dt)) for dt in
                           sorted({d for d, _ in points})])
        axes.loglog(dts, worst, marker="o", label=f"{model} ({backend})")
    axes.set_xlabel("time step (ms)")
    axes.set_ylabel("largest spike-time difference to NEST (ms); 1e-7 = none")
    axes.set_title("NESTML neurons: NEURON and Brian2 against NEST")
    axes.legend(fontsize=6, ncol=2)
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=120)


def run(models, dts, out_dir, progress=None):
    """Run the suite and write ``conformance.json``, ``conformance.md`` and ``conformance.png``."""
    paths = resolve(models)
    out_dir = output.writable_directory(out_dir)
    rows = suite(paths, dts, progress=progress)
    return [output.write_json({"reference": REFERENCE, "duration_ms": DURATION, "rows": rows},
                              out_dir / "conformance.json"),
            output.write_atomically(out_dir / "conformance.md",
                                    lambda tmp: Path(tmp).write_text(markdown(rows))),
            output.write_atomically(out_dir / "conformance.png", lambda tmp: plot(rows, tmp))]
