"""PyNN current sources driving NESTML cells, on one backend, in a fresh process per backend.

``python tests/current_scenarios.py BACKEND`` prints, as JSON, the spike times of NESTML's
shipped iaf_psc_exp under a DC pulse, a step current, a sine current and noise, the membrane
potential of a cell under a subthreshold pulse (when the current first acts), and the error
injecting into a NESTML cell without a current port gives.
"""

import json
import sys
from pathlib import Path

import numpy as np

from trisim import backends
from trisim.errors import NestmlError
from trisim.nestml import shipped_path

NO_CURRENT_PORT = Path(__file__).parents[1] / "nestml" / "wang_buzsaki_neuron.nestml"
DURATION = 350.0  # ms
DC = {"amplitude": 0.5, "start": 50.0, "stop": 250.0}  # nA, ms; rheobase is 0.375 nA
SUBTHRESHOLD = {"amplitude": 0.1, "start": 50.0, "stop": 250.0}
STEPS = {"times": [60.0, 120.0, 170.0, 220.0, 280.0], "amplitudes": [0.5, 0.9, 0.0, 0.6, 0.0]}
AC = {"amplitude": 0.3, "offset": 0.4, "frequency": 10.0, "phase": 0.0,
      "start": 50.0, "stop": 250.0}
NOISE = {"mean": 0.5, "stdev": 0.2, "dt": 1.0, "start": 50.0, "stop": 250.0}  # drawn per backend


def drive(backend_name):
    sim = backends.load(backend_name)
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    cell_type = sim.nestml_cell_type(shipped_path("iaf_psc_exp"))
    silent_type = sim.nestml_cell_type(NO_CURRENT_PORT)
    cells = {name: sim.Population(1, cell_type()) for name in ("dc", "steps", "ac", "noise", "sub")}
    for population in cells.values():
        population.record("spikes")
    cells["sub"].record("V_m")
    sim.DCSource(**DC).inject_into(cells["dc"])
    sim.StepCurrentSource(**STEPS).inject_into(cells["steps"])
    sim.ACSource(**AC).inject_into(cells["ac"])
    sim.NoisyCurrentSource(**NOISE).inject_into(cells["noise"])
    sim.DCSource(**SUBTHRESHOLD).inject_into(cells["sub"])
    silent = sim.Population(1, silent_type())
    try:
        sim.DCSource(**DC).inject_into(silent)
        error = None
    except NestmlError as exc:
        error = str(exc)
    sim.run(DURATION)
    result = {name: [round(float(t), 6) for t in
                     population.get_data().segments[0].spiketrains[0].magnitude]
              for name, population in cells.items()}
    v = cells["sub"].get_data().segments[0].analogsignals[0]
    result["sub_v"] = np.asarray(v.magnitude)[:, 0].round(9).tolist()
    result["sub_v_times"] = np.asarray(v.times.rescale("ms").magnitude).round(6).tolist()
    result["error"] = error
    sim.end()
    return result


if __name__ == "__main__":
    print(json.dumps(drive(sys.argv[1])))
