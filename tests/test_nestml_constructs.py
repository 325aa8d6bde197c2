"""Each class of NESTML construct that NESTML's library uses, in a small model of its own.

Each model (tests/nestml/) runs on NEST, NEURON and Brian2 and agrees; each test also checks
that the construct does what NESTML says. Constructs the step NEURON and Brian2 run cannot
hold are refused in one line naming the model's file and line.

NESTML's shipped library is the benchmark (``trisim conformance --library``); these models
keep every construct the library uses in the default suite.
"""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trisim.codegen import celltype, frontend, program
from trisim.errors import NestmlError
from trisim.runners import conformance, synapse_probe

MODELS = Path(__file__).with_name("nestml")
DT = 0.1
DURATION = 200.0
INPUTS = [20.0, 22.0, 24.0, 60.0, 61.0, 120.0]


def run(model, drives, duration=DURATION):
    """{backend: {stimulus: cell result}} of ``model`` under the named ``drives``."""
    path = MODELS / f"{model}.nestml"
    return {b: conformance.run_cells(path, b, DT, drives, duration)
            for b in conformance.BACKENDS}


def assert_agree(results):
    for stimulus in results["nest"]:
        if stimulus == "costs":
            continue
        reference = results["nest"][stimulus]
        for backend in ("neuron", "brian2"):
            row = conformance.compare(reference, results[backend][stimulus])
            assert row["same_count"], (stimulus, backend, row)
            assert row["max_spike_dt_ms"] <= DT + 1e-9, (stimulus, backend, row)
            assert row["rms_v_mv"] < 0.05, (stimulus, backend, row)


def voltage(result):
    return np.asarray(result["v_ms"]["V"])


def spikes(result):
    return np.asarray(result["spike_times_ms"])


def test_delta_input_adds_its_weight_to_v_and_is_dropped_while_refractory():
    results = run("delta_input_neuron", [
        ("one input", {"spikes_in": {"spikes": [20.0]}, "weight": 2.0}),
        ("driven", {"current_pa": 400.0, "spikes_in": {"spikes": INPUTS}, "weight": 2.0}),
        ("driven alone", {"current_pa": 400.0})])
    assert_agree(results)
    for backend, result in results.items():
        v = voltage(result["one input"])
        arrival = int(round(21.0 / DT))  # the input spike arrives after its 1 ms delay
        assert v[arrival] - v[arrival - 1] == pytest.approx(2.0, abs=1e-9), backend
    nest = results["nest"]
    # the inputs at 21-23 ms make it fire at once; those arriving at 23 and 25 ms, while it is
    # refractory after that spike (5 ms), are dropped: V stays at the reset value
    assert spikes(nest["driven"])[0] == pytest.approx(21.0)
    assert spikes(nest["driven alone"])[0] > 22.0
    refractory = voltage(nest["driven"])[int(21.1 / DT):int(26.0 / DT)]
    assert np.all(refractory == -70.0)


def test_beta_kernel_conductance_in_a_sum_with_a_constant():
    results = run("beta_conductance_neuron", [
        ("inputs", {"current_pa": 150.0, "spikes_in": {"spikes": INPUTS}, "weight": 0.02}),
        ("current", {"current_pa": 150.0})])
    assert_agree(results)
    nest = results["nest"]
    # the tonic conductance holds V below threshold; the inputs (20 nS) make it fire
    assert len(spikes(nest["current"])) == 0 < len(spikes(nest["inputs"]))


def test_functions_with_several_statements_expand_to_the_same_values():
    results = run("function_neuron", [("900 pA", {"current_pa": 900.0}),
                                      ("500 pA", {"current_pa": 500.0}),
                                      ("negative", {"current_pa": -100.0})])
    assert_agree(results)
    for backend, result in results.items():
        # reset to -70 mV - tau_eff, with tau_eff = tau_m / gain + 1 ms (locals, +=)
        assert voltage(result["900 pA"]).min() == pytest.approx(-76.0, abs=1e-9), backend
        # drive(I < 0) returns 0 pA: V stays at rest
        assert np.ptp(voltage(result["negative"])) == pytest.approx(0.0, abs=1e-9), backend
    # above 600 pA the drive is 600 + gain * excess: 900 pA drives as 1200 pA would
    assert len(spikes(results["nest"]["900 pA"])) > 2 * len(spikes(results["nest"]["500 pA"]))


