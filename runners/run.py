"""``trisim run``: simulate one model on one backend and save its Neo Block and summary.

Everything the user gave is checked before any simulator is imported and before any file or
directory is made (:func:`resolve_config`, :func:`check_run`); what fails after that is a
failure of the simulation (:class:`~trisim.errors.SimulationError`, naming the run), and the
output directory is created only when there is a result to write.
"""

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from trisim import backends, output, quiet, resources
from trisim import model as models
from trisim.analysis.summary import summarize_populations
from trisim.backends.common import progress_callback
from trisim.errors import ConfigError, SimulationError, TrisimError
from trisim.experiment import run_name


def resolve_config(model, config_path=None, overrides=(), seed=None, scale=None,
                   duration=None):
    """The model (a name, path or :class:`~trisim.model.Model`; see :func:`trisim.model.load`)
    and its validated config, with command-line values applied last.

    A config given by ``config_path`` whose ``model`` key names another module is refused.
    """
    model = models.load(model)
    cfg = model.config(config_path, overrides, seed, scale, duration)
    if config_path is not None and cfg.model is not None:
        named = models.load(Path(config_path))
        if named.module is not model.module:
            raise ConfigError(f"{config_path}: model: {cfg.model!r} names "
                              f"{named.module.__name__}, but this runs {model.name!r} "
                              f"({model.module.__name__}); give a config of {model.name!r}")
    return model, cfg


def check_run(model, cfg, backend_name, out_dir):
    """Check what a run needs besides a valid config, without importing a simulator or
    creating anything: a known backend, memory for the network (if the model states its
    size), an output directory that can be written."""
    resources.check_memory(model, cfg, backends.simulator(backend_name))
    simulation = getattr(cfg, "simulation", None)  # a PyNN script's run has no config
    if simulation is not None:
        resources.check_threads(simulation)
        backends.check_device(backend_name, simulation.device)
        if simulation.device != "runtime" and model.simulate is not None:
            raise ConfigError(f"device: {simulation.device} builds the network and runs it "
                              f"once, in one piece; model {model.name!r} runs itself in "
                              "phases, which needs device: runtime")
    output.check_output_directory(out_dir)


def simulate(model, backend, cfg, progress=None, context=None):
    """Build and run ``model`` (a :class:`~trisim.model.Model`) on ``backend``; return the Neo
    Block and its build and run times (wall clock and this process's CPU time, in s).

    A model with its own ``simulate`` (see :mod:`trisim.model`) runs itself, told ``context``
    (a :class:`~trisim.model.RunContext`); its times are then the whole run's.

    Under MPI every process calls this: each draws the same network from the seed and creates
    its local part; the Block is gathered on rank 0 (on other ranks it holds local data only).

    Raises
    ------
    SimulationError
        If the simulator (or the model's code) fails: naming the run, what it was doing and
        the cause, which is the exception's ``__cause__``. trisim's own errors (a model asking
        a backend for what it cannot do) pass unchanged.
    """
    simulation = cfg.simulation
    label = f"{model.name} on {backend.name}, seed {simulation.seed}"
    if model.simulate is not None:
        return _simulate_itself(model, backend, cfg, progress, context, label)
    rng = np.random.default_rng(simulation.seed)
    started, started_cpu = time.perf_counter(), time.process_time()
    with _failure_named(label, "setting up the simulator"):
        backend.setup(timestep=simulation.dt, min_delay=simulation.dt,
                      rng_seed=simulation.seed, threads=simulation.threads, resettable=False,
                      device=simulation.device)
    if backend.num_processes() > 1:
        progress = None  # every rank must advance in the same steps; one bar would be wrong
    backend.model_directory = model.directory  # relative .nestml paths are the model's
    with _failure_named(label, "building the network"):
        populations = model.build(backend, cfg.parameters, simulation, rng)
        for population in populations.values():
            population.record("spikes")
            if simulation.record_traces and model.traces:
                population[:min(simulation.record_traces, population.size)].record(
                    model.traces)
    built, built_cpu = time.perf_counter(), time.process_time()
    callbacks = [progress_callback(simulation.duration, progress)] if progress else []
    # under MPI every rank must advance in the same steps: no points timed per process
    if backend.num_processes() == 1 and not backend.steps_from_python:
        callbacks.append(interruption_points(simulation.dt))
    with _failure_named(label, "running"):
        reached = backend.run(simulation.duration, callbacks)
    if reached is not None and reached < simulation.duration - simulation.dt / 2:
        # a simulator that stops early on its own (Brian2's stop()) must not be saved as whole
        raise SimulationError(f"{label}: the run stopped at {reached:g} ms of "
                              f"{simulation.duration:g} ms")
    ran, ran_cpu = time.perf_counter(), time.process_time()
    with _failure_named(label, "collecting the recorded data"):
        annotations = output.provenance(model.name, backend, cfg)
        annotations["model_source"] = model.reference  # finds the model again (trisim analyze)
        block = output.collect_block(populations, annotations)
        del populations
        backend.end()
        backend.release()
    times = {"wall_build_s": built - started, "wall_run_s": ran - built,
             # CPU time of this process: on a machine shared with other work, the measure
             # that benchmarks compare (benchmarks/coba_stp_vs_native.py)
             "cpu_build_s": built_cpu - started_cpu, "cpu_run_s": ran_cpu - built_cpu}
    return block, {name: round(value, 3) for name, value in times.items()}


