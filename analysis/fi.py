"""Single-cell input-output curves: what a model declares, the rates of a run, the figure.

A model module may declare ``fi_curves()``: a list of :class:`FICurve`, each a cell type of
the model with its parameters, the inputs to apply and, where the publication gives them, the
rates to reproduce. An input is a constant current (an f-I curve) or, for a curve with a
:class:`PoissonDrive`, a total rate of afferent spikes (an f-f curve, as synaptic fits are
published). The experiment of :func:`trisim.pynn_models.single_cells.fi_experiment` simulates
them and compares.
"""

from dataclasses import dataclass, field

import numpy as np
import quantities as pq

from trisim.analysis.checks import check_positive_quantity, checked_spiketrains


@dataclass
class PoissonDrive:
    """Independent Poisson afferents onto each cell, all at one rate.

    Parameters
    ----------
    groups : list of (int, dict)
        Per group of afferents: how many, and the weight (PyNN units) each spike has on each
        spike port it reaches, e.g. ``(84, {"ampa_spikes": 0.0011, "nmda_spikes": 2e-5})`` for
        cortical synapses with an AMPA and an NMDA component.
    cells_per_input : int, optional
        Cells simulated at each input rate; the curve gives their mean rate.
    """

    groups: list
    cells_per_input: int = 10

    def afferents(self):
        """Afferents per cell: an input of R spikes/s is R / afferents Hz each."""
        return sum(count for count, _ in self.groups)


@dataclass
class FICurve:
    """One input-output curve of one cell type: f-I, or f-f with a ``drive``.

    Parameters
    ----------
    label : str
        Name in the table and the legend, e.g. ``"dSPN, D1 0.8"``.
    cell : str
        NESTML neuron of ``nestml/`` (file stem).
    parameters : dict
        Cell parameters in PyNN units, besides the current.
    inputs : list of float
        Constant currents in pA (the cell's ``I_e``, one cell each) or, with a ``drive``,
        total afferent spikes per second.
    targets_hz : list of float or None, optional
        Rates to reproduce, one per input (None: no target at that input).
    tolerance : float or list of float, optional
        Largest relative difference from a target that passes, per input or for all.
    source : str, optional
        Where the targets come from.
    drive : PoissonDrive, optional
        The afferents that carry the input rates, for an f-f curve.
    """

    label: str
    cell: str
    parameters: dict
    inputs: list
    targets_hz: list = None
    tolerance: object = 0.1
    source: str = ""
    initial_values: dict = field(default_factory=dict)
    drive: PoissonDrive = None

    @property
    def input_key(self):
        """The name of an input in tables (with its unit)."""
        return "current_pa" if self.drive is None else "input_hz"

    def tolerances(self):
        """The tolerance at each input."""
        if np.ndim(self.tolerance) == 0:
            return [float(self.tolerance)] * len(self.inputs)
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
    spiketrains = checked_spiketrains(spiketrains)
    check_positive_quantity(count_from, "count_from", pq.ms)
    return np.array([len(train.time_slice(count_from, train.t_stop))
                     / float((train.t_stop - count_from).rescale(pq.s))
                     for train in spiketrains])


def compare(curve, rates):
    """One JSON-ready row per input: rate, target, relative difference, within tolerance."""
    targets = curve.targets_hz or [None] * len(curve.inputs)
    rows = []
    for value, rate, target, tolerance in zip(curve.inputs, rates, targets,
                                              curve.tolerances()):
        row = {curve.input_key: value, "rate_hz": float(rate), "target_hz": target}
        if target is not None:
            difference = (rate - target) / target if target else rate
            row.update(relative_difference=float(difference), tolerance=tolerance,
                       within_tolerance=bool(abs(difference) <= tolerance))
        rows.append(row)
    return rows


#: Unit and axis label of each kind of input.
INPUT_UNITS = {"current_pa": "pA", "input_hz": "spikes/s"}
INPUT_LABELS = {"current_pa": "current (pA)", "input_hz": "afferent input (spikes/s)"}


def plot_fi(results, title, path):
    """Rates (lines) against targets (open circles with the tolerance), one colour a curve,
    one panel per kind of input (current, afferent rate).

    ``results`` is ``{label: rows}`` with rows as :func:`compare` returns them.
    """
    from matplotlib.figure import Figure  # here: models import this module on every start
    kinds = [key for key in INPUT_LABELS if any(key in rows[0] for rows in results.values())]
    figure = Figure(figsize=(7 * len(kinds), 4.5), layout="constrained")
    panels = dict(zip(kinds, np.atleast_1d(figure.subplots(1, len(kinds)))))
    for number, (label, rows) in enumerate(results.items()):
        colour = f"C{number}"
        key = next(key for key in kinds if key in rows[0])
        axes = panels[key]
        axes.plot([row[key] for row in rows], [row["rate_hz"] for row in rows], "-o",
                  color=colour, markersize=3, label=label)
        targeted = [row for row in rows if row["target_hz"] is not None]
        if targeted:
            targets = np.array([row["target_hz"] for row in targeted])
            spread = targets * np.array([row["tolerance"] for row in targeted])
            axes.errorbar([row[key] for row in targeted], targets, yerr=spread,
                          fmt="o", mfc="none", color=colour, capsize=3)
    for key, axes in panels.items():
        axes.set_xlabel(INPUT_LABELS[key])
        axes.set_ylabel("firing rate (Hz)")
        axes.legend(fontsize=8)
    figure.suptitle(title + "\nlines: simulated; open circles: targets with tolerance")
    figure.savefig(path, format="png", dpi=110)
