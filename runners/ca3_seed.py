"""The published scripts' command lines, on trisim: training and offline phase.

``python -m trisim.runners.ca3_seed run_training --backend B
--circuit-config ca3 --arena-config ARENA.yaml -c LABEL --data-prefix DIR
--save-weights-every N`` trains; ``... run_ripple --backend B --circuit-config ca3
--arena-config ARENA.yaml -c LABEL --saved-weights-path TRAINING.nix`` runs the offline phase
from a training run's weights. They are ``trisim run ca3`` with the flags turned into config
values (the published scripts' ``--model-home`` is not needed):

- ``--circuit-config``: a setting of the model (``ca3``, ``ca3_ee_only``, ...) or a config file;
- ``--arena-config``: a YAML file of track values (``parameters:`` keys such as ``speed`` or
  ``field_peak``, and ``laps: N``) applied over the circuit's config; optional;
- ``-c LABEL``: the output files are ``DIR/LABEL.nix`` and ``DIR/LABEL.summary.json``;
- ``--save-weights-every N``: weights are read (and a checkpoint written) every N laps;
- ``--saved-weights-path``: the training run's ``.nix`` file; ``--weights-lap`` which read.

Any ``trisim run`` option may follow (``--seed``, ``--set KEY=VALUE``, ``--resume``).
"""

import argparse
import os
import sys
from pathlib import Path

import yaml

from trisim.backends import BACKENDS
from trisim.errors import ConfigError, TrisimError

LAP_MS = 200.0 / 30.0 * 1000.0  # the published track: 200 cm at 30 cm/s


def parser():
    top = argparse.ArgumentParser(prog="python -m trisim.runners.ca3_seed",
                                  description=__doc__.split("\n\n")[0])
    phases = top.add_subparsers(dest="script", required=True)
    for name, help in (("run_training", "the online phase (training laps)"),
                       ("run_ripple", "the offline phase from saved weights")):
        sub = phases.add_parser(name, help=help)
        sub.add_argument("--backend", required=True, choices=BACKENDS)
        sub.add_argument("--circuit-config", required=True)
        sub.add_argument("--arena-config")
        sub.add_argument("-c", "--config-id", required=True, dest="label")
        sub.add_argument("--data-prefix", default="data")
        sub.add_argument("--seed", type=int)
        sub.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
        if name == "run_training":
            sub.add_argument("-s", "--save-weights-every", type=int, default=5)
            sub.add_argument("--resume", action="store_true")
        else:
            sub.add_argument("--saved-weights-path", required=True)
            sub.add_argument("--weights-lap", type=int, default=-1)
    return top


def arena_values(path):
    """``(overrides, laps)`` from an arena file."""
    if path is None:
        return [], None
    try:
        document = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"--arena-config {path}: cannot read it ({exc})") from None
    if not isinstance(document, dict) or set(document) - {"parameters", "laps"}:
        raise ConfigError(f"--arena-config {path}: expected the keys 'parameters' and/or "
                          "'laps'")
    overrides = [f"{key}={value}" for key, value in (document.get("parameters") or {}).items()]
    return overrides, document.get("laps")


def run(argv):
    args = parser().parse_args(argv)
    from trisim import model as models
    from trisim.runners import run as runner
    overrides, laps = arena_values(args.arena_config)
    if args.script == "run_training":
        if args.save_weights_every < 1:
            raise ConfigError("--save-weights-every: at least 1 lap")
        overrides += ["phase=training", f"checkpoint_laps={args.save_weights_every}"]
    else:
        overrides += ["phase=offline", f"weights={Path(args.saved_weights_path).resolve()}",
                      f"weights_lap={args.weights_lap}"]
    setting = models.load(args.circuit_config)
    if setting.module.__name__ != "trisim.pynn_models.ca3":
        raise ConfigError(f"--circuit-config {args.circuit_config}: not a CA3 setting")
    duration = None
    if laps is not None:
        p = setting.config(None, [*overrides, *args.set]).parameters
        duration = p.lead_in + int(laps) * p.track_length / p.speed * 1000.0
        duration = round(round(duration / 0.1) * 0.1, 6)
    out = Path(args.data_prefix)
    paths = runner.run(setting, args.backend, out, None, [*overrides, *args.set], args.seed,
                       None, duration, resume=getattr(args, "resume", False))
    renamed = []
    for path in paths:
        target = out / (args.label + "".join(Path(path).suffixes))
        os.replace(path, target)
        renamed.append(target)
    return renamed


def main(argv=None):
    try:
        for path in run(sys.argv[1:] if argv is None else argv):
            print(path)
    except TrisimError as exc:
        print(f"ca3: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
