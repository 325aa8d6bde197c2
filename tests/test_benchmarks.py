"""The benchmarks' own reference computations, against plain loops over spike pairs."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _imported(benchmark):
    """A benchmark script imported as a module (benchmarks/ on the path while it is used)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module(benchmark)
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def plasticity():
    yield from _imported("plasticity_vs_native")


def _pairwise(plasticity, rule, pre, post, sources, targets, lazy, first):
    """The rule's weight change per connection, one spike pair at a time (times in steps)."""
    p = plasticity.RULE_PARAMETERS[rule]
    tau_plus, tau_minus = ((p["tau_pre_trace"], p["tau_post_trace"]) if rule == "stdp_pair"
                           else (p["tau"], p["tau"]))
    delay = round(plasticity.DELAY * 10)
    changes = []
    for i, j in zip(sources, targets):
        potentiating = depressing = 0.0
        last = pre[i].max() if len(pre[i]) else -10**9
        for s in pre[i]:
            for t in post[j] + delay:
                if (s < t or s == t and first == "pre") and (not lazy or t <= last):
                    potentiating += np.exp(-(t - s) / 10 / tau_plus)
                if t < s or t == s and first == "post":
                    depressing += np.exp(-(s - t) / 10 / tau_minus)
        if rule == "stdp_pair":
            changes.append(p["Wmax"] * (p["A_plus"] * potentiating - p["A_minus"] * depressing))
        elif rule == "stdp_symmetric":
            changes.append(p["A"] * (potentiating + depressing))
        else:
            changes.append(p["eta"] * (potentiating + depressing - p["alpha"] * len(pre[i])))
    return np.array(changes)


@pytest.mark.parametrize("lazy, first", [(False, None), (True, None), (False, "pre"),
                                         (True, "post")])
@pytest.mark.parametrize("rule", ["stdp_pair", "stdp_symmetric", "vogels_sprekeler"])
def test_reference_weight_change_sums_every_spike_pair(plasticity, rule, lazy, first):
    rng = np.random.default_rng(1)
    # spike times on the 0.1 ms grid (in steps), so that pre- and delayed postsynaptic spikes
    # often coincide; some cells silent
    pre = [np.sort(rng.integers(0, 3000, rng.integers(0, 30))) for _ in range(25)]
    post = [np.sort(rng.integers(0, 3000, rng.integers(0, 30))) for _ in range(15)]
    sources, targets = rng.integers(0, 25, 200), rng.integers(0, 15, 200)
    got = plasticity.reference_change(rule, [t / 10 for t in pre], [t / 10 for t in post],
                                      sources, targets, lazy, first=first, chunk=37)
    expected = _pairwise(plasticity, rule, pre, post, sources, targets, lazy, first)
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max())


@pytest.fixture(scope="module")
def nestml_vs_builtin():
    yield from _imported("nestml_vs_builtin")


def test_spike_errors_pair_the_nth_spikes_and_count_the_difference(nestml_vs_builtin):
    reference = [[10.0, 20.0, 30.0], [5.0, 15.0], []]
    trains = [[10.1, 19.5, 30.2, 40.0], [5.0], []]
    assert nestml_vs_builtin.spike_errors(reference, trains) == [(1, 0.5), (-1, 0.0), (0, 0.0)]


def test_nearest_spike_error_caps_missing_and_far_spikes(nestml_vs_builtin):
    reference = [[10.0, 20.0], [5.0]]
    trains = [[10.5, 30.0], []]
    # 10 <-> 10.5 both ways (0.5 each); 20, 30 and the lone 5.0 are capped at 2 ms
    assert nestml_vs_builtin.nearest_spike_error(reference, trains) == (-1, 1.4)
