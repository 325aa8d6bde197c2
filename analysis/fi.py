"""Single-cell f-I curves: what a model declares, the rates of a run, and the figure.

A model module may declare ``fi_curves()``: a list of :class:`FICurve`, each a cell type of
the model with its parameters, the currents to apply and, where the publication gives them,
the rates to reproduce. ``trisim fi MODEL`` simulates them (one cell per current) and compares.
"""

from dataclasses import dataclass, field

import numpy as np
import quantities as pq
from matplotlib.figure import Figure

from trisim.analysis.statistics import _check_positive_quantity, _checked_spiketrains


@dataclass
class FICurve:
    """One f-I curve of one cell type.

    Parameters
    ----------
    label : str
        Name in the table and the legend, e.g. ``"dSPN, D1 0.8"``.
    cell : str
        NESTML neuron of ``nestml/`` (file stem).
    parameters : dict
        Cell parameters in PyNN units, besides the current.
    currents_pa : list of float
        Constant currents (the cell's ``I_e``), one cell each.
    targets_hz : list of float or None, optional
        Rates to reproduce, one per current (None: no target at that current).
    tolerance : float or list of float, optional
        Largest relative difference from a target that passes, per current or for all.
    source : str, optional
        Where the targets come from.
    """

    label: str
    cell: str
    parameters: dict
    currents_pa: list
    targets_hz: list = None
    tolerance: object = 0.1
    source: str = ""
    initial_values: dict = field(default_factory=dict)

    def tolerances(self):
        """The tolerance at each current."""
        if np.ndim(self.tolerance) == 0:
            return [float(self.tolerance)] * len(self.currents_pa)
        return [float(t) for t in self.tolerance]


def rates_in_window(spiketrains, count_from):
    """Firing rate of each train from ``count_from`` to its end, in Hz.

    Near rheobase a rate depends on the window it is counted in (the first interval is longer
    than the next ones): f-I curves are compared in one stated window.

    Examples
    --------
    >>> import neo
    >>> train = neo.SpikeTrain([100.0, 600.0, 700.0, 800.0], t_stop=1000.0, units="ms")
    >>> rates_in_window([train], 500 * pq.ms)
    array([6.])
    """
    spiketrains = _checked_spiketrains(spiketrains)
    _check_positive_quantity(count_from, "count_from", pq.ms)
    return np.array([len(train.time_slice(count_from, train.t_stop))
                     / float((train.t_stop - count_from).rescale(pq.s))
                     for train in spiketrains])


def compare(curve, rates):
    """One JSON-ready row per current: rate, target, relative difference, within tolerance."""
    targets = curve.targets_hz or [None] * len(curve.currents_pa)
    rows = []
    for current, rate, target, tolerance in zip(curve.currents_pa, rates, targets,
                                                curve.tolerances()):
        row = {"current_pa": current, "rate_hz": float(rate), "target_hz": target}
        if target is not None:
            difference = (rate - target) / target if target else rate
            row.update(relative_difference=float(difference), tolerance=tolerance,
                       within_tolerance=bool(abs(difference) <= tolerance))
        rows.append(row)
    return rows


def plot_fi(results, title, path):
    """Rates (lines) against targets (open circles with the tolerance), one colour a curve.

    ``results`` is ``{label: rows}`` with rows as :func:`compare` returns them.
    """
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    for number, (label, rows) in enumerate(results.items()):
        colour = f"C{number}"
        currents = [row["current_pa"] for row in rows]
        axes.plot(currents, [row["rate_hz"] for row in rows], "-o", color=colour,
                  markersize=3, label=label)
        targeted = [row for row in rows if row["target_hz"] is not None]
        if targeted:
            targets = np.array([row["target_hz"] for row in targeted])
            spread = targets * np.array([row["tolerance"] for row in targeted])
            axes.errorbar([row["current_pa"] for row in targeted], targets, yerr=spread,
                          fmt="o", mfc="none", color=colour, capsize=3)
    axes.set_xlabel("current (pA)")
    axes.set_ylabel("firing rate (Hz)")
    axes.set_title(title + "\nlines: simulated; open circles: targets with tolerance")
    axes.legend(fontsize=8)
    figure.savefig(path, format="png", dpi=110)
