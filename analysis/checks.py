"""Checks of the arguments that the analysis functions share, with messages naming the argument.

Every public analysis function checks its inputs first (as Elephant's do) and computes on plain
arrays afterwards; these are the checks more than one module needs.
"""

import numbers

import neo
import numpy as np
import quantities as pq


def finite_or_none(value):
    """``value`` as a float, None if it is NaN or infinite (which JSON cannot hold)."""
    value = float(value)
    return value if np.isfinite(value) else None


def checked_spiketrains(spiketrains):
    """Return ``spiketrains`` as a list, after checking it is a non-empty list of SpikeTrains."""
    if isinstance(spiketrains, neo.SpikeTrain):
        raise TypeError("spiketrains must be a list of neo.SpikeTrain, not a single SpikeTrain")
    spiketrains = list(spiketrains)
    if not spiketrains:
        raise ValueError("spiketrains is empty")
    for train in spiketrains:
        if not isinstance(train, neo.SpikeTrain):
            raise TypeError(f"spiketrains must hold neo.SpikeTrain only, found "
                            f"{type(train).__name__}")
    return spiketrains


def check_positive_quantity(value, name, unit):
    """Raise unless ``value`` is a positive scalar quantity convertible to ``unit``."""
    unit_name = getattr(unit, "dimensionality", unit)  # pq.ms prints as "1.0 ms"
    if not isinstance(value, pq.Quantity) or value.size != 1:
        raise TypeError(f"{name} must be a scalar quantities.Quantity such as 5 * pq.{unit_name}, "
                        f"got {value!r}")
    try:
        magnitude = float(value.rescale(unit))
    except ValueError:
        raise ValueError(f"{name} must be in units of {unit_name}, got {value.dimensionality}") from None
    if not magnitude > 0:
        raise ValueError(f"{name} must be positive, got {value}")


def check_integer(value, name, minimum):
    """Raise unless ``value`` is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
