"""The PyNN API every simulator shares, and a backend that offers only that."""

import json
import subprocess
import sys

import pytest

from trisim.backends import BACKENDS, surface

PUBLIC_NAMES = ("import json, sys, importlib; module = importlib.import_module(sys.argv[1]); "
                "print(json.dumps(sorted(n for n in dir(module) if not n.startswith('_'))))")


def public_names(module):
    result = subprocess.run([sys.executable, "-c", PUBLIC_NAMES, module], capture_output=True,
                            text=True, timeout=300, check=True)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_portable_names_are_exactly_those_every_pynn_backend_module_has():
    shared = set.intersection(*(public_names(f"pyNN.{name}") for name in BACKENDS))
    assert shared == set(surface.PORTABLE_NAMES)


PORTABLE = """
import json
from trisim import backends
from trisim.errors import NotPortableError
sim = backends.load("nest", portable=True)
result = {"population": sim.Population is backends.load("nest").Population,
          "has_native": hasattr(sim, "native_cell_type"),
          "star": sorted(set(sim.__all__) - set(surface_names))}
try:
    sim.native_cell_type
except NotPortableError as error:
    result["error"] = str(error)
namespace = {}
exec("from trisim_sim import *", namespace)
result["star_native"] = "native_cell_type" in namespace or "nest" in namespace
print(json.dumps(result))
"""


def test_a_portable_backend_refuses_a_simulators_own_name_by_name():
    code = ("import sys; from trisim import backends; from trisim.backends import surface; "
            "surface_names = surface.PORTABLE_NAMES; "
            "sys.modules['trisim_sim'] = backends.load('nest', portable=True)\n" + PORTABLE)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["population"]  # trisim's own Population, as without portable
    assert not found["has_native"]
    assert "sim.native_cell_type" in found["error"] and "pyNN.brian2" in found["error"]
    # from <backend> import * gives the shared names and trisim's own, nothing else
    assert found["star"] == sorted(("IndexConnector", "nestml_cell_type",
                                    "nestml_synapse_type"))
    assert not found["star_native"]
