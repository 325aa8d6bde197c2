"""The PyNN API that every simulator shares: what a script may use to run on all of them.

PyNN's backend modules each add their own names to the common API (``pyNN.nest`` has
``native_cell_type`` and ``nest``, ``pyNN.neuron`` has ``h`` and ``IntFire1``...). A script
that uses one of those cannot run on the other simulators, which is what trisim compares, so
a backend in portable mode refuses them by name (:class:`~trisim.backends.common.Backend`).

``PORTABLE_NAMES`` are the public names that ``pyNN.nest``, ``pyNN.neuron`` and
``pyNN.brian2`` of the pinned PyNN all have; ``tests/test_surface.py`` reads the installed
modules and fails if the set is no longer exactly that.
"""

from . import BACKENDS

PORTABLE_NAMES = frozenset("""
    ACSource AdExp AdditivePotentiationMultiplicativeDepression AdditiveWeightDependence
    AllToAllConnector AlphaPSR ArrayConnector Assembly CSAConnector CloneConnector
    CondAlphaPostSynapticResponse CondExpPostSynapticResponse CurrExpPostSynapticResponse
    DCSource DisplacementDependentProbabilityConnector DistanceDependentProbabilityConnector
    EIF_cond_alpha_isfa_ista EIF_cond_exp_isfa_ista ExpPSR FixedNumberPostConnector
    FixedNumberPreConnector FixedProbabilityConnector FixedTotalNumberConnector
    FromFileConnector FromListConnector GSLRNG GutigWeightDependence HH_cond_exp IF_cond_alpha
    IF_cond_exp IF_cond_exp_gsfa_grr IF_curr_alpha IF_curr_delta IF_curr_exp
    IndexBasedProbabilityConnector Izhikevich LIF MultiplicativeWeightDependence Network
    NoisyCurrentSource NumpyRNG OneToOneConnector ParameterSpace PointNeuron Population
    PopulationView Projection RandomDistribution STDPMechanism Sequence SmallWorldConnector
    SpikePairRule SpikeSourceArray SpikeSourcePoisson StandardCellType StandardCurrentSource
    StaticSynapse StepCurrentSource TsodyksMarkramSynapse build_translations cells connect
    control create electrodes end errors get_current_time get_max_delay get_min_delay
    get_time_step initialize list_standard_models logger logging np num_processes populations
    procedural_api projections random rank record record_gsyn record_v recording reset run
    run_for run_until set setup simulator space standardmodels state synapses
""".split())


def not_portable(backend, name, present):
    """The message for ``sim.<name>``, which ``pyNN.<backend>`` has (``present``) or not."""
    shared = ", ".join(f"pyNN.{simulator}" for simulator in BACKENDS)
    if present:
        return (f"sim.{name} has no equivalent on every simulator: pyNN.{backend} has it, but "
                f"it is not in the PyNN API that {shared} share")
    return f"sim.{name}: pyNN.{backend} has no such name, nor has the PyNN API that {shared} share"
