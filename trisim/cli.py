"""The ``trisim`` command line.

Library code raises :class:`~trisim.errors.TrisimError`; only here is it turned into one line on
stderr and exit status 2. Anything else is a bug and keeps its traceback.
"""

import argparse
import sys

from trisim.backends import BACKENDS
from trisim.errors import ConfigError, TrisimError

EXIT_BAD_INPUT = 2
EXIT_DISAGREE = 1  # trisim validate: the backends differ (a result, not an error)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other trisim error."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _progress_bar(duration_ms):
    """A tqdm bar over simulated time when stderr is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    bar = tqdm(total=round(duration_ms), unit="ms", desc="simulated", leave=False)

    def update(t_ms):
        bar.update(round(t_ms) - bar.n)
    return update


def command_run(args):
    from trisim.runners import run
    paths = run.run(args.model, args.backend, args.out, args.config, args.set, args.seed,
                    args.scale, args.duration, progress_bar=_progress_bar)
    for path in paths:
        print(path)


def command_analyze(args):
    from trisim.runners import analyze
    for path in analyze.analyze(args.file, args.out):
        print(path)


def command_replay(args):
    from trisim.runners import replay
    for path in replay.replay(args.file, args.out, args.fields, args.position, args.place,
                              args.cue, args.label_by, args.method, args.bin_size, args.shuffles,
                              args.seed):
        print(path)


def command_cell(args):
    import json
    from trisim.quiet import quiet_stdout
    from trisim.runners import cell
    spikes_in = cell.parse_spike_inputs(args.spikes_in)
    with quiet_stdout():  # simulators print banners; stdout is the JSON result
        result = cell.simulate(args.file, args.backend, args.set, args.current, spikes_in,
                               args.weight, args.duration, args.dt, args.record)
    print(json.dumps(result))


def _runs_progress_bar(total):
    """A tqdm bar over finished runs when stderr is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    bar = tqdm(total=total, unit="run", desc="runs", leave=False)

    def update(done):
        bar.update(done - bar.n)
    return update


def command_validate(args):
    from trisim.runners import validate
    result = validate.validate(args.model, args.backends, args.seeds, args.out, args.config,
                               args.set, args.scale, args.duration, args.jobs,
                               progress_bar=_runs_progress_bar)
    for line in validate.summary_lines(result):
        print(line)
    return 0 if result.agree else EXIT_DISAGREE


