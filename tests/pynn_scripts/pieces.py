"""Recorded data a script takes away (``get_data(clear=True)``) or resets, then records more."""

import pyNN.nest as sim

sim.setup(timestep=0.1, min_delay=0.1, t_flush=50.0)
source = sim.Population(2, sim.SpikeSourceArray(spike_times=[[1.0, 12.0, 25.0], [5.0, 15.0]]),
                        label="source")
source.record("spikes")
sim.run(10.0)
first = source.get_data(clear=True)  # the script keeps these; trisim keeps them too
sim.run(20.0)
sim.reset()
sim.run(10.0)
sim.end()
