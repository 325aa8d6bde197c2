"""What a NESTML synapse type looks like to PyNN, the same on every backend.

Parameters keep the names of the .nestml file; ``weight`` is the model's weight variable, a
number in PyNN's weight unit. State variables are translated too, so that
``Projection.get`` reads them (they are not given at creation). One translation table per
model converts values to the NESTML units every target computes in; targets add the hooks
their backend calls.
"""

from pyNN.standardmodels import build_translations

from ..backends.traits import SynapseTraits
from . import synapse as syn


class NestmlSynapseType(SynapseTraits):
    """The first base of every NESTML synapse type, before the target's PyNN classes.

    ``modulators`` ({third-factor port: Population}) name the cells whose spikes reach every
    connection through the model's third-factor ports.
    """

    nestml_synapse = True
    #: the model's :class:`~trisim.codegen.synapse.SynapseProgram`
    program = None

    def __init__(self, modulators=None, **parameters):
        self.modulators = syn.checked_modulators(self.program, modulators)
        super().__init__(**parameters)


def common_attributes(synapse, simulator, native_name=lambda variable: variable.name,
                      delay_unit=None):
    """Class attributes of a PyNN synapse type for the synapse program ``synapse`` on
    ``simulator`` (its name in the docstring); targets add their own.

    ``native_name(variable)`` is what the target calls a variable; ``delay_unit`` is what
    the target's delays are multiplied by (Brian2's take a unit).
    """
    weight = next(v for v in synapse.parameters + synapse.state if v.name == synapse.weight)
    others = [v for v in synapse.parameters + synapse.state if v.name != synapse.weight]
    delay = ("delay", "delay") if delay_unit is None else ("delay", "delay", delay_unit)
    return {
        "__doc__": f"NESTML synapse {synapse.name} ({synapse.source}) on {simulator}.",
        "program": synapse,
        "has_post_port": synapse.post_port is not None,
        "default_parameters": {"weight": weight.value, "delay": None,
                               **{v.name: v.value for v in synapse.parameters
                                  if v.name != synapse.weight}},
        "translations": build_translations(
            ("weight", "weight"), delay,
            *[(v.name, native_name(v), v.unit.pynn_to_nestml) for v in others]),
    }
