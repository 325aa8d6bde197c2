"""A pytest plugin that runs PyNN's system-test scenarios on one simulator.

PyNN marks each scenario with the simulators it runs on, passing the simulator module as the
argument ``sim``. Loaded with ``-p pynn_scenario_plugin``, this keeps the scenarios of
``--simulator NAME`` only, hands them trisim's backend for that simulator as ``sim`` when
``--trisim`` is given (else PyNN's own module), and writes each outcome as a JSON line to
``--outcomes FILE``.
"""

import json

import numpy as np
import pytest


def pytest_addoption(parser):
    parser.addoption("--simulator", required=True)
    parser.addoption("--trisim", action="store_true")
    parser.addoption("--outcomes", required=True)


def _simulator_of(item):
    callspec = getattr(item, "callspec", None)
    return str(callspec.params["sim"]).removeprefix("pyNN.") if callspec else None


def pytest_collection_modifyitems(config, items):
    wanted = config.getoption("simulator")
    kept = [item for item in items if _simulator_of(item) == wanted]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


_backend = []
SEED = 20261207


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # scenarios drawing from numpy's global generator (NoisyCurrentSource on NEURON, which
    # PyNN's test says passes "9/10 times") then get the same numbers on trisim and on PyNN,
    # so that a scenario failing on one and passing on the other is a real difference
    np.random.seed(SEED)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    if item.config.getoption("trisim"):
        if not _backend:
            from trisim import backends
            _backend.append(backends.load(item.config.getoption("simulator")))
        item.funcargs["sim"] = _backend[0]


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        message = ""
        if report.longrepr is not None:
            lines = str(getattr(report.longrepr, "reprcrash", None) or report.longrepr)
            message = lines.strip().splitlines()[-1][:400] if lines.strip() else ""
        with open(_outcomes_path, "a") as stream:
            stream.write(json.dumps({"scenario": report.nodeid, "when": report.when,
                                     "outcome": report.outcome, "message": message}) + "\n")


_outcomes_path = None


def pytest_configure(config):
    global _outcomes_path
    _outcomes_path = config.getoption("outcomes")
