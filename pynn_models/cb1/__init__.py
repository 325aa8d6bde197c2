"""Seed 001: the L4-L2/3 circuit with CB1-modulated GABA release (Zerlaut et al.), as a package.

Three settings (``configs/cb1_v1.yaml``, ``cb1_v2m.yaml``, ``cb1_v2m_ko.yaml``) of one circuit.

``circuit.py`` builds the network, ``measures.py`` takes the published measures of a run,
``plots.py`` draws the published figures, ``experiments.py`` declares the published
experiments (``trisim experiment cb1_v1 NAME``).
"""

from trisim.pynn_models.cb1.circuit import (CONFIGS, DESCRIPTION, TRACES, VALIDATION_STATISTICS,
                                            Parameters, build, size)
from trisim.pynn_models.cb1.experiments import EXPERIMENTS

__all__ = ["CONFIGS", "DESCRIPTION", "EXPERIMENTS", "TRACES", "VALIDATION_STATISTICS",
           "Parameters", "build", "size"]
