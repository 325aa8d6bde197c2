"""The published Wang-Buzsaki equations, integrated with SciPy: the reference of the NESTML cell.

The NESTML cell and its event-triggered GABA synapse are checked against it.

Per unit area, as published (Wang & Buzsaki 1996): V in mV, t in ms, currents in uA/cm2,
conductances in mS/cm2, C = 1 uF/cm2. The synapse variable s of a presynaptic cell follows
``ds/dt = alpha F(V) (1 - s) - beta s`` with ``F(V) = 1 / (1 + exp(-V / 2))``. Integration is
SciPy's adaptive DOP853 at a tolerance far below the differences that matter here.

This is a second implementation of the model on purpose: the NESTML cell is verified against
it (f-I curve), and the synapse kernel is fitted to what it computes.
"""

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares

#: Published constants (mS/cm2, mV, uF/cm2, 1/ms).
G_NA, G_K, G_L = 35.0, 9.0, 0.1
E_NA, E_K, E_L = 55.0, -90.0, -65.0
C_M, PHI = 1.0, 5.0
ALPHA, BETA = 12.0, 0.1
#: A spike is an upward crossing of this voltage (mV), as in the NESTML cell.
V_SPIKE = -20.0
RTOL, ATOL = 1e-9, 1e-11


def _vtrap(x):
    return x / -np.expm1(-x)


def _derivatives(t, y, current):
    """d(V, h, n, s)/dt of one cell with its own synapse variable, under ``current`` uA/cm2."""
    v, h, n, s = y
    alpha_m, beta_m = _vtrap((v + 35) / 10), 4 * np.exp(-(v + 60) / 18)
    alpha_h, beta_h = 0.07 * np.exp(-(v + 58) / 20), 1 / (1 + np.exp(-(v + 28) / 10))
    alpha_n, beta_n = 0.1 * _vtrap((v + 34) / 10), 0.125 * np.exp(-(v + 44) / 80)
    m = alpha_m / (alpha_m + beta_m)
    dv = (current - G_NA * m ** 3 * h * (v - E_NA) - G_K * n ** 4 * (v - E_K)
          - G_L * (v - E_L)) / C_M
    gate = 1 / (1 + np.exp(-v / 2))
    return [dv, PHI * (alpha_h * (1 - h) - beta_h * h), PHI * (alpha_n * (1 - n) - beta_n * n),
            ALPHA * gate * (1 - s) - BETA * s]


def _crossing(t, y, current):
    return y[0] - V_SPIKE


_crossing.direction = 1


def resting_state(current=0.0):
    """(V, h, n, s) at rest: h and n at their steady state for V = E_L, s = 0."""
    v = E_L
    alpha_h, beta_h = 0.07 * np.exp(-(v + 58) / 20), 1 / (1 + np.exp(-(v + 28) / 10))
    alpha_n, beta_n = 0.1 * _vtrap((v + 34) / 10), 0.125 * np.exp(-(v + 44) / 80)
    return [v, alpha_h / (alpha_h + beta_h), alpha_n / (alpha_n + beta_n), 0.0]


def spike_times(current, duration, state=None):
    """Spike times (ms) of one uncoupled cell under a constant ``current`` (uA/cm2)."""
    solution = solve_ivp(_derivatives, (0.0, duration), state or resting_state(),
                         args=(current,), method="DOP853", rtol=RTOL, atol=ATOL,
                         events=_crossing)
    return solution.t_events[0]


def firing_rate(current, duration=2000.0, count_from=500.0):
    """Firing rate (Hz) of one cell, from the spikes after ``count_from`` ms (see
    :func:`trisim.analysis.statistics.firing_rates` for how networks count)."""
    times = spike_times(current, duration)
    return float(np.sum(times >= count_from) / (duration - count_from) * 1000.0)


@dataclass
class Kernel:
    """The event-triggered approximation of the synapse: after ``delay`` from the spike,
    ``s(t) = amplitude (exp(-t / tau_decay) - exp(-t / tau_rise))``."""

    amplitude: float
    tau_rise: float
    tau_decay: float
    delay: float

    def __call__(self, t):
        shifted = np.maximum(np.asarray(t, dtype=float) - self.delay, 0.0)
        return self.amplitude * (np.exp(-shifted / self.tau_decay)
                                 - np.exp(-shifted / self.tau_rise))


