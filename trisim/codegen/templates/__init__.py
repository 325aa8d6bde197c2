"""Jinja templates of the generated code, one set per target."""

from pathlib import Path

import jinja2

_ENVIRONMENT = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                                  undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def render(name, **context):
    """Render template ``name`` with ``context``; a missing name is an error, not a blank."""
    return _ENVIRONMENT.get_template(name).render(**context)
