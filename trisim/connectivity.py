"""Connection index arrays, drawn once in numpy so that every backend gets the same network."""

import numpy as np


def random_indegree(n_pre, n_post, p, scale, rng):
    """Random connections whose in-degrees are those of the network at full size.

    At full size (``scale == 1``) this is a Bernoulli(p) draw for every ordered pair
    (self-connections included when pre and post are one population). When the network is
    scaled, each target still draws its in-degree from Binomial(n_pre / scale, p), so the input
    a cell receives keeps its mean and variance; sources are then drawn uniformly from the
    ``n_pre`` cells that exist, without replacement while there are enough of them.

    Parameters
    ----------
    n_pre, n_post : int
        Sizes of the (scaled) pre- and postsynaptic populations.
    p : float
        Connection probability of the full-size network.
    scale : float
        Population size relative to full size.
    rng : numpy.random.Generator

    Returns
    -------
    sources, targets : numpy.ndarray of int64
        One entry per connection, grouped by target.
    """
    indegrees = rng.binomial(round(n_pre / scale), p, size=n_post)
    sources = [rng.choice(n_pre, size=k, replace=k > n_pre) for k in indegrees]
    targets = np.repeat(np.arange(n_post, dtype=np.int64), indegrees)
    return np.concatenate(sources).astype(np.int64), targets


def fixed_indegree(n_pre, n_post, indegree, rng, allow_self=True):
    """Exactly ``indegree`` inputs per target, drawn with replacement (multapses possible).

    The in-degree is a property of the full-size network (e.g. ``int(p * N_pre)``), so a scaled
    network keeps it: the sources are then drawn from the ``n_pre`` cells that exist. With
    ``allow_self=False`` (pre and post one population) a target never draws itself.

    Parameters
    ----------
    n_pre, n_post : int
        Sizes of the (scaled) pre- and postsynaptic populations.
    indegree : int
        Inputs per target.
    rng : numpy.random.Generator
    allow_self : bool, optional

    Returns
    -------
    sources, targets : numpy.ndarray of int64
        One entry per connection, grouped by target.

    Examples
    --------
    >>> sources, targets = fixed_indegree(5, 5, 3, np.random.default_rng(0), allow_self=False)
    >>> np.bincount(targets).tolist(), bool(np.any(sources == targets))
    ([3, 3, 3, 3, 3], False)
    """
    candidates = n_pre if allow_self else n_pre - 1
    if indegree > 0 and candidates < 1:
        raise ValueError(f"{indegree} inputs per target from a population of {n_pre} cell(s)"
                         f"{'' if allow_self else ' without self-connections'}")
    targets = np.repeat(np.arange(n_post, dtype=np.int64), indegree)
    sources = rng.integers(0, candidates, size=targets.size, dtype=np.int64)
    if not allow_self:
        sources += sources >= targets  # skip the target's own index: uniform over the others
    return sources, targets
