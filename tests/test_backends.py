"""The backends on small scenarios, each backend in a fresh process: synapses, connections, inputs."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trisim import backends
from trisim.errors import UnknownNameError

SCENARIOS = Path(__file__).with_name("scenarios.py")
sys.path.insert(0, str(SCENARIOS.parent))
from scenarios import GIVEN_DELAYS, STP, STP_SPIKES  # noqa: E402


def run_scenario(name, backend, *arguments, env=None):
    result = subprocess.run([sys.executable, str(SCENARIOS), name, backend, *arguments],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def reference_efficacies():
    """The published per-spike recurrence (Stimberg et al. 2018), written out independently."""
    u, x, last, efficacies = 0.0, 1.0, None, []
    for t in STP_SPIKES:
        if last is not None:
            u *= np.exp(-(t - last) / STP["tau_facil"])
            x = 1.0 - (1.0 - x) * np.exp(-(t - last) / STP["tau_rec"])
        u += STP["U"] * (1.0 - u)
        r = u * x
        x -= r
        efficacies.append(r)
        last = t
    return np.array(efficacies)


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_tsodyks_markram_synapse_transmits_the_published_efficacy_per_spike(backend):
    expected = reference_efficacies()
    result = run_scenario("stp_efficacies", backend)
    for receptor, tau in (("excitatory", 5.0), ("inhibitory", 10.0)):
        measured = np.array(result[receptor])
        # the shape of the train of efficacies is exact on every backend...
        np.testing.assert_allclose(measured / measured[0], expected / expected[0], rtol=2e-3)
        # ...and the first jump is U * weight, seen at most one decaying step late
        assert expected[0] * np.exp(-0.1 / tau) * 0.999 <= measured[0] <= expected[0] * 1.001


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_array_connect_makes_the_connections_of_the_per_target_path(backend):
    result = run_scenario("array_connect", backend)
    expected = result.pop("expected")
    assert len(result) == 6
    for case, lists in result.items():
        fast, slow = np.array(lists["fast"]), np.array(lists["slow"])
        assert fast[:, :2].astype(int).tolist() == expected, case  # every pair, multapses too
        np.testing.assert_allclose(fast, slow, rtol=1e-12, err_msg=case)
        # weights read back in PyNN units and sign, summed over multapses
        counts = np.zeros((6, 5))
        np.add.at(counts, tuple(np.array(expected).T), 1)
        weight = fast[0, 2]
        assert weight > 0, case
        np.testing.assert_allclose(np.array(lists["weights"]), counts * weight, rtol=1e-12,
                                   err_msg=case)
        # Projection.set reaches every connection
        np.testing.assert_allclose(lists["after_set"], [[0.004, 0.5]], rtol=1e-12, err_msg=case)


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_one_to_one_connects_cell_i_to_cell_i_also_for_a_single_cell(backend):
    result = run_scenario("one_to_one", backend)
    assert result["made"] == [1, 1, 4]
    assert result["pairs"] == [[0, 0], [1, 1], [2, 2], [3, 3]]


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_a_current_source_drives_its_cell_only_while_on(backend):
    counts = run_scenario("current_source", backend)
    assert counts["before"] == 0 and counts["after"] == 0
    assert counts["during"] >= 5


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_every_input_spike_arrives_after_the_same_lag(backend):
    lags = run_scenario("spike_arrival", backend)
    # the 0.1 ms delay, seen in the recorded conductance at once or one sample later depending
    # on the backend, but the same for every spike (pyNN.nest's own spike source put 34 of
    # these 199 a step later)
    assert len(lags) == 199 and len(set(lags)) == 1 and lags[0] in (0.1, 0.2)


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_spike_sources_emit_the_trains_they_are_given(backend):
    result = run_scenario("spike_source_trains", backend)
    assert result["emitted"] == [
        [1.0, 2.5, 7.3], [], [0.3, 0.6, 0.9, 1.2, 1.5], [4.0, 9.0, 14.0, 15.5],
        [4.0, 9.0, 14.0, 15.5]]
    # every spike arrives after the 1 ms delay, those given after the first run too
    # (seen at the first recorded sample of each rise: up to one 0.1 ms sample after)
    np.testing.assert_allclose(result["arrivals"], [5.0, 10.0, 15.0, 16.5], atol=0.15)


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_spike_times_out_of_order_within_a_train_are_refused(backend):
    assert run_scenario("unordered_spike_times", backend) == {
        "within a train": "InvalidParameterValueError", "across trains": None}


@pytest.mark.parametrize("kind", ["static", "nestml"])
@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_delays_onto_nestml_cells_are_the_delays_given_on_every_path(backend, kind):
    # NEURON and Brian2 deliver to NESTML cells early to keep NEST's timing: a script must
    # not see it (delays read back shorter, a delay set through a connection a step late)
    for round_trip in ("", "set(delay=get(delay))"):
        result = run_scenario("given_delays", backend, kind, round_trip)
        expected = np.zeros(7)
        for way, (cells, delays) in GIVEN_DELAYS.items():
            expected[cells] = delays
            for how, read in result["read"][way].items():
                np.testing.assert_allclose(read, delays, rtol=1e-12,
                                           err_msg=f"{way}, read by {how} {round_trip}")
        # the spike at 10 ms arrives after the delay: the conductance rises in that step
        np.testing.assert_allclose(result["rises"], 10.0 + expected, atol=1e-9,
                                   err_msg=round_trip)


def test_a_bounded_native_nest_synapse_connects_onto_an_inhibitory_receptor():
    # NEST wants Wmax with the sign of the (negated) inhibitory weight; a native synapse
    # type takes NEST's units (nS) and PyNN reads weights back in its own (uS)
    weights = run_scenario("bounded_inhibitory", "nest")
    assert weights["before"] == pytest.approx([0.004e-3])
    assert weights["after"] == pytest.approx([(0.004 - 0.001 * 0.5) * 1e-3])


def test_neuron_delivers_a_spike_to_its_connections_at_once_where_they_share_a_delay():
    # NEURON takes one event per spike, not one per connection, only when every NetCon of
    # the source has the same delay, and PyNN's spike-recording NetCon (1 ms) broke that
    built, per_netcon = (run_scenario("recurrent_delays", "neuron", mode)
                         for mode in ("as built", "per NetCon"))
    delays = np.array(built["recording_delays"])
    assert delays[0] == 1.0  # cell 0's connections have many delays: left as PyNN made it
    np.testing.assert_allclose(delays[1:], 1.5, atol=1e-6)
    assert np.all(np.array(per_netcon["recording_delays"]) == 1.0)
    assert sum(map(len, built["spikes"])) > 100 and built["spikes"] == per_netcon["spikes"]


def test_neuron_array_connect_gives_each_connection_its_own_values():
    # the NetCon loop writes values equal on every connection into its code and reads the
    # others per connection
    result = run_scenario("per_connection_values", "neuron")
    for name, lists in result.items():
        read, given = np.array(lists["read"]), np.array(lists["given"])
        assert len(np.unique(given[:, 2])) == len(given), name  # the values do differ
        np.testing.assert_array_equal(read[:, :2], given[:, :2], err_msg=name)
        np.testing.assert_allclose(read[:, 2:], given[:, 2:], rtol=1e-12, err_msg=name)


def test_brian2_cell_parameters_stored_once_become_per_cell_when_set_to_differ():
    # Brian2 stores a parameter that is the same for every cell once; values set later that
    # differ between cells must act exactly as if given at creation
    at_creation, set_later = (run_scenario("cell_parameters", "brian2", mode)
                              for mode in ("at creation", "set later"))
    assert set(at_creation["stored_once"]) == {"c_m", "e_rev_e", "e_rev_i", "tau_syn_e",
                                               "tau_syn_i", "v_rest"}
    assert {"tau_m", "i_offset"} <= set(set_later["stored_once"])
    assert set_later["synapses_read_per_cell"]
    assert sum(map(len, at_creation["spikes"])) > 100
    assert set_later["spikes"] == at_creation["spikes"]


def test_brian2_nestml_cell_values_stored_once_become_per_cell_when_set_to_differ():
    # a NESTML cell's internals computed from parameters stored once are stored once too,
    # and per cell (recomputed) once a parameter they read differs between cells
    at_creation, set_later = (run_scenario("cell_parameters", "brian2", mode, "nestml")
                              for mode in ("at creation", "set later"))
    assert "tau_syn_inh" in at_creation["stored_once"]
    assert not {"tau_syn_exc", "I_e"} & set(at_creation["stored_once"])
    assert {"tau_syn_exc", "I_e"} <= set(set_later["stored_once"])
    for result in (at_creation, set_later):
        from_exc, from_inh = result["internals_stored_once"]
        assert from_exc and not any(from_exc)  # read tau_syn_exc: per cell
        assert from_inh and all(from_inh)
    assert set_later["synapses_read_per_cell"]
    assert sum(map(len, at_creation["spikes"])) > 100
    assert set_later["spikes"] == at_creation["spikes"]


def test_brian2_pushes_spikes_from_python_and_compiles_without_debug_information(tmp_path):
    # on the runtime device the code handing a pathway's spikes to its queue only calls
    # Python methods: it is not compiled, and runs that call alone at each step; a
    # threshold's end of run (emptying the step's events) is not compiled either, and still
    # done; compiled modules carry no debug information (Python's build flags add -g) and
    # reach arrays through pointers, without typed numpy buffers (Cython's code for them was
    # a fifth to a third of gcc's time per module)
    result = run_scenario("compiled_code", "brian2", str(tmp_path))
    assert result["transmitted"]
    assert result["pushing"] == [{"compiled": False, "run": "_owner.push_spikes()"}]
    assert result["events"] == {"during": [1, 1], "after": 0, "compiled": ["run"]}
    assert result["debug_information"] == [False, False, False]
    assert result["buffers"] == {"threshold": 0, "stateupdate": 0, "statemonitor": 0}
    assert result["recorded"] == [1, 2]  # run_regularly counts before the monitor records


def test_brian2_compiles_nothing_again_when_the_same_network_runs_again(tmp_path):
    # each run a fresh process, with other hash seeds and memory addresses: pyNN.brian2 made
    # the recorders' monitors in the order of a set, so their names and code differed
    import os
    modules = []
    for seed in ("1", "2", "3"):
        spikes = run_scenario("recorded_sources", "brian2", str(tmp_path),
                              env={**os.environ, "PYTHONHASHSEED": seed})
        assert spikes == [[1.0], [2.0], [3.0], [4.0]]
        modules.append(sorted(path.name for path in tmp_path.glob("*.so")))
    assert modules[0] and modules[1] == modules[0] and modules[2] == modules[0]


def test_brian2_is_imported_without_pyplot_and_pytest_which_import_afterwards():
    # Brian2 imports both if it can (for `from brian2 import *` and its own test runner);
    # trisim uses neither while it simulates
    code = ("import sys; import trisim.backends.brian2; "
            "print(sorted({'pytest', 'matplotlib.pyplot'} & set(sys.modules))); "
            "import pytest, pylab; print('imported')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["[]", "imported"]


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="unknown backend 'nset'; valid: brian2, nest, neuron"):
        backends.load("nset")


@pytest.mark.parametrize("backend", sorted(backends.BACKENDS))
def test_an_excitatory_projection_onto_an_assembly_is_excitatory_whatever_the_hash_seed(backend):
    # PyNN lists an Assembly's receptor types from a set: under hash seed 1 (not 2) its
    # guess made this projection inhibitory
    import os
    for seed in ("1", "2"):
        result = run_scenario("assembly_receptors", backend,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        assert result["receptor_type"] == "excitatory", seed
        for peaks in result["peaks_uS"]:  # both populations, through the excitatory receptor
            assert peaks["gsyn_exc"] > 0.004 and peaks["gsyn_inh"] == 0.0, (seed, peaks)
