import numpy as np

from trisim.config import Strict, quantity

DESCRIPTION = "LIF cells driven by a current, randomly connected"
TRACES = ("v",)  # recorded from the first cells of each population


class Parameters(Strict):  # every value with its type, default and unit
    n: int = 100
    drive: quantity("nA") = 1.0
    w: quantity("uS") = 0.002


def build(sim, parameters, simulation, rng):
    p = parameters
    n = max(2, round(p.n * simulation.scale))
    cells = sim.Population(n, sim.IF_cond_exp(i_offset=rng.normal(p.drive, 0.05, n)),
                           label="cells")
    sources, targets = np.nonzero(rng.random((n, n)) < 0.1)
    sim.Projection(cells, cells, sim.IndexConnector(sources, targets),
                   sim.StaticSynapse(weight=p.w, delay=1.0), receptor_type="excitatory")
    return {"cells": cells}
