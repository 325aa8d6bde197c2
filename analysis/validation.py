"""Cross-simulator validation: do several backends produce the same activity statistics?

A *run* is one simulation (one backend, one seed) saved as a Neo Block. For every population and
every :class:`Statistic`, the runs of two backends are compared in the way NetworkUnit and
Gutzen et al. (2018) compare two simulations (a two-sample test and an effect size), and then
against the yardstick that decides the verdict: how much the same statistic changes between
seeds on one backend.

The rule (:data:`RULE`): for a pair of backends A and B, the *effect size* is the distance
between A and B with every seed pooled (for a distribution over cells or pairs: the
Kolmogorov-Smirnov distance of the pooled samples; for one value per run: the difference of the
means over seeds; for a spectrum: the log-spectral distance of the mean spectra). The *seed
spread* is the :data:`SEED_SPREAD_QUANTILE` quantile of the same distance between two runs of
different seeds on the same backend (A's pairs and B's pairs together). The statistic agrees
when ``effect_size <= seed_spread``: the simulators differ no more than a change of seed does.
The p-value (two-sample Kolmogorov-Smirnov test, or a permutation test over runs for values per
run) is reported but does not decide: with thousands of cells it flags differences far smaller
than the seed-to-seed variation, and cells of one network are not independent samples.

Statistics are computed with Elephant through :mod:`trisim.analysis.statistics`; everything
here takes and returns plain Neo objects and arrays, so it is usable without the command line.

Why not NetworkUnit (with SciUnit): version 0.2.2 installs against our Neo and Elephant and its
model-to-model tests work in part, but its scores are thin wrappers (``ks_distance`` calls
``scipy.stats.ks_2samp``; ``effect_size`` is Cohen's d with a pooled SD), ``mwu_statistic`` is
broken on our SciUnit, test parameters silently fail to reach the scores, its score modules
import pyplot and seaborn, and it pulls IPython/Jupyter and OpenCV. It compares one simulation
with one other and has no seed-to-seed yardstick, the part that decides here. Adopting it would
add a heavy dependency to replace two SciPy calls.
"""

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable

import neo
import numpy as np
import quantities as pq

from trisim.analysis.statistics import (correlation_coefficients, cv_isi, firing_rates, lv_isi,
                                        population_rate_psd, spiketrains_by_population,
                                        sttc_sample)
from trisim.errors import InputFileError

#: Quantile of the seed-to-seed distances that the cross-backend distance may reach and still
#: agree. The median (0.5) would be the typical seed-to-seed distance, but with 3 to 5 seeds it is
#: itself uncertain and gives too many false disagreements. Simulated with backends that differ
#: only in their seeds (independent networks; validate's shared seeds make the pooled distance
#: smaller still), 0.9 gives false disagreements in 0.5% (3 seeds) and 0% (5 seeds) of KS
#: comparisons of 160 values per run, and 7% / 1% for one value per run; a shift of 0.25 SD in
#: 160 values is caught 58% / 37% of the time, 0.5 SD always.
SEED_SPREAD_QUANTILE = 0.9

#: Fewest seeds per backend: with fewer, there are too few seed-to-seed distances for a spread.
MIN_SEEDS = 3

#: Fewest finite values a run needs for a distribution statistic (a CV needs cells with 3
#: spikes, a correlation two active cells); runs with fewer are left out of that statistic.
MIN_SAMPLE_SIZE = 5

#: Most label permutations enumerated by the permutation test; beyond this many, a seeded
#: random subset is drawn.
MAX_PERMUTATIONS = 5000

#: Two runs are comparable when their time windows differ by less than this (NEURON's runs end a
#: hair late, accumulated time steps: 300.00000000003 ms for 300 ms).
WINDOW_TOLERANCE = 1e-3 * pq.ms

#: Bin of the spike counts correlated and of the population rate whose spectrum is compared.
BIN_SIZE = 5 * pq.ms

#: Coincidence window of the spike time tiling coefficient.
STTC_WINDOW = 10 * pq.ms

#: Cells per population whose pairwise correlation coefficients are compared (all pairs).
CORRELATION_CELLS = 200

#: Cells per population whose pairwise STTCs are compared (all pairs; Elephant's STTC is a
#: Python call per pair).
STTC_CELLS = 50

SAMPLE, SCALAR, SPECTRUM = "sample", "scalar", "spectrum"

