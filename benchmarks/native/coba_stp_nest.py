"""Seed 002 in native NEST: COBA network with Tsodyks-Markram short-term plasticity.

Written as NEST's own examples are (``nest.Create``, ``nest.Connect`` with a connection rule,
recording devices, ``nest.Simulate``). The two-state Tsodyks-Markram synapse is NEST's
``tsodyks_synapse`` with an instantaneous postsynaptic current (tau_psc -> 0), u = 0, x = 1.
"""

import nest

from common import (C_M, DELAY, DT, E_E, E_I, E_L, G_L, I_EX, N_TRACES, TAU_E, TAU_FACIL,
                    TAU_I, TAU_R, TAU_REC, U_0, V_R, V_TH, W_E, W_I, Clock, arguments, report)

args = arguments(__doc__.splitlines()[0])
nest.ResetKernel()
nest.verbosity = nest.VerbosityLevel.ERROR
nest.SetKernelStatus({"resolution": DT, "rng_seed": args.seed, "local_num_threads": 1})
clock = Clock()

###############################################################################
# Neurons: conductance-based leaky integrate-and-fire, driven by a constant current

neuron_params = {"C_m": C_M, "g_L": G_L, "E_L": E_L, "V_th": V_TH, "V_reset": V_R,
                 "t_ref": TAU_R, "E_ex": E_E, "E_in": E_I, "tau_syn_ex": TAU_E,
                 "tau_syn_in": TAU_I, "I_e": I_EX}
exc = nest.Create("iaf_cond_exp", args.n_exc, params=neuron_params)
inh = nest.Create("iaf_cond_exp", args.n_inh, params=neuron_params)
neurons = exc + inh
neurons.V_m = nest.random.uniform(E_L, V_TH)
neurons.g_ex = nest.random.uniform(0.0, W_E)
neurons.g_in = nest.random.uniform(0.0, W_I)

###############################################################################
# Synapses: every cell receives from E with p_e and from I with p_i, autapses allowed

stp = {"U": U_0, "tau_rec": TAU_REC, "tau_fac": TAU_FACIL, "tau_psc": 1e-6,
       "u": 0.0, "x": 1.0, "y": 0.0, "delay": DELAY}
nest.CopyModel("tsodyks_synapse", "excitatory_stp", dict(stp, weight=W_E))
nest.CopyModel("tsodyks_synapse", "inhibitory_stp", dict(stp, weight=-W_I))
nest.Connect(exc, neurons, {"rule": "pairwise_bernoulli", "p": args.p_e,
                            "allow_autapses": True}, "excitatory_stp")
nest.Connect(inh, neurons, {"rule": "pairwise_bernoulli", "p": args.p_i,
                            "allow_autapses": True}, "inhibitory_stp")

###############################################################################
# Recording: every cell's spikes; membrane potential and conductances of a few cells

spikes = nest.Create("spike_recorder")
nest.Connect(neurons, spikes)
multimeter = nest.Create("multimeter", params={"record_from": ["V_m", "g_ex", "g_in"],
                                               "interval": DT})
nest.Connect(multimeter, exc[:N_TRACES] + inh[:N_TRACES])
clock.mark("build")

nest.Simulate(args.duration)
clock.mark("run")

n_synapses = sum(nest.GetDefaults(model, "num_connections")
                 for model in ("excitatory_stp", "inhibitory_stp"))
report(clock, len(neurons), n_synapses, spikes.n_events, args.duration)
