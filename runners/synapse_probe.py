"""The synapse conformance probe: any NESTML synapse under one fixed spike pattern on one backend.

``python -m trisim.runners.synapse_probe FILE.nestml BACKEND [DT [SEED]]`` prints the result
as JSON, one process per backend (NEST and NEURON keep global state). What the probe needs is
read from the model (the synapse program its PyNN type carries), not from a table:

- the synapse connects a spike source (:data:`PRE`) onto trisim's probe cell
  (``nestml/synapse_probe_neuron.nestml``), which adds up what it receives and fires in the
  step a spike of :data:`POST` reaches it: every synapse with a postsynaptic port sees the
  same postsynaptic spikes, before and after its presynaptic ones;
- each third-factor port gets the spikes of a source of its own (:data:`MODULATOR`);
- the weight is read after every presynaptic arrival (except for a synapse with
  third-factor ports: see ``weights_between_events``), and what each presynaptic spike
  transmitted is read off the probe cell;
- a synapse that draws random numbers runs :data:`N_RANDOM` connections (each cell of the
  source onto its own probe cell), to be compared by statistics rather than number by number.

Every parameter keeps the model's default: the pattern is the model's own behaviour.
"""

import sys
import time

import numpy as np

from trisim import backends, nestml
from trisim.runners.cell import model_errors
from trisim.runners.process import cpu_seconds

PROBE_CELL = "synapse_probe_neuron"
# presynaptic spikes (bursts, pairs, long pauses), postsynaptic spikes (before and after
# them, 1 to 30 ms apart) and third-factor spikes, in ms
PRE = [10.0, 12.0, 14.0, 30.0, 52.0, 55.0, 90.0, 130.0, 132.0, 170.0, 240.0, 247.0, 300.0,
       302.0, 304.0, 306.0, 380.0, 420.0, 460.0, 462.0]
POST = [15.0, 40.0, 60.0, 95.0, 128.0, 165.0, 180.0, 245.0, 250.0, 290.0, 310.0, 400.0, 455.0]
MODULATOR = [25.0, 100.0, 200.0, 260.0, 350.0, 430.0]
DELAY = 1.0  # ms, of the synapse under test
N_RANDOM = 100  # connections of a synapse that draws random numbers
SEED = 7


def probe(path, backend_name, dt=0.1, seed=SEED):
    """The probe's result for the synapse in ``path``: ``{"weights": [[per connection] per
    presynaptic spike], "transmitted": [[per presynaptic spike] per connection],
    "post": [postsynaptic spike times], "random": bool, "state": {state variable: [per
    connection] at the end}, "costs": {...}}``; weights and transmitted values in PyNN's
    units (nA: the probe cell takes currents), state variables read through
    ``Projection.get``. ``costs`` gives the CPU and wall seconds of making the synapse type
    and its probe cell type (``type_*``, including any code generation and compilation) and of
    the run (``run_*``), and whether any model was built in this process (``built``), as
    :func:`trisim.runners.cell.simulate_cells` does."""
    from trisim.codegen import cache
    sim = backends.load(backend_name)
    dt = float(dt)
    sim.setup(timestep=dt, min_delay=dt, rng_seed=int(seed))
    with model_errors(path, backend_name):
        cpu, wall = cpu_seconds(), time.perf_counter()
        synapse = sim.nestml_synapse_type(path)
        program = synapse.program
        target = sim.nestml_cell_type(nestml.path(PROBE_CELL), synapses=[path])
        costs = {"type_cpu_s": cpu_seconds() - cpu, "type_wall_s": time.perf_counter() - wall,
                 "built": bool(cache.built_here)}
        cpu, wall = cpu_seconds(), time.perf_counter()
        n = N_RANDOM if program.uses_random else 1
        pre = sim.Population(n, sim.SpikeSourceArray(spike_times=PRE))
        cells = sim.Population(n, target())
        drive = sim.Population(1, sim.SpikeSourceArray(spike_times=[t - dt for t in POST]))
        sim.Projection(drive, cells, sim.IndexConnector([0] * n, list(range(n))),
                       sim.StaticSynapse(weight=1.0, delay=dt), receptor_type="drive")
        modulators = {port: sim.Population(1, sim.SpikeSourceArray(spike_times=MODULATOR))
                      for port in program.mod_ports}
        connection = synapse(delay=DELAY, modulators=modulators) if modulators else synapse(
            delay=DELAY)
        projection = sim.Projection(pre, cells, sim.IndexConnector(list(range(n)),
                                                                   list(range(n))),
                                    connection, receptor_type="in_spikes")
        cells.record(["spikes", "received"])
        weights = []
        for t in PRE:
            sim.run_until(t + DELAY + dt)
            weights.append(np.diagonal(projection.get("weight", format="array")).tolist())
        sim.run_until(PRE[-1] + DELAY + 5.0)
        costs.update(run_cpu_s=cpu_seconds() - cpu, run_wall_s=time.perf_counter() - wall)
    # NEST applies postsynaptic spikes at the next presynaptic one: state read at the end
    # includes those before the last presynaptic spike only
    names = [v.name for v in program.state if v.name != program.weight]
    rows = sorted(projection.get(names, format="list")) if names else []
    state = {name: [float(row[2 + k]) for row in rows] for k, name in enumerate(names)}
    segment = cells.get_data().segments[0]
    received = np.asarray(segment.filter(name="received")[0].rescale("nA").magnitude)
    post = segment.spiketrains[0].magnitude.tolist()
    sim.end()
    steps = np.flatnonzero(np.any(np.diff(received, axis=0) != 0, axis=1)) + 1
    jumps = np.diff(received, axis=0)
    return {"weights": weights, "post": [round(t, 6) for t in post],
            "transmitted": [jumps[steps - 1, k].tolist() for k in range(n)],
            "transmission_steps": steps.tolist(), "random": bool(program.uses_random),
            "state": state,
            "plastic": _plastic(program),
            # NEST's volume transmitter advances a modulated synapse between events too, so
            # its weight read between events is for a later model time than elsewhere; what
            # each spike transmits is the weight at that spike on every backend
            "weights_between_events": not program.mod_ports,
            "costs": costs}


def _plastic(program):
    """Whether any event of the synapse assigns to its weight."""
    from trisim.codegen import program as prog
    from trisim.codegen.synapse import _flatten
    bodies = program.on_pre + [s for body in program.events().values() for s in body]
    return any(isinstance(s, prog.Assign) and s.target == program.weight
               for s in _flatten(bodies))


def main(argv):
    """Print :func:`probe`'s result as JSON (an error: one line, exit status 2)."""
    from trisim.runners.process import print_result_as_json
    path, backend_name, *arguments = argv
    return print_result_as_json(lambda: probe(path, backend_name, *arguments))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
