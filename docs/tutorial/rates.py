"""The runs of trisim validate, read back from Python: rates per run, then NEST against Brian2.

NEST and Brian2 are compared again with the same rule as trisim validate.
"""

from pathlib import Path

from trisim import output
from trisim.analysis import statistics
from trisim.runners.validate import compare_files

runs = sorted(Path("validation").glob("my_circuit_*_seed*.nix"))
for path in runs:
    block = output.read_block(path)  # a neo.Block: one SpikeTrain per cell
    trains = block.segments[0].spiketrains
    rate = statistics.firing_rates(trains).mean()  # a quantity, in Hz
    print(f"{path.stem}: {float(rate):.2f} Hz")

files = {backend: [path for path in runs if f"_{backend}_" in path.name]
         for backend in ("nest", "brian2")}
result = compare_files(files, "nest_vs_brian2")
print("NEST and Brian2", "agree" if result.verdict["agree"] else "disagree")