def test_booleans_integers_steps_and_integer_division_as_in_cpp():
    results = run("typed_neuron", [("driven", {"current_pa": 20000.0})])
    assert_agree(results)
    times = spikes(results["nest"]["driven"])
    intervals = np.unique(np.round(np.diff(times), 6))
    # steps(2.05 ms) at 0.1 ms is 21 (NEST counts tics and rounds up); every third spike
    # waits 21 / 2 steps, 10 when assigned to an integer: two intervals, 11 steps apart
    assert len(intervals) == 2
    assert intervals[1] - intervals[0] == pytest.approx(1.1, abs=1e-9)


def test_conditional_expression_switches_a_current():
    results = run("ternary_neuron", [("driven", {"current_pa": 600.0}),
                                     ("no adaptation", {"current_pa": 380.0})])
    assert_agree(results)
    nest = results["nest"]
    assert len(spikes(nest["driven"])) > 3


def test_defaults_that_read_state_start_gating_at_rest():
    built = program.build(frontend.analyse(MODELS / "gating_rest_neuron.nestml"))
    values = celltype.defaults(built, DT)
    alpha = 0.01 * (-65 + 55) / (1 - np.exp((65 - 55) / 10))
    beta = 0.125 * np.exp(0.0)
    assert values["n"] == pytest.approx(alpha / (alpha + beta), rel=1e-12)
    results = run("gating_rest_neuron", [("driven", {"current_pa": 300.0})])
    assert_agree(results)


def test_receptors_of_one_kind_and_of_several_units_each_act():
    inputs = {port: INPUTS for port in ("AMPA", "NMDA", "CURRENT", "DIRECT")}
    results = run("receptors_neuron", [
        ("all", {"current_pa": 200.0, "spikes_in": inputs,
                 "weight": {"uS": 0.01, "nA": 0.2, "mV": 1.0}}),
        *[(port, {"current_pa": 200.0, "spikes_in": {port: INPUTS},
                  "weight": {"uS": 0.01, "nA": 0.2, "mV": 1.0}}) for port in inputs],
        ("none", {"current_pa": 200.0})])
    assert_agree(results)
    rest = voltage(results["nest"]["none"])
    for port in ("AMPA", "NMDA", "CURRENT", "DIRECT"):
        assert np.max(np.abs(voltage(results["nest"][port]) - rest)) > 0.1, port


def test_a_port_the_model_never_reads_takes_any_weight_and_changes_nothing():
    results = run("unread_port_neuron", [("clock", {}),
                                         ("inputs", {"spikes_in": {"spikes": INPUTS}})])
    assert_agree(results)
    nest = results["nest"]
    np.testing.assert_array_equal(spikes(nest["clock"]), spikes(nest["inputs"]))
    assert len(spikes(nest["clock"])) == 8  # every steps(1 / 40 Hz) = 250 steps


def test_a_local_with_a_state_variables_name_shadows_it_in_its_block_only():
    results = run("shadowing_local_neuron", [("current", {"current_pa": 500.0})])
    assert_agree(results)
    nest = results["nest"]["current"]
    # the state V_prev stays at 0 mV, so the condition is V_m >= -55 mV alone: it fires (had
    # the local been the state, V_prev would be below -55 mV there and it would never fire)
    assert len(spikes(nest)) > 3
    v = voltage(nest)
    # the update reads the local: the first step's rise is 1.1 times the membrane's own
    rise = 500.0 / 250.0 * DT * (1 - DT / 20.0)  # mV, to second order in dt / tau_m
    assert v[1] - v[0] == pytest.approx(1.1 * rise, rel=1e-3)


def test_spikes_in_consecutive_steps_are_each_an_event():
    results = run("doublet_neuron", [("current", {"current_pa": 500.0})])
    assert_agree(results)
    times = spikes(results["nest"]["current"])
    # doublets: each first spike followed by a second one time step later
    assert len(times) >= 4 and len(times) % 2 == 0
    np.testing.assert_allclose(times[1::2] - times[::2], DT, atol=1e-9)


