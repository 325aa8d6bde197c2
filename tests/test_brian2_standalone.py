"""Brian2's C++ standalone device gives the runtime device's results, or refuses in one line.

``simulation.device: cpp_standalone`` builds the network into one C++ program: the same
network gives the same spikes and signals as on the runtime device, and what a standalone
program cannot do is refused with one line."""

import numpy as np
import pytest

from trisim import backends
from trisim.errors import BackendError
from trisim.runners import run as runs

# a NESTML cell and a NESTML synapse (with delays), small enough to compile in seconds
SMALL = ["n_cells=10", "duration=100 ms"]


def simulate(device, model="wang_buzsaki", overrides=SMALL):
    model, cfg = runs.resolve_config(model, overrides=[*overrides, f"device={device}"])
    block, _ = runs.simulate(model, backends.load("brian2"), cfg)
    return block.segments[0]


@pytest.fixture(scope="module")
def both_devices():
    # runtime first, then standalone, then runtime again: the backend switches devices
    return {device: simulate(device) for device in ("runtime", "cpp_standalone")}


def test_standalone_gives_the_runtime_devices_spikes_and_signals(both_devices):
    runtime, standalone = both_devices["runtime"], both_devices["cpp_standalone"]
    assert sum(len(train) for train in runtime.spiketrains) > 20  # the cells fire
    assert len(runtime.spiketrains) == len(standalone.spiketrains)
    for a, b in zip(runtime.spiketrains, standalone.spiketrains):
        np.testing.assert_array_equal(a.times.magnitude, b.times.magnitude)
    assert len(runtime.analogsignals) == len(standalone.analogsignals) > 0
    for a, b in zip(runtime.analogsignals, standalone.analogsignals):
        assert a.name == b.name and a.shape == b.shape
        # the devices compile the same expressions separately (Brian2's -ffast-math lets each
        # compiler reorder them): rounding differs, by up to 1.4e-9 relative here near spikes
        np.testing.assert_allclose(b.magnitude, a.magnitude, rtol=1e-8, atol=1e-12)


def test_the_runtime_device_comes_back_after_a_standalone_run(both_devices):
    again = simulate("runtime")
    for a, b in zip(both_devices["runtime"].spiketrains, again.spiketrains):
        np.testing.assert_array_equal(a.times.magnitude, b.times.magnitude)


def test_what_a_standalone_program_cannot_do_is_refused():
    sim = backends.load("brian2")
    sim.setup(timestep=0.1, device="cpp_standalone")
    cells = sim.Population(2, sim.IF_cond_exp())
    with pytest.raises(BackendError, match="IndexConnector or sim.OneToOneConnector"):
        sim.Projection(cells, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01))
    projection = sim.Projection(cells, cells, sim.IndexConnector([0], [1]),
                                sim.StaticSynapse(weight=0.01, delay=1.0))
    with pytest.raises(BackendError, match="get their values when it is created"):
        projection.set(delay=2.0)
    sim.DCSource(amplitude=0.5).inject_into(cells)
    with pytest.raises(BackendError, match="current sources cannot run"):
        sim.run(10.0)
    sim.setup(timestep=0.1)  # back to the runtime device for whatever runs next
