"""``trisim cell``: one NESTML neuron on one backend, driven by a current and/or spike trains.

This is the conformance probe: the same call on each backend must give the same spikes, up to
integrator error. The current is the model's own ``I_e`` parameter, identical on every
backend, or, in a model without one, a constant current (PyNN's ``DCSource``, on from the
second time step) into its current input port; input spikes are emitted at the given times by
a spike source and arrive one delay later.

:func:`simulate_cells` runs several such cells, each with its own drive, in one population
(cells do not interact, so each behaves as it would alone): ``trisim conformance`` runs all
its drives of a model in one process per backend and time step, started as
``python -m trisim.runners.cell SPEC.json``.
"""

import json
import math
import sys
import time
from contextlib import contextmanager

from trisim import backends, config
from trisim.errors import ConfigError, NestmlError
from trisim.runners.process import cpu_seconds

INPUT_DELAY = 1.0  # ms, from each input spike to its arrival at the cell
VOLTAGE = "V_m"  # recorded by default, if the model has it


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


def recorded_variable(celltype, record=None):
    """The state variable to record: ``record``, else V_m, else the model's first one; None
    for a model without state variables (a parrot), whose spikes alone are recorded."""
    state = list(celltype.default_initial_values)
    if record is None:
        if not state:
            return None
        record = VOLTAGE if VOLTAGE in state else state[0]
    if record not in state:
        raise NestmlError(f"{celltype.nestml_source}: no state variable {record!r} to record; "
                          f"state variables: {', '.join(state) or 'none'}")
    return record


def simulate(path, backend_name, settings=(), current_pa=None, spikes_in=None, weight=None,
             duration=500.0, dt=0.1, record=None):
    """Run one cell; return ``{"spike_times_ms": [...], "v_ms": {"t": [...], "V": [...]},
    "recorded": NAME, "duration_ms": DURATION}``.

    ``weight`` is in PyNN units (uS, nA or mV per the port); by default one unit of the
    port's NESTML weight unit (e.g. 1 nS). ``record``: the state variable returned as V
    (default V_m, or the model's first state variable).
    """
    config.check_time_grid(dt, duration, "--dt", "--duration")
    for option, value in (("--current", current_pa), ("--weight", weight)):
        if value is not None and not math.isfinite(value):
            raise ConfigError(f"{option}: {value} is not a finite number")
    drive = {"current_pa": current_pa, "spikes_in": spikes_in or {}, "weight": weight}
    return simulate_cells(path, backend_name, [drive], settings, duration, dt, record)["cells"][0]


@contextmanager
def model_errors(path, backend_name):
    """Turn a simulator's failure to run the model (Brian2 not compiling its step, NEST
    stopping on a numerical instability, NEURON's hoc errors) into one NestmlError line
    naming the file."""
    kinds = {"nest": lambda: __import__("nest").NESTError,
             "brian2": lambda: __import__("brian2").core.base.BrianObjectException,
             "neuron": lambda: RuntimeError}
    try:
        yield
    except kinds[backend_name]() as exc:
        cause = exc
        while cause.__cause__ is not None:  # Brian2 wraps the error in an object's context
            cause = cause.__cause__
        text = str(cause).strip()
        message = next((line for line in reversed(text.splitlines()) if line.strip()), "")
        raise NestmlError(f"{path}: the run on {backend_name} failed "
                          f"({type(cause).__name__}: {message[:300]})") from exc


