COMMENT
Exponential synaptic conductance with two-state Tsodyks-Markram short-term plasticity, one
state per input stream (NetCon), in the style of NEURON's tmgsyn (native NEURON benchmark of
seed 002). At each spike, after u has decayed with tau_facil and x has recovered with tau_rec:
u += U (1 - u), r = u x, x -= r, g += weight r. Initially u = 0 and x = 1.
ENDCOMMENT

NEURON {
    POINT_PROCESS TMExpSyn
    RANGE tau, e, i, U, tau_rec, tau_facil
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    tau = 5 (ms) <1e-9, 1e9>
    e = 0 (mV)
    U = 0.6 (1) <0, 1>
    tau_rec = 500 (ms) <1e-9, 1e9>
    tau_facil = 300 (ms) <1e-9, 1e9>
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

NET_RECEIVE(weight (uS), u, x, tsyn (ms)) {
    LOCAL r
    INITIAL {
        u = 0
        x = 1
        tsyn = t
    }
    u = u * exp(-(t - tsyn) / tau_facil)
    x = 1 - (1 - x) * exp(-(t - tsyn) / tau_rec)
    tsyn = t
    u = u + U * (1 - u)
    r = u * x
    x = x - r
    g = g + weight * r
}
