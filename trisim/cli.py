"""The ``trisim`` command line: a table of commands (:data:`COMMANDS`).

Each command is its help, its arguments (built from the options commands share) and a handler
that calls its runner in ``trisim.runners`` and prints what the runner formats. Runners are
imported only by the command that needs them, so ``trisim --help`` and bad input stay fast.
Library code raises :class:`~trisim.errors.TrisimError`; only here is it turned into one line on
stderr and an exit status (:func:`trisim.errors.exit_status`: 2 bad input, 1 a failed
simulation, 130 interrupted). Anything else is a bug: one line too, and ``--debug`` shows its
traceback.
"""

import argparse
import sys
import traceback
from dataclasses import dataclass
from typing import Callable

from trisim import quiet
from trisim.backends import BACKENDS
from trisim.errors import EXIT_BAD_INPUT, EXIT_FAILED, ConfigError, exit_status

EXIT_DISAGREE = 1  # trisim validate: the backends differ (a result, not an error)
ALL_BACKENDS = ",".join(BACKENDS)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other trisim error."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


# Options several commands share.

def model_argument(parser):
    parser.add_argument("model", help="an installed model's name (see 'trisim models'), or "
                        "a path: a model module (.py, with its .yaml beside it), a config "
                        "(.yaml) naming its module, or (run, validate) an unchanged PyNN script")


def config_options(parser, runs="the run"):
    parser.add_argument("--config", help="YAML config (default: the model's own)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a config value of {runs}, with its unit "
                        "(e.g. w_i='1.2 nS')")
    parser.add_argument("--scale", type=float, help="population sizes relative to the published")
    parser.add_argument("--duration", type=float, metavar="MS", help="simulated time in ms")


def backend_option(parser):
    parser.add_argument("--backend", required=True, choices=sorted(BACKENDS))


def backends_option(parser, default, help):
    parser.add_argument("--backends", default=default, metavar="B1,B2,...", help=help)


def seeds_option(parser, default, help):
    parser.add_argument("--seeds", type=int, default=default, metavar="N", help=help)


def jobs_option(parser, default, help="runs at a time, each in its own process"):
    parser.add_argument("--jobs", type=int, default=default, metavar="N", help=help)


def out_option(parser, default, help="output directory"):
    parser.add_argument("--out", default=default, metavar="DIR",
                        help=f"{help} (default: {default})" if default else help)


# Progress shown while a command works, on a terminal only.

def progress_over_time(duration_ms):
    """A tqdm bar over simulated time when stderr is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    bar = tqdm(total=round(duration_ms), unit="ms", desc="simulated", leave=False)

    def update(t_ms):
        bar.update(round(t_ms) - bar.n)
    return update


def progress_over_runs(total):
    """A tqdm bar over finished runs when stderr is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    bar = tqdm(total=total, unit="run", desc="runs", leave=False)

    def update(done):
        bar.update(done - bar.n)
    return update


def print_lines(lines):
    for line in lines:
        print(line)


# The commands: arguments and handler of each.

def models_arguments(parser):
    pass


def command_models(args):
    from trisim.runners import models
    print_lines(models.lines())


def script_arguments(parser):
    """The command takes a PyNN script's own arguments after ``--`` (see :func:`main`)."""
    parser.set_defaults(script_args=[])
    parser.epilog = ("MODEL may be an unchanged PyNN script (.py); its own arguments go last, "
                     "after --: ... SCRIPT.py [options] -- SCRIPT_ARG ...")


def run_arguments(parser):
    model_argument(parser)
    backend_option(parser)
    config_options(parser)
    parser.add_argument("--seed", type=int, help="random seed (network, initial state, "
                        "simulator)")
    out_option(parser, "out")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint an interrupted run of this model "
                        "left in OUT (models that run in checkpointed blocks)")
    script_arguments(parser)


def command_run(args):
    from trisim.runners import script
    if script.is_script(args.model):
        script.check_no_model_options(args.config, args.set, args.scale, args.duration)
        if args.resume:
            raise ConfigError("--resume: a PyNN script keeps no checkpoints to resume from")
        print_lines(script.run_script(args.model, args.backend, args.out, args.seed,
                                      args.script_args))
        return
    script.check_no_script_arguments(args.model, args.script_args)
    from trisim.runners import run
    print_lines(run.run(args.model, args.backend, args.out, args.config, args.set, args.seed,
                        args.scale, args.duration, progress_bar=progress_over_time,
                        resume=args.resume))


def analyze_arguments(parser):
    parser.add_argument("file", metavar="FILE.nix")
    out_option(parser, None, "output directory (default: beside FILE)")


