"""Synthetic hippocampal data with known replay: the ground truth of :mod:`trisim.analysis.replay`.

A run phase (place cells fire where the animal is on a linear track) is followed by a rest phase
(Poisson background) into which sequences are planted at known times: the place cells fire in the
order of their field centres (forward), in the opposite order (reverse), or in a random order
(shuffled, a control that must not score as replay). Cue cells fire at a constant rate that drops
during the planted events, as in the CA3 replay model of Liao et al. (2024).

The Block is laid out like a trisim run: one Segment, one :class:`neo.Group` per population
(``"place"`` and ``"cue"``), spike trains annotated with ``source_population`` and
``source_index`` (place cells also with ``field_centre_cm``), the position as an
:class:`neo.AnalogSignal` named ``"position"`` in cm over the run phase, and the planted events as
an :class:`neo.Epoch` named ``"planted_events"`` whose labels are the directions.
"""

import neo
import numpy as np
import quantities as pq

from trisim.analysis.checks import check_integer, check_positive_quantity

DIRECTIONS = ("forward", "reverse", "shuffled")


def linear_track_position(n_laps=10, track_length=200 * pq.cm, speed=30 * pq.cm / pq.s,
                          pause=1 * pq.s, sampling_period=20 * pq.ms):
    """Position of an animal running back and forth on a linear track, pausing at each end.

    Parameters
    ----------
    n_laps : int, optional
        Number of traversals (one end to the other); odd ones run back.
    track_length : pq.Quantity, optional
    speed : pq.Quantity, optional
        Constant running speed.
    pause : pq.Quantity, optional
        Time spent still at the end of each traversal.
    sampling_period : pq.Quantity, optional

    Returns
    -------
    neo.AnalogSignal
        One channel named ``"position"``, in cm, from 0 s.

    Examples
    --------
    >>> position = linear_track_position(n_laps=2, pause=0 * pq.s)
    >>> float(position.duration.rescale(pq.s).round(2))
    13.34
    """
    check_integer(n_laps, "n_laps", minimum=1)
    for value, name, unit in ((track_length, "track_length", pq.cm), (speed, "speed", pq.cm / pq.s),
                              (sampling_period, "sampling_period", pq.s)):
        check_positive_quantity(value, name, unit)
    length = float(track_length.rescale(pq.cm))
    crossing = length / float(speed.rescale(pq.cm / pq.s))
    period = crossing + float(pause.rescale(pq.s))
    dt = float(sampling_period.rescale(pq.s))
    times = np.arange(int(np.ceil(n_laps * period / dt))) * dt
    lap = np.floor(times / period)
    fraction = np.clip((times - lap * period) / crossing, 0.0, 1.0)
    x = np.where(lap % 2 == 0, fraction, 1.0 - fraction) * length
    return neo.AnalogSignal(x[:, np.newaxis], units=pq.cm, sampling_period=sampling_period,
                            t_start=0 * pq.s, name="position")


def place_cell_spikes(centres, position, rng, peak_rate=15 * pq.Hz, field_width=8 * pq.cm,
                      background_rate=0.1 * pq.Hz):
    """Spike times of place cells with Gaussian fields, as inhomogeneous Poisson processes.

    Parameters
    ----------
    centres : pq.Quantity
        Field centre of each cell.
    position : neo.AnalogSignal
        The animal's position; spikes are drawn over its time span.
    rng : numpy.random.Generator
    peak_rate : pq.Quantity, optional
        Rate at the field centre, above the background.
    field_width : pq.Quantity, optional
        Standard deviation of the Gaussian field.
    background_rate : pq.Quantity, optional

    Returns
    -------
    list of np.ndarray
        Sorted spike times in seconds, one array per cell.
    """
    peak, background = (float(r.rescale(pq.Hz)) for r in (peak_rate, background_rate))
    width = float(field_width.rescale(pq.cm))
    t_start, t_stop = (float(t.rescale(pq.s)) for t in (position.t_start, position.t_stop))
    track_times = position.times.rescale(pq.s).magnitude
    track_x = position.magnitude[:, 0]
    spikes = []
    for centre in centres.rescale(pq.cm).magnitude:
        # thinning: candidates at the maximal rate, each kept with probability rate / maximum
        candidates = np.sort(rng.uniform(t_start, t_stop,
                                         rng.poisson((peak + background) * (t_stop - t_start))))
        x = np.interp(candidates, track_times, track_x)
        rate = background + peak * np.exp(-0.5 * ((x - centre) / width) ** 2)
        spikes.append(candidates[rng.uniform(0, peak + background, candidates.size) < rate])
    return spikes


