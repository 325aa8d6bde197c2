"""The spike period of one PyNN IF_cond_exp cell under 1 nA, on one simulator, with plain PyNN.

    python one_cell.py nest 0.1        (nest, neuron or brian2; the time step in ms)
"""

import importlib
import sys

import numpy as np

backend, dt = sys.argv[1], float(sys.argv[2])
sim = importlib.import_module(f"pyNN.{backend}")
sim.setup(timestep=dt)
cell = sim.Population(1, sim.IF_cond_exp(i_offset=1.0))
cell.record("spikes")
sim.run(300.0)
spikes = np.asarray(cell.get_data().segments[0].spiketrains[0])
print(f"{backend} at {dt} ms: first spike {spikes[0]:.3f} ms, "
      f"period {np.diff(spikes).mean():.2f} ms")
sim.end()
