"""``trisim run``: simulate one model on one backend and save its Neo Block and summary."""

import time
from pathlib import Path

import numpy as np

from trisim import backends, output
from trisim import model as models
from trisim.analysis.summary import summarize_populations
from trisim.backends.common import progress_callback
from trisim.experiment import run_name


def resolve_config(model, config_path=None, overrides=(), seed=None, scale=None,
                   duration=None):
    """The model (a name, path or :class:`~trisim.model.Model`; see :func:`trisim.model.load`)
    and its validated config, with command-line values applied last."""
    model = models.load(model)
    return model, model.config(config_path, overrides, seed, scale, duration)


def simulate(model, backend, cfg, progress=None):
    """Build and run ``model`` (a :class:`~trisim.model.Model`) on ``backend``; return the Neo
    Block and its build and run times (wall clock and this process's CPU time, in s).

    Under MPI every process calls this: each draws the same network from the seed and creates
    its local part; the Block is gathered on rank 0 (on other ranks it holds local data only).
    """
    simulation = cfg.simulation
    rng = np.random.default_rng(simulation.seed)
    started, started_cpu = time.perf_counter(), time.process_time()
    backend.setup(timestep=simulation.dt, min_delay=simulation.dt, rng_seed=simulation.seed,
                  threads=simulation.threads, resettable=False)
    if backend.num_processes() > 1:
        progress = None  # every rank must advance in the same steps; one bar would be wrong
    backend.model_directory = model.directory  # relative .nestml paths are the model's
    populations = model.build(backend, cfg.parameters, simulation, rng)
    for population in populations.values():
        population.record("spikes")
        if simulation.record_traces and model.traces:
            population[:min(simulation.record_traces, population.size)].record(model.traces)
    built, built_cpu = time.perf_counter(), time.process_time()
    backend.run(simulation.duration,
                progress and [progress_callback(simulation.duration, progress)])
    ran, ran_cpu = time.perf_counter(), time.process_time()
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


def run(model, backend_name, out_dir, config_path=None, overrides=(), seed=None,
        scale=None, duration=None, progress_bar=None):
    """Run one model (a name or path, see :func:`trisim.model.load`) on one backend; write
    ``<stem>.nix`` and ``<stem>.summary.json``.

    Everything the user gave is checked (model, backend, config, output directory) before
    the simulator starts. ``progress_bar(duration_ms)``, if given, returns a callable that
    is told the simulated time as the run advances. Returns the two paths.

    Started by an MPI launcher (``mpirun -n N trisim run ...``) on a backend with MPI, the N
    processes run one simulation and rank 0 alone writes the files (the others return no
    paths); a backend without MPI refuses with :class:`~trisim.errors.BackendError`.
    """
    model, cfg = resolve_config(model, config_path, overrides, seed, scale, duration)
    backend = backends.load(backend_name)
    out_dir = output.writable_directory(out_dir)
    progress = progress_bar(cfg.simulation.duration) if progress_bar else None
    block, times = simulate(model, backend, cfg, progress)
    if not backend.is_root:
        return ()
    stem = run_name(model.name, backend_name, cfg.simulation.seed)
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
    statistics = model.summarize(block, cfg.parameters)
    if statistics is not None:
        summary["model_statistics"] = statistics
    nix_path = output.write_block(block, Path(out_dir) / f"{stem}.nix")
    summary_path = output.write_json(summary, Path(out_dir) / f"{stem}.summary.json")
    return nix_path, summary_path
