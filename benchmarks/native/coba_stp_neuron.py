"""Seed 002 in native NEURON: COBA network with Tsodyks-Markram short-term plasticity.

Written as NEURON's own Python examples are: a cell class around a single-compartment
section, gids registered with a ``ParallelContext``, one NetCon per connection made with
``pc.gid_connect``, ``pc.spike_record`` and ``Vector.record``, ``pc.psolve``. Each cell is a
passive section with a constant current, a threshold/reset/refractory point process
(``neuron_mechanisms/lif_reset.mod``) and two conductance synapses that keep Tsodyks-Markram
state per NetCon (``neuron_mechanisms/tm_expsyn.mod``). Connectivity is drawn with numpy.
The mechanisms are compiled with nrnivmodl on first use.
"""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np

from common import (C_M, DELAY, DT, E_E, E_I, E_L, G_L, I_EX, N_TRACES, TAU_E, TAU_FACIL,
                    TAU_I, TAU_R, TAU_REC, U_0, V_R, V_TH, W_E, W_I, Clock, arguments, report)

MECHANISMS = Path(__file__).with_name("neuron_mechanisms")
if not (MECHANISMS / "x86_64" / ".libs" / "libnrnmech.so").exists() and \
        not (MECHANISMS / "x86_64" / "libnrnmech.so").exists():
    subprocess.run([str(Path(sys.executable).with_name("nrnivmodl"))], cwd=MECHANISMS,
                   check=True, capture_output=True)

from neuron import h, load_mechanisms  # noqa: E402

load_mechanisms(str(MECHANISMS))
args = arguments(__doc__.splitlines()[0])
pc = h.ParallelContext()
h.dt = DT
clock = Clock()

AREA = 1e-3  # cm2: a 100 um long cylinder of diameter 1000/pi um


class LIFCell:
    def __init__(self, gid):
        self.gid = gid
        self.soma = h.Section(name="soma", cell=self)
        self.soma.L, self.soma.diam = 100.0, 1000.0 / math.pi
        self.soma.cm = C_M * 1e-6 / AREA             # pF -> uF/cm2
        self.soma.insert("pas")
        self.soma.g_pas = G_L * 1e-9 / AREA          # nS -> S/cm2
        self.soma.e_pas = E_L
        self.drive = h.IClamp(self.soma(0.5))
        self.drive.delay, self.drive.dur, self.drive.amp = 0.0, 1e9, I_EX * 1e-3  # nA
        self.spike = h.LIFReset(self.soma(0.5))
        self.spike.v_th, self.spike.v_reset, self.spike.t_ref = V_TH, V_R, TAU_R
        self.esyn = self._synapse(TAU_E, E_E)
        self.isyn = self._synapse(TAU_I, E_I)
        pc.set_gid2node(gid, pc.id())
        nc = h.NetCon(self.spike, None)
        pc.cell(gid, nc)

    def _synapse(self, tau, e):
        syn = h.TMExpSyn(self.soma(0.5))
        syn.tau, syn.e = tau, e
        syn.U, syn.tau_rec, syn.tau_facil = U_0, TAU_REC, TAU_FACIL
        return syn


n_cells = args.n_exc + args.n_inh
cells = [LIFCell(gid) for gid in range(n_cells)]
rng = np.random.default_rng(args.seed)

# every cell receives from E with p_e and from I with p_i, autapses allowed
netcons = []
for pre_gids, p, weight, receptor in ((range(0, args.n_exc), args.p_e, W_E * 1e-3, "esyn"),
                                      (range(args.n_exc, n_cells), args.p_i, W_I * 1e-3, "isyn")):
    pre_gids = np.asarray(pre_gids)
    for cell in cells:
        syn = getattr(cell, receptor)
        for gid in pre_gids[rng.random(pre_gids.size) < p].tolist():
            nc = pc.gid_connect(gid, syn)
            nc.weight[0] = weight
            nc.delay = DELAY
            netcons.append(nc)

# every cell's spikes; membrane potential and conductances of a few cells
spike_times, spike_gids = h.Vector(), h.Vector()
pc.spike_record(-1, spike_times, spike_gids)
traces = []
for cell in cells[:N_TRACES] + cells[args.n_exc:args.n_exc + N_TRACES]:
    for ref in (cell.soma(0.5)._ref_v, cell.esyn._ref_g, cell.isyn._ref_g):
        traces.append(h.Vector().record(ref))

# initial state: v ~ U[E_l, V_th], g_e ~ U[0, w_e], g_i ~ U[0, w_i]
v0 = rng.uniform(E_L, V_TH, n_cells)
ge0 = rng.uniform(0.0, W_E * 1e-3, n_cells)
gi0 = rng.uniform(0.0, W_I * 1e-3, n_cells)


def initial_state():
    for cell, v, ge, gi in zip(cells, v0, ge0, gi0):
        cell.soma(0.5).v = v
        cell.esyn.g, cell.isyn.g = ge, gi


handler = h.FInitializeHandler(1, initial_state)
pc.set_maxstep(10)
h.finitialize()
clock.mark("build")

pc.psolve(args.duration)
clock.mark("run")

report(clock, n_cells, len(netcons), spike_times.size(), args.duration)
