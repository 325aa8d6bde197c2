"""NESTML synapses on every backend (trisim.codegen.synapse and the per-target modules)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from scipy import stats

from trisim import backends, codegen
from trisim.errors import NestmlError

SCENARIOS = Path(__file__).with_name("synapse_scenarios.py")
sys.path.insert(0, str(SCENARIOS.parent))
from synapse_scenarios import RELEASE_P, RELEASE_WEIGHT, STOCHASTIC  # noqa: E402


def run_scenario(name, backend, *arguments):
    result = subprocess.run([sys.executable, str(SCENARIOS), name, backend, *map(str, arguments)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_stochastic_release_transmits_each_spike_with_its_probability(backend):
    first = run_scenario("stochastic_release", backend, 7)
    n = first["n_spikes"]
    counts = [len(times) for times in first["released"]]
    # all-or-none: p = 1 transmits every spike, p = 0 none...
    assert counts[1] == n and counts[2] == 0
    # ...and p = 0.3 a binomial number of them (two-sided test at 0.1 %)
    assert stats.binomtest(counts[0], n, RELEASE_P[0]).pvalue > 1e-3, counts
    # values read back in PyNN's units, the inhibitory weight positive
    assert first["read"] == [[RELEASE_WEIGHT, p] for p in RELEASE_P]
    # one seed, one sequence of releases, in a new process too
    assert run_scenario("stochastic_release", backend, 7)["released"] == first["released"]


def test_synapse_and_cell_files_are_told_apart(shipped):
    with pytest.raises(NestmlError, match="synapse model; use synapse_type"):
        codegen.cell_type(STOCHASTIC, "brian2")
    with pytest.raises(NestmlError, match="neuron model; use cell_type"):
        codegen.synapse_type(shipped("iaf_psc_exp"), "brian2")


def test_a_synapse_that_never_transmits_is_refused_with_its_line(tmp_path):
    path = tmp_path / "silent_synapse.nestml"
    path.write_text("model silent_synapse:\n"
                    "    state:\n"
                    "        w real = 1\n"
                    "    input:\n"
                    "        pre_spikes <- spike\n"
                    "    output:\n"
                    "        spike\n"
                    "    onReceive(pre_spikes):\n"
                    "        w += 1\n")
    with pytest.raises(NestmlError, match=r"silent_synapse\.nestml:\d+: .*emit_spike"):
        codegen.synapse_type(path, "brian2")
