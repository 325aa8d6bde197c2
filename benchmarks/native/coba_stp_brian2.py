"""Seed 002 in native Brian2: COBA network with Tsodyks-Markram short-term plasticity.

Written as Brian2's own examples are (the model as equations, ``NeuronGroup``, ``Synapses``
with event-driven STP variables, ``connect(p=...)``, monitors, ``run``), in runtime mode with
Brian2's default code generation target (Cython, compiled once and cached).
"""

from brian2 import (NeuronGroup, Synapses, SpikeMonitor, StateMonitor, Network, defaultclock,
                    seed, ms, mV, nS, pA, pF)

from common import (C_M, DELAY, DT, E_E, E_I, E_L, G_L, I_EX, N_TRACES, TAU_E, TAU_FACIL,
                    TAU_I, TAU_R, TAU_REC, U_0, V_R, V_TH, W_E, W_I, Clock, arguments, report)

args = arguments(__doc__.splitlines()[0])
seed(args.seed)
defaultclock.dt = DT * ms
clock = Clock()

# Neurons: conductance-based leaky integrate-and-fire, driven by a constant current
namespace = {"E_l": E_L * mV, "g_l": G_L * nS, "C_m": C_M * pF, "E_e": E_E * mV,
             "E_i": E_I * mV, "tau_e": TAU_E * ms, "tau_i": TAU_I * ms, "I_ex": I_EX * pA,
             "V_th": V_TH * mV, "V_r": V_R * mV, "w_e": W_E * nS, "w_i": W_I * nS,
             "U_0": U_0, "Omega_d": 1 / (TAU_REC * ms), "Omega_f": 1 / (TAU_FACIL * ms),
             "p_e": args.p_e, "p_i": args.p_i}
neuron_eqs = """
dv/dt = (g_l*(E_l - v) + g_e*(E_e - v) + g_i*(E_i - v) + I_ex)/C_m : volt (unless refractory)
dg_e/dt = -g_e/tau_e : siemens
dg_i/dt = -g_i/tau_i : siemens
"""
neurons = NeuronGroup(args.n_exc + args.n_inh, neuron_eqs, threshold="v > V_th",
                      reset="v = V_r", refractory=TAU_R * ms, method="euler",
                      namespace=namespace)
exc, inh = neurons[:args.n_exc], neurons[args.n_exc:]
neurons.v = "E_l + rand()*(V_th - E_l)"
neurons.g_e = "rand()*w_e"
neurons.g_i = "rand()*w_i"

# Synapses: u and x relax between spikes; at each spike u += U_0 (1 - u), r = u x, x -= r
stp_eqs = """
du_S/dt = -Omega_f*u_S : 1 (event-driven)
dx_S/dt = Omega_d*(1 - x_S) : 1 (event-driven)
"""
stp_on_pre = """
u_S += U_0*(1 - u_S)
r_S = u_S*x_S
x_S -= r_S
"""
exc_syn = Synapses(exc, neurons, model=stp_eqs, on_pre=stp_on_pre + "g_e_post += w_e*r_S",
                   delay=DELAY * ms, namespace=namespace)
inh_syn = Synapses(inh, neurons, model=stp_eqs, on_pre=stp_on_pre + "g_i_post += w_i*r_S",
                   delay=DELAY * ms, namespace=namespace)
exc_syn.connect(p="p_e")
inh_syn.connect(p="p_i")
exc_syn.x_S = 1
inh_syn.x_S = 1

# Recording: every cell's spikes; membrane potential and conductances of a few cells
spikes = SpikeMonitor(neurons)
traces = StateMonitor(neurons, ["v", "g_e", "g_i"],
                      record=list(range(N_TRACES)) + list(range(args.n_exc, args.n_exc + N_TRACES)))
network = Network(neurons, exc_syn, inh_syn, spikes, traces)
clock.mark("build")

network.run(args.duration * ms)
clock.mark("run")

report(clock, len(neurons), len(exc_syn) + len(inh_syn), spikes.num_spikes, args.duration)
