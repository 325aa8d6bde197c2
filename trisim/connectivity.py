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
