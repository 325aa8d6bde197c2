"""trisim's own circuits, one package each, written once against the PyNN API.

Each package holds a circuit and everything that belongs to it: its configs (``<name>.yaml``,
one per model name it offers), its measures, figures and experiments. They follow the public
contract of :mod:`trisim.model`, and trisim finds them as it finds any installed model: through
the ``trisim.models`` entry points of ``setup.cfg``. Copy one into your own folder to start from
it (``trisim new NAME --from MODEL``).
"""
