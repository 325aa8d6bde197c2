"""The configs of trisim's own models, one ``<model name>.yaml`` each (see :mod:`trisim.model`).

trisim's model modules name this folder as their ``CONFIGS``; a model in a user's folder keeps
its configs beside its module instead.
"""

from pathlib import Path

#: The folder of trisim's own configs.
DIRECTORY = Path(__file__).parent
