"""Shared fixtures."""

import neo
import numpy as np
import pytest
import quantities as pq


@pytest.fixture
def synthetic_block():
    """A Block laid out like the runner's: Poisson populations E (80 cells, 5 Hz) and I (20 cells,
    20 Hz) over 2000 ms in one Segment, one Group per population, annotated spike trains and a
    ``v`` signal per population."""
    rng = np.random.default_rng(12345)
    duration_ms = 2000.0
    block = neo.Block(name="synthetic")
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    for name, n_cells, rate_hz in [("E", 80, 5.0), ("I", 20, 20.0)]:
        spiketrains = [
            neo.SpikeTrain(np.sort(rng.uniform(0, duration_ms,
                                               rng.poisson(rate_hz * duration_ms / 1000))),
                           units="ms", t_start=0 * pq.ms, t_stop=duration_ms * pq.ms,
                           name=f"{name}[{index}]", source_population=name, source_index=index)
            for index in range(n_cells)]
        v = neo.AnalogSignal(rng.normal(-65.0, 2.0, (200, 2)), units="mV",
                             sampling_period=10 * pq.ms, name="v", source_population=name)
        segment.spiketrains.extend(spiketrains)
        segment.analogsignals.append(v)
        block.groups.append(neo.Group(spiketrains + [v], name=name))
    return block


@pytest.fixture
def shipped():
    """Path of one of NESTML's shipped neurons, by short name (e.g. "iaf_cond_exp")."""
    from trisim.nestml import shipped_path
    return shipped_path
