"""Weights of the nearest-spike STDP synapse as of a given time, the same on every backend.

A synapse's state changes only at its events, in the order of NESTML's NEST target: a
presynaptic spike emitted at ``t_pre`` is an event at ``t_pre``; a postsynaptic spike at
``t_post`` is an event at ``t_post + d`` (``d`` the connection's delay: NEST treats it as
dendritic); at equal times the postsynaptic event comes first. NEST applies the postsynaptic
events only at the next presynaptic spike, so a weight read while a run stops lags; NEURON and
Brian2 have applied every event that arrived (all up to ``S - d`` at stop ``S``). Either way
the events applied are the first ``pre_count`` presynaptic and ``post_count`` postsynaptic
spikes the synapse counted, so the state *as of time S* follows by applying the others up to
``S``, taken from the recorded spikes, with the synapse's rule
(``nestml/ca3_stdp_synapse.nestml``):

- postsynaptic event at ``T``: ``w = min(Wmax, w + A exp(-(T - T_pre) / tau))``, ``T_pre`` the
  latest presynaptic event (none: no change);
- presynaptic event at ``T``: ``w = min(Wmax, w + A exp(-(T - T_post) / tau))``, ``T_post`` the
  latest postsynaptic event.
"""

import numpy as np

#: Event times are compared rounded to this many decimals (ms): a presynaptic spike and a
#: delayed postsynaptic one on the same time step are a tie however their sums round.
TIME_DECIMALS = 6

#: The synapse state read from the simulator, per connection.
STATE = ("weight", "pre_count", "post_count")


def _sorted_times(trains):
    """Per train, its times as a sorted float array, rounded to :data:`TIME_DECIMALS`."""
    return [np.sort(np.round(np.asarray(train, dtype=float), TIME_DECIMALS)) for train in trains]


def complete(state, sources, targets, pre_trains, post_trains, delay, A, tau, Wmax, until):
    """The weights as of time ``until`` (ms) from a state read off a simulator.

    Parameters
    ----------
    state : dict of str to numpy.ndarray
        ``weight``, ``pre_count``, ``post_count`` per connection, as read.
    sources, targets : numpy.ndarray of int
        Each connection's presynaptic and postsynaptic cell (indices into the trains).
    pre_trains, post_trains : list of array_like
        Spike times (ms) of every presynaptic and postsynaptic cell since the synapses were
        made, at least up to ``until``.
    delay : float or numpy.ndarray
        Delay (ms) of each connection.
    A, tau, Wmax : float or numpy.ndarray
        The rule's values, per connection or for all.
    until : float

    Returns
    -------
    numpy.ndarray
        The weight of each connection.

    Examples
    --------
    A postsynaptic spike 4 ms after a presynaptic one, not yet applied (as NEST holds it):

    >>> state = {"weight": np.array([1.0]), "pre_count": np.array([1]),
    ...          "post_count": np.array([0])}
    >>> w = complete(state, np.array([0]), np.array([0]), [[10.0]], [[14.0]], 1.0, 0.5,
    ...              10.0, 5.0, until=20.0)
    >>> round(float(w[0]), 4)  # 1 + 0.5 exp(-(14 + 1 - 10) / 10)
    1.3033
    """
    n = len(sources)
    w = np.array(state["weight"], dtype=float)
    seen_pre = np.asarray(state["pre_count"]).round().astype(int)
    seen_post = np.asarray(state["post_count"]).round().astype(int)
    delay, A, tau, Wmax = (np.broadcast_to(np.asarray(x, dtype=float), (n,))
                           for x in (delay, A, tau, Wmax))
    pre_trains, post_trains = _sorted_times(pre_trains), _sorted_times(post_trains)
    until = round(float(until), TIME_DECIMALS)
    for c in np.flatnonzero(_has_events(sources, targets, pre_trains, post_trains, delay,
                                        seen_pre, seen_post, until)):
        pre = pre_trains[sources[c]]
        post = _arrivals(post_trains[targets[c]], delay[c])
        last_pre = pre[seen_pre[c] - 1] if seen_pre[c] else -np.inf
        last_post = post[seen_post[c] - 1] if seen_post[c] else -np.inf
        pre = pre[seen_pre[c]:np.searchsorted(pre, until, side="right")]
        post = post[seen_post[c]:np.searchsorted(post, until, side="right")]
        times = np.concatenate([post, pre])
        kinds = np.concatenate([np.zeros(post.size, int), np.ones(pre.size, int)])
        order = np.lexsort((kinds, times))  # in time; postsynaptic first at equal times
        for T, kind in zip(times[order], kinds[order]):
            if kind == 0:
                w[c] = min(Wmax[c], w[c] + A[c] * np.exp((last_pre - T) / tau[c]))
                last_post = T
            else:
                w[c] = min(Wmax[c], w[c] + A[c] * np.exp((last_post - T) / tau[c]))
                last_pre = T
    return w


def _arrivals(post, delay):
    """The times of a postsynaptic train's events at its synapse (spikes + delay)."""
    return np.round(post + delay, TIME_DECIMALS)


def _has_events(sources, targets, pre_trains, post_trains, delay, seen_pre, seen_post,
                until):
    """Which connections have events up to ``until`` beyond those they have seen."""
    pre = np.array([np.searchsorted(pre_trains[i], until, side="right") for i in sources])
    post = np.array([np.searchsorted(_arrivals(post_trains[j], d), until, side="right")
                     for j, d in zip(targets, delay)])
    return (pre > seen_pre) | (post > seen_post)


def replay(sources, targets, pre_trains, post_trains, delay, w0, A, tau, Wmax, until):
    """The weights as of ``until`` from the initial weights ``w0``: the rule applied to every
    event, as a reference for the simulators."""
    n = len(sources)
    start = {"weight": np.asarray(w0, dtype=float) * np.ones(n), "pre_count": np.zeros(n),
             "post_count": np.zeros(n)}
    return complete(start, sources, targets, pre_trains, post_trains, delay, A, tau, Wmax,
                    until)