def command_analyze(args):
    from trisim.runners import analyze
    print_lines(analyze.analyze(args.file, args.out))


REPLAY_EPILOG = """conventions:
  cells      grouped by population (the Block's groups), or with --label-by KEY by the value
             of each spike train's annotation KEY (e.g. cell_type: place / cue). The --place
             group detects events, gets place fields and is decoded; every group gets
             peri-event histograms; --place and --cue are correlated in 150 ms bins.
  position   a one-channel AnalogSignal or IrregularlySampledSignal in units of length,
             named "position" by default, in the file the fields come from (--fields, by
             default RUN.nix). --position NAME names another signal there, --position
             FILE.nix takes "position" from FILE.nix, --position FILE.nix:NAME both.
  rest       events are searched after the position signal ends when it comes from RUN.nix
             and ends before the run does; otherwise over the whole run."""


def replay_arguments(parser):
    parser.add_argument("file", metavar="RUN.nix")
    parser.add_argument("--fields", metavar="FROM.nix",
                        help="run whose spikes and position give the place fields (default: "
                        "RUN)")
    parser.add_argument("--position", metavar="SPEC",
                        help="position signal: NAME, FILE.nix or FILE.nix:NAME (default: "
                        "'position' in the fields file)")
    parser.add_argument("--place", default="place", metavar="GROUP",
                        help="group of place cells (default: place)")
    parser.add_argument("--cue", default="cue", metavar="GROUP",
                        help="group correlated with the place cells, if present (default: "
                        "cue)")
    parser.add_argument("--label-by", metavar="KEY",
                        help="group cells by this spike-train annotation instead of "
                        "population")
    parser.add_argument("--method", choices=["smoothed", "binned"], default="smoothed",
                        help="event rule: smoothed (15 ms Gaussian, mean + 3 SD, 50-500 ms; "
                        "default) or binned (100 ms bins, z >= 1 extended to z >= 0)")
    parser.add_argument("--bin-size", type=float, default=20.0, metavar="MS",
                        help="decoding time bin in ms (default: 20)")
    parser.add_argument("--shuffles", type=int, default=1000, metavar="N",
                        help="shuffles per event and score (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffles (default: 0)")
    out_option(parser, None, "output directory (default: beside RUN)")


def command_replay(args):
    from trisim.runners import replay
    print_lines(replay.replay(args.file, args.out, args.fields, args.position, args.place,
                              args.cue, args.label_by, args.method, args.bin_size,
                              args.shuffles, args.seed))


def cell_arguments(parser):
    parser.add_argument("file", metavar="FILE.nestml")
    backend_option(parser)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter, with its unit (e.g. tau_syn_exc=2ms)")
    parser.add_argument("--current", type=float, metavar="PA",
                        help="constant current in pA (sets the model's I_e; in a model "
                        "without one, a DC source drives its current port)")
    parser.add_argument("--spikes-in", action="append", default=[], metavar="PORT:T1,T2,...",
                        help="input spike times (ms) on a spike port; they arrive 1 ms later")
    parser.add_argument("--weight", type=float, help="input weight in PyNN units (uS, nA or "
                        "mV per the port; default: one unit of the port's NESTML weight unit)")
    parser.add_argument("--duration", type=float, default=500.0, metavar="MS")
    parser.add_argument("--dt", type=float, default=0.1, metavar="MS")
    parser.add_argument("--record", help="state variable to record (default: V_m, or the "
                        "model's first state variable)")


def command_cell(args):
    import json
    from trisim.quiet import quiet_stdout
    from trisim import codegen
    from trisim.runners import cell
    spikes_in = cell.parse_spike_inputs(args.spikes_in)
    codegen.check(args.file)  # before any simulator starts
    with quiet_stdout():  # simulators print banners; stdout is the JSON result
        result = cell.simulate(args.file, args.backend, args.set, args.current, spikes_in,
                               args.weight, args.duration, args.dt, args.record)
    print(json.dumps(result))


def validate_arguments(parser):
    model_argument(parser)
    backends_option(parser, ALL_BACKENDS, f"backends to compare (default: {ALL_BACKENDS})")
    seeds_option(parser, 5, "seeds per backend: the config's seed and the N-1 after it "
                 "(default 5, at least 3)")
    config_options(parser, "every run")
    jobs_option(parser, None, "runs at a time, each in its own process (default: CPU count)")
    out_option(parser, "out/validate")
    script_arguments(parser)


def command_validate(args):
    from trisim.runners import validate
    result = validate.validate(args.model, args.backends, args.seeds, args.out, args.config,
                               args.set, args.scale, args.duration, args.jobs,
                               progress_bar=progress_over_runs, script_args=args.script_args)
    print_lines(validate.summary_lines(result))
    return 0 if result.agree else EXIT_DISAGREE


