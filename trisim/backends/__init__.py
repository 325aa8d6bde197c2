"""Simulator backends, resolved once by name.

A backend is a PyNN backend module plus the few hooks trisim adds to it (see
:mod:`trisim.backends.common`). Each lives in its own module, imported only when asked for,
because NEST and NEURON keep global state and are slow to import.
"""

import importlib

from ..errors import unknown_name

BACKENDS = {
    "nest": "trisim.backends.nest:NestBackend",
    "neuron": "trisim.backends.neuron:NeuronBackend",
    "brian2": "trisim.backends.brian2:Brian2Backend",
}


def load(name, portable=False):
    """Return a new backend object for the simulator called ``name``; with ``portable``, one
    that refuses the names of its PyNN module that other simulators' modules lack."""
    try:
        module_name, class_name = BACKENDS[name].split(":")
    except KeyError:
        raise unknown_name("backend", name, BACKENDS) from None
    return getattr(importlib.import_module(module_name), class_name)(portable=portable)
