"""``trisim new``: a model folder to start from, written into the user's own folder.

``new(NAME)`` writes ``NAME/``: ``NAME.py`` (the model module: a small E/I network),
``NAME.yaml`` (its config), ``NAME_neuron.nestml`` and ``NAME_synapse.nestml`` (its own cell and
depressing synapse, opened by paths relative to the module) and ``test_NAME.py`` (``trisim
validate`` on NEST, NEURON and Brian2). It runs on all three as written.

``new(NAME, source=MODEL)`` copies MODEL instead: its module (a whole package, its own imports
renamed to ``NAME``), every config of the package's models (their ``model`` key pointing at the
copy, MODEL's own config also as ``NAME.yaml``), and a test at small scale. trisim's own NESTML
files stay where they are (``trisim.nestml.path``).
"""

import importlib.util
import keyword
import re
import shutil
from pathlib import Path
from string import Template

from trisim import model as models
from trisim.errors import ConfigError, OutputError

TEMPLATES = Path(__file__).with_name("scaffold")

#: What the template's module says for each kind of cell and synapse.
NESTML = {
    "synapse_type": 'nestml_synapse_type("${name}_synapse.nestml")',
    "cell_type": 'nestml_cell_type("${name}_neuron.nestml")',
    "cell_parameters": "C_m=p.C_m, g_L=p.g_L, E_L=p.E_L, V_th=p.V_th,\n"
                       "                                            V_reset=p.V_reset, "
                       "refr_T=p.refr_T, E_exc=p.E_exc,\n"
                       "                                            E_inh=p.E_inh, "
                       "tau_syn_exc=p.tau_syn_exc,\n"
                       "                                            tau_syn_inh=p.tau_syn_inh",
    "drive": "I_e", "voltage": "V_m", "traces": '("V_m",)',
    "depressing_parameters": "U=p.U, tau_rec=p.tau_rec",
    "receptor": '"exc_spikes" if pre.label == "E" else "inh_spikes"',
    "cell_source": "its own NESTML cell, ``${name}_neuron.nestml``",
    "synapse_source": "its own NESTML synapse, ``${name}_synapse.nestml``",
    "types_comment": "    # NESTML types first (NEST loads them into an empty network); paths are "
                     "relative to\n    # this file\n",
}
PYNN = {
    "synapse_type": "TsodyksMarkramSynapse",
    "cell_type": "IF_cond_exp",
    "cell_parameters": "cm=p.C_m, tau_m=p.C_m / p.g_L, v_rest=p.E_L,\n"
                       "                                            v_thresh=p.V_th, "
                       "v_reset=p.V_reset, tau_refrac=p.refr_T,\n"
                       "                                            e_rev_E=p.E_exc, "
                       "e_rev_I=p.E_inh,\n"
                       "                                            tau_syn_E=p.tau_syn_exc, "
                       "tau_syn_I=p.tau_syn_inh",
    "drive": "i_offset", "voltage": "v", "traces": '("v",)',
    "depressing_parameters": "U=p.U, tau_rec=p.tau_rec,\n"
                             "                                       tau_facil=0.0",
    "receptor": '"excitatory" if pre.label == "E" else "inhibitory"',
    "cell_source": "PyNN's ``IF_cond_exp``",
    "synapse_source": "PyNN's ``TsodyksMarkramSynapse``",
    "types_comment": "",
}


def new(name, into=".", source=None, nestml=True):
    """Write the model folder ``<into>/<name>/``; return the paths written.

    Raises
    ------
    trisim.errors.ConfigError
        If ``name`` is not a Python name, is taken by an importable module, or ``source`` is
        not a model.
    trisim.errors.OutputError
        If the folder exists already.
    """
    _check_name(name)
    folder = Path(into) / name
    source = models.load(source) if source is not None else None
    if folder.exists():
        raise OutputError(f"{folder}: exists already; choose another name or folder")
    folder.mkdir(parents=True)
    try:
        return _copy(source, name, folder) if source else _template(name, folder, nestml)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _check_name(name):
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ConfigError(f"model name {name!r}: must be a Python name (letters, digits, _)")
    if importlib.util.find_spec(name) is not None:
        raise ConfigError(f"model name {name!r}: taken by an installed module; choose another")