def sweep_arguments(parser):
    model_argument(parser)
    parser.add_argument("key", help="a key of the config's simulation or parameters section")
    parser.add_argument("values", nargs="+", metavar="VALUE",
                        help="values with their unit, e.g. '0.5 uA/cm**2' '1 uA/cm**2'")
    backend_option(parser)
    config_options(parser, "every run")
    seeds_option(parser, 1, "seeds per value: the config's seed and the N-1 after it")
    jobs_option(parser, 1)
    out_option(parser, "out/sweep")


def command_sweep(args):
    from trisim.runners import sweep
    json_path, png_path, _ = sweep.sweep(args.model, args.key, args.values, args.backend,
                                         args.out, args.config, args.set, args.seeds,
                                         args.scale, args.duration, args.jobs,
                                         progress_bar=progress_over_runs)
    print_lines([json_path, png_path])


def experiment_arguments(parser):
    model_argument(parser)
    parser.add_argument("name", nargs="?", metavar="NAME",
                        help="one of the model's experiments (none: list them)")
    backends_option(parser, None, "backends (default: the experiment's, else all)")
    seeds_option(parser, None, "seeds per run: the config's seed and the N-1 after it "
                 "(default: the experiment's)")
    config_options(parser, "every run")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="an option of the experiment (listed without NAME)")
    jobs_option(parser, 1)
    out_option(parser, None, "output directory (default: out/<model>)")


def command_experiment(args):
    from trisim.runners import experiment
    if args.name is None:
        print_lines(experiment.describe(args.model))
        return
    paths, lines = experiment.run(args.model, args.name, args.backends, args.seeds, args.out,
                                  args.set, args.option, args.scale, args.duration, args.jobs,
                                  progress_bar=progress_over_runs)
    print_lines(lines)
    print_lines(paths)


def conformance_arguments(parser):
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help=".nestml files, shipped neuron names or trisim synapse names "
                        "(default: all)")
    parser.add_argument("--dt", metavar="MS,MS,...",
                        help="time steps (default 0.1,0.05,0.025; --library: 0.1,0.025)")
    parser.add_argument("--library", action="store_true",
                        help="NESTML's own shipped neurons and synapses (all, or the MODELs "
                        "named), under 500 and 1500 pA and inputs; a model that fails is "
                        "reported in the table")
    jobs_option(parser, 1, "models at a time (each runs its simulations in child processes)")
    out_option(parser, "out/conformance")


