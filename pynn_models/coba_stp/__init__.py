"""Seed 002: COBA network with Tsodyks-Markram short-term plasticity (Stimberg et al. 2018, Fig. 1).

3200 excitatory and 800 inhibitory conductance-based LIF cells driven by a constant current,
randomly connected with plastic (depressing and facilitating) synapses. Every cell receives
excitation with probability p_e from each excitatory cell and inhibition with p_i from each
inhibitory cell, self-connections included. The published network is one Brian2 group; here
the two halves are the populations "E" and "I" with the same cell parameters.

The synapses are ``nestml/tsodyks_markram_synapse.nestml``, the published two-state model,
compiled for each backend. Departure from the published code: synaptic delays are one time step
(0.1 ms) instead of Brian2's zero delay, because NEST and NEURON require delays of at least one
step.
"""

from pydantic import Field, model_validator

from trisim import configs, nestml
from trisim.config import Delay, Probability, Strict, quantity
from trisim.connectivity import random_indegree

DESCRIPTION = "COBA LIF network, 3200 E + 800 I, Tsodyks-Markram STP (Stimberg et al. 2018)"
TRACES = ("v", "gsyn_exc", "gsyn_inh")
CONFIGS = configs.DIRECTORY  # trisim's own configs folder


class Parameters(Strict):
    """Values of the published code; units are PyNN's (configs may use any convertible unit)."""

    n_exc: int = Field(3200, ge=1)
    n_inh: int = Field(800, ge=1)
    E_l: quantity("mV") = -60.0
    g_l: quantity("uS", gt=0) = 0.00999
    C_m: quantity("nF") = 0.198
    E_e: quantity("mV") = 0.0
    E_i: quantity("mV") = -80.0
    tau_e: quantity("ms", gt=0) = 5.0
    tau_i: quantity("ms", gt=0) = 10.0
    tau_r: quantity("ms") = 5.0
    I_ex: quantity("nA") = 0.15
    V_th: quantity("mV") = -50.0
    V_r: quantity("mV") = -60.0
    w_e: quantity("uS") = 0.00005
    w_i: quantity("uS") = 0.001
    p_e: Probability = 0.05
    p_i: Probability = 0.2
    U_0: Probability = 0.6
    tau_rec: quantity("ms", gt=0) = 500.0
    tau_facil: quantity("ms", gt=0) = 300.3
    delay: Delay = 0.1

    @model_validator(mode="after")
    def _reset_below_threshold(self):
        if self.V_r >= self.V_th:
            raise ValueError(f"V_r: {self.V_r:g} mV is not below V_th ({self.V_th:g} mV)")
        return self


def size(parameters, simulation):
    """Cells and connections at ``simulation.scale`` (in-degrees keep their full-size mean)."""
    p, scale = parameters, simulation.scale
    cells = max(1, round(p.n_exc * scale)) + max(1, round(p.n_inh * scale))
    return {"cells": cells, "connections": round(cells * (p.p_e * p.n_exc + p.p_i * p.n_inh))}


def build(sim, parameters, simulation, rng):
    """Create the network on backend ``sim``; return its populations by name."""
    p = parameters
    # NESTML types first: NEST loads their modules only into an empty network
    stp = sim.nestml_synapse_type(nestml.path("tsodyks_markram_synapse"))
    cell = sim.IF_cond_exp(cm=p.C_m, tau_m=p.C_m / p.g_l, v_rest=p.E_l, v_thresh=p.V_th,
                           v_reset=p.V_r, tau_refrac=p.tau_r, i_offset=p.I_ex,
                           e_rev_E=p.E_e, e_rev_I=p.E_i, tau_syn_E=p.tau_e, tau_syn_I=p.tau_i)
    sizes = {"E": p.n_exc, "I": p.n_inh}
    populations = {name: sim.Population(max(1, round(n * simulation.scale)), cell, label=name)
                   for name, n in sizes.items()}
    for population in populations.values():
        n = population.size
        population.initialize(v=rng.uniform(p.E_l, p.V_th, n),
                              gsyn_exc=rng.uniform(0.0, p.w_e, n),
                              gsyn_inh=rng.uniform(0.0, p.w_i, n))
    inputs = (("E", p.p_e, p.w_e, "excitatory"), ("I", p.p_i, p.w_i, "inhibitory"))
    for source, probability, weight, receptor in inputs:
        pre = populations[source]
        for post in populations.values():
            sources, targets = random_indegree(pre.size, post.size, probability,
                                               pre.size / sizes[source], rng)
            synapse = stp(weight=weight, delay=p.delay, U=p.U_0, tau_rec=p.tau_rec,
                          tau_facil=p.tau_facil)
            sim.Projection(pre, post, sim.IndexConnector(sources, targets), synapse,
                           receptor_type=receptor, label=f"{pre.label}->{post.label}")
    return populations
