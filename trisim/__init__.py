"""trisim: a spiking circuit written once in PyNN and NESTML, run on NEST, NEURON and Brian2.

Layers, lowest first (each imports only those below it): core (this folder's modules),
simulators (``trisim.backends``, ``trisim.codegen``), analysis (``trisim.analysis``),
models (``trisim.pynn_models``, ``trisim.nestml``, ``trisim.configs``), commands
(``trisim.runners``, ``trisim.cli``). ``docs/layout.md`` maps folders to import names.
"""