def test_integrate_odes_of_a_variable_integrates_its_derivative_state():
    results = run("derivative_input_neuron", [
        ("inputs", {"current_pa": 200.0, "spikes_in": {"spikes": INPUTS}, "weight": 0.005}),
        ("current", {"current_pa": 200.0})])
    assert_agree(results)
    # the conductance decays (its derivative state is integrated): long after the inputs at
    # 60-61 ms (which make the cell fire and reset) V's difference to its course without
    # inputs is the membrane's alone, falling as exp(-t / (C_m / g_L)); a conductance left
    # open would hold it up
    with_inputs, alone = (voltage(results["nest"][s]) for s in ("inputs", "current"))
    difference = np.abs(with_inputs - alone)
    early, late = difference[int(110 / DT)], difference[int(119 / DT)]
    assert early > 0.05  # the inputs moved V
    assert late / early == pytest.approx(np.exp(-9.0 / (250.0 / 16.7)), abs=0.01)


def test_third_factor_synapse_agrees_across_backends():
    path = MODELS / "modulated_synapse.nestml"
    results = {b: conformance.run_synapse(path, b, DT) for b in conformance.BACKENDS}
    for backend in ("neuron", "brian2"):
        row = conformance.compare_trajectories(results["nest"], results[backend])
        assert row["agrees"], (backend, row)
    transmitted = np.ravel(results["nest"]["transmitted"])
    assert np.ptp(transmitted) > 0.01  # the modulator changed the weight


def test_random_synapse_is_compared_by_statistics():
    path = MODELS.parent.parent / "nestml" / "stochastic_release_synapse.nestml"
    results = {b: conformance.run_synapse(path, b, DT) for b in conformance.BACKENDS}
    assert results["nest"]["random"]
    assert len(results["nest"]["transmitted"]) == synapse_probe.N_RANDOM
    for backend in ("neuron", "brian2"):
        row = conformance.compare_statistics(results["nest"], results[backend])
        assert row["agrees"], (backend, row)


def test_a_boolean_synapse_state_is_read_with_not_and_in_conditions():
    """A postsynaptic spike arms the synapse; a presynaptic spike potentiates if armed,
    depresses if not, and disarms it."""
    path = MODELS / "boolean_state_synapse.nestml"
    results = {b: conformance.run_synapse(path, b, DT) for b in conformance.BACKENDS}
    arrivals = [t + synapse_probe.DELAY for t in results["nest"]["post"]]
    expected, w, previous = [], 1.0, -1.0
    for t in synapse_probe.PRE:
        armed = previous < 0 or any(previous < a <= t for a in arrivals)
        w += 0.5 if armed else -0.125
        expected.append(w)
        previous = t
    assert 0 < sum(np.diff(expected) > 0) < len(expected) - 1  # both branches taken
    for backend, result in results.items():
        np.testing.assert_allclose(np.ravel(result["weights"]), expected, atol=1e-9,
                                   err_msg=backend)
        np.testing.assert_allclose(np.ravel(result["transmitted"]), expected, atol=1e-9,
                                   err_msg=backend)
        assert result["state"]["armed"] == [0.0], backend  # the last event was presynaptic


def test_t_in_synapse_events_is_the_postsynaptic_spike_time_and_the_previous_event():
    """onReceive(post_spikes) reads t = t_post, not its arrival t_post + d; the update block
    reads the time of the previous event."""
    path = MODELS / "post_time_synapse.nestml"
    results = {b: conformance.run_synapse(path, b, DT) for b in conformance.BACKENDS}
    post = results["nest"]["post"]
    last_post = [max((s for s in post if s + synapse_probe.DELAY <= t), default=-1.0)
                 for t in synapse_probe.PRE]
    for backend, result in results.items():
        np.testing.assert_allclose(np.ravel(result["weights"]), last_post, atol=1e-6,
                                   err_msg=backend)
    # the time since the previous event: 10 ms for the first spike (from 0), 14 ms from the
    # arrival of the spike at 15 ms (16 ms) to the presynaptic spike at 30 ms
    assert np.ravel(results["nest"]["transmitted"])[[0, 3]] == pytest.approx([10.0, 14.0])
    for backend in ("neuron", "brian2"):
        row = conformance.compare_trajectories(results["nest"], results[backend])
        assert row["agrees"] and row["max_abs_diff"] < 1e-6, (backend, row)
    # state variables read through Projection.get: the last postsynaptic spike, and the
    # previous event's time at the last presynaptic spike (462 ms) is the one at 460 ms
    for backend, result in results.items():
        assert result["state"]["last_post"] == pytest.approx([post[-1]]), backend
        assert result["state"]["previous"] == pytest.approx([460.0]), backend


