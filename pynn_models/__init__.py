"""Circuits written once against the PyNN API, each in its own module.

A model module declares ``DESCRIPTION`` (one line), ``Parameters`` (a
:class:`trisim.config.Strict` model: every key with its type, default and unit), ``TRACES`` (the
state variables recorded from a few cells) and ``build(sim, parameters, simulation, rng)``,
which creates the network on the backend ``sim`` and returns its populations by name. Its
default config is ``configs/<name>.yaml``. Optionally, ``summarize(block, parameters)`` returns
the model's own statistics of a run (JSON-ready), which ``trisim run`` adds to the summary, and
``VALIDATION_STATISTICS`` what ``trisim validate`` compares besides the default statistics.

Settings of one circuit that differ only in config values are models of their own name (each
with its config) sharing one module: :data:`MODULES` maps them to it.
"""

import importlib
from importlib import resources

from trisim.errors import unknown_name

MODELS = ("coba_stp", "wang_buzsaki", "striatum", "cb1_v1", "cb1_v2m", "cb1_v2m_ko")

#: Models whose module has another name: settings of one circuit.
MODULES = {"cb1_v1": "cb1", "cb1_v2m": "cb1", "cb1_v2m_ko": "cb1"}


def get(name):
    """Return the model module called ``name``."""
    if name not in MODELS:
        raise unknown_name("model", name, MODELS)
    return importlib.import_module(f"{__name__}.{MODULES.get(name, name)}")


def get_providing(name, hook, what):
    """The model module ``name``, checked to define ``hook`` (an optional part such as
    ``fi_curves``); otherwise a ConfigError naming the models that do provide ``what``."""
    from trisim.errors import ConfigError
    model = get(name)
    if not hasattr(model, hook):
        providing = [other for other in MODELS if hasattr(get(other), hook)]
        raise ConfigError(f"model {name!r} {what}; models that do: "
                          f"{', '.join(providing) or 'none'}")
    return model


def default_config(name):
    """Path of the model's default config file."""
    return resources.files("trisim.configs").joinpath(f"{name}.yaml")
