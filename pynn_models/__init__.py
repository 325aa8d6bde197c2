"""trisim's own circuits, one package each, written once against the PyNN API.

Each package holds a circuit and what belongs to it alone: its measures, figures and
experiments; its configs are in ``configs/`` (the package names that folder as its
``CONFIGS``) and trisim's shared NESTML cells and synapses in ``nestml/``. They follow the
public contract of :mod:`trisim.model`, and trisim finds them as it finds any installed model:
through the ``trisim.models`` entry points of ``setup.cfg``. Copy one into your own folder to start from
it (``trisim new NAME --from MODEL``).
"""
