"""The ``trisim`` command line.

Library code raises :class:`~trisim.errors.TrisimError`; only here is it turned into one line on
stderr and exit status 2. Anything else is a bug and keeps its traceback.
"""

import argparse
import sys

from . import pynn_models
from .backends import BACKENDS
from .errors import TrisimError

EXIT_BAD_INPUT = 2


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
    from .runners import run
    paths = run.run(args.model, args.backend, args.out, args.config, args.set, args.seed,
                    args.scale, args.duration, progress_bar=_progress_bar)
    for path in paths:
        print(path)


def command_analyze(args):
    from .runners import analyze
    for path in analyze.analyze(args.file, args.out):
        print(path)


def command_models(args):
    for name in pynn_models.MODELS:
        print(f"{name:12s} {pynn_models.get(name).DESCRIPTION}")


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

    models = commands.add_parser("models", help="list the available models",
                                 description="List the available models.")
    models.set_defaults(handler=command_models)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except TrisimError as exc:
        print(f"trisim {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