def sequence_spikes(fractions, starts, duration, directions, rng, participation=0.7,
                    spikes_per_cell=2.0, jitter=5 * pq.ms):
    """Spike times of cells replaying a track in planted events.

    A participating cell whose field lies at ``fraction`` of the track fires around
    ``start + fraction * duration`` in a forward event, ``start + (1 - fraction) * duration`` in a
    reverse one, and at a random one of the cells' slots in a shuffled one.

    Parameters
    ----------
    fractions : np.ndarray
        Field centre of each cell as a fraction of the track, in [0, 1].
    starts : pq.Quantity
        Start of each event.
    duration : pq.Quantity
        Time the sequence takes to sweep the track.
    directions : sequence of str
        ``"forward"``, ``"reverse"`` or ``"shuffled"``, one per event.
    rng : numpy.random.Generator
    participation : float, optional
        Probability that a cell fires in a given event.
    spikes_per_cell : float, optional
        Mean number of spikes of a participating cell (1 + Poisson).
    jitter : pq.Quantity, optional
        Standard deviation of each spike's time around its cell's slot.

    Returns
    -------
    list of np.ndarray
        Spike times in seconds, one (unsorted) array per cell.
    """
    if not 0 < participation <= 1:
        raise ValueError(f"participation must be in (0, 1], got {participation}")
    unknown = set(directions) - set(DIRECTIONS)
    if unknown:
        raise ValueError(f"unknown directions {sorted(unknown)}; valid: {', '.join(DIRECTIONS)}")
    fractions = np.asarray(fractions, dtype=float)
    length, sd = float(duration.rescale(pq.s)), float(jitter.rescale(pq.s))
    spikes = [[] for _ in fractions]
    for start, direction in zip(starts.rescale(pq.s).magnitude, directions):
        slots = {"forward": fractions, "reverse": 1.0 - fractions,
                 "shuffled": rng.permutation(fractions)}[direction]
        active = np.flatnonzero(rng.uniform(size=fractions.size) < participation)
        counts = 1 + rng.poisson(spikes_per_cell - 1.0, active.size)
        for cell, count in zip(active, counts):
            spikes[cell].append(start + slots[cell] * length + rng.normal(0.0, sd, count))
    return [np.concatenate(times) if times else np.empty(0) for times in spikes]


def event_starts(n_events, t_start, t_stop, rng, min_interval=1.5 * pq.s):
    """Random start times of ``n_events`` events at least ``min_interval`` apart.

    The gaps beyond ``min_interval`` are a uniform random split of the spare time, so the events
    fill ``[t_start + min_interval, t_stop - min_interval]``.

    Returns
    -------
    pq.Quantity
        Sorted start times, in s.
    """
    check_integer(n_events, "n_events", minimum=1)
    begin, end = (float(t.rescale(pq.s)) for t in (t_start, t_stop))
    gap = float(min_interval.rescale(pq.s))
    spare = end - begin - (n_events + 1) * gap
    if spare < 0:
        raise ValueError(f"{n_events} events {gap} s apart do not fit in {end - begin} s")
    extra = np.sort(rng.uniform(0, spare, n_events))
    return (begin + gap * np.arange(1, n_events + 1) + extra) * pq.s


