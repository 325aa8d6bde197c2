"""NESTML models in networks on every backend: synapses, and cells' initial values.

Synapses through trisim.codegen.synapse and the per-target modules.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import numpy as np
from scipy import stats

from trisim import backends, codegen, nestml
from trisim.codegen import cache
from trisim.errors import NestmlError
from synapse_scenarios import (PLASTIC_DELAY, PLASTIC_PARAMETERS, PLASTIC_PRE,
                               RELEASE_P, RELEASE_WEIGHT)

SCENARIOS = Path(__file__).with_name("synapse_scenarios.py")
STOCHASTIC = nestml.path("stochastic_release_synapse")


def run_scenario(name, backend, *arguments, env=None):
    result = subprocess.run([sys.executable, str(SCENARIOS), name, backend, *map(str, arguments)],
                            capture_output=True, text=True, timeout=900, env=env)
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


def test_a_synapse_pairs_with_its_cell_in_the_process_that_builds_both(tmp_path):
    """NEST compiles a postsynaptic-port synapse with its cell; in a process that builds them
    into an empty cache, with the generator's files changing before the synapse type is made,
    the synapse still connects onto the cell (it was refused: the two had different keys)."""
    env = {**os.environ, cache.ROOT_VARIABLE: str(tmp_path / "cache")}
    result = run_scenario("paired_while_the_generator_changes", "nest", env=env)
    assert result["built"] >= 2  # the synapse's and the cell's entries: a cold cache
    before, after = result["weights"]
    assert after > before  # three pre-post pairs potentiate


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_synapse_parameters_given_per_connection_apply_per_connection(backend):
    result = run_scenario("per_connection_parameters", backend)
    # the first spike transmits U * weight, seen at most one decaying step late
    for jump, u in zip(result["jumps"], (0.2, 0.5, 0.8)):
        assert u * np.exp(-0.1 / 5.0) * 0.999 <= jump <= u * 1.001
    np.testing.assert_allclose(result["read"], [[0.2, 300.0], [0.5, 300.0], [0.8, 300.0]])
    if backend == "brian2":  # a value the same for every connection is stored once
        assert result["stored_once"] == {"U": False, "tau_rec": True, "weight": True}
        assert result["delay_stored_once"]
        # values set later that differ make it a value per connection
        assert not result["set_stored_once"]
        assert len(set(result["set_tau_rec"])) == 3
        assert all(100.0 <= value <= 200.0 for value in result["set_tau_rec"])


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_delays_set_after_creation_apply_as_if_given_at_creation(backend):
    result = run_scenario("delays_set_after_creation", backend)
    nestml_direct, nestml_later, static_direct, static_later = result["arrivals"]
    assert static_later == static_direct and abs(static_direct - 8.0) <= 0.2 + 1e-9  # 5 + 3
    assert nestml_direct == static_direct and nestml_later == nestml_direct
    np.testing.assert_allclose(result["delays"], 3.0, rtol=1e-12)  # read back as set
    if backend == "brian2":  # delays stored once become delays per connection
        np.testing.assert_allclose(result["differing_delays"], [1.0, 2.0], rtol=1e-12)
        assert result["name_error"] == (
            "on Brian2, synapse tsodyks_markram_synapse and cell striatal_msn_neuron both "
            "have variable(s) U; rename them in one of the .nestml files")


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_stdp_follows_a_delay_changed_after_creation_as_on_nest(backend):
    # the delay sets when the target's spikes reach the synapse: set by Projection.set or
    # through a connection it must change the weights as if given at creation, as on NEST
    result = run_scenario("plastic_delays", backend)
    nest = result if backend == "nest" else run_scenario("plastic_delays", "nest")
    assert abs(nest["at creation"][0] - nest["left at 1 ms"][0]) > 1e-4  # the delay matters
    for way, (weight, delay) in result.items():
        assert weight == pytest.approx(nest[way][0], rel=1e-8), way
        assert delay == pytest.approx(1.0 if way == "left at 1 ms" else 3.0, rel=1e-12), way


def test_synapse_and_cell_files_are_told_apart(shipped):
    with pytest.raises(NestmlError, match="synapse model; use synapse_type"):
        codegen.cell_type(STOCHASTIC, "brian2")
    with pytest.raises(NestmlError, match="neuron model; use cell_type"):
        codegen.synapse_type(shipped("iaf_psc_exp"), "brian2")


@pytest.mark.parametrize("model", ["stdp_pair_synapse", "tsodyks_markram_synapse",
                                   "vogels_sprekeler_synapse"])
def test_brian2_synapse_events_write_only_their_own_variables(model):
    """A name a synapse event assigns is, to Brian2, the postsynaptic cell's variable unless
    the synapse declares it: the event's temporaries (event time, propagators) must not
    carry names a NESTML cell has, such as the propagator step ``nml_h``."""
    from trisim.codegen.printers import brian2 as printer
    program, _, _ = codegen._synapse_program(nestml.path(model), "brian2")
    generated = printer.synapse_code(program)
    for event in filter(None, (generated["on_pre"], generated["on_post"])):
        assigned = {line.split(" = ")[0] for line in event.splitlines() if " = " in line}
        strays = {n for n in assigned
                  if n not in generated["variables"] and not n.startswith("nml_syn_")}
        assert not strays and "nml_syn_nml_t" in assigned, event


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


def _rule(model, p):
    """(on a postsynaptic event, on a presynaptic event): each maps (w, x_pre, x_post) to w,
    written out from the rules' published definitions, independently of the .nestml files."""
    if model == "stdp_pair_synapse":
        return (lambda w, xa, xb: min(p["Wmax"], w + p["A_plus"] * p["Wmax"] * xa),
                lambda w, xa, xb: max(p["Wmin"], w - p["A_minus"] * p["Wmax"] * xb))
    if model == "stdp_symmetric_synapse":
        return (lambda w, xa, xb: min(p["Wmax"], w + p["A"] * xa),
                lambda w, xa, xb: min(p["Wmax"], w + p["A"] * xb))
    return (lambda w, xa, xb: min(p["Wmax"], w + p["eta"] * xa),  # Vogels-Sprekeler
            lambda w, xa, xb: max(0.0, w + p["eta"] * (xb - p["alpha"])))


