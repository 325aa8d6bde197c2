"""NEST printer: the NESTML text and the build script that NESTML's NEST generator is given.

NESTML's own generator writes the model's C++, so trisim prints only what it hands that
generator: the NESTML source under the model's native name, a synapse's transmitted weight
scaled per connection, and the ``nest-config`` script of the installed NEST wheel (template
``nest_config.jinja2``).
"""

import re

from ...errors import NestmlError
from ..templates import render


def nest_config(prefix, version, include, mpi_includes, ndebug):
    """The text of ``bin/nest-config`` answering for the NEST installation with headers in
    ``include``, whose kernel was compiled with NDEBUG if ``ndebug`` (see
    :func:`trisim.codegen.nest.nest_config`)."""
    return render("nest_config.jinja2", prefix=prefix, version=version, include=include,
                  mpi_includes=mpi_includes, ndebug=ndebug)


def renamed_model(source, native_name):
    """NESTML ``source`` with its model called ``native_name``."""
    return re.sub(r"^(\s*model\s+)\w+(\s*:)", rf"\g<1>{native_name}\g<2>", source, count=1,
                  flags=re.MULTILINE)


WEIGHT_SCALE = "nml_weight_scale"


def scaled_emission(source, path):
    """``source`` with a parameter WEIGHT_SCALE (1000) and ``emit_spike(x)`` -> scaled x."""
    out, position = [], 0
    for match in re.finditer(r"\bemit_spike\s*\(", source):
        start = match.end()
        depth, end = 1, start
        while depth:
            if end >= len(source):
                raise NestmlError(f"{path}: unbalanced parentheses in emit_spike(...)")
            depth += {"(": 1, ")": -1}.get(source[end], 0)
            end += 1
        out.append(source[position:start] + f"{WEIGHT_SCALE} * ({source[start:end - 1]})")
        position = end - 1
    text = "".join(out) + source[position:]
    block = re.search(r"^([ \t]*)parameters\s*:[^\n]*\n(?:[ \t]*(?:#[^\n]*)?\n)*([ \t]+)", text,
                      re.MULTILINE)
    declaration = f"{WEIGHT_SCALE} real = 1000  # set per connection by trisim\n"
    if block:  # first in the block, indented as the block's first declaration
        return text[:block.start(2)] + block.group(2) + declaration + text[block.start(2):]
    # no parameters block: a new one first in the model, indented as the model's first line,
    # its declaration one level deeper by the same step
    model = re.search(r"^([ \t]*)model\s+\w+\s*:[^\n]*\n(?:[ \t]*(?:#[^\n]*)?\n)*([ \t]+)",
                      text, re.MULTILINE)
    outer, inner = model.group(1), model.group(2)
    deeper = inner + inner[len(outer):]
    return (text[:model.start(2)] + f"{inner}parameters:\n{deeper}{declaration}\n"
            + text[model.start(2):])
