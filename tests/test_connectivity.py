"""trisim.connectivity: the drawn networks have the declared in-degrees and repeat with the seed."""

import numpy as np
import pytest

from trisim.connectivity import fixed_indegree, random_indegree


def indegrees(targets, n_post):
    return np.bincount(targets, minlength=n_post)


def test_full_size_is_a_bernoulli_draw_per_pair():
    rng = np.random.default_rng(1)
    sources, targets = random_indegree(1000, 500, 0.1, 1.0, rng)
    k = indegrees(targets, 500)
    assert abs(k.mean() - 100) < 2 and abs(k.var() - 90) < 20  # Binomial(1000, 0.1)
    pairs = targets * 1000 + sources
    assert np.unique(pairs).size == pairs.size  # no multapses at full size
    assert sources.min() >= 0 and sources.max() < 1000


def test_scaled_network_keeps_the_full_size_indegree():
    rng = np.random.default_rng(2)
    sources, targets = random_indegree(80, 400, 0.2, 0.1, rng)  # 800 cells at full size
    k = indegrees(targets, 400)
    assert abs(k.mean() - 160) < 3 and abs(k.var() - 128) < 40  # Binomial(800, 0.2)
    assert sources.max() < 80  # drawn with replacement from the 80 cells that exist


def test_same_seed_same_network():
    a = random_indegree(300, 200, 0.05, 1.0, np.random.default_rng(5))
    b = random_indegree(300, 200, 0.05, 1.0, np.random.default_rng(5))
    c = random_indegree(300, 200, 0.05, 1.0, np.random.default_rng(6))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_fixed_indegree_without_self_connections():
    rng = np.random.default_rng(3)
    sources, targets = fixed_indegree(50, 50, 40, rng, allow_self=False)
    assert np.array_equal(indegrees(targets, 50), np.full(50, 40))
    assert not np.any(sources == targets)
    assert sources.min() == 0 and sources.max() == 49  # every other cell can be drawn
    pairs = targets * 50 + sources
    assert np.unique(pairs).size < pairs.size  # with replacement: 40 of 49 gives multapses


def test_fixed_indegree_uniform_over_the_other_cells():
    rng = np.random.default_rng(4)
    sources, targets = fixed_indegree(4, 4, 30000, rng, allow_self=False)
    counts = np.bincount(sources[targets == 1], minlength=4)
    assert counts[1] == 0 and np.all(np.abs(counts[[0, 2, 3]] / 30000 - 1 / 3) < 0.02)


def test_fixed_indegree_needs_a_source():
    with pytest.raises(ValueError, match="without self-connections"):
        fixed_indegree(1, 1, 3, np.random.default_rng(0), allow_self=False)