def command_conformance(args):
    from trisim.runners import conformance
    try:
        dts = [float(x) for x in args.dt.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--dt {args.dt!r}: expected time steps in ms, e.g. 0.1,0.05") from None

    def report(row):
        if "same_count" in row:  # a neuron
            print(f"{row['model']} dt={row['dt_ms']} {row['stimulus']} {row['backend']}: "
                  f"{'equal' if row['same_count'] else 'DIFFERENT'} spike counts, "
                  f"max spike dt {row['max_spike_dt_ms']:.3g} ms (NEST's own spread "
                  f"{row['own_spread_ms']:.3g} ms)", file=sys.stderr)
        else:  # a synapse
            print(f"{row['model']} dt={row['dt_ms']} {row['backend']}: "
                  f"{'equal' if row['same_events'] else 'DIFFERENT'} event counts, "
                  f"largest difference {row['max_abs_diff']:.3g}", file=sys.stderr)
    for path in conformance.run(args.models, dts, args.out, progress=report):
        print(path)


def command_fi(args):
    from trisim.quiet import quiet_stdout
    from trisim.runners import fi
    with quiet_stdout():  # simulators print banners; stdout is the result
        json_path, png_path, table = fi.run(args.model, args.backend, args.out)
    for line in fi.summary_lines(table):
        print(line)
    print(json_path)
    print(png_path)


def command_derive(args):
    from trisim.runners import derive
    for path in derive.derive(args.model, args.out):
        print(path)


def command_sweep(args):
    from trisim.runners import sweep
    json_path, png_path, _ = sweep.sweep(args.model, args.key, args.values, args.backend,
                                         args.out, args.config, args.set, args.seeds,
                                         args.scale, args.duration, args.jobs)
    print(json_path)
    print(png_path)


def command_cb1(args):
    from trisim.runners import cb1
    progress = _runs_progress_bar_done()
    common = {"out_dir": args.out, "overrides": args.set, "scale": args.scale,
              "duration": args.duration, "jobs": args.jobs, "progress": progress}
    if args.experiment == "summary":
        paths = cb1.summary(args.out)
    elif args.experiment == "scan":
        paths = cb1.scan(args.settings, args.backends or "nest",
                         cb1.parse_seeds(args.input_seeds), cb1.parse_amplitudes(args.amplitudes),
                         **common)
    else:
        paths = cb1.experiment(args.experiment, args.settings,
                               args.backends or "nest,neuron,brian2", args.seeds, **common)
    for path in paths:
        print(path)


def _runs_progress_bar_done():
    """A tqdm bar told (done, total) runs when stderr is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    bar = None

    def update(done, total):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="run", desc="runs", leave=False)
        bar.update(done - bar.n)
    return update


def command_models(args):
    from trisim import model
    for found, distribution in model.installed():
        source = "" if distribution == "trisim" else f"  [{distribution}]"
        print(f"{found.name:12s} {found.description}{source}")


def build_parser():
    parser = Parser(prog="trisim", description="Run spiking circuits written once in PyNN on "
                    "NEST, NEURON and Brian2, save Neo output and analyse it with Elephant.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    run = commands.add_parser("run", help="simulate one model on one backend",
                              description="Simulate MODEL on one backend; write "
                              "OUT/<MODEL>_<backend>_seed<N>.nix and .summary.json.")
    run.add_argument("model", help="model name (see 'trisim models')")
    run.add_argument("--backend", required=True, choices=sorted(BACKENDS))
    run.add_argument("--config", help="YAML config (default: the model's own)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config value, with its unit (e.g. w_i='1.2 nS')")
    run.add_argument("--seed", type=int, help="random seed (network, initial state, simulator)")
    run.add_argument("--scale", type=float, help="population sizes relative to the published")
    run.add_argument("--duration", type=float, metavar="MS", help="simulated time in ms")
    run.add_argument("--out", default="out", metavar="DIR", help="output directory")
    run.set_defaults(handler=command_run)

    analyze = commands.add_parser("analyze", help="Elephant statistics and plots of a run",
                                  description="Statistics (rates, CV ISI, correlations, STTC, "
                                  "population-rate spectrum) as JSON, and PNG plots.")
    analyze.add_argument("file", metavar="FILE.nix")
    analyze.add_argument("--out", metavar="DIR", help="output directory (default: beside FILE)")
    analyze.set_defaults(handler=command_analyze)

    replay = commands.add_parser(
        "replay", help="replay events, place fields and sequence scores of a run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Detect population-burst events in the rest phase of RUN.nix, score each as\n"
        "a replayed sequence against shuffles (Bayesian decoding: weighted correlation and line\n"
        "fit; rank order), and compare groups of cells around the events. Writes\n"
        "<stem>.replay.json, <stem>.replay_events.csv and four PNG figures.",
        epilog="""conventions:
  cells      grouped by population (the Block's groups), or with --label-by KEY by the value
             of each spike train's annotation KEY (e.g. cell_type: place / cue). The --place
             group detects events, gets place fields and is decoded; every group gets
             peri-event histograms; --place and --cue are correlated in 150 ms bins.
  position   a one-channel AnalogSignal or IrregularlySampledSignal in units of length,
             named "position" by default, in the file the fields come from (--fields, by
             default RUN.nix). --position NAME names another signal there, --position
             FILE.nix takes "position" from FILE.nix, --position FILE.nix:NAME both.
  rest       events are searched after the position signal ends when it comes from RUN.nix
             and ends before the run does; otherwise over the whole run.""")
    replay.add_argument("file", metavar="RUN.nix")
    replay.add_argument("--fields", metavar="FROM.nix",
                        help="run whose spikes and position give the place fields (default: RUN)")
    replay.add_argument("--position", metavar="SPEC",
                        help="position signal: NAME, FILE.nix or FILE.nix:NAME (default: "
                        "'position' in the fields file)")
    replay.add_argument("--place", default="place", metavar="GROUP",
                        help="group of place cells (default: place)")
    replay.add_argument("--cue", default="cue", metavar="GROUP",
                        help="group correlated with the place cells, if present (default: cue)")
    replay.add_argument("--label-by", metavar="KEY",
                        help="group cells by this spike-train annotation instead of population")
    replay.add_argument("--method", choices=["smoothed", "binned"], default="smoothed",
                        help="event rule: smoothed (15 ms Gaussian, mean + 3 SD, 50-500 ms; "
                        "default) or binned (100 ms bins, z >= 1 extended to z >= 0)")
    replay.add_argument("--bin-size", type=float, default=20.0, metavar="MS",
                        help="decoding time bin in ms (default: 20)")
    replay.add_argument("--shuffles", type=int, default=1000, metavar="N",
                        help="shuffles per event and score (default: 1000)")
    replay.add_argument("--seed", type=int, default=0, help="seed of the shuffles (default: 0)")
    replay.add_argument("--out", metavar="DIR", help="output directory (default: beside RUN)")
    replay.set_defaults(handler=command_replay)

    cell = commands.add_parser("cell", help="one NESTML neuron on one backend, as JSON",
                               description="Simulate one cell of a NESTML neuron model on one "
                               "backend and print JSON {spike_times_ms, v_ms: {t, V}}.")
    cell.add_argument("file", metavar="FILE.nestml")
    cell.add_argument("--backend", required=True, choices=sorted(BACKENDS))
    cell.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                      help="a parameter, with its unit (e.g. tau_syn_exc=2ms)")
    cell.add_argument("--current", type=float, metavar="PA",
                      help="constant current in pA (sets the model's I_e)")
    cell.add_argument("--spikes-in", action="append", default=[], metavar="PORT:T1,T2,...",
                      help="input spike times (ms) on a spike port; they arrive 1 ms later")
    cell.add_argument("--weight", type=float, help="input weight in PyNN units (uS, nA or mV "
                      "per the port; default: one unit of the port's NESTML weight unit)")
    cell.add_argument("--duration", type=float, default=500.0, metavar="MS")
    cell.add_argument("--dt", type=float, default=0.1, metavar="MS")
    cell.add_argument("--record", default="V_m", help="state variable to record (default V_m)")
    cell.set_defaults(handler=command_cell)

    validate = commands.add_parser(
        "validate", help="compare a model's activity across backends and seeds",
        description="Run MODEL on every backend with several seeds (reusing results in OUT whose "
        "provenance config matches), compare activity statistics across backends against the "
        "seed-to-seed spread, and write OUT/report.html and OUT/verdict.json. Exit status 0 "
        "when every statistic agrees, 1 when one disagrees, 2 on bad input.")
    validate.add_argument("model", help="model name (see 'trisim models')")
    validate.add_argument("--backends", default="nest,neuron,brian2", metavar="B1,B2,...",
                          help="backends to compare (default: nest,neuron,brian2)")
    validate.add_argument("--seeds", type=int, default=5, metavar="N",
                          help="seeds per backend: the config's seed and the N-1 after it "
                          "(default 5, at least 3)")
    validate.add_argument("--config", help="YAML config (default: the model's own)")
    validate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                          help="override a config value, with its unit (e.g. w_i='1.2 nS')")
    validate.add_argument("--scale", type=float, help="population sizes relative to the "
                          "published")
    validate.add_argument("--duration", type=float, metavar="MS", help="simulated time in ms")
    validate.add_argument("--jobs", type=int, metavar="N",
                          help="runs at a time, each in its own process (default: CPU count)")
    validate.add_argument("--out", default="out/validate", metavar="DIR",
                          help="output directory (default: out/validate)")
    validate.set_defaults(handler=command_validate)

    conformance = commands.add_parser(
        "conformance", help="NESTML neurons and synapses on all backends, compared with NEST",
        description="Run NESTML neurons (trisim's nestml/ and NESTML's shipped iaf_psc_exp, "
        "iaf_cond_exp, iaf_cond_alpha, aeif_cond_exp, izhikevich, hh_cond_exp_traub, "
        "wb_cond_exp) under a current step and input spike trains, and trisim's NESTML "
        "synapses (nestml/*_synapse.nestml) under a fixed spike pattern, on NEST, NEURON and "
        "Brian2 at each time step; write conformance.json, .md and .png.")
    conformance.add_argument("models", nargs="*", metavar="MODEL",
                             help=".nestml files, shipped neuron names or trisim synapse "
                             "names (default: all)")
    conformance.add_argument("--dt", default="0.1,0.05,0.025", metavar="MS,MS,...")
    conformance.add_argument("--out", default="out/conformance", metavar="DIR")
    conformance.set_defaults(handler=command_conformance)

    fi = commands.add_parser(
        "fi", help="a model's single-cell f-I curves against their targets",
        description="Simulate the single-cell f-I curves MODEL declares (one cell per current, "
        "all in one simulation) on one backend; print each curve's rates and how many points "
        "are within tolerance of the targets; write OUT/<MODEL>_fi_<backend>.json and .png.")
    fi.add_argument("model", help="model name (see 'trisim models')")
    fi.add_argument("--backend", required=True, choices=sorted(BACKENDS))
    fi.add_argument("--out", default="out/fi", metavar="DIR")
    fi.set_defaults(handler=command_fi)

    derive = commands.add_parser(
        "derive", help="recompute a model's derived parameters from the published equations",
        description="Recompute what MODEL's approximations were fitted to, from the published "
        "equations, and write the fit and a figure of the match into OUT (wang_buzsaki: the "
        "event-triggered GABA conductance against the voltage-driven synapse).")
    derive.add_argument("model", help="model name (see 'trisim models')")
    derive.add_argument("--out", default="out/derive", metavar="DIR")
    derive.set_defaults(handler=command_derive)

    sweep = commands.add_parser(
        "sweep", help="run a model over the values of one config key",
        description="Run MODEL on one backend for each VALUE of config KEY (each value x seed "
        "in its own process, reusing runs in OUT with the same config) and plot its "
        "statistics against the value: OUT/<MODEL>_sweep_<KEY>_<backend>.json and .png.")
    sweep.add_argument("model", help="model name (see 'trisim models')")
    sweep.add_argument("key", help="a key of the config's simulation or parameters section")
    sweep.add_argument("values", nargs="+", metavar="VALUE",
                       help="values with their unit, e.g. '0.5 uA/cm**2' '1 uA/cm**2'")
    sweep.add_argument("--backend", required=True, choices=sorted(BACKENDS))
    sweep.add_argument("--config", help="YAML config (default: the model's own)")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override another config value for every run")
    sweep.add_argument("--seeds", type=int, default=1, metavar="N",
                       help="seeds per value: the config's seed and the N-1 after it")
    sweep.add_argument("--scale", type=float, help="population sizes relative to the published")
    sweep.add_argument("--duration", type=float, metavar="MS", help="simulated time in ms")
    sweep.add_argument("--jobs", type=int, default=1, metavar="N", help="runs at a time")
    sweep.add_argument("--out", default="out/sweep", metavar="DIR")
    sweep.set_defaults(handler=command_sweep)

    cb1 = commands.add_parser(
        "cb1", help="seed 001's experiments on its settings V1, V2M, V2M-CB1-KO",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run one of seed 001's published experiments on the settings cb1_v1,\n"
        "cb1_v2m and cb1_v2m_ko (each setting x backend x seed in its own process, reusing\n"
        "runs in OUT/runs whose measures were taken with the same config); write\n"
        "OUT/cb1_<experiment>.json (measures per run, mean and s.d. against the published\n"
        "values, the published ordering) and figures.",
        epilog="""experiments:
  spontaneous   3 s without input: rates and L4 mean Vm over 200-3000 ms
  time-varying  30 s of random input events onto L4: the same, and the STTC of L2/3 pairs
  gain          40 pulses from 0 to 8 Hz: L4 and L2/3 input-output curves, relative gain
  scan          time-varying for input seeds x largest event amplitudes (one backend by
                default): STTC per setting, paired t-tests between settings
  summary       the published summary figure from the experiments already in OUT""")
    cb1.add_argument("experiment", choices=["spontaneous", "time-varying", "gain", "scan",
                                            "summary"])
    cb1.add_argument("--settings", default="cb1_v1,cb1_v2m,cb1_v2m_ko", metavar="S1,S2,...")
    cb1.add_argument("--backends", metavar="B1,B2,...",
                     help="default: nest,neuron,brian2 (scan: nest)")
    cb1.add_argument("--seeds", type=int, default=1, metavar="N",
                     help="network seeds per setting and backend: the config's and the N-1 "
                     "after it (default 1)")
    cb1.add_argument("--input-seeds", default="20-39", metavar="SEEDS",
                     help="scan: input seeds, e.g. 20-39 or 20,21 (default 20-39, published)")
    cb1.add_argument("--amplitudes", metavar="HZ,HZ,...",
                     default="3,3.333,3.667,4,4.333,4.667,5",
                     help="scan: largest event amplitudes in Hz (default: published 3-5 Hz)")
    cb1.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config value for every run")
    cb1.add_argument("--scale", type=float, help="population sizes relative to the published")
    cb1.add_argument("--duration", type=float, metavar="MS",
                     help="simulated time (default: the experiment's)")
    cb1.add_argument("--jobs", type=int, default=1, metavar="N", help="runs at a time")
    cb1.add_argument("--out", default="out/cb1", metavar="DIR")
    cb1.set_defaults(handler=command_cb1)

    models = commands.add_parser("models", help="list the available models",
                                 description="List the available models.")
    models.set_defaults(handler=command_models)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args)
    except TrisimError as exc:
        print(f"trisim {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
