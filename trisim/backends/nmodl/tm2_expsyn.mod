COMMENT
trisim: exponentially decaying synaptic conductance whose input streams may each carry
two-state Tsodyks-Markram short-term plasticity (TsodyksMarkram2Synapse).

The state of each stream lives in its NetCon's weight vector, so a plastic connection is one
NetCon, with no weight-adjuster point process. A NetCon that sets only weight[0] (stp = 0) is
a static synapse: the conductance jumps by its weight, as with NEURON's ExpSyn, whose
equations these are. For a stream with stp = 1, at each spike, in this order:
u decays to 0 with tau_facil and x recovers to 1 with tau_rec since the last spike, then
u += U (1 - u), r = u x, x -= r, g += weight r. Initially u = 0 and x = 1.
ENDCOMMENT

NEURON {
    THREADSAFE
    POINT_PROCESS TrisimExpSynTM2
    RANGE tau, e, i
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    tau = 0.1 (ms) <1e-9, 1e9>
    e = 0 (mV)
}

ASSIGNED {
    v (mV)
    i (nA)
}

STATE {
    g (uS)
}

INITIAL {
    g = 0
}

BREAKPOINT {
    SOLVE state METHOD cnexp
    i = g * (v - e)
}

DERIVATIVE state {
    g' = -g / tau
}

NET_RECEIVE(weight (uS), stp, U, tau_rec (ms), tau_facil (ms), u, x, tlast (ms)) {
    LOCAL r
    INITIAL {
        u = 0
        x = 1
        tlast = t
    }
    if (stp) {
        if (tau_facil > 0) {
            u = u * exp(-(t - tlast) / tau_facil)
        } else {
            u = 0
        }
        if (tau_rec > 0) {
            x = 1 - (1 - x) * exp(-(t - tlast) / tau_rec)
        } else {
            x = 1
        }
        u = u + U * (1 - u)
        r = u * x
        x = x - r
        g = g + weight * r
        tlast = t
    } else {
        g = g + weight
    }
}
