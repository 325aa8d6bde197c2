"""A small random network of conductance-based cells under Poisson noise, as a PyNN script.
A PyNN user's script, run as ``python random_network.py nest [--cells N] [--duration MS]``.

trisim's tests run it unchanged (``trisim run random_network.py --backend B``).
"""

from pyNN.random import NumpyRNG, RandomDistribution
from pyNN.utility import get_simulator

sim, options = get_simulator(
    ("--cells", "number of excitatory cells", {"type": int, "default": 80}),
    ("--duration", "simulated time (ms)", {"type": float, "default": 400.0}))

sim.setup(timestep=0.1, min_delay=0.5)
rng = NumpyRNG()  # no seed: another network on every run

cell = sim.IF_cond_exp(tau_m=20.0, v_rest=-60.0, v_thresh=-50.0, v_reset=-60.0,
                       tau_refrac=5.0, e_rev_E=0.0, e_rev_I=-80.0, tau_syn_E=5.0,
                       tau_syn_I=10.0)
excitatory = sim.Population(options.cells, cell, label="exc")
inhibitory = sim.Population(options.cells // 4, cell, label="inh")
noise = sim.Population(40, sim.SpikeSourcePoisson(rate=25.0), label="noise")
cells = excitatory + inhibitory
cells.initialize(v=RandomDistribution("uniform", (-60.0, -50.0), rng=rng))

sparse = sim.FixedProbabilityConnector(0.1, rng=rng)
sim.Projection(excitatory, cells, sparse, sim.StaticSynapse(weight=0.004, delay=0.5),
               receptor_type="excitatory")
sim.Projection(inhibitory, cells, sparse, sim.StaticSynapse(weight=0.04, delay=0.5),
               receptor_type="inhibitory")
sim.Projection(noise, cells, sim.FixedProbabilityConnector(0.25, rng=rng),
               sim.StaticSynapse(weight=0.012, delay=1.0), receptor_type="excitatory")

cells.record("spikes")
noise.record("spikes")
excitatory[:3].record("v")
sim.run(options.duration)
print(f"mean rate {cells.mean_spike_count() * 1000.0 / options.duration:.1f} Hz")
sim.end()
