"""NEST through pyNN.nest."""

import nest
import pyNN.nest
from pyNN.nest.synapses import NESTSynapseMixin
from pyNN.standardmodels import build_translations

from . import common

_INSTANTANEOUS_TAU_PSC = 1e-6  # ms


class TsodyksMarkram2Synapse(common.TsodyksMarkram2Synapse, NESTSynapseMixin):
    __doc__ = common.TsodyksMarkram2Synapse.__doc__
    # NEST's three-state tsodyks_synapse becomes this model as tau_psc -> 0 (the active state
    # empties at once), which reproduces the reference efficacies exactly (tests/test_backends.py).
    # NEST 3.10's tsodyks2_synapse with u = 0 does not: its first spike transmits nothing.
    nest_name = "tsodyks_synapse"
    translations = build_translations(
        ("weight", "weight", 1000.0),  # uS or nA -> nS or pA
        ("delay", "delay"),
        ("U", "U"),
        ("tau_rec", "tau_rec"),
        ("tau_facil", "tau_fac"),
    )

    def _get_nest_synapse_model(self):
        model = super()._get_nest_synapse_model()
        nest.SetDefaults(model, {"u": 0.0, "x": 1.0, "y": 0.0, "tau_psc": _INSTANTANEOUS_TAU_PSC})
        return model


class NestBackend(common.Backend):
    name = "nest"
    pynn_module = "pyNN.nest"
    distribution = "nest-simulator"
    TsodyksMarkram2Synapse = TsodyksMarkram2Synapse

    def setup_options(self, seed):
        return {"rng_seed": seed, "threads": 1, "verbosity": "error"}
