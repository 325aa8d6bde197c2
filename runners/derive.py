"""``trisim derive``: recompute, from the published equations, what a model's parameters were
derived from, with figures of the match.

A model that approximates part of its publication (e.g. an event-triggered synapse standing for
a voltage-driven one) declares ``derive(out_dir)``, which writes its derivation and returns the
paths.
"""

from trisim import model as models
from trisim import output
from trisim.errors import ConfigError


def derive(model_name, out_dir):
    """Write ``model_name``'s derivations into ``out_dir``; return the written paths."""
    model = models.load(model_name)
    if not hasattr(model.module, "derive"):
        raise ConfigError(f"model {model.name!r} derives no parameters")
    return model.module.derive(output.writable_directory(out_dir))
