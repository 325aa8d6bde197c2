"""The documentation: the site builds without a warning, and the tutorial runs as written.

Broken cross-references are warnings too; the tutorial's commands, run in order on a copy of
its folder, print what the page shows. Every module says what it is for in its first line.
"""

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial.md"
#: the folders whose modules a newcomer reads to see the architecture (the tutorial's files are
#: a user's, and my_circuit.py is the README's smallest model as it is printed there)
SOURCE_FOLDERS = ("trisim", "runners", "analysis", "pynn_models", "nestml", "configs",
                  "benchmarks", "tests", "scripts")


def console_blocks(page):
    """``[(command, [expected output line, ...]), ...]`` of the page's ``console`` blocks, in
    order: a line starting with ``$ `` is a command, the lines after it its output (``...``
    stands for any lines)."""
    steps = []
    for block in re.findall(r"```console\n(.*?)```", page.read_text(), re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif line.strip():
                steps[-1][1].append(line)
    return steps


def shown_lines_appear(expected, printed):
    """Whether every shown line (but ``...``) is a line printed, in the order shown; ``...``
    inside a line stands for any text."""
    lines = iter(printed.splitlines())
    for shown in expected:
        if shown == "...":
            continue
        pattern = re.compile(".*".join(map(re.escape, shown.split("..."))))
        if not any(pattern.fullmatch(line) for line in lines):
            return False
    return True


def test_the_documentation_builds_without_warnings(tmp_path):
    # what `make docs` runs: nitpicky (-n), every warning an error (-W)
    result = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-n", "-W",
                             "--keep-going", "-q", str(DOCS), str(tmp_path / "html")],
                            capture_output=True, text=True, timeout=900,
                            env={**os.environ, "PYNEST_QUIET": "1"})
    assert result.returncode == 0, result.stderr[-5000:]
    assert (tmp_path / "html" / "tutorial.html").is_file()
    assert (tmp_path / "html" / "api" / "experiment.html").is_file()


def test_the_tutorial_shows_its_commands_and_their_output():
    steps = console_blocks(TUTORIAL)
    commands = [command for command, _ in steps]
    assert commands[:2] == ["trisim run my_circuit.yaml --backend nest --out runs",
                            "trisim analyze runs/my_circuit_nest_seed1.nix"]
    assert "trisim validate my_circuit.yaml --seeds 3 --out validation" in commands
    assert shown_lines_appear(["a: ...", "...", "c"], "a: 1\nb\nc")
    assert not shown_lines_appear(["c", "a: ..."], "a: 1\nb\nc")


@pytest.mark.slow
def test_the_tutorial_runs_as_written(tmp_path):
    folder = tmp_path / "tutorial"
    shutil.copytree(DOCS / "tutorial", folder)
    programs = {"trisim": [sys.executable, "-m", "trisim.cli"], "python": [sys.executable]}
    env = {**os.environ, "PYNEST_QUIET": "1"}
    for command, expected in console_blocks(TUTORIAL):
        program, *arguments = shlex.split(command)
        result = subprocess.run([*programs[program], *arguments], capture_output=True,
                                text=True, timeout=3000, cwd=folder, env=env)
        assert result.returncode == 0, f"$ {command}\n{result.stderr[-3000:]}"
        assert shown_lines_appear(expected, result.stdout), \
            f"$ {command}\nshown:\n{chr(10).join(expected)}\nprinted:\n{result.stdout[-3000:]}"
    assert (folder / "runs" / "my_circuit_nest_seed1.raster.png").is_file()
    assert (folder / "sweep" / "my_circuit_sweep_w_nest.png").is_file()


def first_docstring_line(path):
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    return docstring.strip().splitlines()[0] if docstring and docstring.strip() else ""


def test_every_module_says_what_it_is_for_in_its_first_line():
    # the first line is the summary (numpydoc, PEP 257): a whole sentence, not the start of one
    paths = [path for folder in SOURCE_FOLDERS for path in sorted((ROOT / folder).rglob("*.py"))]
    paths += sorted(DOCS.glob("*.py"))
    assert len(paths) > 50
    unsaid = [f"{path.relative_to(ROOT)}: {first_docstring_line(path)!r}" for path in paths
              if not first_docstring_line(path).endswith((".", "?"))]
    # the module trisim new writes for a user says it too (a template: not Python until filled)
    template = ROOT / "runners" / "scaffold" / "model.py.template"
    first = template.read_text().splitlines()[0]
    if not (first.startswith('"""') and first.endswith(".")):
        unsaid.append(f"{template.relative_to(ROOT)}: {first!r}")
    assert unsaid == []
