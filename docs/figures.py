"""The figures of the model pages (``make docs-figures``), drawn by trisim's own commands.

Each is a file trisim's own commands write, copied to ``docs/figures/``.

Each figure is one small run (or experiment) on one backend, at the size its caption states,
so that the whole set takes a few minutes on 2 cores; the measurements on the pages come from
the full-size runs they name. Runs go to ``out/docs-figures/`` and are reused by a second call.

    python docs/figures.py [NAME ...]      (default: every figure)
"""

import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OUT = DOCS.parent / "out" / "docs-figures"

#: figure name -> (commands, in order, each a trisim command line; the file they write, under OUT)
FIGURES = {
    "coba_stp_raster": (
        [["run", "coba_stp", "--backend", "brian2", "--out", "coba_stp"],
         ["analyze", "coba_stp/coba_stp_brian2_seed11922.nix"]],
        "coba_stp/coba_stp_brian2_seed11922.raster.png"),
    "wang_buzsaki_raster": (
        [["run", "wang_buzsaki", "--backend", "nest", "--out", "wang_buzsaki"],
         ["analyze", "wang_buzsaki/wang_buzsaki_nest_seed1.nix"]],
        "wang_buzsaki/wang_buzsaki_nest_seed1.raster.png"),
    "wang_buzsaki_kernel": (
        [["experiment", "wang_buzsaki", "derive", "--out", "wang_buzsaki_derive"]],
        "wang_buzsaki_derive/wang_buzsaki_kernel.png"),
    "striatum_fi_nest": (
        [["experiment", "striatum", "fi", "--backends", "nest", "--out", "striatum_fi"]],
        "striatum_fi/striatum_fi_nest.png"),
    "striatum_step": (
        [["run", "striatum", "--backend", "nest", "--out", "striatum"],
         ["analyze", "striatum/striatum_nest_seed1.nix"]],
        "striatum/striatum_nest_seed1.model.png"),
    "cb1_v1_raster": (
        [["run", "cb1_v1", "--backend", "brian2", "--scale", "0.25", "--duration", "1000",
          "--out", "cb1_v1"],
         ["analyze", "cb1_v1/cb1_v1_brian2_seed1.nix"]],
        "cb1_v1/cb1_v1_brian2_seed1.raster.png"),
}


def make(name):
    commands, made = FIGURES[name]
    for arguments in commands:
        print("docs-figures: trisim", " ".join(arguments), flush=True)
        subprocess.run([sys.executable, "-m", "trisim.cli", *arguments], cwd=OUT, check=True)
    target = DOCS / "figures" / f"{name}.png"
    shutil.copyfile(OUT / made, target)
    print(f"docs-figures: {target.relative_to(DOCS.parent)}", flush=True)


if __name__ == "__main__":
    names = sys.argv[1:] or list(FIGURES)
    unknown = [name for name in names if name not in FIGURES]
    if unknown:
        sys.exit(f"unknown figure {unknown[0]!r}; valid: {', '.join(FIGURES)}")
    OUT.mkdir(parents=True, exist_ok=True)
    (DOCS / "figures").mkdir(exist_ok=True)
    for name in names:
        make(name)
