"""trisim new and a model in a user's folder, run and validated on NEST, NEURON and Brian2.

The folder ``trisim new`` writes (its own NESTML cell and synapse) runs on the three backends
from a temporary folder outside the repository, and ``trisim validate`` compares them; a copy
of a built-in circuit runs under its new name; the README's smallest model is the tutorial's
(which tests/test_docs.py runs).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from trisim.errors import ConfigError, OutputError
from trisim.runners import new

README = Path(__file__).resolve().parents[1] / "README.md"
DOCS = README.parent / "docs"


def trisim(*arguments, cwd):
    return subprocess.run([sys.executable, "-m", "trisim.cli", *map(str, arguments)],
                          capture_output=True, text=True, timeout=3000, cwd=cwd)


def readme_files():
    """The files of the README's smallest model: code blocks whose first line names them."""
    section = README.read_text().split("## Your own circuit", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:python|yaml)\n# (\S+)\n(.*?)```", section, re.S)
    return {name: body for name, body in blocks}


def test_the_readmes_smallest_model_is_the_tutorials():
    # the tutorial (docs/tutorial.md) runs this model through trisim validate with the
    # README's command and checks the documented verdict: tests/test_docs.py
    files = readme_files()
    assert set(files) == {"my_circuit.py", "my_circuit.yaml"}
    for name, body in files.items():
        assert body == (DOCS / "tutorial" / name).read_text(), name
    assert "trisim validate my_circuit.yaml --seeds 3 " in README.read_text()


@pytest.mark.slow
def test_the_folder_trisim_new_writes_validates_on_the_three_backends(tmp_path):
    result = trisim("new", "fresh_circuit", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / "fresh_circuit"
    assert {path.name for path in folder.iterdir()} == {
        "fresh_circuit.py", "fresh_circuit.yaml", "fresh_circuit_neuron.nestml",
        "fresh_circuit_synapse.nestml", "test_fresh_circuit.py"}
    # its own test: trisim validate on NEST, NEURON and Brian2, and the backends agree
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(folder / "test_fresh_circuit.py")], capture_output=True,
                            text=True, timeout=3000, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]


def test_a_copy_of_a_builtin_circuit_runs_under_its_new_name(tmp_path):
    paths = new.new("my_gamma", tmp_path, source="wang_buzsaki")
    folder = tmp_path / "my_gamma"
    assert folder / "my_gamma.yaml" in paths and (folder / "reference.py").is_file()
    assert "trisim.pynn_models.wang_buzsaki" not in (folder / "fi.py").read_text()
    result = trisim("run", "my_gamma/wang_buzsaki_uncoupled.yaml", "--backend", "nest",
                    "--scale", "0.1", "--duration", "100", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "wang_buzsaki_uncoupled_nest_seed1.summary.json")
                         .read_text())
    assert summary["config"]["parameters"]["g_syn"] == "0.0 mS/cm**2"
    assert summary["model_statistics"]["mean_rate_hz"] > 0
    listed = trisim("experiment", "./my_gamma", cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout.startswith("fi ")


@pytest.mark.parametrize("name, source, error, message", [
    ("my-circuit", None, ConfigError, "must be a Python name"),
    ("json", None, ConfigError, "taken by an installed module"),
    ("taken", None, OutputError, "exists already"),
    ("copied_circuit", "cobba", Exception, "unknown model 'cobba'"),
])
def test_bad_input_writes_nothing(tmp_path, name, source, error, message):
    (tmp_path / "taken").mkdir()
    before = set(tmp_path.rglob("*"))
    with pytest.raises(error, match=message):
        new.new(name, tmp_path, source=source)
    assert set(tmp_path.rglob("*")) == before