def simulate_cells(path, backend_name, drives, settings=(), duration=500.0, dt=0.1, record=None):
    """Run one cell per drive (``{"current_pa", "spikes_in", "weight"}``, each optional) in
    one population; return ``{"cells": [result per drive, as simulate()], "costs": {...}}``.

    ``weight`` may be a number (every port) or a dict by port name or by the port's PyNN
    weight unit (``{"uS": 0.005}``); ports without one take one unit of their NESTML weight
    unit. ``costs`` gives the CPU
    and wall seconds of making the cell type (``type_*``, including any code generation and
    compilation) and of the run (``run_*``, including Brian2's compilation of the step), and
    whether the model was built in this process (``built``).
    """
    from trisim.codegen import cache
    sim = backends.load(backend_name)
    sim.setup(timestep=dt, min_delay=dt, rng_seed=1)
    cpu, wall = cpu_seconds(), time.perf_counter()
    with model_errors(path, backend_name):
        celltype = sim.nestml_cell_type(path)
    costs = {"type_cpu_s": cpu_seconds() - cpu, "type_wall_s": time.perf_counter() - wall,
             "built": bool(cache.built_here)}
    parameters = _parameters(celltype, settings)
    currents = [d.get("current_pa") for d in drives]
    through_port = {}  # current (pA) -> the cells it is injected into
    if any(c is not None for c in currents):
        if "I_e" in celltype.default_parameters:
            default = celltype.default_parameters["I_e"] * 1000.0
            parameters["I_e"] = [(default if c is None else c) / 1000.0 for c in currents]  # nA
        elif celltype.current_port is not None:
            for index, current in enumerate(currents):
                if current is not None:
                    through_port.setdefault(current, []).append(index)
        else:
            raise NestmlError(f"{path}: --current sets the parameter I_e or drives the current "
                              f"input port, and {celltype.__name__} has neither")
    record = recorded_variable(celltype, record)
    with model_errors(path, backend_name):
        cells = sim.Population(len(drives), celltype(**parameters), label="cell")
    for current, indices in through_port.items():  # from the first step NEST's generators
        # reach: on NEST a current source started at 0, dt or 2 dt acts from the step at 2 dt
        sim.DCSource(amplitude=current / 1000.0, start=2 * dt, stop=duration).inject_into(
            cells[indices])
    cells.record(["spikes"] + [record] * (record is not None))
    # cells given the same train on the same port with the same weight share one source and
    # one projection (a Brian2 projection compiles code of its own)
    inputs = {}
    for index, drive in enumerate(drives):
        for port, times in (drive.get("spikes_in") or {}).items():
            if port not in celltype.receptor_types:
                raise ConfigError(f"--spikes-in {port}: no such spike port; ports: "
                                  f"{', '.join(celltype.receptor_types) or 'none'}")
            weight = drive.get("weight")
            if isinstance(weight, dict):  # by port name, or by the port's PyNN weight unit
                weight = weight.get(port, weight.get(celltype.port_weight_units[port]))
            key = (port, tuple(times), weight or celltype.port_unit_weight[port])
            inputs.setdefault(key, []).append(index)
    for (port, times, weight), targets in inputs.items():
        source = sim.Population(1, sim.SpikeSourceArray(spike_times=list(times)))
        sim.Projection(source, cells, sim.IndexConnector([0] * len(targets), targets),
                       sim.StaticSynapse(weight=weight, delay=INPUT_DELAY), receptor_type=port)
    cpu, wall = cpu_seconds(), time.perf_counter()
    with model_errors(path, backend_name):
        sim.run(duration)
    costs.update(run_cpu_s=cpu_seconds() - cpu, run_wall_s=time.perf_counter() - wall)
    segment = cells.get_data().segments[0]
    trace = segment.filter(name=record)[0] if record is not None else None
    sim.end()
    if trace is None:  # a model without state variables: its spikes alone
        times, columns = [], [[] for _ in drives]
    else:
        times = [round(float(t), 6) for t in trace.times.rescale("ms").magnitude]
        columns = [[float(v) for v in trace.magnitude[:, index]] for index in range(len(drives))]
    return {"cells": [{"spike_times_ms": [round(float(t), 6) for t in train.magnitude],
                       "v_ms": {"t": times, "V": columns[index]},
                       "recorded": record, "duration_ms": duration}
                      for index, train in enumerate(segment.spiketrains)],
            "costs": costs}


def main(argv):
    """``python -m trisim.runners.cell SPEC.json``: :func:`simulate_cells` with the keyword
    arguments in SPEC, printing its result as JSON (an error: one line, exit status 2)."""
    from trisim.runners.process import print_result_as_json
    with open(argv[0]) as spec_file:
        spec = json.load(spec_file)
    return print_result_as_json(lambda: simulate_cells(**spec))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
