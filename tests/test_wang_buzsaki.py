"""Seed 003 (Wang-Buzsaki gamma): cell, synapse, the network's rhythm and regimes, commands.

The cell against the published equations, the synapse against its rule, the network's rhythm
and regimes, and the commands around them.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trisim import backends
from trisim.runners import experiment
from trisim.pynn_models import wang_buzsaki
from trisim.pynn_models.wang_buzsaki import reference as wang_buzsaki_reference

BACKENDS = sorted(backends.BACKENDS)
CONFIGS = Path(wang_buzsaki.CONFIGS)
SCENARIOS = Path(__file__).with_name("wang_buzsaki_scenarios.py")
sys.path.insert(0, str(SCENARIOS.parent))
from wang_buzsaki_scenarios import GABA_DELAY, GABA_SPIKES, GABA_WEIGHT  # noqa: E402


def trisim(*arguments):
    return subprocess.run([sys.executable, "-m", "trisim.cli", *map(str, arguments)],
                          capture_output=True, text=True, timeout=900)


def run_model(out, backend, *arguments):
    result = trisim("run", "wang_buzsaki", "--backend", backend, "--out", out, *arguments)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = next(Path(line) for line in result.stdout.split() if line.endswith(".json"))
    return json.loads(summary.read_text())["model_statistics"]


@pytest.fixture(scope="module")
def gamma(tmp_path_factory):
    """The published network (100 cells, 500 ms, dt 0.01 ms) on every backend, seed 1."""
    out = tmp_path_factory.mktemp("wang_buzsaki")
    return {backend: run_model(out / backend, backend) for backend in BACKENDS}


@pytest.mark.parametrize("backend", BACKENDS)
def test_gamma_rhythm_on_every_backend(gamma, backend):
    statistics = gamma[backend]
    assert 38.0 <= statistics["population_frequency_hz"] <= 40.0
    settled = statistics["settled"]
    assert settled["kappa"] >= 0.8  # synchronous once the initial scatter has settled
    assert 0.95 <= settled["spikes_per_cycle"] <= 1.05  # one spike per cell per cycle
    assert statistics["kappa"] > 5 * statistics["kappa_chance"]


def test_backends_give_the_same_rhythm(gamma):
    for backend in ("neuron", "brian2"):
        assert gamma[backend]["population_frequency_hz"] == pytest.approx(
            gamma["nest"]["population_frequency_hz"], rel=1e-3)
        assert gamma[backend]["kappa"] == pytest.approx(gamma["nest"]["kappa"], abs=0.01)


@pytest.mark.parametrize("regime, check", [
    ("uncoupled", lambda s: 59.0 <= s["mean_rate_hz"] <= 60.5
     and abs(s["kappa"] - s["kappa_chance"]) < 0.05),
    ("esyn55", lambda s: s["mean_rate_hz"] > 65.0 and s["kappa"] < 2.5 * s["kappa_chance"]),
    ("heterogeneous", lambda s: 30.0 <= s["mean_rate_hz"] <= 37.0
     and s["kappa"] < 2.5 * s["kappa_chance"]),
])
def test_regimes(tmp_path, regime, check):
    statistics = run_model(tmp_path, "nest", "--config",
                           CONFIGS / f"wang_buzsaki_{regime}.yaml")["settled"]
    assert check(statistics), statistics


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_cell_fi_matches_the_published_equations(tmp_path, backend):
    result = trisim("experiment", "wang_buzsaki", "fi", "--backends", backend, "--out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{backend}: Wang-Buzsaki cell: " in result.stdout  # each curve's rates, printed
    table = json.loads((tmp_path / f"wang_buzsaki_fi_{backend}.json").read_text())
    points = table["curves"][0]["points"]
    assert len(points) == len(wang_buzsaki.FI_DRIVES)
    assert all(point["within_tolerance"] for point in points), points  # 1% of SciPy's rate
    assert points[0]["rate_hz"] > 5.0 and points[-1]["rate_hz"] > 100.0
    assert (tmp_path / f"wang_buzsaki_fi_{backend}.png").stat().st_size > 10_000


def test_kernel_fit_gives_the_defaults_and_matches_the_published_synapse(tmp_path, gamma):
    experiment.run("wang_buzsaki", "derive", n_seeds=1, out_dir=tmp_path)
    report = json.loads((tmp_path / "wang_buzsaki_kernel.json").read_text())
    kernel, defaults = report["kernel"], report["defaults"]
    assert kernel["amplitude"] == pytest.approx(defaults["s_amplitude"], rel=1e-3)
    assert kernel["tau_rise_ms"] == pytest.approx(defaults["tau_rise_ms"], rel=1e-2)
    assert kernel["delay_ms"] == pytest.approx(defaults["delay_ms"], abs=0.01)
    single = report["one_spike"]
    assert single["integral_kernel_ms"] == pytest.approx(single["integral_ms"], rel=1e-3)
    assert single["peak_kernel"] == pytest.approx(single["peak"], rel=0.01)
    repetitive = report["repetitive"]
    assert repetitive["mean_saturating_sum_from_100_ms"] == pytest.approx(
        repetitive["mean_s_from_100_ms"], rel=0.02)
    # adding kernels linearly overestimates a fast cell's s: why the synapse saturates
    assert repetitive["mean_kernel_sum_from_100_ms"] > 1.1 * repetitive["mean_s_from_100_ms"]
    assert (tmp_path / "wang_buzsaki_kernel.png").stat().st_size > 10_000
    # the published network (voltage-driven synapses) from the same initial state
    published = json.loads((tmp_path / "wang_buzsaki_published_network.json").read_text())
    published = published["runs"][0]
    assert gamma["nest"]["population_frequency_hz"] == pytest.approx(
        published["population_frequency_hz"], rel=2e-3)
    assert gamma["nest"]["mean_rate_hz"] == pytest.approx(published["mean_rate_hz"], rel=5e-3)
    assert gamma["nest"]["kappa"] == pytest.approx(published["kappa"], abs=0.02)


def saturating_conductance(times):
    """Kernels at each arrival, scaled by 1 - s of the presynaptic cell, written out from the
    published (1 - s) factor independently of the .nestml files."""
    defaults = wang_buzsaki.Parameters()
    kernel = wang_buzsaki_reference.Kernel(defaults.s_amplitude, defaults.tau_rise,
                                           defaults.tau_decay, 0.0)
    g, s, last = np.zeros_like(times), 0.0, 0.0
    for spike in GABA_SPIKES:
        s *= np.exp(-(spike - last) / defaults.tau_decay)
        g += GABA_WEIGHT * 1000.0 * (1.0 - s) * kernel(times - spike - GABA_DELAY)
        s, last = s + defaults.s_amplitude * (1.0 - s), spike
    return g


@pytest.mark.parametrize("backend", BACKENDS)
def test_gaba_synapse_scales_each_spike_by_one_minus_s(backend):
    result = subprocess.run([sys.executable, str(SCENARIOS), "gaba_saturation", backend],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    recorded = json.loads(result.stdout.strip().splitlines()[-1])
    times, g = np.asarray(recorded["t"]), np.asarray(recorded["g"])
    expected = saturating_conductance(times)
    np.testing.assert_allclose(g, expected, atol=1e-6)
    # the saturation is there to see: the fourth spike adds much less than the first
    assert g.max() < 1.5 * GABA_WEIGHT * 1000.0


def test_sweep_runs_each_value_and_reuses_runs(tmp_path):
    arguments = ["sweep", "wang_buzsaki", "I_app", "0.5 uA/cm**2", "1.5 uA/cm**2",
                 "--backend", "nest", "--scale", "0.2", "--duration", "200", "--out", tmp_path]
    result = trisim(*arguments)
    assert result.returncode == 0, result.stderr[-2000:]
    table = json.loads((tmp_path / "wang_buzsaki_sweep_I_app_nest.json").read_text())
    assert [row["x"] for row in table["rows"]] == [0.5, 1.5]
    rates = [row["statistics"]["model_statistics.mean_rate_hz"] for row in table["rows"]]
    assert 0 < rates[0] < rates[1]
    runs = sorted(tmp_path.glob("I_app-*/*.nix"))
    stamps = [path.stat().st_mtime_ns for path in runs]
    assert trisim(*arguments).returncode == 0
    assert [path.stat().st_mtime_ns for path in runs] == stamps  # reused, not run again


@pytest.mark.parametrize("arguments, culprit", [
    (["experiment", "coba_stp", "fi", "--backends", "nest"], "declares no experiments"),
    (["experiment", "wang_buzsaki", "derivee"], "unknown experiment of model 'wang_buzsaki'"),
    (["experiment", "nope", "derive"], "unknown model 'nope'"),
    (["sweep", "wang_buzsaki", "I_nope", "1 uA/cm**2", "--backend", "nest"], "I_nope: unknown key"),
    (["sweep", "wang_buzsaki", "I_app", "1 mV", "--backend", "nest"], "not convertible"),
])
def test_bad_input_is_one_line(tmp_path, arguments, culprit):
    result = trisim(*arguments, "--out", tmp_path)
    assert result.returncode == 2 and culprit in result.stderr
    assert "Traceback" not in result.stderr and not list(tmp_path.iterdir())
