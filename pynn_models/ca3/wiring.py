"""Who connects to whom in the CA3 circuit, drawn once in numpy from the run's seed.

The rules of the published biophysical model (Liao et al. 2024; soltesz-lab/ca3_biophysical,
``SetupConnections.py``), with in-degrees at its simulated size:

- each pyramidal cell (PYR) is a place cell with probability ``place_fraction``, else a cue cell;
  cells (PYR and inputs alike) are spread evenly in [0, 1] along the track's axis;
- PYR -> PYR is topographic: a target draws ``k`` distinct sources (not itself) with
  probability proportional to ``exp(-d^2 / sigma2_recurrent)``, d their distance in [0, 1];
  place cells within ``edge`` of either end draw ``edge_factor`` as many;
- MF and MEC -> PYR are topographic in the same way (``sigma2_afferent``), with
  ``edge_factor`` fewer inputs near either end for every target;
- LEC, background, PVBC -> PYR, PYR -> PVBC, PVBC -> PVBC and MF, MEC, LEC -> PVBC: sources
  drawn uniformly with replacement (repeated pairs are multapses: several synapses of one
  pair);
- MF, MEC and LEC synapses onto a PYR have a weight factor by the target's class (place or
  cue; published: MF and MEC onto place cells only, LEC onto cue cells only), drawn per target
  cell around its mean (:func:`target_factors`); connections of factor 0 are not made;
- each background synapse onto a PYR lands on one of six dendritic layers at random; a layer
  decides the AMPA kinetics (:data:`BACKGROUND_PORTS`).

Every rule draws from its own stream of the seed, so changing one pathway's in-degree leaves
the others' connections as they were.
"""

from dataclasses import dataclass

import numpy as np

#: The background's six dendritic layers (oriens proximal, oriens distal, lucidum, radiatum,
#: lacunosum LEC, lacunosum MEC) by the PYR port their AMPA kinetics is.
BACKGROUND_PORTS = ("AMPA_mf", "AMPA", "AMPA_mf", "AMPA", "AMPA_lm", "AMPA_lm")

#: Pathway name: (source, target, rule); sources and targets are populations or input classes.
PATHWAYS = {
    "PYR_PYR": ("PYR", "PYR", "recurrent"),
    "PVBC_PYR": ("PVBC", "PYR", "uniform"),
    "MF_PYR": ("MF", "PYR", "afferent"),
    "MEC_PYR": ("MEC", "PYR", "afferent"),
    "LEC_PYR": ("LEC", "PYR", "uniform"),
    "background_PYR": ("background", "PYR", "uniform"),
    "PYR_PVBC": ("PYR", "PVBC", "uniform"),
    "PVBC_PVBC": ("PVBC", "PVBC", "uniform"),
    "MF_PVBC": ("MF", "PVBC", "uniform"),
    "MEC_PVBC": ("MEC", "PVBC", "uniform"),
    "LEC_PVBC": ("LEC", "PVBC", "uniform"),
}


@dataclass
class Connections:
    """One pathway's connections: index arrays into the source and target populations."""

    sources: np.ndarray
    targets: np.ndarray

    def __len__(self):
        return self.sources.size


def is_place(n_pyr, place_fraction, seed):
    """Which PYR are place cells (Bernoulli draws; the others are cue cells)."""
    return np.random.default_rng([seed, 11, 0]).random(n_pyr) < place_fraction


def axis_positions(n):
    """Positions in [0, 1] of ``n`` cells spread evenly along the track's axis."""
    return np.linspace(0.0, 1.0, n)


