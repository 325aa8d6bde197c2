"""trisim as a library: the sdist and wheel hold everything, and the wheel works when installed.

Built from the repository's tracked files, they hold the code generator and its templates,
configs, NESTML files and the model template of ``trisim new``; the wheel installed into a
fresh virtual environment works from there.

The fresh environment gets trisim from the wheel alone (``pip install --no-deps --no-index``);
its pinned dependencies are those already installed in this environment, reached through a
``.pth`` file instead of downloaded again (they are the same pins). NEURON's ``nrnivmodl``
command comes with them. The code generator builds into a cache of its own, so the NEURON
templates are read from the installed wheel.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Source folders and the package each is installed as (setup.cfg package_dir).
FOLDERS = {"trisim": "trisim", "runners": "trisim/runners", "analysis": "trisim/analysis",
           "pynn_models": "trisim/pynn_models", "nestml": "trisim/nestml",
           "configs": "trisim/configs"}


def tracked_files():
    result = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    return [Path(line) for line in result.stdout.splitlines()]


def installed_name(path):
    """Where a tracked file of a package folder lands in the wheel, or None."""
    if path.parts[0] not in FOLDERS or "__pycache__" in path.parts:
        return None
    top = FOLDERS[path.parts[0]]
    rest = path.parts[1:]
    if path.parts[0] == "trisim" and rest and rest[0] in FOLDERS:
        return None
    return "/".join([top, *rest])


def build(command, cwd):
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", *command],
                            cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel built from the sdist built from a copy of the tracked files."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    for path in tracked_files():
        if (ROOT / path).is_file():
            (source / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, source / path)
    build(["--sdist", "--outdir", str(work / "dist"), "."], source)
    sdist = next((work / "dist").glob("trisim-*.tar.gz"))
    shutil.unpack_archive(sdist, work / "unpacked")
    build(["--wheel", "--outdir", str(work / "dist"), "."],
          next((work / "unpacked").glob("trisim-*")))
    return next((work / "dist").glob("trisim-*.whl"))


def test_the_wheel_holds_every_file_of_the_packages(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {installed_name(path) for path in tracked_files()} - {None}
    assert expected - names == set()  # e.g. codegen templates, configs, NESTML, scaffold
    assert any(name.endswith("codegen/templates/neuron.mod.jinja2") for name in names)
    entry_points = zipfile.ZipFile(wheel).read(
        next(name for name in names if name.endswith("entry_points.txt"))).decode()
    assert "[trisim.models]" in entry_points and "coba_stp = trisim.pynn_models.coba_stp" in \
        entry_points


@pytest.fixture(scope="module")
def environment(wheel, tmp_path_factory):
    """A fresh virtual environment with the wheel installed; returns (bin folder, env)."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "shared_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (venv / "bin" / "nrnivmodl").symlink_to(Path(sys.executable).with_name("nrnivmodl"))
    result = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index",
                             "--quiet", str(wheel)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    env = {**os.environ, "TRISIM_CACHE": str(tmp_path_factory.mktemp("cache"))}
    env.pop("PYTHONPATH", None)
    return venv / "bin", env


def trisim(environment, *arguments, cwd):
    bin_folder, env = environment
    return subprocess.run([str(bin_folder / "trisim"), *map(str, arguments)],
                          capture_output=True, text=True, timeout=1800, cwd=cwd, env=env)


def test_the_installed_trisim_is_the_wheels(environment, tmp_path):
    bin_folder, env = environment
    result = subprocess.run([str(bin_folder / "python"), "-c",
                             "import trisim.codegen.templates as t, trisim.model as m; "
                             "print(t.__file__); print(sorted(m.registered()))"],
                            capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    location, models = result.stdout.splitlines()
    assert str(bin_folder.parent) in location and str(ROOT) not in location
    assert "coba_stp" in models and "wang_buzsaki_fi" in models


def test_trisim_cell_on_neuron_generates_code_from_the_installed_templates(environment,
                                                                            tmp_path):
    source = ROOT / "nestml" / "wang_buzsaki_neuron.nestml"
    cell = tmp_path / "my_neuron.nestml"
    cell.write_text(source.read_text().replace("wang_buzsaki_neuron", "my_neuron"))
    result = trisim(environment, "cell", cell, "--backend", "neuron", "--current", "100",
                    "--duration", "200", "--dt", "0.01", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert '"spike_times_ms": [' in result.stdout and '"spike_times_ms": []' not in result.stdout


def test_trisim_new_and_run_on_a_model_in_a_users_folder(environment, tmp_path):
    result = trisim(environment, "new", "packaged_circuit", "--no-nestml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    result = trisim(environment, "run", "packaged_circuit/packaged_circuit.yaml", "--backend",
                    "nest", "--duration", "200", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = tmp_path / "out" / "packaged_circuit_nest_seed1.summary.json"
    assert summary.is_file() and '"rate_hz"' in summary.read_text()
