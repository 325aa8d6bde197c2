"""Synthetic runs for the validation tests: Blocks laid out like ``trisim run`` writes them."""

import neo
import numpy as np
import quantities as pq


def poisson_run(seed, rates_hz=(("E", 80, 5.0), ("I", 20, 20.0)), duration_ms=2000.0,
                rate_factor=1.0, simulator=0, t_stop_ms=None, label="synthetic"):
    """One run: Poisson populations ``(name, cells, rate)`` in one Segment, one Group each.

    Like a network, ``seed`` fixes each cell's rate (gamma around the population's, CV 0.25);
    like a simulator, ``simulator`` picks the spike times drawn at those rates, so runs of one
    seed on two "simulators" share the cells' rates but not the spikes. ``rate_factor`` scales
    every rate, as a deliberate change would. ``t_stop_ms`` sets the trains' end if it should
    differ from ``duration_ms``.
    """
    network = np.random.default_rng(seed)
    rng = np.random.default_rng([seed, simulator])
    t_stop = (duration_ms if t_stop_ms is None else t_stop_ms) * pq.ms
    block = neo.Block(name=label, model="synthetic", backend=label, seed=seed)
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    for name, n_cells, rate_hz in rates_hz:
        cell_rates = network.gamma(16.0, rate_hz * rate_factor / 16.0, n_cells)
        trains = []
        for index, cell_rate in enumerate(cell_rates):
            times = np.sort(rng.uniform(0, duration_ms, rng.poisson(cell_rate * duration_ms / 1e3)))
            trains.append(neo.SpikeTrain(times, units="ms", t_start=0 * pq.ms, t_stop=t_stop,
                                         source_population=name, source_index=index))
        segment.spiketrains.extend(trains)
        block.groups.append(neo.Group(trains, name=name))
    return block


def poisson_runs(seeds, **options):
    """One :func:`poisson_run` per seed."""
    return [poisson_run(seed, **options) for seed in seeds]
