"""Figures of seed 001's experiments, drawn from their tables, never from the runs.

Measures per setting against the published values, input-output curves, the seed scan,
rasters with the input waveform, and the published summary figure. They draw the tables of :mod:`trisim.pynn_models.cb1.experiments` (and the figure data kept
beside each run), never the runs themselves, so they are cheap to redraw.
"""

import numpy as np
from matplotlib.figure import Figure

from trisim.pynn_models.cb1.measures import LABELS, TARGETS

SETTING_COLOURS = {"cb1_v1": "#333333", "cb1_v2m": "#e8262e", "cb1_v2m_ko": "#8b2500"}
POPULATION_COLOURS = {"L4Exc": "tab:blue", "CB1Inh": "tab:orange", "PvInh": "tab:red",
                      "L23Exc": "tab:green"}
BACKEND_HATCHES = ("", "///", "...", "xx")
AXIS_LABELS = {
    "rate_L23Exc": "L2/3 PN rate (Hz)", "rate_CB1Inh": "CB1 rate (Hz)",
    "rate_PvInh": "PV rate (Hz)", "rate_L4Exc": "L4 PN rate (Hz)",
    "vm_L4Exc": "L4 PN mean Vm (mV)", "sttc_L23Exc": "L2/3 PN STTC",
    "relative_gain": "relative gain (/Hz)", "gain_max_L4Exc": "L4 PN at max input (Hz)",
    "gain_max_L23Exc": "L2/3 PN at max input (Hz)",
}


def experiment_figures(table):
    """``{file suffix: draw(path)}`` for an experiment table."""
    if table["experiment"] == "scan":
        return {"": lambda path: plot_scan(table, path)}
    if table["experiment"] == "gain":
        return {"": lambda path: plot_gain(table, path)}
    names = list(next(iter(next(iter(table["summary"].values())).values())))
    return {"": lambda path: plot_measures(table, names, path)}


def bar_panel(axes, summary, name, settings, backends):
    """One bar per setting and backend (mean +- s.d. over seeds), the published value as a
    black line over each setting's bars."""
    width = 0.8 / len(backends)
    for i, setting in enumerate(settings):
        for j, backend in enumerate(backends):
            entry = summary.get(backend, {}).get(setting, {}).get(name)
            if entry is None:
                continue
            x = i - 0.4 + width * (j + 0.5)
            bottom = _bar_bottom(name, summary)
            axes.bar(x, entry["mean"] - bottom, width, bottom=bottom, yerr=entry["sd"],
                     color=SETTING_COLOURS[setting], hatch=BACKEND_HATCHES[j],
                     edgecolor="white", linewidth=0, label=backend if i == 0 else None)
        target = TARGETS.get(name, {}).get(setting)
        if target is not None:
            axes.plot([i - 0.45, i + 0.45], [target, target], color="black", linewidth=1.5)
    axes.set_xticks(range(len(settings)), [LABELS[s] for s in settings], rotation=30)
    axes.set_ylabel(AXIS_LABELS.get(name, name))
    if name == "sttc_L23Exc":
        axes.set_yscale("log")


def _bar_bottom(name, summary):
    """Bars of a potential start below the lowest value (as the published figure), others at 0."""
    if not name.startswith("vm_"):
        return 0.0
    values = [entry[name]["mean"] for by_setting in summary.values()
              for entry in by_setting.values() if name in entry]
    targets = [t for t in TARGETS.get(name, {}).values()]
    return float(np.floor(min(values + targets) - 1.0))


def plot_measures(table, names, path):
    """Bars of each measure per setting and backend against the published value."""
    figure = Figure(figsize=(2.4 * len(names) + 1, 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(names)))
    for panel, name in zip(axes, names):
        bar_panel(panel, table["summary"], name, table["settings"], table["backends"])
    axes[0].legend(fontsize=7, title="backend", title_fontsize=7)
    figure.suptitle(_title(table) + "  (black: published)")
    figure.savefig(path, format="png", dpi=110)


def _title(table):
    if "input_seeds" in table:
        seeds = f"{len(table['input_seeds'])} input seed(s)"
    else:
        seeds = f"{len(table.get('seeds') or [])} seed(s)"
    return (f"seed 001, {table['experiment']}: scale {table['scale']:g}, "
            f"{table['duration_ms'] / 1000:g} s, {seeds}")


def gain_curves(table, name):
    """Mean smoothed output per setting and backend: ``{(setting, backend): (x, y)}``."""
    curves = {}
    for run in table["runs"]:
        curve = run.get(f"gain_{name}")
        if curve:
            curves.setdefault((run["setting"], run["backend"]), []).append(curve)
    return {key: (np.array(runs[0]["input_hz"]),
                  np.mean([c["smoothed_hz"] for c in runs], axis=0))
            for key, runs in curves.items()}


def gain_panel(axes, table, name):
    styles = dict(zip(table["backends"], ("-", "--", ":", "-.")))
    for (setting, backend), (x, y) in gain_curves(table, name).items():
        axes.plot(x, y, styles[backend], color=SETTING_COLOURS[setting],
                  label=f"{LABELS[setting]}, {backend}")
    axes.set_xlabel("L4 PN input (Hz)")
    axes.set_ylabel(f"{'L4' if name == 'L4Exc' else 'L2/3'} PN output (Hz)")


def plot_gain(table, path):
    """L4 and L2/3 output against the input, and the relative gain per setting."""
    figure = Figure(figsize=(12, 3.8), layout="constrained")
    axes = figure.subplots(1, 3)
    gain_panel(axes[0], table, "L4Exc")
    gain_panel(axes[1], table, "L23Exc")
    axes[1].legend(fontsize=6)
    bar_panel(axes[2], table["summary"], "relative_gain", table["settings"], table["backends"])
    figure.suptitle(_title(table) + "  (black: published)")
    figure.savefig(path, format="png", dpi=110)


