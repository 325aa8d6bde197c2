"""PyNN current sources drive NESTML cells through their current port, alike on every backend.

One process per backend runs NESTML's shipped iaf_psc_exp under each kind of source
(tests/current_scenarios.py); NEST, where NESTML's own code takes the current, is the reference.
"""

import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

SCENARIOS = Path(__file__).with_name("current_scenarios.py")
sys.path.insert(0, str(SCENARIOS.parent))
from current_scenarios import DC, DURATION, NOISE, STEPS, SUBTHRESHOLD  # noqa: E402

DT = 0.1
OTHERS = ("neuron", "brian2")


@lru_cache(maxsize=None)
def run(backend):
    result = subprocess.run([sys.executable, str(SCENARIOS), backend], capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_same_spikes(name, backend):
    reference, times = np.array(run("nest")[name]), np.array(run(backend)[name])
    assert reference.size > 3, f"the {name} source must make the cell fire"
    assert times.size == reference.size, f"{name} on {backend}: {times} vs {reference}"
    np.testing.assert_allclose(times, reference, atol=DT + 1e-9, err_msg=f"{name}, {backend}")


@pytest.mark.parametrize("backend", OTHERS)
def test_dc_source_gives_nest_spikes_only_while_on(backend):
    assert_same_spikes("dc", backend)
    times = np.array(run(backend)["dc"])
    assert times.min() > DC["start"] and times.max() <= DC["stop"] + DT


@pytest.mark.parametrize("backend", OTHERS)
def test_step_current_source_gives_nest_spikes_only_while_above_threshold(backend):
    assert_same_spikes("steps", backend)
    times = np.array(run(backend)["steps"])
    on = [(t0, t1) for t0, t1, amplitude in zip(STEPS["times"], STEPS["times"][1:],
                                                 STEPS["amplitudes"]) if amplitude > 0]
    assert all(any(t0 < t <= t1 + DT for t0, t1 in on) for t in times)


@pytest.mark.parametrize("backend", OTHERS)
def test_ac_source_gives_nest_spikes(backend):
    assert_same_spikes("ac", backend)


def test_noisy_current_source_drives_the_cell_only_while_on():
    for backend in ("nest",) + OTHERS:  # each backend draws its own noise
        times = np.array(run(backend)["noise"])
        assert times.size > 3 and NOISE["start"] < times.min() and times.max() <= NOISE["stop"] + DT


@pytest.mark.parametrize("backend", OTHERS)
def test_current_acts_in_the_same_steps_as_on_nest(backend):
    # a subthreshold pulse: the membrane potential moves first at the end of the step that
    # starts at `start` and relaxes from the end of the step that starts at `stop`, as on NEST
    v, reference = np.array(run(backend)["sub_v"]), np.array(run("nest")["sub_v"])
    times = np.array(run(backend)["sub_v_times"])
    assert v.size == reference.size == round(DURATION / DT) + 1
    moved = times[np.flatnonzero(v != v[0])]
    assert moved[0] == pytest.approx(SUBTHRESHOLD["start"] + DT)
    at_stop = np.argmax(times > SUBTHRESHOLD["stop"] - DT / 2)
    assert v[at_stop + 1] < v[at_stop] and v[at_stop] >= v[at_stop - 1]
    np.testing.assert_allclose(v, reference, atol=1e-6)


@pytest.mark.parametrize("backend", ("nest",) + OTHERS)
def test_injecting_into_a_model_without_a_current_port_is_an_error(backend):
    error = run(backend)["error"]
    assert error is not None and "\n" not in error
    model = Path(__file__).parents[1] / "nestml" / "wang_buzsaki_neuron.nestml"
    assert error.startswith(f"{model}: ")
    assert "no continuous current input" in error
