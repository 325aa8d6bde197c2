"""Import structure: trisim's layers import downward only, without loops, by absolute names.

Layers, lowest first: core (``trisim/`` modules), simulators (``trisim/backends``,
``trisim/codegen``), analysis (``analysis/``), models (``pynn_models/``, ``nestml/``,
``configs/``), commands (``runners/``, ``trisim/cli.py``). The folders of the design card are
installed under ``trisim.*`` (setup.cfg ``package_dir``), so an import outside ``trisim/``
names its target absolutely (``trisim.analysis.x``) for a reader who does not know that map.
The test reads the source files with :mod:`ast`; it imports nothing of trisim.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"trisim": "trisim", "runners": "trisim.runners", "analysis": "trisim.analysis",
           "pynn_models": "trisim.pynn_models", "nestml": "trisim.nestml",
           "configs": "trisim.configs"}
LAYERS = ("core", "simulators", "analysis", "models", "commands")
FOLDER_LAYERS = {"runners": "commands", "analysis": "analysis", "pynn_models": "models",
                 "nestml": "models", "configs": "models"}


def _layer(module):
    """The layer of a module given by its installed name."""
    if module == "trisim.cli":
        return "commands"
    if module.startswith(("trisim.backends", "trisim.codegen")):
        return "simulators"
    top = module.split(".")[1] if "." in module else ""
    folder = next((f for f, pkg in FOLDERS.items() if pkg == f"trisim.{top}"), "trisim")
    return FOLDER_LAYERS.get(folder, "core")


def _modules():
    """{installed module name: (path, is package)} of every trisim source file."""
    modules = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if folder == "trisim" and parts[0] in FOLDERS:
                continue
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            modules[".".join([package, *parts])] = (path, is_package)
    return modules


MODULES = _modules()


def _imports(module):
    """(imported trisim module, line, relative) for every import statement of ``module``."""
    path, is_package = MODULES[module]
    base = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = ".".join(base[:len(base) - node.level + 1]
                                  + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.append((name, node.lineno, bool(getattr(node, "level", 0))))
    return found


def _where(module, line):
    return f"{MODULES[module][0].relative_to(ROOT)}:{line}"


def test_modules_are_found():
    assert {"trisim.cli", "trisim.config", "trisim.runners.run", "trisim.analysis.replay",
            "trisim.backends.nest", "trisim.codegen.program"} <= set(MODULES)


def test_imports_outside_trisim_are_absolute():
    relative = [_where(module, line) for module, (path, _) in MODULES.items()
                if path.relative_to(ROOT).parts[0] != "trisim"
                for _, line, is_relative in _imports(module) if is_relative]
    assert relative == []


def test_no_layer_imports_a_higher_one():
    upward = [f"{_where(module, line)}: {_layer(module)} imports {target} ({_layer(target)})"
              for module in MODULES for target, line, _ in _imports(module)
              if LAYERS.index(_layer(target)) > LAYERS.index(_layer(module))
              and not MODULES[target][1]]
    assert upward == []


def test_no_import_cycles_between_modules():
    # a package's __init__ only re-exports; the cycles that matter are between modules
    graph = {module: {target for target, _, _ in _imports(module) if not MODULES[target][1]}
             for module, (_, is_package) in MODULES.items() if not is_package}
    cycles, done = [], set()

    def visit(module, stack):
        if module in stack:
            cycles.append(" -> ".join(stack[stack.index(module):] + [module]))
            return
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, stack + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert cycles == []


@pytest.mark.parametrize("module, layer", [("trisim.config", "core"),
                                           ("trisim.codegen.frontend", "simulators"),
                                           ("trisim.analysis.replay", "analysis"),
                                           ("trisim.pynn_models.coba_stp", "models"),
                                           ("trisim.runners.run", "commands"),
                                           ("trisim.cli", "commands")])
def test_layer_of_a_module(module, layer):
    assert _layer(module) == layer