#: The rule, in words (every ``verdict.json`` holds it).
RULE = (f"For each population, statistic and pair of backends A and B: the effect size is the "
        f"distance between A and B with all seeds pooled (Kolmogorov-Smirnov distance D of the "
        f"pooled values for distributions over cells or pairs; absolute difference of the means "
        f"over seeds for one value per run; log-spectral distance in dB of the mean spectra for "
        f"spectra). The seed spread is the {SEED_SPREAD_QUANTILE:g} quantile of the same "
        f"distance between two runs of different seeds on one backend (A's and B's pairs "
        f"together). A statistic agrees when effect size <= seed spread; the backends agree "
        f"when every statistic that can be computed agrees. The p-value is reported, not used. "
        f"At least {MIN_SEEDS} seeds per backend; runs with fewer than {MIN_SAMPLE_SIZE} values "
        f"of a distribution are left out of it.")


@dataclass(frozen=True)
class Statistic:
    """One statistic of a population, compared across backends.

    Parameters
    ----------
    name : str
        Key in the verdict, e.g. ``"rate"``.
    label : str
        Axis label with unit, for figures.
    kind : {"sample", "scalar", "spectrum"}
        What ``compute`` returns for one run: values over cells or pairs (array; NaN marks an
        undefined value), one value (float), or a spectrum (``(frequencies, power)``
        quantities).
    compute : callable
        ``compute(spiketrains)`` on the spike trains of one population of one run.
    populations : tuple of str, optional
        Populations it applies to; all of them by default.
    """

    name: str
    label: str
    kind: str
    compute: Callable
    populations: tuple = None

    def __post_init__(self):
        if self.kind not in (SAMPLE, SCALAR, SPECTRUM):
            raise ValueError(f"statistic {self.name!r}: kind must be one of 'sample', "
                             f"'scalar', 'spectrum', not {self.kind!r}")


def _rates(spiketrains):
    return firing_rates(spiketrains).magnitude


def _mean_rate(spiketrains):
    return float(firing_rates(spiketrains).magnitude.mean())


def same_cells(spiketrains, n_cells):
    """The same ``n_cells`` of a population in every run: drawn by index with a fixed seed.

    Runs of one seed simulate one network on every backend, so pairwise statistics must be
    taken over the same cells, silent or not; drawing among the active cells (as
    :func:`~trisim.analysis.statistics.correlation_coefficients` does) picks other cells
    whenever one backend has one more silent cell. With trains of a few spikes, correlation
    coefficients sit on a lattice set by the cells' spike counts, so which cells are drawn
    outweighs what the simulators do.

    Examples
    --------
    >>> same_cells(list("abcdefgh"), 3), same_cells(list("ABCDEFGH"), 3)
    (['e', 'f', 'h'], ['E', 'F', 'H'])
    """
    chosen = np.random.default_rng(0).choice(len(spiketrains), replace=False,
                                             size=min(n_cells, len(spiketrains)))
    return [spiketrains[index] for index in np.sort(chosen)]


def _correlations(spiketrains):
    return correlation_coefficients(same_cells(spiketrains, CORRELATION_CELLS), BIN_SIZE,
                                    n_cells=CORRELATION_CELLS)