def reference_weights(model, pre, post):
    """The weight after each presynaptic spike under NEST's event semantics: presynaptic
    spikes at their emission time, postsynaptic ones after the delay, first at a tie; both
    traces jump by 1 at their own spikes before the weight changes."""
    p = PLASTIC_PARAMETERS[model]
    tau_pre = p.get("tau_pre_trace", p.get("tau"))
    tau_post = p.get("tau_post_trace", p.get("tau"))
    on_post, on_pre = _rule(model, p)
    events = sorted([(t + PLASTIC_DELAY, 0) for t in post] + [(t, 1) for t in pre])
    w, x_pre, x_post, last, weights = p["weight"], 0.0, 0.0, 0.0, []
    for time, is_pre in events:
        x_pre *= np.exp(-(time - last) / tau_pre)
        x_post *= np.exp(-(time - last) / tau_post)
        last = time
        if is_pre:
            x_pre += 1.0
            w = on_pre(w, x_pre, x_post)
            weights.append(w)
        else:
            x_post += 1.0
            w = on_post(w, x_pre, x_post)
    return weights


@pytest.mark.parametrize("model", sorted(PLASTIC_PARAMETERS))
def test_plastic_weights_follow_the_rule_and_agree_across_backends(model):
    results = {backend: run_scenario("plasticity", backend, model)
               for backend in sorted(backends.BACKENDS)}
    for backend, result in results.items():
        assert len(result["post"]) >= len(PLASTIC_PRE) - 1, backend  # the drive works
        expected = reference_weights(model, PLASTIC_PRE, result["post"])
        np.testing.assert_allclose(result["weights"], expected, rtol=1e-9, err_msg=backend)
        # the pattern moves the weight both ways or far (the test can fail)
        assert np.ptp(result["weights"]) > 0.05 * PLASTIC_PARAMETERS[model]["weight"], backend
    reference = results["nest"]["weights"]
    for backend in ("neuron", "brian2"):
        np.testing.assert_allclose(results[backend]["weights"], reference, rtol=1e-9)


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_initial_values_of_nestml_cells_are_applied(backend):
    first = run_scenario("initial_values", backend)
    np.testing.assert_allclose(first, [-61.5, -52.25, -66.0])  # not the model's E_L, -70


def test_parameters_set_between_runs_act_as_on_nest():
    """Changing a NESTML cell's time constants between runs changes its internals (the
    propagators) on every backend, as on NEST: the same spikes, and not those of the
    unchanged cell."""
    unchanged = run_scenario("parameters_set_between_runs", "nest", "no")
    spikes = {b: run_scenario("parameters_set_between_runs", b) for b in sorted(backends.BACKENDS)}
    assert spikes["nest"][:6] == unchanged[:6] and spikes["nest"] != unchanged
    for backend in ("neuron", "brian2"):
        np.testing.assert_allclose(spikes[backend], spikes["nest"], atol=1e-6)