def replay_block(seed=0, n_place=60, n_cue=15, n_laps=10, rest_duration=60 * pq.s,
                 n_events=20, directions=("forward", "reverse"), event_duration=150 * pq.ms,
                 jitter=5 * pq.ms, participation=0.7, rest_rate=0.5 * pq.Hz,
                 cue_rate=2 * pq.Hz, cue_event_gain=0.2, track_length=200 * pq.cm):
    """A run on a linear track, then rest with planted replay, as a trisim Block.

    Parameters
    ----------
    seed : int, optional
        Seed of every random draw.
    n_place, n_cue : int, optional
        Cells of each population; place-field centres tile the track evenly.
    n_laps : int, optional
        Traversals of the track in the run phase (30 cm/s, 1 s pause at each end).
    rest_duration : pq.Quantity, optional
    n_events : int, optional
        Planted events, with directions cycling through ``directions``.
    directions : sequence of str, optional
        ``"forward"``, ``"reverse"`` and/or ``"shuffled"``.
    event_duration : pq.Quantity, optional
        Time a planted sequence takes to sweep the track.
    jitter, participation : optional
        See :func:`sequence_spikes`.
    rest_rate : pq.Quantity, optional
        Background rate of place cells at rest.
    cue_rate : pq.Quantity, optional
        Rate of cue cells (run and rest).
    cue_event_gain : float, optional
        Factor on the cue cells' rate during planted events.
    track_length : pq.Quantity, optional

    Returns
    -------
    neo.Block
        Laid out as described in the module docstring; the rest phase starts where the position
        signal ends.

    Examples
    --------
    >>> block = replay_block(n_place=20, n_cue=5, n_laps=2, rest_duration=10 * pq.s, n_events=4)
    >>> [(group.name, len(group.spiketrains)) for group in block.groups]
    [('place', 20), ('cue', 5)]
    >>> block.segments[0].epochs[0].labels.tolist()
    ['forward', 'reverse', 'forward', 'reverse']
    """
    check_integer(seed, "seed", minimum=0)
    check_integer(n_place, "n_place", minimum=2)
    check_integer(n_cue, "n_cue", minimum=0)
    rng = np.random.default_rng(seed)
    position = linear_track_position(n_laps, track_length)
    rest_start = position.t_stop.rescale(pq.s)
    t_stop = rest_start + rest_duration
    starts = event_starts(n_events, rest_start, t_stop, rng)
    labels = np.array([directions[i % len(directions)] for i in range(n_events)])
    fractions = (np.arange(n_place) + 0.5) / n_place
    run = place_cell_spikes(fractions * track_length, position, rng)
    replay = sequence_spikes(fractions, starts, event_duration, labels, rng, participation,
                             jitter=jitter)
    rest = _poisson_times(n_place, rest_rate, rest_start, t_stop, rng)
    place = [np.concatenate(parts) for parts in zip(run, replay, rest)]
    cue = _cue_cell_spikes(n_cue, cue_rate, cue_event_gain, t_stop, starts, event_duration, rng)
    planted = neo.Epoch(starts, durations=np.full(n_events, float(event_duration.rescale(pq.s)))
                        * pq.s, labels=labels, name="planted_events")
    block = _assemble_block({"place": place, "cue": cue}, t_stop, [position], [planted])
    for train, fraction in zip(block.groups[0].spiketrains, fractions):
        train.annotate(field_centre_cm=float(fraction * track_length.rescale(pq.cm)))
    return block


def _poisson_times(n_cells, rate, t_start, t_stop, rng):
    """Homogeneous Poisson spike times in seconds, one array per cell."""
    begin, end = float(t_start.rescale(pq.s)), float(t_stop.rescale(pq.s))
    mean_count = float(rate.rescale(pq.Hz)) * (end - begin)
    return [rng.uniform(begin, end, rng.poisson(mean_count)) for _ in range(n_cells)]


def _cue_cell_spikes(n_cells, rate, gain, t_stop, starts, duration, rng):
    """Poisson cue cells whose spikes inside the events are kept with probability ``gain``."""
    spikes = _poisson_times(n_cells, rate, 0 * pq.s, t_stop, rng)
    starts = starts.rescale(pq.s).magnitude
    length = float(duration.rescale(pq.s))
    kept = []
    for times in spikes:
        event = np.searchsorted(starts, times, side="right") - 1
        inside = (event >= 0) & (times < starts[np.maximum(event, 0)] + length)
        kept.append(times[~inside | (rng.uniform(size=times.size) < gain)])
    return kept


def _assemble_block(populations, t_stop, signals, epochs):
    """One Segment and one Group per population, annotated like trisim's runner does."""
    block = neo.Block(name="synthetic replay")
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    for name, spikes in populations.items():
        trains = [neo.SpikeTrain(np.sort(times[(times >= 0) & (times < float(t_stop))]), units=pq.s,
                                 t_start=0 * pq.s, t_stop=t_stop, name=f"{name}[{index}]",
                                 source_population=name, source_index=index)
                  for index, times in enumerate(spikes)]
        segment.spiketrains.extend(trains)
        block.groups.append(neo.Group(trains, name=name))
    segment.analogsignals.extend(signals)
    segment.epochs.extend(epochs)
    return block
