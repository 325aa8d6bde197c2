COMMENT
trisim: exponentially decaying synaptic current whose input streams may each carry two-state
Tsodyks-Markram short-term plasticity; the current-based twin of tm2_expsyn.mod, with the
equations and sign of pyNN.neuron's ExpISyn (see tm2_expsyn.mod for the per-stream state).
ENDCOMMENT

NEURON {
    THREADSAFE
    POINT_PROCESS TrisimExpISynTM2
    RANGE tau, i
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
}

PARAMETER {
    tau = 0.1 (ms) <1e-9, 1e9>
}

STATE {
    i (nA)
}

INITIAL {
    i = 0
}

BREAKPOINT {
    SOLVE state METHOD cnexp
}

DERIVATIVE state {
    i' = -i / tau
}

NET_RECEIVE(weight (nA), stp, U, tau_rec (ms), tau_facil (ms), u, x, tlast (ms)) {
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
        i = i - weight * r
        tlast = t
    } else {
        i = i - weight
    }
}
