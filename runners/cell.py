"""``trisim cell``: one NESTML neuron on one backend, driven by a current and/or spike trains.

This is the conformance probe: the same call on each backend must give the same spikes, up to
integrator error. The drive is the model's own ``I_e`` parameter, identical on every backend;
input spikes are emitted at the given times by a spike source and arrive one delay later.
"""

import math

from trisim import backends, config
from trisim.errors import ConfigError, NestmlError

INPUT_DELAY = 1.0  # ms, from each input spike to its arrival at the cell


def parse_spike_inputs(texts):
    """``["PORT:T1,T2", ...]`` -> ``{PORT: [T1, T2]}`` (times in ms)."""
    inputs = {}
    for text in texts:
        port, separator, times = text.partition(":")
        try:
            inputs[port.strip()] = sorted(float(t) for t in times.split(",") if t.strip())
        except ValueError:
            raise ConfigError(f"--spikes-in {text!r}: expected PORT:T1,T2,... in ms") from None
        if not separator or not inputs[port.strip()]:
            raise ConfigError(f"--spikes-in {text!r}: expected PORT:T1,T2,... in ms")
        if not all(math.isfinite(t) and t >= 0 for t in inputs[port.strip()]):
            raise ConfigError(f"--spikes-in {text!r}: spike times are finite and >= 0 ms")
    return inputs


def _parameters(celltype, settings):
    values = {}
    for setting in settings:
        name, separator, text = setting.partition("=")
        name = name.strip()
        if not separator or name not in celltype.default_parameters:
            raise ConfigError(f"--set {setting!r}: {celltype.__name__} has no parameter "
                              f"{name!r}; parameters: {', '.join(celltype.default_parameters)}")
        unit = celltype.parameter_units[name]
        try:
            values[name] = float(text) if unit == "1" else config.parse_quantity(text, unit)
        except ValueError as exc:
            raise ConfigError(f"--set {name}: {exc}") from None
    return values


def simulate(path, backend_name, settings=(), current_pa=None, spikes_in=None, weight=None,
             duration=500.0, dt=0.1, record="V_m"):
    """Run one cell; return ``{"spike_times_ms": [...], "v_ms": {"t": [...], "V": [...]}}``.

    ``weight`` is in PyNN units (uS, nA or mV per the port); by default one unit of the
    port's NESTML weight unit (e.g. 1 nS).
    """
    config.check_time_grid(dt, duration, "--dt", "--duration")
    for option, value in (("--current", current_pa), ("--weight", weight)):
        if value is not None and not math.isfinite(value):
            raise ConfigError(f"{option}: {value} is not a finite number")
    sim = backends.load(backend_name)
    sim.setup(timestep=dt, min_delay=dt, rng_seed=1)
    celltype = sim.nestml_cell_type(path)
    parameters = _parameters(celltype, settings)
    if current_pa is not None:
        if "I_e" not in celltype.default_parameters:
            raise NestmlError(f"{path}: --current sets the parameter I_e, which "
                              f"{celltype.__name__} does not have")
        parameters["I_e"] = current_pa / 1000.0  # pA -> nA
    if record not in celltype.default_initial_values:
        raise NestmlError(f"{path}: no state variable {record!r} to record")
    cell = sim.Population(1, celltype(**parameters), label="cell")
    cell.record(["spikes", record])
    for port, times in (spikes_in or {}).items():
        if port not in celltype.receptor_types:
            raise ConfigError(f"--spikes-in {port}: no such spike port; ports: "
                              f"{', '.join(celltype.receptor_types) or 'none'}")
        source = sim.Population(1, sim.SpikeSourceArray(spike_times=times))
        synapse = sim.StaticSynapse(weight=weight or celltype.port_unit_weight[port],
                                    delay=INPUT_DELAY)
        sim.Projection(source, cell, sim.IndexConnector([0], [0]), synapse, receptor_type=port)
    sim.run(duration)
    segment = cell.get_data().segments[0]
    trace = segment.filter(name=record)[0]
    sim.end()
    return {"spike_times_ms": [round(float(t), 6) for t in segment.spiketrains[0].magnitude],
            "v_ms": {"t": [round(float(t), 6) for t in trace.times.rescale("ms").magnitude],
                     "V": [float(v) for v in trace.magnitude[:, 0]]}}
