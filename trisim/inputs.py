"""Input spike trains drawn once in numpy, so that every backend gets the same input.

Backends' own Poisson generators draw from their own random streams (and differ in whether a
source may fire twice in one step), so a model whose input must be identical across simulators
draws the spike times here from the run's seed and hands them to ``SpikeSourceArray``.
"""

import numpy as np

#: Sources drawn at a time: bounds the memory of the gap matrix (sources x expected spikes).
_BATCH = 256


def step_spike_times(rate_hz, n_trains, dt, rng):
    """Independent trains with at most one spike per time step, step k firing with probability
    ``rate_hz[k] * dt``.

    This is the Bernoulli-per-step process of Brian2-era models (e.g. seed 001's afferents):
    one spike per step at most is also what Elephant's continuous-time generators do not
    guarantee and Brian2's ``SpikeGeneratorGroup`` requires. Spikes are found as cumulative
    geometric gaps at the highest probability, then thinned to the probability of their step,
    which is exact for a Bernoulli sequence and costs one draw per spike, not one per step.

    Parameters
    ----------
    rate_hz : array_like
        Rate in Hz of each time step.
    n_trains : int
    dt : float
        Time step in ms; a spike drawn in step k is at ``(k + 1) * dt`` (its end), so that no
        spike is at time 0.
    rng : numpy.random.Generator

    Returns
    -------
    list of numpy.ndarray
        Spike times in ms, sorted, one array per train.

    Raises
    ------
    ValueError
        If a rate is negative or ``rate * dt`` exceeds one spike per step.

    Examples
    --------
    >>> trains = step_spike_times(np.full(10000, 100.0), 2, 0.1, np.random.default_rng(1))
    >>> [len(t) for t in trains]  # about 100 Hz x 1 s
    [96, 108]
    """
    q = np.asarray(rate_hz, dtype=float) * dt * 1e-3
    if q.ndim != 1:
        raise ValueError("rate_hz: one rate per time step")
    if q.size and (q.min() < 0 or q.max() > 1):
        raise ValueError(f"rate_hz: {q.max() / dt * 1e3:g} Hz is more than one spike per "
                         f"{dt:g} ms step" if q.max() > 1 else "rate_hz: negative rate")
    q_max = q.max(initial=0.0)
    if q_max == 0:
        return [np.empty(0) for _ in range(n_trains)]
    constant = bool(np.all(q == q_max))
    accept = q / q_max
    steps_total = q.size
    expected = steps_total * q_max
    width = int(expected + 8 * np.sqrt(expected) + 16)
    trains = []
    for first in range(0, n_trains, _BATCH):
        rows = np.cumsum(rng.geometric(q_max, size=(min(_BATCH, n_trains - first), width)),
                         axis=1) - 1
        for row in rows:
            while row[-1] < steps_total:  # rare: more spikes than 8 SD above the mean
                row = np.concatenate([row, row[-1] + np.cumsum(rng.geometric(q_max, width))])
            steps = row[row < steps_total]
            if not constant:
                steps = steps[rng.random(steps.size) < accept[steps]]
            trains.append((steps + 1) * dt)
    return trains


def connect_trains(sim, trains, population, targets, weights, delay, label):
    """Drive ``population`` with spike ``trains`` (from :func:`step_spike_times`): train ``i``
    onto cell ``targets[i]``, each spike reaching every receptor of ``weights`` (``{receptor
    type: weight}``, PyNN units) after ``delay`` ms. One ``SpikeSourceArray`` population,
    labelled ``label``, and one static Projection per receptor."""
    from pyNN.parameters import Sequence
    source = sim.Population(len(trains), sim.SpikeSourceArray(
        spike_times=[Sequence(train) for train in trains]), label=label)
    connector = sim.IndexConnector(np.arange(len(trains)), np.asarray(targets))
    for receptor, weight in weights.items():
        sim.Projection(source, population, connector,
                       sim.StaticSynapse(weight=weight, delay=delay), receptor_type=receptor,
                       label=label if len(weights) == 1 else f"{label} {receptor}")
