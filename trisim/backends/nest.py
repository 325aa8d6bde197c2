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


class Projection(pyNN.nest.Projection):
    __doc__ = pyNN.nest.Projection.__doc__

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, **parameters):
        # A NESTML model whose spike ports are qualified excitatory/inhibitory has one NEST
        # port that routes by weight sign; pyNN.nest signs weights for the receptor types
        # "excitatory"/"inhibitory", so connect under that name (the user names the port).
        route = getattr(self.post.celltype, "sign_routed_ports", {}).get(self.receptor_type)
        if route is None:
            return super()._convergent_connect(presynaptic_indices, postsynaptic_index,
                                               **parameters)
        port, self.receptor_type = self.receptor_type, route
        try:
            return super()._convergent_connect(presynaptic_indices, postsynaptic_index,
                                               **parameters)
        finally:
            self.receptor_type = port


class Population(pyNN.nest.Population):
    __doc__ = pyNN.nest.Population.__doc__

    def _set_initial_value_array(self, variable, value):
        # NESTML cell types take initial values in PyNN units; NEST wants the model's units
        scale = getattr(self.celltype, "initial_value_scale", {}).get(variable, 1.0)
        super()._set_initial_value_array(variable, value * scale if scale != 1.0 else value)


class NestBackend(common.Backend):
    name = "nest"
    pynn_module = "pyNN.nest"
    distribution = "nest-simulator"
    TsodyksMarkram2Synapse = TsodyksMarkram2Synapse
    Projection = Projection
    Population = Population

    def setup_options(self, seed):
        return {"rng_seed": seed, "threads": 1, "verbosity": "error"}
