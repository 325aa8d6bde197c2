"""What the backends read of a cell or synapse type beyond PyNN's API, in one place.

A NESTML cell or synapse type (made by :mod:`trisim.codegen`) has :class:`CellTraits` or
:class:`SynapseTraits` among its bases and sets what its simulator needs; PyNN's own types
have neither and read as the defaults here (:func:`of_cell`, :func:`of_synapse`), so a
backend reads plain attributes instead of guessing with ``getattr``. This module imports
nothing of trisim: the code generators subclass it without an import loop.
"""

from types import MappingProxyType

_EMPTY = MappingProxyType({})


class CellTraits:
    """What the backends read of a cell type; the defaults are a PyNN cell type's."""

    #: the .nestml file of a NESTML cell type; None for PyNN's cell types
    nestml_source = None
    #: inputs take effect at the end of the step in which they arrive, as NEST runs NESTML
    #: models: NEURON and Brian2 deliver spikes to such cells earlier to match
    nestml_step_semantics = False
    #: NEST: {port: "excitatory" | "inhibitory"} of one NEST port that routes by weight sign
    sign_routed_ports = _EMPTY
    #: NEST: {port: factor} applied to weights besides pyNN.nest's 1000 (ports in other units)
    port_weight_scales = _EMPTY
    #: NEST: {variable: factor} from PyNN's units to the model's, for initial values
    initial_value_scale = _EMPTY
    #: NEST: {variable: bool or int} for variables NEST takes only as that Python type
    value_types = _EMPTY
    #: NEST: {native synapse name: NEST model} of the postsynaptic-port synapses compiled
    #: with this cell
    paired_synapses = _EMPTY


class SynapseTraits:
    """What the backends read of a synapse type; the defaults are a PyNN synapse type's."""

    #: a NESTML synapse: its target module gives it the hooks its backend calls
    nestml_synapse = False
    #: it receives the postsynaptic cell's spikes
    has_post_port = False


def of_cell(cell_type):
    """``cell_type`` if it declares :class:`CellTraits`, else the defaults (PyNN's types)."""
    return cell_type if isinstance(cell_type, CellTraits) else CellTraits


def of_synapse(synapse_type):
    """``synapse_type`` if it declares :class:`SynapseTraits`, else the defaults."""
    return synapse_type if isinstance(synapse_type, SynapseTraits) else SynapseTraits
