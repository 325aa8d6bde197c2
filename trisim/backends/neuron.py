"""NEURON through pyNN.neuron."""

import pyNN.neuron
from pyNN.neuron.standardmodels.synapses import BaseSynapse
from pyNN.standardmodels import build_translations

from . import common

# PyNN's NEURON weight adjuster (TsodyksMarkramWA) is the three-state model, whose active state
# decays with ``tau_syn``; as tau_syn -> 0 it becomes the two-state model exactly: the active
# state has emptied by the next spike (exp(-h/tau_syn) = 0 for h >= one time step) and the
# recovery factor 1/(1 - tau_syn/tau_rec) tends to 1.
_INSTANTANEOUS_TAU_SYN = 1e-6  # ms


class TsodyksMarkram2Synapse(BaseSynapse, common.TsodyksMarkram2Synapse):
    __doc__ = common.TsodyksMarkram2Synapse.__doc__
    translations = build_translations(
        ("weight", "weight"),
        ("delay", "delay"),
        ("U", "U"),
        ("tau_rec", "tau_rec"),
        ("tau_facil", "tau_facil"),
    )
    model = "TsodyksMarkramWA"
    postsynaptic_variable = None


# NESTML's step semantics (as NEST runs them) apply an input arriving at time t in the step that
# ends at t. NEURON's fixed-step method delivers an event in the step during whose first half it
# arrives, i.e. in the step that starts at t; delivering events to NESTML cells 3/4 of a step
# early puts them in the step ending at t. (Delays read back from such connections are shorter
# by this amount.)
_NESTML_EVENT_ADVANCE = 0.75  # time steps


class Projection(pyNN.neuron.Projection):
    __doc__ = pyNN.neuron.Projection.__doc__

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, **parameters):
        super()._convergent_connect(presynaptic_indices, postsynaptic_index, **parameters)
        new = [c for group in self._connections[postsynaptic_index].values() for c in group]
        if isinstance(self.synapse_type, TsodyksMarkram2Synapse):
            # pyNN.neuron copies the postsynaptic time constant into each new weight adjuster
            for connection in new:
                connection.weight_adjuster.tau_syn = _INSTANTANEOUS_TAU_SYN
        if getattr(self.post.celltype, "nestml_step_semantics", False):
            advance = _NESTML_EVENT_ADVANCE * pyNN.neuron.simulator.state.dt
            for connection in new:
                connection.nc.delay -= advance


class NeuronBackend(common.Backend):
    name = "neuron"
    pynn_module = "pyNN.neuron"
    distribution = "NEURON"
    TsodyksMarkram2Synapse = TsodyksMarkram2Synapse
    Projection = Projection
