COMMENT
Threshold, reset and refractory clamp that turn a passive section into an integrate-and-fire
cell (native NEURON benchmark of seed 002). When v crosses v_th the cell emits a spike, v is
set to v_reset and held there by a large conductance for t_ref.
ENDCOMMENT

NEURON {
    POINT_PROCESS LIFReset
    RANGE v_th, v_reset, t_ref
    NONSPECIFIC_CURRENT i
}

UNITS {
    (mV) = (millivolt)
    (nA) = (nanoamp)
    (uS) = (microsiemens)
}

PARAMETER {
    v_th = -50 (mV)
    v_reset = -60 (mV)
    t_ref = 5 (ms)
    g_clamp = 1e9 (uS)
}

ASSIGNED {
    v (mV)
    i (nA)
    g (uS)
}

INITIAL {
    g = 0
    net_send(0, 1)
}

BREAKPOINT {
    i = g * (v - v_reset)
}

NET_RECEIVE(w) {
    if (flag == 1) {
        WATCH (v > v_th) 2
    } else if (flag == 2) {
        net_event(t)
        v = v_reset
        g = g_clamp
        net_send(t_ref, 3)
    } else if (flag == 3) {
        v = v_reset
        g = 0
    }
}
