"""trisim.model: the public model contract, and finding models by name, file, package or config.

No simulator is imported: these tests load modules and configs only.
"""

import sys
import textwrap

import pytest

from trisim import model
from trisim.errors import ConfigError, TrisimError, UnknownNameError

MODULE = '''
"""A model in a user's folder."""
from trisim.config import Strict, quantity

DESCRIPTION = "two cells"
TRACES = ("v",)


class Parameters(Strict):
    n: int = 2
    w: quantity("uS") = 0.001


def build(sim, parameters, simulation, rng):
    return {"cells": sim.Population(parameters.n, sim.IF_cond_exp())}
'''


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """A folder outside the repository with one model module (a unique name per test, as
    modules stay imported) and its default config; ``sys.path`` is restored afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    name = f"circuit_{tmp_path.name.replace('-', '_')}"
    write(tmp_path, f"{name}.py", MODULE)
    write(tmp_path, f"{name}.yaml", f"model: {name}.py\nparameters:\n  w: 2 nS\n")
    return tmp_path, name


def test_installed_models_are_found_by_name_with_their_config_beside_them():
    names = set(model.registered())
    assert {"coba_stp", "wang_buzsaki", "striatum", "cb1_v1", "cb1_v2m", "cb1_v2m_ko"} <= names
    coba = model.load("coba_stp")
    assert coba.reference == "coba_stp" and coba.module.__name__ == "trisim.pynn_models.coba_stp"
    assert coba.config_path == coba.config_directory / "coba_stp.yaml"
    assert coba.config_directory.name == "configs"  # trisim's own keep theirs in configs/
    assert coba.config().simulation.seed == 11922


def test_settings_of_one_circuit_are_models_of_their_own_name():
    v1, v2m = model.load("cb1_v1"), model.load("cb1_v2m")
    assert v1.module is v2m.module and v1.config_path != v2m.config_path
    assert v2m.config().parameters.psyn_CB1Inh_L23Exc == 0.25
    assert v1.setting("cb1_v2m").reference == "cb1_v2m"  # the installed name
    assert "V2M setting" in v2m.description  # the config's own description


def test_a_config_of_an_installed_model_given_by_path_is_the_same_module():
    path = model.load("cb1_v1").config_directory / "cb1_v2m_ko.yaml"
    found = model.load(str(path))
    assert found.module is model.load("cb1_v1").module and found.name == "cb1_v2m_ko"
    assert found.reference == str(path)


def test_a_model_file_in_a_users_folder(user_folder):
    folder, name = user_folder
    found = model.load(folder / f"{name}.py")
    assert found.name == name and found.description == "two cells"
    assert found.config_path == folder / f"{name}.yaml" and found.directory == folder
    assert found.config().parameters.w == pytest.approx(0.002)
    assert found.config(seed=7, scale=0.5, duration=20).simulation.seed == 7
    assert found.reference == str(folder / f"{name}.py")


def test_a_config_names_its_module_relative_to_itself(user_folder, monkeypatch):
    folder, name = user_folder
    write(folder, "settings/strong.yaml", f"model: ../{name}.py\nparameters:\n  w: 5 nS\n")
    monkeypatch.chdir(folder.parent)  # relative to the config, not the working directory
    strong = model.load(f"{folder.name}/settings/strong.yaml")
    assert strong.name == "strong" and strong.module is model.load(folder / f"{name}.py").module
    assert strong.config().parameters.w == pytest.approx(0.005)
    assert strong.config_path == folder / "settings" / "strong.yaml"


def test_a_package_folder_with_modules_beside_it(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    package = f"pkg_{tmp_path.name.replace('-', '_')}"
    write(tmp_path, f"{package}/helpers.py", "SIZE = 3\n")
    write(tmp_path, f"{package}/__init__.py",
          "from .helpers import SIZE\n" + MODULE.replace("n: int = 2", "n: int = SIZE"))
    write(tmp_path, f"{package}/{package}.yaml", "model: .\n")
    write(tmp_path, f"{package}/other.yaml", "model: .\nparameters:\n  n: 4\n")
    found = model.load(tmp_path / package)
    assert found.name == package and found.config().parameters.n == 3
    assert found.setting("other").config().parameters.n == 4
    assert model.load(tmp_path / package / "other.yaml").module is found.module


def test_the_model_of_a_run_is_found_from_its_provenance(user_folder):
    folder, name = user_folder
    path = str(folder / f"{name}.yaml")
    assert model.of_run({"model_source": path, "model": name}).name == name
    assert model.of_run({"model": "coba_stp"}).name == "coba_stp"  # files without the source
    assert model.of_run({"model_source": "/gone/x.yaml", "model": "gone"}) is None


@pytest.mark.parametrize("make, message", [
    (lambda folder: "cobba", "unknown model 'cobba'; valid: "),
    (lambda folder: folder / "missing.py", "missing.py: no such model file or folder"),
    (lambda folder: write(folder, "empty.yaml", "parameters: {}\n"),
     "empty.yaml: model: names no module"),
    (lambda folder: write(folder, "lost.yaml", "model: lost.py\n"), "lost.py: no such file"),
    (lambda folder: write(folder, "bad.yaml", "model: [\n"), "bad.yaml:2: malformed YAML"),
    (lambda folder: write(folder, "other.yaml", "model: cobba\n"), "unknown model 'cobba'"),
    (lambda folder: write(folder, "nothing_here.py", "X = 1\n"),
     "is not a trisim model: it does not declare DESCRIPTION, Parameters, TRACES, build"),
    (lambda folder: write(folder, "script.py", "raise SystemExit('a script, run on import')\n"),
     "script.py is not a trisim model"),
    (lambda folder: write(folder, "loose.py", MODULE), "loose.py: no default config"),
    (lambda folder: write(folder, "broken.py", MODULE + "\ndef build(:\n"),
     r"broken.py:\d+: invalid syntax"),
    (lambda folder: write(folder, "yaml.py", MODULE), "the name 'yaml' is already taken"),
])
def test_what_cannot_be_a_model_is_one_clear_error(tmp_path, monkeypatch, make, message):
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(TrisimError, match=message):
        model.load(make(tmp_path))


def test_unknown_experiments_and_settings_are_named():
    with pytest.raises(ConfigError, match="model 'coba_stp' declares no experiments"):
        model.load("coba_stp").experiment("gain")
    with pytest.raises(UnknownNameError, match="unknown setting 'cb1_v3' of model 'cb1_v1'; "
                       "valid: cb1_v1, cb1_v2m, cb1_v2m_ko$"):
        model.load("cb1_v1").setting("cb1_v3")
    with pytest.raises(UnknownNameError):  # also a KeyError, as every unknown name
        model.load("nope")