def plot_scan(table, path):
    """L2/3 STTC against the largest event amplitude, per setting (mean +- s.d. over input
    seeds), one panel per backend."""
    backends = table["backends"]
    figure = Figure(figsize=(4.2 * len(backends), 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(backends)))
    for panel, backend in zip(axes, backends):
        for setting in table["settings"]:
            by_amplitude = {}
            for run in table["runs"]:
                if (run["backend"], run["setting"]) == (backend, setting) \
                        and run.get("sttc_L23Exc") is not None:
                    by_amplitude.setdefault(run["event_max_hz"], []).append(run["sttc_L23Exc"])
            x = sorted(by_amplitude)
            mean = [np.mean(by_amplitude[a]) for a in x]
            sd = [np.std(by_amplitude[a]) for a in x]
            panel.errorbar(x, mean, sd, color=SETTING_COLOURS[setting], marker="o",
                           label=LABELS[setting], capsize=2)
            panel.axhline(TARGETS["sttc_L23Exc"][setting], color=SETTING_COLOURS[setting],
                          linewidth=0.8, linestyle=":")
        panel.set_yscale("log")
        panel.set_xlabel("largest event amplitude (Hz)")
        panel.set_ylabel("L2/3 PN STTC")
        panel.set_title(backend)
    axes[0].legend(fontsize=7)
    # two lines: one panel is narrower than the title
    figure.suptitle(_title(table) + "\n(dotted: published)", fontsize=9)
    figure.savefig(path, format="png", dpi=110)


def plot_rasters(displays, table, backend, path):
    """One column per setting (first seed): the input F(t), spikes (population order of the
    published figure), one membrane potential per population and the population rates."""
    settings = [s for s in table["settings"] if s in displays]
    figure = Figure(figsize=(4.5 * len(settings), 8), layout="constrained")
    axes = figure.subplots(4, len(settings), sharex=True, squeeze=False,
                           height_ratios=[1, 4, 2, 1.5])
    order = ("L4Exc", "CB1Inh", "PvInh", "L23Exc")
    for column, setting in enumerate(settings):
        data = displays[setting]
        t = data["t_ms"] / 1000.0
        axes[0, column].plot(t, data["input_hz"], color="tab:brown")
        axes[0, column].set_title(f"{LABELS[setting]} ({backend})")
        row = 0
        for name in order:
            axes[1, column].plot(data[f"{name}.spike_ms"] / 1000.0,
                                 row + data[f"{name}.spike_cell"], ",",
                                 color=POPULATION_COLOURS[name])
            row += int(data[f"{name}.shown_cells"][0]) + 5
        offset = 0.0
        for name in order:
            v = data.get(f"{name}.v_mv")
            if v is not None:  # 1 ms samples
                axes[2, column].plot(np.arange(v.size) / 1000.0, v + offset,
                                     color=POPULATION_COLOURS[name], linewidth=0.4)
                offset -= 40.0
            bin_s = float(data["rate_bin_ms"][0]) / 1000.0
            rate = data[f"{name}.rate_hz"]
            axes[3, column].plot((np.arange(rate.size) + 0.5) * bin_s, rate,
                                 color=POPULATION_COLOURS[name], linewidth=0.8, label=name)
        axes[1, column].set_yticks([])
        axes[2, column].set_yticks([])
        axes[3, column].set_yscale("symlog", linthresh=1.0)
        axes[3, column].set_xlabel("time (s)")
    axes[0, 0].set_ylabel("input F (Hz)")
    axes[1, 0].set_ylabel("cells (L4, CB1, PV, L2/3)")
    axes[2, 0].set_ylabel("Vm (40 mV offsets)")
    axes[3, 0].set_ylabel("rate (Hz)")
    axes[3, -1].legend(fontsize=6, loc="upper right")
    figure.suptitle(_title(table))
    figure.savefig(path, format="png", dpi=110)


def plot_summary(tables, path):
    """The published summary figure: spontaneous rates and L4 Vm, input-output curves,
    relative gain and L2/3 STTC per setting (from whichever experiments are given)."""
    activity = tables.get("time-varying") or tables.get("spontaneous")
    panels = []
    if activity:
        panels += [(activity, name) for name in ("rate_L23Exc", "rate_CB1Inh", "rate_PvInh",
                                                 "vm_L4Exc", "rate_L4Exc")]
    if "gain" in tables:
        panels += [(tables["gain"], "curve_L4Exc"), (tables["gain"], "curve_L23Exc"),
                   (tables["gain"], "relative_gain")]
    if "time-varying" in tables:
        panels.append((tables["time-varying"], "sttc_L23Exc"))
    figure = Figure(figsize=(2.6 * len(panels) + 1, 3.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(panels)))
    for panel, (table, name) in zip(axes, panels):
        if name.startswith("curve_"):
            gain_panel(panel, table, name.removeprefix("curve_"))
        else:
            bar_panel(panel, table["summary"], name, table["settings"], table["backends"])
    axes[0].legend(fontsize=6, title="backend", title_fontsize=6)
    sources = ", ".join(f"{name} (scale {table['scale']:g}, {len(table['seeds'])} seed(s))"
                        for name, table in tables.items() if name != "scan")
    figure.suptitle(f"seed 001 summary: {sources}  (black: published)", fontsize=9)
    figure.savefig(path, format="png", dpi=110)
