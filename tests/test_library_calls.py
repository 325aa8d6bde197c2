"""trisim's Python API from a script, ``python -`` and a notebook, where worker processes start.

compare_files, whose reading pool starts worker processes, is called at the top of a plain
script (no ``__main__`` guard), from ``python -`` and from a Jupyter notebook. Each reads
2 x 3 small run files in 2 workers.
"""

import json
import subprocess
import sys
import textwrap

import neo
import nbformat
import numpy as np
import pytest
import quantities as pq
from nbclient import NotebookClient

from trisim.output import write_block

CODE = """\
from trisim.runners.validate import compare_files
result = compare_files({files!r}, {out!r}, jobs=2)
print("verdict:", result.agree, len(result.runs))
"""


def run_block(seed, rate_hz):
    """A run file's content: one population of 40 Poisson cells over 2 s, with provenance."""
    rng = np.random.default_rng(seed)
    block = neo.Block(name="synthetic", model="synthetic", backend="nest", seed=seed,
                      config=json.dumps({"seed": seed}))
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    trains = [neo.SpikeTrain(np.sort(rng.uniform(0, 2000.0, rng.poisson(rate_hz * 2))),
                             units="ms", t_stop=2000.0 * pq.ms, source_population="E",
                             source_index=index) for index in range(40)]
    segment.spiketrains.extend(trains)
    block.groups.append(neo.Group(trains, name="E"))
    return block


@pytest.fixture(scope="module")
def code(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    files = {}
    for label, rate in (("a", 5.0), ("b", 5.0)):
        files[label] = [str(write_block(run_block(seed + (label == "b") * 10, rate),
                                        folder / f"{label}{seed}.nix")) for seed in (1, 2, 3)]
    return lambda out: CODE.format(files=files, out=str(out))


def check(out, stdout):
    assert "verdict: True 6" in stdout
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["backends"] == ["a", "b"] and (out / "report.html").is_file()


def test_from_a_plain_script_without_a_main_guard(code, tmp_path):
    script = tmp_path / "compare.py"
    script.write_text(code(tmp_path / "out"))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    check(tmp_path / "out", result.stdout)


def test_from_standard_input(code, tmp_path):
    result = subprocess.run([sys.executable, "-"], input=code(tmp_path / "out"),
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    check(tmp_path / "out", result.stdout)


def test_from_a_notebook(code, tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(code(tmp_path / "out")))
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                       "display_name": "Python 3"}
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = notebook.cells[0].outputs
    stdout = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    assert not [output for output in outputs if output.output_type == "error"], outputs
    check(tmp_path / "out", stdout)


def test_the_reading_workers_do_not_run_the_callers_script(code, tmp_path):
    """A script that counts how often its top level runs: once, not once per worker."""
    script = tmp_path / "counted.py"
    marker = tmp_path / "started"
    script.write_text(textwrap.dedent(f"""\
        with open({str(marker)!r}, "a") as counter:
            counter.write("x")
        """) + code(tmp_path / "out"))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert marker.read_text() == "x"