def _sttc(spiketrains):
    return sttc_sample(same_cells(spiketrains, STTC_CELLS), STTC_WINDOW,
                       n_pairs=STTC_CELLS * (STTC_CELLS - 1) // 2)


def _rate_psd(spiketrains):
    return population_rate_psd(spiketrains, BIN_SIZE)


#: What every model is compared on; a model module adds its own in ``VALIDATION_STATISTICS``.
DEFAULT_STATISTICS = (
    Statistic("rate", "firing rate (Hz)", SAMPLE, _rates),
    Statistic("mean_rate", "population mean rate (Hz)", SCALAR, _mean_rate),
    Statistic("cv_isi", "CV of ISI", SAMPLE, cv_isi),
    Statistic("lv_isi", "LV of ISI", SAMPLE, lv_isi),
    Statistic("correlation", f"correlation coefficient ({BIN_SIZE.item():g} ms bins)", SAMPLE,
              _correlations),
    Statistic("sttc", f"STTC ({STTC_WINDOW.item():g} ms window)", SAMPLE, _sttc),
    Statistic("rate_psd", "population-rate PSD (Hz^2/Hz)", SPECTRUM, _rate_psd),
)


@dataclass
class Comparison:
    """Everything :func:`compare_backends` found, for the verdict and the report.

    ``seeds[label]`` lists each run's seed; ``measurements[label][run][population][statistic]``
    holds what ``Statistic.compute`` returned; ``results`` holds one dict per population,
    statistic and pair of labels (see :func:`compare_pair`).
    """

    labels: list
    seeds: dict
    populations: list
    statistics: tuple
    measurements: dict
    results: list = field(default_factory=list)

    @property
    def agree(self):
        """True when every statistic that could be compared agrees (and there is one)."""
        decided = [result["agree"] for result in self.results if result["agree"] is not None]
        return bool(decided) and all(decided)


def compare_backends(runs, statistics=DEFAULT_STATISTICS):
    """Compare every pair of backends on every population and statistic.

    Parameters
    ----------
    runs : dict of str to list of neo.Block
        Runs per backend (or any label), one per seed; at least two labels and
        :data:`MIN_SEEDS` runs each, over the same time window and populations.
    statistics : sequence of Statistic, optional

    Returns
    -------
    Comparison
        ``.agree`` is the verdict, ``.results`` the table.

    Examples
    --------
    >>> comparison = compare_backends({"nest": nest_blocks, "neuron": neuron_blocks})
    ... # doctest: +SKIP
    >>> comparison.agree  # doctest: +SKIP
    True
    """
    comparison = measure_runs(runs, statistics)
    for statistic in comparison.statistics:
        for population in comparison.populations:
            if statistic.populations is not None and population not in statistic.populations:
                continue
            for first, second in itertools.combinations(comparison.labels, 2):
                values = [[run[population][statistic.name]
                           for run in comparison.measurements[label]]
                          for label in (first, second)]
                result = compare_pair(values[0], values[1], statistic.kind)
                comparison.results.append({"population": population, "name": statistic.name,
                                           "backends": [first, second], **result})
    return comparison


def measure_runs(runs, statistics=DEFAULT_STATISTICS):
    """Compute every statistic on every population of every run, over one common time window.

    Parameters
    ----------
    runs : dict of str to list of neo.Block
    statistics : sequence of Statistic

    Returns
    -------
    Comparison
        With ``measurements`` filled and no ``results`` yet.

    Raises
    ------
    ValueError
        If fewer than two labels, fewer than :data:`MIN_SEEDS` runs for a label, or two
        statistics of one name.
    InputFileError
        If the runs cover different time windows or hold different populations.
    """
    runs = _check_runs(runs)
    statistics = tuple(statistics)
    names = [statistic.name for statistic in statistics]
    if len(set(names)) != len(names):
        raise ValueError(f"statistics have repeated names: {names}")
    trains = {label: [spiketrains_by_population(block) for block in blocks]
              for label, blocks in runs.items()}
    populations = _common_populations(trains)
    t_start, t_stop = _common_window(trains)
    measurements = {
        label: [{population: _measure(_in_window(by_population[population], t_start, t_stop),
                                      population, statistics)
                 for population in populations}
                for by_population in runs_of_label]
        for label, runs_of_label in trains.items()}
    seeds = {label: [block.annotations.get("seed", index) for index, block in enumerate(blocks)]
             for label, blocks in runs.items()}
    return Comparison(list(runs), seeds, populations, statistics, measurements)


def compare_pair(runs_a, runs_b, kind):
    """Compare one statistic of backends A and B, each given as one measurement per run.

    Parameters
    ----------
    runs_a, runs_b : list
        One measurement per seed, as ``Statistic.compute`` returns it.
    kind : {"sample", "scalar", "spectrum"}

    Returns
    -------
    dict
        ``p_value``, ``effect_size``, ``seed_spread`` (floats), ``agree`` (bool), ``test`` and
        ``distance`` (what they are), and ``pooled`` (the pooled value per backend: mean of the
        values, or frequency of the spectral peak). All None except ``note`` when too few runs
        have data.

    Examples
    --------
    >>> same = compare_pair([1.0, 1.2, 0.9], [1.1, 1.0, 0.95], "scalar")
    >>> same["agree"], round(same["effect_size"], 3)
    (True, 0.017)
    >>> compare_pair([1.0, 1.2, 0.9], [2.0, 2.1, 1.9], "scalar")["agree"]
    False
    """
    method = _KINDS[kind]
    runs_a = [prepared for prepared in map(method.prepare, runs_a) if prepared is not None]
    runs_b = [prepared for prepared in map(method.prepare, runs_b) if prepared is not None]
    if min(len(runs_a), len(runs_b)) < 2:
        return _undefined(method, "too few runs with data (fewer than 2 on a backend)")
    effect = method.distance(method.pool(runs_a), method.pool(runs_b))
    within = [method.distance(x, y) for group in (runs_a, runs_b)
              for x, y in itertools.combinations(group, 2)]
    spread = float(np.quantile(within, SEED_SPREAD_QUANTILE))
    if not (math.isfinite(effect) and math.isfinite(spread)):
        return _undefined(method, "distance undefined (no frequency with power on both runs)")
    return {"p_value": method.p_value(runs_a, runs_b), "effect_size": effect,
            "seed_spread": spread, "agree": bool(effect <= spread), "test": method.test,
            "distance": method.distance_name,
            "pooled": [method.summary(method.pool(group)) for group in (runs_a, runs_b)]}


def _undefined(method, note):
    """The result of a comparison that cannot be made, saying why."""
    return {"p_value": None, "effect_size": None, "seed_spread": None, "agree": None,
            "test": method.test, "distance": method.distance_name, "pooled": None, "note": note}


def ks_distance(a, b):
    """Kolmogorov-Smirnov distance: the largest gap between the empirical CDFs of ``a``, ``b``.

    Examples
    --------
    >>> ks_distance([1, 2, 3, 4], [3, 4, 5, 6])
    0.5
    """
    from scipy.stats import ks_2samp  # here: importing SciPy's stats takes a second
    return float(ks_2samp(a, b).statistic)


def log_spectral_distance(first, second):
    """Root mean square of ``10 log10(first / second)`` over the frequencies above 0 Hz.

    Parameters
    ----------
    first, second : tuple of (array, array)
        ``(frequencies, power)`` on the same frequencies.

    Returns
    -------
    float
        In dB; frequencies where either power is zero are left out (NaN if all are).

    Examples
    --------
    >>> f = np.array([0.0, 10.0, 20.0])
    >>> log_spectral_distance((f, np.array([5.0, 1.0, 2.0])), (f, np.array([1.0, 10.0, 20.0])))
    10.0
    """
    (frequencies, power), (_, other) = first, second
    usable = (frequencies > 0) & (power > 0) & (other > 0)
    if not usable.any():
        return math.nan
    return float(np.sqrt(np.mean((10 * np.log10(power[usable] / other[usable])) ** 2)))


def permutation_p_value(runs_a, runs_b, pool, distance, seed=0):
    """Two-sample permutation test over runs: how often does a relabelling of the runs give a
    distance between the pooled groups at least as large as the observed one?

    Every split of the runs into groups of the original sizes is tried when there are at most
    :data:`MAX_PERMUTATIONS` of them, else that many seeded random splits.

    Examples
    --------
    >>> pool, distance = np.mean, lambda x, y: abs(x - y)
    >>> permutation_p_value([1.0, 1.1, 1.2], [5.0, 5.1, 5.2], pool, distance)
    0.1
    """
    everything = list(runs_a) + list(runs_b)
    observed = distance(pool(runs_a), pool(runs_b))
    n, k = len(everything), len(runs_a)
    if math.comb(n, k) <= MAX_PERMUTATIONS:
        splits = itertools.combinations(range(n), k)
    else:
        rng = np.random.default_rng(seed)
        splits = (rng.choice(n, size=k, replace=False) for _ in range(MAX_PERMUTATIONS))
    at_least, total = 0, 0
    for chosen in splits:
        chosen = set(int(i) for i in chosen)
        group_a = [everything[i] for i in range(n) if i in chosen]
        group_b = [everything[i] for i in range(n) if i not in chosen]
        at_least += distance(pool(group_a), pool(group_b)) >= observed * (1 - 1e-12)
        total += 1
    return float(at_least / total)


@dataclass(frozen=True)
class _Kind:
    """How runs of one kind of statistic are cleaned, pooled, compared and tested."""

    prepare: Callable      # one run's measurement -> comparable value, or None if unusable
    pool: Callable         # list of prepared runs -> one pooled value
    distance: Callable     # two prepared (or pooled) values -> float
    p_value: Callable      # two lists of prepared runs -> p-value
    summary: Callable      # pooled value -> one number for tables
    test: str
    distance_name: str


def _prepare_sample(values):
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return values if values.size >= MIN_SAMPLE_SIZE else None


def _prepare_scalar(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _prepare_spectrum(spectrum):
    frequencies, power = spectrum
    return (np.asarray(getattr(frequencies, "magnitude", frequencies), dtype=float),
            np.asarray(getattr(power, "magnitude", power), dtype=float))


def _pool_spectra(spectra):
    frequencies = spectra[0][0]
    for other, _ in spectra[1:]:
        if other.shape != frequencies.shape or not np.allclose(other, frequencies):
            raise InputFileError("spectra of the runs are on different frequencies; were the "
                                 "runs of different durations?")
    return frequencies, np.mean([power for _, power in spectra], axis=0)


def _peak_frequency(spectrum):
    frequencies, power = spectrum
    above_zero = frequencies > 0
    return float(frequencies[above_zero][np.argmax(power[above_zero])])


def _sample_p_value(runs_a, runs_b):
    from scipy.stats import ks_2samp
    return float(ks_2samp(np.concatenate(runs_a), np.concatenate(runs_b)).pvalue)


_KINDS = {
    SAMPLE: _Kind(_prepare_sample, np.concatenate, ks_distance, _sample_p_value,
                  lambda pooled: float(np.mean(pooled)),
                  "two-sample Kolmogorov-Smirnov test of the pooled values",
                  "Kolmogorov-Smirnov distance D"),
    SCALAR: _Kind(_prepare_scalar, lambda values: float(np.mean(values)),
                  lambda x, y: abs(x - y),
                  lambda a, b: permutation_p_value(a, b, np.mean, lambda x, y: abs(x - y)),
                  float, "permutation test over runs of the difference of means",
                  "absolute difference"),
    SPECTRUM: _Kind(_prepare_spectrum, _pool_spectra, log_spectral_distance,
                    lambda a, b: permutation_p_value(a, b, _pool_spectra,
                                                     log_spectral_distance),
                    _peak_frequency,
                    "permutation test over runs of the log-spectral distance of the means",
                    "log-spectral distance (dB)"),
}


def _measure(spiketrains, population, statistics):
    """Every applicable statistic of one population of one run."""
    return {statistic.name: statistic.compute(spiketrains) for statistic in statistics
            if statistic.populations is None or population in statistic.populations}


def _check_runs(runs):
    """``runs`` as a dict of lists, after checking its shape."""
    if not hasattr(runs, "items") or len(runs) < 2:
        raise ValueError("runs must map at least two backends to their runs")
    runs = {label: list(blocks) for label, blocks in runs.items()}
    for label, blocks in runs.items():
        if len(blocks) < MIN_SEEDS:
            raise ValueError(f"{label}: {len(blocks)} run(s); at least {MIN_SEEDS} seeds are "
                             "needed for a seed-to-seed spread")
        for block in blocks:
            if not isinstance(block, neo.Block):
                raise TypeError(f"{label}: runs must be neo.Block, not {type(block).__name__}")
    return runs


def _common_populations(trains):
    """The population names, which every run must share."""
    names = None
    for label, runs_of_label in trains.items():
        for index, by_population in enumerate(runs_of_label):
            if names is None:
                names = list(by_population)
            elif sorted(by_population) != sorted(names):
                raise InputFileError(f"{label} run {index + 1} has populations "
                                     f"{sorted(by_population)}, other runs {sorted(names)}")
    return names


def _common_window(trains):
    """``(t_start, t_stop)`` shared by every spike train, within :data:`WINDOW_TOLERANCE`."""
    starts = [train.t_start.rescale(pq.ms) for runs_of_label in trains.values()
              for by_population in runs_of_label for population in by_population.values()
              for train in population]
    stops = [train.t_stop.rescale(pq.ms) for runs_of_label in trains.values()
             for by_population in runs_of_label for population in by_population.values()
             for train in population]
    t_start, t_stop = max(starts), min(stops)
    if max(starts) - min(starts) > WINDOW_TOLERANCE or max(stops) - t_stop > WINDOW_TOLERANCE:
        raise InputFileError(f"the runs cover different times ({min(starts)} to {max(stops)} "
                             f"and {t_start} to {t_stop}); compare runs of one duration")
    return t_start, t_stop


def _in_window(spiketrains, t_start, t_stop):
    """The trains cut to exactly ``[t_start, t_stop]``, so rates of all runs share one divisor."""
    return [train if (train.t_start == t_start and train.t_stop == t_stop)
            else train.time_slice(t_start, t_stop) for train in spiketrains]