def _template(name, folder, nestml):
    values = {"name": name, "n_exc": 80, "n_inh": 20}
    parts = {key: Template(text).substitute(values)
             for key, text in (NESTML if nestml else PYNN).items()}
    files = {f"{name}.py": _fill("model.py.template", {**values, **parts}),
             f"{name}.yaml": _fill("model.yaml.template", values),
             f"test_{name}.py": _fill("test_model.py.template",
                                      {**values, "config": f"{name}.yaml", "scale": 1.0,
                                       "duration": 500})}
    if nestml:
        files[f"{name}_neuron.nestml"] = _fill("neuron.nestml.template", values)
        files[f"{name}_synapse.nestml"] = _fill("synapse.nestml.template", values)
    return _write(folder, files)


def _fill(template, values):
    return Template((TEMPLATES / template).read_text()).substitute(values)


def _copy(source, name, folder):
    """``source``'s module (a package whole), its package's configs and a small test."""
    module_file = Path(source.module.__file__)
    package = module_file.name == "__init__.py"
    dotted = source.module.__name__
    files = {}
    if package:
        for path in sorted(module_file.parent.rglob("*")):
            relative = path.relative_to(module_file.parent)
            if "__pycache__" in relative.parts or path.is_dir():
                continue
            files[str(relative)] = path.read_bytes()
    else:
        files[f"{name}.py"] = module_file.read_bytes()
    for relative, content in list(files.items()):
        if relative.endswith(".py"):
            files[relative] = _renamed(content.decode(), dotted, name).encode()
    for path, target in _configs(source, name, package):
        files[path.name] = _with_model(path, target)
    files[f"{name}.yaml"] = _with_model(source.config_path,
                                        "." if package else f"{name}.py")
    files[f"test_{name}.py"] = _fill("test_model.py.template",
                                     {"name": name, "config": f"{name}.yaml", "scale": 0.05,
                                      "duration": 300})
    return _write(folder, files)


def _renamed(source_text, dotted, name):
    """A copied module's text: imports of its own package renamed, trisim's configs folder
    no longer named (the copy's configs are beside it)."""
    text = re.sub(rf"\b{re.escape(dotted)}\b", name, source_text)
    text = re.sub(r"^CONFIGS = .*\n", "", text, flags=re.M)
    text = re.sub(r'"CONFIGS", ', "", text)
    text = re.sub(r"\bCONFIGS, ", "", text)

    def without_configs(match):
        names = [n.strip() for n in match.group(1).split(",") if n.strip() != "configs"]
        return f"from trisim import {', '.join(names)}\n" if names else ""
    return re.sub(r"^from trisim import ([\w, ]+)\n", without_configs, text, flags=re.M)


def _configs(source, name, package):
    """(config, the copy's ``model`` key) of every config naming the source's module or,
    for a package, a module inside it."""
    module_file = Path(source.module.__file__).resolve()
    found = []
    for path in sorted(source.config_directory.glob("*.yaml")):
        named = models.module_file_of_config(path)
        if named == module_file:
            found.append((path, "." if package else f"{name}.py"))
        elif package and named is not None and module_file.parent in named.parents:
            found.append((path, named.relative_to(module_file.parent).as_posix()))
    return found


def _with_model(path, target):
    """The config at ``path`` with its ``model`` key set to ``target``."""
    text = Path(path).read_text()
    text, count = re.subn(r"^model:.*$", f"model: {target}", text, count=1, flags=re.M)
    if not count:
        text = f"model: {target}\n" + text
    return text.encode()


def _write(folder, files):
    paths = []
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        paths.append(path)
    return paths
