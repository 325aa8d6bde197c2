"""Small scenarios run in a fresh process per backend (NEST and NEURON keep global state).

``python tests/scenarios.py NAME BACKEND`` prints the scenario's result as JSON.
"""

import json
import sys

import numpy as np

from trisim import backends

STP = {"U": 0.6, "tau_rec": 500.0, "tau_facil": 300.3}
STP_SPIKES = [10.0, 30.0, 50.0, 70.0, 300.0, 320.0, 900.0]


def stp_efficacies(backend_name):
    """Conductance jump per presynaptic spike through one TsodyksMarkram2Synapse, per receptor.

    A jump is the conductance one step after arrival minus the decayed value before it, in units
    of the weight; each receptor's time constant gives the decay.
    """
    sim = backends.load(backend_name)
    dt, weight, delay = 0.1, 0.001, 0.1
    sim.setup(dt, 1)
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=STP_SPIKES))
    tau = {"excitatory": 5.0, "inhibitory": 10.0}
    target = sim.Population(2, sim.IF_cond_exp(v_thresh=1000.0, tau_syn_E=tau["excitatory"],
                                               tau_syn_I=tau["inhibitory"]))
    for index, receptor in enumerate(tau):
        sim.Projection(source, target, sim.IndexConnector([0], [index]),
                       sim.TsodyksMarkram2Synapse(weight=weight, delay=delay, **STP),
                       receptor_type=receptor)
    target.record(["gsyn_exc", "gsyn_inh"])
    sim.run(STP_SPIKES[-1] + 5.0)
    signals = {s.name: s for s in target.get_data().segments[0].analogsignals}
    result = {}
    for index, (receptor, name) in enumerate(zip(tau, ("gsyn_exc", "gsyn_inh"))):
        g = np.asarray(signals[name].magnitude)[:, index]
        times = signals[name].times.magnitude
        jumps = []
        for spike in STP_SPIKES:
            window = np.flatnonzero((times >= spike) & (times <= spike + delay + 3 * dt))
            k = window[np.argmax(g[window] - g[window - 1])]
            jumps.append(float((g[k] - g[k - 1] * np.exp(-dt / tau[receptor])) / weight))
        result[receptor] = jumps
    sim.end()
    return result


SCENARIOS = {"stp_efficacies": stp_efficacies}

if __name__ == "__main__":
    name, backend_name = sys.argv[1:3]
    print(json.dumps(SCENARIOS[name](backend_name)))