def one_spike_synapse(current=1.0, times=np.arange(-1.0, 60.0, 0.005), spike=3, window=3.0):
    """The s time course one presynaptic spike produces, from s = 0, on ``times`` (ms from
    the spike's -20 mV crossing).

    The cell fires repetitively under ``current``; ``spike`` picks which spike (past the
    first, so that the waveform is the repetitive one). s is integrated with the cell from
    ``window`` ms before the crossing to ``window`` ms after it; after that the presynaptic
    gate F(V) is below 1e-10 and s decays as exp(-beta t), which is used beyond the window.
    """
    solution = solve_ivp(_derivatives, (0.0, 1000.0), resting_state(), args=(current,),
                         method="DOP853", rtol=RTOL, atol=ATOL, events=_crossing,
                         dense_output=True)
    crossing = solution.t_events[0][spike]
    state = solution.sol(crossing - window)
    state[3] = 0.0
    around = solve_ivp(_derivatives, (crossing - window, crossing + window), state,
                       args=(current,), method="DOP853", rtol=RTOL, atol=ATOL,
                       dense_output=True, max_step=0.005)
    times = np.asarray(times, dtype=float)
    inside = np.clip(times, -window, window)
    s = around.sol(crossing + inside)[3]
    s_end = around.sol(crossing + window)[3]
    return np.where(times <= window, s, s_end * np.exp(-BETA * (times - window)))


def fit_kernel(times, s):
    """The :class:`Kernel` closest (least squares) to the time course ``s`` on ``times``;
    its decay is the published 1 / beta."""
    tau_decay = 1.0 / BETA

    def residuals(x):
        return Kernel(x[0], x[1], tau_decay, x[2])(times) - s

    fit = least_squares(residuals, [1.0, 0.1, 0.05], bounds=([0.1, 1e-3, 0.0], [2.0, 5.0, 2.0]))
    return Kernel(float(fit.x[0]), float(fit.x[1]), tau_decay, float(fit.x[2]))


def train_synapse(current=1.0, duration=300.0):
    """s of one repetitively firing cell under the published scheme, and its spike times: where
    the event-triggered kernel, which adds spikes linearly, differs from the scheme."""
    times = np.arange(0.0, duration, 0.01)
    solution = solve_ivp(_derivatives, (0.0, duration), resting_state(), args=(current,),
                         method="DOP853", rtol=RTOL, atol=ATOL, events=_crossing,
                         t_eval=times, max_step=0.01)
    return times, solution.y[3], solution.t_events[0]



def network_spikes(seed, n_cells=100, duration=500.0, dt=0.01, drive=1.0, g_syn=0.1,
                   e_syn=-75.0):
    """Spike times (ms) per cell of the published network, voltage-driven synapses included.

    All-to-all without self-connections, each connection ``g_syn / n_cells`` (mS/cm2) times the
    presynaptic s; classic RK4 at ``dt``, spikes at the end of the step that crosses -20 mV.
    The initial state is drawn as ``trisim run wang_buzsaki`` draws it for ``seed`` (a normal
    deviate per cell for the drive's spread, unused here, then V ~ N(-70, 20) mV), with
    h = 0.6, n = 0.3 and s = 0, so both start from the same state.
    """
    rng = np.random.default_rng(seed)
    rng.standard_normal(n_cells)
    y = np.array([rng.normal(-70.0, 20.0, n_cells), np.full(n_cells, 0.6),
                  np.full(n_cells, 0.3), np.zeros(n_cells)])

    def derivatives(state):
        cells = np.array(_derivatives(0.0, state, drive))
        inhibition = g_syn / n_cells * (state[3].sum() - state[3]) * (state[0] - e_syn)
        cells[0] -= inhibition / C_M
        return cells

    spikes = [[] for _ in range(n_cells)]
    for step in range(int(round(duration / dt))):
        k1 = derivatives(y)
        k2 = derivatives(y + dt / 2 * k1)
        k3 = derivatives(y + dt / 2 * k2)
        k4 = derivatives(y + dt * k3)
        after = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        for cell in np.flatnonzero((y[0] < V_SPIKE) & (after[0] >= V_SPIKE)):
            spikes[cell].append((step + 1) * dt)
        y = after
    return spikes


