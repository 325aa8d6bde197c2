"""The virtual linear track: the animal's position, the input classes' rate maps and their spikes.

The published model (Liao et al. 2024; soltesz-lab/ca3_biophysical, ``SetupConnections.py``)
drives CA3 with four classes of input cells, each spike train drawn once before the run:

- mossy fibres (MF): one place field per cell, centres spread evenly along the track;
- medial entorhinal cortex (MEC): grid-like cells whose field repeats every ``grid_gap``;
- lateral entorhinal cortex (LEC): cue cells sharing one field, moved to a new position each lap
  (a shuffled list of evenly spread cue positions);
- background: constant rate.

A field is ``peak exp(-((x - c) / (diameter / 4.3))^2)`` Hz with a floor. Each phase starts with
a lead-in at a constant low rate before the first lap. Spikes are an inhomogeneous Poisson
process with an absolute dead time, whose rate is raised to ``r / (1 - r dead_time)`` so that
the mean rate stays ``r``, as in the published code; times lie on the simulation grid.

Departures from the published code: the rate within each ``bin_size`` of track is constant
(the published code interpolates between bins, which are 0.1 cm: 3.3 ms); the cue positions
are shuffled with the run's seed (the published code uses one fixed seed); lap ``k``'s spikes of
every input class come from their own random stream (the run's seed, the phase, the class and
``k``), so a run of fewer laps has the same spikes as the first laps of a longer one.

Everything here is numpy: every backend gets the same trains.
"""

import numpy as np

#: Input classes, in the order their streams are numbered.
CLASSES = ("MF", "MEC", "LEC", "background")
PHASES = ("training", "offline")

#: Field width from its "diameter", as the published code defines it.
DIAMETER_TO_WIDTH = 4.3


def lap_duration(p):
    """Duration of one lap in ms."""
    return p.track_length / p.speed * 1000.0


def lap_starts(p, duration):
    """Start times (ms) of the laps that begin before ``duration`` (the first at the lead-in's
    end; a remainder under 1e-4 of a lap is the duration's rounding to the time step, not a
    lap)."""
    n = int(np.ceil(max(duration - p.lead_in, 0.0) / lap_duration(p) - 1e-4))
    return p.lead_in + lap_duration(p) * np.arange(n)


def laps_in(p, duration):
    """Whole laps completed in ``duration`` ms."""
    return int(np.floor((duration - p.lead_in) / lap_duration(p) + 1e-4))


