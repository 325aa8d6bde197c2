"""Jinja templates of the generated code, one set per target.

Their names start with the target's: ``neuron*`` (the NMODL files of a NESTML neuron and
synapse), ``brian2*`` (a neuron's equations, a synapse event's code), ``nest*`` (the
``nest-config`` script NESTML's NEST build asks for).
"""

from pathlib import Path

import jinja2

_ENVIRONMENT = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                                  undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def render(name, **context):
    """Render template ``name`` with ``context``; a missing name is an error, not a blank."""
    return _ENVIRONMENT.get_template(name).render(**context)