def command_conformance(args):
    from trisim.runners import conformance
    try:
        dts = [float(x) for x in (args.dt or "0.1,0.05,0.025").split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--dt {args.dt!r}: expected time steps in ms, e.g. 0.1,0.05") from None
    if args.library and not args.dt:
        dts = list(conformance.LIBRARY_DTS)
    print_lines(conformance.run(args.models, dts, args.out,
                                progress=lambda row: print(conformance.row_line(row),
                                                           file=sys.stderr),
                                library=args.library, jobs=args.jobs))


def new_arguments(parser):
    parser.add_argument("name", metavar="NAME",
                        help="the model's name: a folder NAME/ is written (a Python name)")
    parser.add_argument("--from", dest="source", metavar="MODEL",
                        help="start from this model (a name or path) instead of the template")
    parser.add_argument("--no-nestml", action="store_true",
                        help="template: PyNN's built-in cell and synapse instead of NESTML ones")
    parser.add_argument("--into", default=".", metavar="DIR",
                        help="where the folder goes (default: the working directory)")


def command_new(args):
    from trisim.runners import new
    print_lines(new.new(args.name, args.into, args.source, nestml=not args.no_nestml))


@dataclass(frozen=True)
class Command:
    """One ``trisim`` command: its name, help, arguments and handler."""

    name: str
    help: str
    description: str
    arguments: Callable
    handler: Callable
    epilog: str = None


COMMANDS = (
    Command("models", "list the installed models", "List the installed models (trisim's and "
            "other packages'), one per line with its description.", models_arguments,
            command_models),
    Command("run", "simulate one model on one backend",
            "Simulate MODEL on one backend; write OUT/<MODEL>_<backend>_seed<N>.nix and "
            ".summary.json.", run_arguments, command_run),
    Command("analyze", "Elephant statistics and plots of a run",
            "Statistics (rates, CV ISI, correlations, STTC, population-rate spectrum) as JSON, "
            "and PNG plots.", analyze_arguments, command_analyze),
    Command("replay", "replay events, place fields and sequence scores of a run",
            "Detect population-burst events in the rest phase of RUN.nix, score each as\n"
            "a replayed sequence against shuffles (Bayesian decoding: weighted correlation and "
            "line\nfit; rank order), and compare groups of cells around the events. Writes\n"
            "<stem>.replay.json, <stem>.replay_events.csv and four PNG figures.",
            replay_arguments, command_replay, REPLAY_EPILOG),
    Command("cell", "one NESTML neuron on one backend, as JSON",
            "Simulate one cell of a NESTML neuron model on one backend and print JSON "
            "{spike_times_ms, v_ms: {t, V}}.", cell_arguments, command_cell),
    Command("validate", "compare a model's activity across backends and seeds",
            "Run MODEL on every backend with several seeds (reusing results in OUT whose "
            "provenance config matches), compare activity statistics across backends against "
            "the seed-to-seed spread, and write OUT/report.html and OUT/verdict.json. Exit "
            "status 0 when every statistic agrees, 1 when one disagrees (or a run failed: no "
            "verdict), 2 on bad input, 130 when interrupted.",
            validate_arguments, command_validate),
    Command("sweep", "run a model over the values of one config key",
            "Run MODEL on one backend for each VALUE of config KEY (each value x seed in its "
            "own process, reusing runs in OUT with the same config) and plot its statistics "
            "against the value: OUT/<MODEL>_sweep_<KEY>_<backend>.json and .png.",
            sweep_arguments, command_sweep),
    Command("experiment", "run one of a model's experiments",
            "Run experiment NAME that MODEL declares (each run in its own process, reusing "
            "runs in OUT/runs whose provenance records the same config), and write its tables "
            "and figures into OUT. Without NAME, list the model's experiments and their "
            "options.", experiment_arguments, command_experiment),
    Command("conformance", "NESTML neurons and synapses on all backends, compared with NEST",
            "Run NESTML neurons (trisim's nestml/ and NESTML's shipped iaf_psc_exp, "
            "iaf_cond_exp, iaf_cond_alpha, aeif_cond_exp, izhikevich, hh_cond_exp_traub, "
            "wb_cond_exp) under a current step and input spike trains, and trisim's NESTML "
            "synapses (nestml/*_synapse.nestml) under a fixed spike pattern, on NEST, NEURON "
            "and Brian2 at each time step; write conformance.json, .md and .png.",
            conformance_arguments, command_conformance),
    Command("new", "write a new model folder to start from",
            "Write NAME/ with a model module, its config, a NESTML cell and synapse and a "
            "test, which runs as written on NEST, NEURON and Brian2; or, with --from, a copy "
            "of MODEL to change.", new_arguments, command_new),
)


def build_parser():
    parser = Parser(prog="trisim", description="Run spiking circuits written once in PyNN on "
                    "NEST, NEURON and Brian2, save Neo output and analyse it with Elephant.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name, help=command.help, description=command.description,
            epilog=command.epilog,
            formatter_class=(argparse.RawDescriptionHelpFormatter if command.epilog
                             else argparse.HelpFormatter))
        command.arguments(sub)
        debug_option(sub, default=argparse.SUPPRESS)  # after the command too
        sub.set_defaults(handler=command.handler)
    debug_option(parser)
    return parser


def debug_option(parser, default=False):
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show tracebacks, and what simulators print as they start")


def main(argv=None):
    from trisim.runners import process
    argv = sys.argv[1:] if argv is None else list(argv)
    # after "--": a PyNN script's own arguments (trisim run/validate SCRIPT.py ... -- ARGS)
    split = argv.index("--") if "--" in argv else len(argv)
    parser = build_parser()
    args = parser.parse_args(argv[:split])
    if split < len(argv):
        if not hasattr(args, "script_args"):
            parser.error(f"trisim {args.command} takes no arguments after --")
        args.script_args = argv[split + 1:]
    if not args.debug:
        quiet.silence_simulators()
    try:
        with process.handling_interrupts():
            status = args.handler(args)
    except BaseException as exc:
        status = exit_status(exc)
        if status is None and not isinstance(exc, Exception):
            raise  # SystemExit and the like
        if isinstance(exc, KeyboardInterrupt):
            message = str(exc) or "interrupted"
        elif status is None:  # not an error trisim raised: a bug, or a library's surprise
            status = EXIT_FAILED
            message = (f"error: unexpected {type(exc).__name__}: {_first_line(exc)} "
                       "(--debug shows the traceback)")
        else:
            message = f"error: {exc}"
        if args.debug:
            traceback.print_exception(exc, file=sys.stderr)
        print(f"trisim {args.command}: {message}", file=sys.stderr)
        return status
    return status or 0


def _first_line(exc):
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else "no message"


if __name__ == "__main__":
    sys.exit(main())