def _topographic(n_pre, targets, target_positions, k, sigma2, rng, same=False,
                 reduced=None, edge=0.1, edge_factor=0.75):
    """``k`` distinct sources per target, drawn with Gaussian weights of distance."""
    source_positions = axis_positions(n_pre)
    sources, kept_targets = [], []
    for target, x in zip(targets, target_positions):
        weights = np.exp(-((x - source_positions) ** 2) / sigma2)
        if same:
            weights[target] = 0.0
        near_end = x < edge or x > 1.0 - edge
        count = int(k * edge_factor) if near_end and (reduced is None or reduced[target]) \
            else k
        count = min(count, np.count_nonzero(weights))
        chosen = rng.choice(n_pre, size=count, replace=False, p=weights / weights.sum())
        sources.append(chosen)
        kept_targets.append(np.full(count, target))
    if not sources:
        return Connections(np.empty(0, np.int64), np.empty(0, np.int64))
    return Connections(np.concatenate(sources).astype(np.int64),
                       np.concatenate(kept_targets).astype(np.int64))


def _uniform(n_pre, targets, k, rng):
    """``k`` sources per target drawn uniformly with replacement (multapses possible)."""
    targets = np.repeat(np.asarray(targets, dtype=np.int64), k)
    return Connections(rng.integers(0, n_pre, size=targets.size, dtype=np.int64), targets)


#: Pathways whose weights depend on the target's class (place or cue cell).
CLASS_WEIGHTED = ("MF_PYR", "MEC_PYR", "LEC_PYR")


def target_factors(p, pathway, place, seed):
    """Per PYR, the weight factor of ``pathway`` onto it: ``place_factor_<pathway>`` or
    ``cue_factor_<pathway>`` by its class, with normal scatter ``factor_sd_<pathway>``
    (clipped at 0), as the published weight "gradient"."""
    mean = np.where(place, getattr(p, f"place_factor_{pathway}"),
                    getattr(p, f"cue_factor_{pathway}"))
    sd = getattr(p, f"factor_sd_{pathway}")
    if sd == 0:
        return mean
    scatter = np.random.default_rng([seed, 11, 100 + CLASS_WEIGHTED.index(pathway)]).normal(
        0.0, sd, place.size)
    return np.clip(mean + scatter, 0.0, None)


def draw(p, sizes, seed):
    """Every pathway's connections and the place/cue labels.

    Parameters
    ----------
    p : Parameters
        In-degrees ``k_<pathway>``, ``place_fraction``, ``sigma2_recurrent``,
        ``sigma2_afferent``, ``edge``, ``edge_factor``.
    sizes : dict of str to int
        Population and input class sizes.
    seed : int

    Returns
    -------
    connections : dict of str to Connections
    place : numpy.ndarray of bool
        Per PYR, whether it is a place cell.
    layers : numpy.ndarray of int
        Per background -> PYR connection, its dendritic layer (index into BACKGROUND_PORTS).
    factors : dict of str to numpy.ndarray
        Per class-weighted pathway, the weight factor of each of its connections.
    """
    n_pyr = sizes["PYR"]
    place = is_place(n_pyr, p.place_fraction, seed)
    positions = axis_positions(n_pyr)
    cells = np.arange(n_pyr)
    connections = {}
    for stream, (name, (source, target, rule)) in enumerate(PATHWAYS.items(), start=1):
        rng = np.random.default_rng([seed, 11, stream])
        k = getattr(p, f"k_{name}")
        if rule == "recurrent":
            connections[name] = _topographic(n_pyr, cells, positions, k, p.sigma2_recurrent,
                                             rng, same=True, reduced=place, edge=p.edge,
                                             edge_factor=p.edge_factor)
        elif rule == "afferent":
            connections[name] = _topographic(sizes[source], cells, positions, k,
                                             p.sigma2_afferent, rng, edge=p.edge,
                                             edge_factor=p.edge_factor)
        else:
            connections[name] = _uniform(sizes[source], np.arange(sizes[target]), k, rng)
    layers = np.random.default_rng([seed, 11, 0, 1]).integers(
        0, len(BACKGROUND_PORTS), size=len(connections["background_PYR"]))
    factors = {}
    for name in CLASS_WEIGHTED:
        links = connections[name]
        factor = target_factors(p, name, place, seed)[links.targets]
        made = factor > 0
        connections[name] = Connections(links.sources[made], links.targets[made])
        factors[name] = factor[made]
    return connections, place, layers, factors
