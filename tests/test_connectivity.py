import numpy as np

from trisim.connectivity import random_indegree


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