def kernel_report(current=1.0):
    """Fit the kernel to one spike's s at ``current`` and measure what it leaves out.

    Returns
    -------
    report : dict
        JSON-ready: the fitted :class:`Kernel`, the peak and integral of s and of the kernel,
        their RMS and largest difference, and, for a cell firing repetitively under
        ``current`` (no inhibition: the highest rate of the network's cells), the mean s of
        the published scheme against the sum of kernels at its spikes, plain and scaled by
        ``1 - s`` as ``nestml/wang_buzsaki_gaba_synapse.nestml`` does.
    curves : tuple of numpy.ndarray
        What :func:`plot_kernel_report` draws.
    """
    times = np.arange(-1.0, 60.0, 0.005)
    s = one_spike_synapse(current, times)
    kernel = fit_kernel(times, s)
    fitted = kernel(times)
    train_times, train_s, spikes = train_synapse(current)
    summed = sum(kernel(train_times - spike) for spike in spikes)
    saturating, s_pre, last = np.zeros_like(train_times), 0.0, 0.0
    for spike in spikes:  # the synapse's rule: scale by 1 - s, then s += amplitude (1 - s)
        s_pre *= np.exp(-(spike - last) / kernel.tau_decay)
        saturating += (1 - s_pre) * kernel(train_times - spike)
        s_pre, last = s_pre + kernel.amplitude * (1 - s_pre), spike
    late = train_times >= 100.0
    report = {"current_uA_per_cm2": current,
            "kernel": {"amplitude": kernel.amplitude, "tau_rise_ms": kernel.tau_rise,
                       "tau_decay_ms": kernel.tau_decay, "delay_ms": kernel.delay},
            "one_spike": {"peak": float(s.max()), "peak_kernel": float(fitted.max()),
                          "integral_ms": float(np.trapezoid(s, times)),
                          "integral_kernel_ms": float(np.trapezoid(fitted, times)),
                          "rms_difference": float(np.sqrt(np.mean((fitted - s) ** 2))),
                          "max_difference": float(np.max(np.abs(fitted - s)))},
            "repetitive": {"rate_hz": float(np.sum(spikes >= 100.0) / 0.2),
                           "mean_s_from_100_ms": float(train_s[late].mean()),
                           "mean_kernel_sum_from_100_ms": float(summed[late].mean()),
                           "mean_saturating_sum_from_100_ms": float(saturating[late].mean())}}
    return report, (times, s, fitted, train_times, train_s, summed, saturating)


def plot_kernel_report(report, curves, path):
    """Both time courses: one spike (left), a repetitively firing cell (right)."""
    from matplotlib.figure import Figure
    times, s, fitted, train_times, train_s, summed, saturating = curves
    kernel = report["kernel"]
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    single, train = figure.subplots(1, 2, width_ratios=[1, 1.4])
    single.plot(times, s, color="k", label="published kinetics, from s = 0")
    single.plot(times, fitted, "--", color="C3",
                label=f"kernel: {kernel['amplitude']:.4f} (exp(-t/{kernel['tau_decay_ms']:g}) "
                      f"- exp(-t/{kernel['tau_rise_ms']:.4f}))\nafter {kernel['delay_ms']:.3f} ms")
    inset = single.inset_axes([0.45, 0.25, 0.5, 0.35])
    near = times <= 2.0
    inset.plot(times[near], s[near], color="k")
    inset.plot(times[near], fitted[near], "--", color="C3")
    single.set_xlabel("time from the -20 mV crossing (ms)")
    single.set_ylabel("s")
    single.set_title("One presynaptic spike")
    single.legend(fontsize=7, loc="upper right")
    train.plot(train_times, train_s, color="k", label="published kinetics")
    train.plot(train_times, summed, ":", color="C0", label="sum of kernels (linear)")
    train.plot(train_times, saturating, "--", color="C3",
               label="sum of kernels scaled by 1 - s (wang_buzsaki_gaba_synapse)")
    repetitive = report["repetitive"]
    train.set_title(f"Cell firing at {repetitive['rate_hz']:.0f} Hz "
                    f"({report['current_uA_per_cm2']:g} uA/cm2, no inhibition)")
    train.set_xlabel("time (ms)")
    train.set_ylim(top=1.45)
    train.legend(fontsize=7, loc="upper right")
    figure.savefig(path, format="png", dpi=110)
