"""PyNN's own system-test scenarios, with trisim's backend in place of PyNN's module.

PyNN 0.13 tests its backends with scenarios written once as functions of the simulator module
``sim`` (``test/system/scenarios`` in its source distribution; scripts/setup.sh unpacks it).
Each backend here runs every scenario PyNN runs on that simulator, with trisim's backend as
``sim``, and must pass wherever ``pyNN.<simulator>`` itself passes: a scenario that fails on
trisim is run again on PyNN's own module, and the test fails if it passes there.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pynn_source import pynn_source

BACKENDS = ("nest", "neuron", "brian2")
PLUGIN_DIR = Path(__file__).parent


def run_scenarios(simulator, trisim, directory, only=()):
    """{scenario id: outcome} of PyNN's scenarios for ``simulator``, run in a fresh process
    in ``directory`` (some scenarios write files) on trisim's backend or PyNN's module."""
    source = pynn_source()
    outcomes = directory / f"{simulator}-{'trisim' if trisim else 'pynn'}.jsonl"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-p", "pynn_scenario_plugin", "--rootdir", str(source), "-o", "addopts=",
               "--simulator", simulator, "--outcomes", str(outcomes),
               *(["--trisim"] if trisim else []),
               *([str(source / scenario) for scenario in only] or
                 [str(source / "test" / "system" / "scenarios")])]
    result = subprocess.run(command, cwd=directory, capture_output=True, text=True,
                            timeout=3000, env={**os.environ, "PYTHONPATH": str(PLUGIN_DIR)})
    if not outcomes.exists():
        pytest.fail(f"PyNN's scenarios did not run on {simulator}:\n{result.stdout[-3000:]}"
                    f"\n{result.stderr[-3000:]}")
    results = {}
    for line in outcomes.read_text().splitlines():
        entry = json.loads(line)
        if entry["scenario"] not in results or entry["outcome"] != "passed":
            results[entry["scenario"]] = entry
    return results


@pytest.mark.slow
@pytest.mark.parametrize("simulator", BACKENDS)
def test_pynn_scenarios_pass_on_trisim_wherever_they_pass_on_pynn(simulator, tmp_path):
    on_trisim = run_scenarios(simulator, True, tmp_path)
    assert len(on_trisim) >= 50, sorted(on_trisim)  # PyNN runs 54-65 per simulator
    failed = sorted(name for name, entry in on_trisim.items() if entry["outcome"] == "failed")
    on_pynn = run_scenarios(simulator, False, tmp_path, only=failed) if failed else {}
    regressions = [f"{name}: {on_trisim[name]['message']}" for name in failed
                   if on_pynn[name]["outcome"] == "passed"]
    assert not regressions, "\n".join(regressions)
    # a skip is PyNN's own (an optional package such as morphio), never a missing simulator
    skipped = [entry["message"] for entry in on_trisim.values() if entry["outcome"] == "skipped"]
    assert not [message for message in skipped if simulator in message.lower()], skipped
