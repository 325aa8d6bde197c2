"""The summary of a run: each population's spike trains, size, mean rate and CV of intervals.

``trisim run`` writes this summary after every simulation, so it is computed here with numpy
alone: importing Elephant (and SciPy with it) costs about a second, more than the summary of
a full-size run. The values are Elephant's (``mean_firing_rate``, ``cv`` of ``isi``) to the
last digits (``tests/test_statistics.py`` compares them); :mod:`trisim.analysis.statistics`
has everything else, from Elephant.
"""

import neo
import numpy as np
import quantities as pq

from trisim.errors import InputFileError

#: Fewest spikes (two intervals) for which the CV and LV of the intervals are not degenerate.
MIN_SPIKES_FOR_ISI_STATISTICS = 3


def spiketrains_by_population(block):
    """Group the spike trains of a Block by the population that fired them.

    trisim's runner puts one :class:`neo.Group` per population in ``block.groups``; Blocks without
    groups are grouped by the ``source_population`` annotation of each spike train instead.

    Parameters
    ----------
    block : neo.Block
        One simulation run: a single Segment holding all spike trains.

    Returns
    -------
    dict of str to list of neo.SpikeTrain
        Population name to its spike trains, in recording order; groups without spike trains
        (populations recorded for membrane potential only) are left out.

    Raises
    ------
    InputFileError
        If the Block has several segments, a spike train cannot be assigned to a population, or
        there are no spike trains at all.
    """
    if not isinstance(block, neo.Block):
        raise TypeError(f"block must be a neo.Block, not {type(block).__name__}")
    if len(block.segments) > 1:
        raise InputFileError(f"block {block.name!r} has {len(block.segments)} segments; trisim "
                             "analyses one run, saved as one segment")
    if block.groups:
        populations = {group.name: list(group.spiketrains)
                       for group in block.groups if group.spiketrains}
    else:
        populations = {}
        for spiketrain in (train for segment in block.segments for train in segment.spiketrains):
            name = spiketrain.annotations.get("source_population")
            if name is None:
                raise InputFileError(f"block {block.name!r} has no groups and spike train "
                                     f"{spiketrain.name!r} has no 'source_population' annotation")
            populations.setdefault(name, []).append(spiketrain)
    if not populations:
        raise InputFileError(f"block {block.name!r} holds no spike trains; were spikes recorded?")
    return populations


def summarize_populations(block):
    """Size, mean rate and mean CV of the inter-spike intervals of each population.

    Parameters
    ----------
    block : neo.Block

    Returns
    -------
    dict
        ``{name: {"n": int, "rate_hz": float, "cv_isi": float or None}}``: ``rate_hz`` is the
        mean over cells of each train's count over its ``[t_start, t_stop]``; ``cv_isi``
        averages the cells with at least 3 spikes and is None if there are none. Plain Python
        values, ready for JSON.
    """
    return {name: _summary(spiketrains)
            for name, spiketrains in spiketrains_by_population(block).items()}


def _summary(spiketrains):
    seconds = {}  # seconds per unit of time, by unit: quantities' rescale is slow per train
    rates, cvs = [], []
    for train in spiketrains:
        unit = train.dimensionality.string
        if unit not in seconds:
            seconds[unit] = float(pq.Quantity(1.0, unit).rescale(pq.s).magnitude)
        duration = float(train.t_stop.magnitude - train.t_start.magnitude) * seconds[unit]
        rates.append(len(train) / duration)
        if len(train) >= MIN_SPIKES_FOR_ISI_STATISTICS:
            intervals = np.diff(train.magnitude)
            cvs.append(intervals.std() / intervals.mean())
    cvs = np.asarray(cvs)[np.isfinite(cvs)]  # NaN: intervals of length 0 only
    return {"n": len(spiketrains), "rate_hz": float(np.mean(rates)),
            "cv_isi": float(cvs.mean()) if cvs.size else None}