def test_a_division_of_two_integers_truncates_unless_the_divisor_is_a_number():
    results = run("integer_division_neuron", [("free", {})], duration=20.0)
    assert_agree(results)
    # n / period is 0 until n reaches period (7 steps); n / 4 keeps its fraction
    times = spikes(results["nest"]["free"])
    assert len(times) >= 20
    np.testing.assert_allclose(np.diff(times), 7 * DT, atol=1e-9)
    quarter = voltage(results["nest"]["free"])
    assert np.any(np.abs(quarter - np.round(quarter)) > 0.2)


def test_variables_named_as_the_targets_own_names_keep_their_meaning():
    # i counts spikes, dt is the refractory time: on NEURON and Brian2 these names become
    # nml_i and nml_dt, which must not be trisim's own (a loop counter, the time step)
    results = run("reserved_names_neuron", [("driven", {"current_pa": 1500.0})],
                  duration=100.0)
    assert_agree(results)
    for backend, result in results.items():
        times, v = spikes(result["driven"]), voltage(result["driven"])
        # each spike weakens the drive (6 mV/ms at 1500 pA) by 0.5 mV/ms per spike so far:
        # below 4 mV/ms the upstroke has a stable point, and the cell fires 4 times
        assert len(times) == 4, backend
        for spike in times:  # V is held at reset for dt = 3 ms, not for one time step
            k = int(round(spike / DT))
            assert np.all(v[k:k + 31] == -70.0) and v[k + 31] > -70.0, (backend, spike)


def test_variables_named_as_keywords_of_the_targets_keep_their_meaning():
    # C++, NMODL, Cython keywords, NEURON's built-in functions and generated C++, a Brian2
    # unit: each is renamed on NEURON and Brian2 (NEST's target renames C++ keywords itself)
    results = run("keyword_names_neuron", [("driven", {"current_pa": 400.0})])
    assert_agree(results)
    for backend, result in results.items():
        times, v = spikes(result["driven"]), voltage(result["driven"])
        # amp (100 pA) adds to the 400 pA drive; the threshold rises by pulse (4 mV) at each
        # spike and relaxes with cdef * 1 ms (50 ms): the intervals lengthen
        assert len(times) >= 4, backend
        intervals = np.diff(times)
        assert intervals[-1] > intervals[0] + 1.0, (backend, intervals)
        for spike in times:  # V is held at min (-75 mV) for TABLE = 2 ms
            k = int(round(spike / DT))
            assert np.all(v[k:k + 21] == -75.0) and v[k + 21] > -75.0, (backend, spike)


def test_a_function_called_as_a_statement_runs_and_changes_nothing():
    # NESTML's NEST target compiles functions as const: report(V_m) and note() in the update
    # and onCondition blocks print only; the cell fires as without them
    results = run("statement_call_neuron", [("driven", {"current_pa": 600.0})])
    assert_agree(results)
    tau, c_m, gap = 10.0, 250.0, 15.0  # ms, pF, mV from E_L to V_th
    expected = 2.0 + tau * np.log(1.0 / (1.0 - gap * c_m / (600.0 * tau)))  # refractory + rise
    for backend, result in results.items():
        intervals = np.diff(spikes(result["driven"]))
        assert len(intervals) >= 5, backend
        np.testing.assert_allclose(intervals, expected, atol=2 * DT, err_msg=backend)


def test_a_synapse_without_parameters_indented_by_two_spaces_runs_on_every_backend():
    path = MODELS / "indented_synapse.nestml"
    results = {b: conformance.run_synapse(path, b, DT) for b in conformance.BACKENDS}
    expected = 0.9 ** np.arange(len(synapse_probe.PRE))
    for backend, result in results.items():
        np.testing.assert_allclose(np.ravel(result["transmitted"]), expected, rtol=1e-9,
                                   err_msg=backend)
        np.testing.assert_allclose(np.ravel(result["weights"]), 0.9 * expected, rtol=1e-9,
                                   err_msg=backend)