def interruption_points(dt, wall_s=0.5):
    """A PyNN run callback that hands control back to Python about every ``wall_s`` seconds.

    NEST and NEURON advance in C and see Ctrl-C only when they return (a NEURON run took 200 s
    to stop); at these points Python raises KeyboardInterrupt. The points are whole numbers of
    steps ``dt`` apart, fewer as the run shows how fast it advances; the results do not depend
    on them (NEST, NEURON and Brian2 give the same spikes whatever the points: tests).
    """
    state = {"steps": 10, "since": None}

    def checkpoint(t):
        now = time.perf_counter()
        if state["since"] is not None:  # aim at wall_s, growing at most 4-fold at a time
            elapsed = max(now - state["since"], 1e-6)
            state["steps"] = max(10, min(4 * state["steps"],
                                         round(state["steps"] * wall_s / elapsed)))
        state["since"] = now
        return (round(t / dt) + state["steps"]) * dt
    return checkpoint


class _failure_named:
    """Re-raise an exception of the block as a SimulationError naming the run and the step."""

    def __init__(self, label, step):
        self.label, self.step = label, step

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or isinstance(exc, TrisimError) or not isinstance(exc, Exception):
            return False  # trisim's own errors, Ctrl-C and exits pass unchanged
        cause = "out of memory" if isinstance(exc, MemoryError) else (
            f"{type(exc).__name__}: {_first_line(exc)}")
        raise SimulationError(f"{self.label}: {self.step} failed: {cause}") from exc


def _first_line(exc):
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else "no message"

def _simulate_itself(model, backend, cfg, progress, context, label):
    """A model's own ``simulate``; its times are the whole run's."""
    started, started_cpu = time.perf_counter(), time.process_time()
    backend.model_directory = model.directory
    context = replace(context or models.RunContext(stem=Path(run_name(
        model.name, backend.name, cfg.simulation.seed))), progress=progress)
    with _failure_named(label, "running the model's simulate"):
        block = model.simulate(backend, cfg.parameters, cfg.simulation, context)
    with _failure_named(label, "collecting the recorded data"):
        block.annotate(**output.provenance(model.name, backend, cfg),
                       model_source=model.reference)
        backend.end()
        backend.release()
    times = {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - started_cpu}
    return block, {name: round(value, 3) for name, value in times.items()}


def run(model, backend_name, out_dir, config_path=None, overrides=(), seed=None,
        scale=None, duration=None, progress_bar=None, resume=False):
    """Run one model (a name or path, see :func:`trisim.model.load`) on one backend; write
    ``<stem>.nix`` and ``<stem>.summary.json``.

    Everything the user gave is checked (model, backend, config, memory, output directory)
    before the simulator is imported (:func:`check_run`). ``progress_bar(duration_ms)``, if
    given, returns a callable that is told the simulated time as the run advances. Returns the
    two paths.

    Started by an MPI launcher (``mpirun -n N trisim run ...``) on a backend with MPI, the N
    processes run one simulation and rank 0 alone writes the files (the others return no
    paths); a backend without MPI refuses with :class:`~trisim.errors.BackendError`.
    ``resume`` lets a model with its own ``simulate`` continue from a checkpoint it left in
    ``out_dir`` (a model without one refuses it).
    """
    model, cfg = resolve_config(model, config_path, overrides, seed, scale, duration)
    if resume and model.simulate is None:
        raise ConfigError(f"--resume: model {model.name!r} runs in one piece and keeps no "
                          "checkpoints")
    check_run(model, cfg, backend_name, out_dir)
    with quiet.importing_simulator():
        backend = backends.load(backend_name)
    resources.freeze_imports()
    if model.simulate is not None:  # its checkpoints go beside the run's files
        out_dir = output.writable_directory(out_dir)
    progress = progress_bar(cfg.simulation.duration) if progress_bar else None
    stem = run_name(model.name, backend_name, cfg.simulation.seed)
    context = models.RunContext(stem=Path(out_dir) / stem, resume=resume)
    block, times = simulate(model, backend, cfg, progress, context)
    if not backend.is_root:
        return ()
    summary = {
        "model": model.name,
        "backend": backend_name,
        "seed": cfg.simulation.seed,
        "scale": cfg.simulation.scale,
        "duration_ms": cfg.simulation.duration,
        "dt_ms": cfg.simulation.dt,
        "simulator_version": backend.simulator_version,
        "mpi_processes": block.annotations["mpi_processes"],
        "threads": cfg.simulation.threads,
        "populations": summarize_populations(block),
        **times,
        "config": cfg.as_dict(),
    }
    with _failure_named(f"{model.name} on {backend_name}, seed {cfg.simulation.seed}",
                        "summarizing the run"):
        statistics = model.summarize(block, cfg.parameters)
    if statistics is not None:
        summary["model_statistics"] = statistics
    out_dir = output.writable_directory(out_dir)
    nix_path = output.write_block(block, out_dir / f"{stem}.nix")
    summary_path = output.write_json(summary, out_dir / f"{stem}.summary.json")
    return nix_path, summary_path
