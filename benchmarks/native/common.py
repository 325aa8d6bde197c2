"""What the three native scripts share: seed 002's numbers and how a script reports.

Kept deliberately small, so each script still reads like its simulator's own examples. Values
are those of the published Brian2 script (Stimberg et al. 2018, Fig. 1), with trisim's one
departure: a synaptic delay of one time step (0.1 ms). ``--scale`` changes population sizes and
keeps each cell's expected in-degree, as ``trisim run --scale`` does (connection probability
p / scale).
"""

import argparse
import json
import time

N_EXC, N_INH = 3200, 800
E_L, G_L, C_M = -60.0, 9.99, 198.0        # mV, nS, pF
E_E, E_I = 0.0, -80.0                     # mV
TAU_E, TAU_I, TAU_R = 5.0, 10.0, 5.0      # ms
I_EX = 150.0                              # pA
V_TH, V_R = -50.0, -60.0                  # mV
W_E, W_I = 0.05, 1.0                      # nS
P_E, P_I = 0.05, 0.2
U_0, TAU_REC, TAU_FACIL = 0.6, 500.0, 300.3  # 1, ms, ms
DT, DELAY = 0.1, 0.1                      # ms
N_TRACES = 3                              # cells per population with v and g recorded


def arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=1000.0, help="ms")
    parser.add_argument("--seed", type=int, default=11922)
    args = parser.parse_args()
    args.n_exc = max(1, round(N_EXC * args.scale))
    args.n_inh = max(1, round(N_INH * args.scale))
    args.p_e = min(1.0, P_E / args.scale)
    args.p_i = min(1.0, P_I / args.scale)
    return args


class Clock:
    """Time marks: ``mark("build")`` records the wall-clock and CPU time since the last mark."""

    def __init__(self):
        self.times, self.cpu_times = {}, {}
        self._last, self._last_cpu = time.perf_counter(), time.process_time()

    def mark(self, name):
        now, now_cpu = time.perf_counter(), time.process_time()
        self.times[name], self.cpu_times[name] = now - self._last, now_cpu - self._last_cpu
        self._last, self._last_cpu = now, now_cpu


def report(clock, n_cells, n_synapses, n_spikes, duration_ms):
    """Print the one JSON line the benchmark reads."""
    print(json.dumps({"build_s": round(clock.times["build"], 3),
                      "run_s": round(clock.times["run"], 3),
                      "cpu_build_s": round(clock.cpu_times["build"], 3),
                      "cpu_run_s": round(clock.cpu_times["run"], 3),
                      "n_cells": n_cells, "n_synapses": int(n_synapses),
                      "mean_rate_hz": round(n_spikes / n_cells / (duration_ms / 1000.0), 3)}))