def test_a_current_drives_a_model_without_i_e_through_its_current_port():
    results = run("port_current_neuron", [("driven", {"current_pa": 600.0})])
    assert_agree(results)
    tau, c_m, gap = 10.0, 250.0, 15.0  # ms, pF, mV from E_L to V_th
    rise = tau * np.log(1.0 / (1.0 - gap * c_m / (600.0 * tau)))  # ms, at 600 pA
    for backend, result in results.items():
        times = spikes(result["driven"])
        assert len(times) >= 5, backend
        # the source is on from the second step (NEST's current generators reach a cell
        # from there), I_e from the first
        assert times[0] == pytest.approx(2 * DT + rise, abs=DT + 1e-9), backend
        np.testing.assert_allclose(np.diff(times), 2.0 + rise, atol=2 * DT, err_msg=backend)


@pytest.mark.parametrize("backend", conformance.BACKENDS)
def test_a_current_for_a_model_without_i_e_or_current_port_is_one_line(backend):
    path = MODELS / "relay_neuron.nestml"
    result = subprocess.run([sys.executable, "-m", "trisim.cli", "cell", str(path),
                             "--backend", backend, "--current", "100"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"trisim cell: error: {path}: --current sets the parameter I_e or drives the current "
        "input port, and relay_neuron has neither"]


@pytest.mark.parametrize("text, error", [
    ("NEURON { POINT_PROCESS broken\n", "Error"),  # nocmodl's own error
    ("NEURON { POINT_PROCESS broken }\nVERBATIM\nnot C++;\nENDVERBATIM\n", "error"),  # C++
])
def test_a_failed_nmodl_compilation_is_one_line_naming_the_model(tmp_path, text, error):
    from trisim.codegen import neuron
    (tmp_path / "broken.mod").write_text(text)
    with pytest.raises(NestmlError) as failure:
        neuron._nrnivmodl(tmp_path, "my_model.nestml")
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("my_model.nestml: nrnivmodl failed on the generated NMODL: ")
    assert error in message.partition("NMODL: ")[2]


@pytest.mark.parametrize("model, line, construct", [
    ("vector_state_neuron", 5, "vector variable 'g [2]'"),
    ("vector_port_neuron", 22, "vector input port 'spikes[2]'"),
    ("delay_equation_neuron", 4, "'x(t - lag)': delay differential equations"),
    ("string_neuron", 7, "string variable 'mode'"),
    ("assigning_function_neuron", 15, "function counted assigns calls, a variable of the model"),
])
def test_constructs_the_step_cannot_hold_are_refused_with_their_line(model, line, construct):
    # NEST's target runs these; the step NEURON and Brian2 run would run them silently wrong
    # (a vector as one number, a delayed value as the current one, text)
    with pytest.raises(NestmlError, match=rf"{model}.nestml:{line}: {re.escape(construct)}"):
        program.build(frontend.analyse(MODELS / f"{model}.nestml"))


@pytest.mark.parametrize("backend", conformance.BACKENDS)
def test_a_refused_construct_is_one_line_and_exit_2_on_every_backend(backend):
    path = MODELS / "vector_port_neuron.nestml"
    result = subprocess.run([sys.executable, "-m", "trisim.cli", "cell", str(path),
                             "--backend", backend], capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"trisim cell: error: {path}:22: vector input port 'spikes[2]': vectors are not "
        "supported on NEURON and Brian2"]


def test_a_model_without_state_variables_records_its_spikes_alone():
    results = run("relay_neuron", [("inputs", {"spikes_in": {"relayed": INPUTS,
                                                            "dropped": [30.0, 90.0]}})])
    assert_agree(results)
    for backend, result in results.items():
        cell = result["inputs"]
        assert cell["recorded"] is None and cell["v_ms"]["V"] == [], backend
        # each relayed spike is passed on in the step it arrives in (1 ms after its time)
        times = spikes(cell)
        assert len(times) == len(INPUTS), backend
        assert np.all((times >= np.array(INPUTS) + 1.0 - 1e-9)
                      & (times <= np.array(INPUTS) + 1.0 + DT + 1e-9)), (backend, times)