def cue_positions(p, seed, n_laps):
    """The cue's position (cm) on each of ``n_laps`` laps: a shuffled list of
    ``n_cue_positions`` positions spread evenly between ``cue_margin`` from either end, used in
    order (and reshuffled after each pass)."""
    positions = np.linspace(p.cue_margin, p.track_length - p.cue_margin, p.n_cue_positions)
    rng = np.random.default_rng([seed, 7, 0])
    passes = -(-n_laps // p.n_cue_positions) if n_laps else 0
    return np.concatenate([rng.permutation(positions) for _ in range(passes)] or
                          [np.empty(0)])[:n_laps]


def bin_centres(p):
    """Centres (cm) of the track's bins, within which rates are constant."""
    n = int(round(p.track_length / p.bin_size))
    return (np.arange(n) + 0.5) * p.track_length / n


def field(x, centres, p, peak, floor):
    """Rates (Hz) of fields at ``centres`` (one row each) over positions ``x``."""
    width = p.field_diameter / DIAMETER_TO_WIDTH
    rates = peak * np.exp(-(((x[None, :] - np.asarray(centres)[:, None]) / width) ** 2))
    return np.maximum(rates, floor)


def place_centres(n_cells, track_length):
    """Field centres of ``n_cells`` cells spread evenly over the track, ends included."""
    return np.linspace(0.0, track_length, n_cells)


def grid_maps(x, p, floor):
    """Rate maps (Hz) of the MEC cells: a field at each cell's centre and every ``grid_gap``
    from it, within the track; the fields add up before the floor applies."""
    width = p.field_diameter / DIAMETER_TO_WIDTH
    centres = place_centres(p.n_MEC, p.track_length)
    rates = np.zeros((centres.size, x.size))
    for shift in np.arange(-np.ceil(p.track_length / p.grid_gap),
                           np.ceil(p.track_length / p.grid_gap) + 1) * p.grid_gap:
        repeated = centres + shift
        inside = (repeated >= 0) & (repeated <= p.track_length)
        rates[inside] += p.field_peak * np.exp(-(((x[None, :] - repeated[inside, None])
                                                  / width) ** 2))
    return np.maximum(rates, floor)


def spatial_maps(p, phase, cue=None):
    """Rate maps (Hz, cells x bins) of one lap with spatial input, per input class.

    Training: MF place fields, MEC grid fields, LEC cue field at ``cue`` (cm) on the first
    ``lec_cue_fraction`` of the LEC cells (the rest at the noise rate), background constant.
    Offline: the same place and grid fields (MEC with the offline floor) but no cue: LEC at its
    offline noise rate.
    """
    x = bin_centres(p)
    maps = {"MF": field(x, place_centres(p.n_MF, p.track_length), p, p.field_peak,
                        p.field_floor)}
    if phase == "training":
        maps["MEC"] = grid_maps(x, p, p.field_floor)
        n_cued = int(round(p.n_LEC * p.lec_cue_fraction))
        lec = np.full((p.n_LEC, x.size), p.lec_noise_rate)
        lec[:n_cued] = field(x, [cue], p, p.field_peak, p.field_floor)
        maps["LEC"] = lec
        maps["background"] = np.full((p.n_background, 1), p.background_rate)
    else:
        maps["MEC"] = grid_maps(x, p, p.offline_grid_floor)
        maps["background"] = np.full((p.n_background, 1), p.offline_background_rate)
    return maps


def noise_rates(p, seed):
    """Constant rates (Hz) per cell of the offline phase's laps without spatial input."""
    rng = np.random.default_rng([seed, 7, 1])
    ec = {name: np.clip(rng.normal(p.offline_ec_rate, p.offline_ec_rate_sd, size=n), 0, None)
          for name, n in (("MEC", p.n_MEC), ("LEC", p.n_LEC))}
    return {"MF": np.full((p.n_MF, 1), p.offline_mf_rate), "MEC": ec["MEC"][:, None],
            "LEC": ec["LEC"][:, None],
            "background": np.full((p.n_background, 1), p.offline_background_rate)}


def lap_rates(p, phase, seed, lap, cue=None):
    """Rate maps (Hz, cells x bins over the lap) of every class on lap ``lap``.

    Training laps are all spatial; offline, only the first ``offline_spatial_laps``.
    """
    if phase == "training" or lap < p.offline_spatial_laps:
        maps = spatial_maps(p, phase, cue)
        if phase == "offline":
            maps["LEC"] = noise_rates(p, seed)["LEC"]
        return maps
    return noise_rates(p, seed)


def poisson_candidates(rates_hz, t_start, t_stop, dead_time, rng):
    """Candidate spikes (cell index, time in ms) of Poisson processes whose rate in Hz is
    constant in each of the equal bins of [t_start, t_stop) given by the columns of
    ``rates_hz`` (cells x bins), raised to ``r / (1 - r dead_time)``.

    Deleting every candidate within ``dead_time`` after a kept spike (:func:`dead_time_filter`)
    then gives a process with that dead time whose rate is ``r``: a Poisson process has no
    memory, so what follows the dead time is independent of the deleted candidates.
    """
    rates = np.asarray(rates_hz, dtype=float) * 1e-3  # per ms
    if np.any(rates * dead_time >= 1):
        raise ValueError(f"a rate of {rates.max() * 1e3:g} Hz leaves no time outside the "
                         f"{dead_time:g} ms dead time")
    raised = rates / (1.0 - rates * dead_time)
    n_cells, n_bins = raised.shape
    width = (t_stop - t_start) / n_bins
    counts = rng.poisson(raised * width)
    cells = np.repeat(np.repeat(np.arange(n_cells), n_bins), counts.ravel())
    bins = np.repeat(np.tile(np.arange(n_bins), n_cells), counts.ravel())
    times = t_start + (bins + rng.random(bins.size)) * width
    return cells, times


def dead_time_filter(cells, times, dead_time):
    """Keep the candidates (sorted by cell, then time) not within ``dead_time`` after the
    previous kept spike of the same cell; return the mask of kept ones."""
    keep = np.ones(times.size, dtype=bool)
    close = np.flatnonzero((np.diff(times) < dead_time) & (np.diff(cells) == 0)) + 1
    for index in close:  # few: about rate x dead time of all spikes
        previous = index - 1
        while not keep[previous]:
            previous -= 1
        if times[index] - times[previous] < dead_time:
            keep[index] = False
    return keep


def draw_phase(p, phase, seed, duration, dt):
    """Every input cell's spike times (ms) over ``[0, duration)`` of a phase, per class.

    Returns
    -------
    trains : dict of str to list of numpy.ndarray
        Per class, one sorted array per cell (times on the ``dt`` grid, after 0).
    cues : numpy.ndarray
        The cue position (cm) of each lap begun (training; NaN offline).
    """
    if phase not in PHASES:
        raise ValueError(f"phase {phase!r}: expected one of {PHASES}")
    phase_id = PHASES.index(phase)
    starts = lap_starts(p, duration)
    cues = (cue_positions(p, seed, starts.size) if phase == "training"
            else np.full(starts.size, np.nan))
    pieces = {name: [] for name in CLASSES}
    sizes = {name: getattr(p, f"n_{name}") for name in CLASSES}
    for class_id, name in enumerate(CLASSES):
        rng = np.random.default_rng([seed, phase_id, class_id, 0])
        lead_in = np.full((sizes[name], 1), p.lead_in_rate)
        pieces[name].append(poisson_candidates(lead_in, 0.0, p.lead_in, p.dead_time, rng))
    for lap, (start, cue) in enumerate(zip(starts, cues)):
        rates = lap_rates(p, phase, seed, lap, cue)
        for class_id, name in enumerate(CLASSES):
            rng = np.random.default_rng([seed, phase_id, class_id, lap + 1])
            pieces[name].append(poisson_candidates(rates[name], start,
                                                   start + lap_duration(p), p.dead_time, rng))
    trains = {}
    for name in CLASSES:
        cells = np.concatenate([c for c, _ in pieces[name]])
        # on the grid: a spike drawn within step k is at its end, as trisim.inputs does
        times = np.ceil(np.concatenate([t for _, t in pieces[name]]) / dt - 1e-9) * dt
        times = np.maximum(times, dt)
        order = np.lexsort((times, cells))
        cells, times = cells[order], times[order]
        keep = dead_time_filter(cells, times, p.dead_time - 1e-9) & (times < duration)
        cells, times = cells[keep], times[keep]
        bounds = np.searchsorted(cells, np.arange(sizes[name] + 1))
        trains[name] = [np.round(times[a:b], 10) for a, b in zip(bounds[:-1], bounds[1:])]
    return trains, cues


def position(p, duration, sampling_period):
    """The animal's position (cm) sampled every ``sampling_period`` ms from the first lap's
    start to ``duration``: it runs each lap from 0 to ``track_length`` at ``speed``."""
    t = np.arange(p.lead_in, duration, sampling_period)
    return t, ((t - p.lead_in) * p.speed / 1000.0) % p.track_length
