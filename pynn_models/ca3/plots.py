"""Figures of the CA3 claim, each drawn from plain data into a path.

Place fields, weights by target class, events, peri-event rates, correlation per configuration."""

from functools import partial

import numpy as np
import quantities as pq

from trisim.pynn_models.ca3 import measures, protocol

PLACE_COLOUR, CUE_COLOUR = "#317ec2", "#e7872b"


def display_data(block):
    """What the figures need of one protocol run, as arrays."""
    from trisim.analysis import place_fields, replay
    place, _ = measures.by_class(block)
    n_laps = measures.laps(block, "training")[0].size
    t0, t1 = measures.lap_window(block, "training", max(n_laps - 5, 0), n_laps)
    position = measures.signal(block, "position").time_slice(t0 * pq.ms, t1 * pq.ms)
    curves = place_fields.tuning_curves(place, position, bin_size=2 * pq.cm, sigma=3 * pq.cm)
    rates = np.nan_to_num(curves.rates.magnitude)
    order = np.argsort(rates.argmax(axis=1))
    data = {"fields": rates[order], "field_centres_cm": curves.centres.magnitude}
    is_place = np.array([t.annotations["cell_type"] == "place"
                         for t in measures.cells(block, "PYR")])
    for pathway, trained in protocol.trained_weights(block).items():
        if trained.target_population == "PYR":
            onto_place = is_place[trained.targets]
            data[f"w_{pathway}_place"] = trained.values[-1][onto_place]
            data[f"w_{pathway}_cue"] = trained.values[-1][~onto_place]
            data[f"w_{pathway}_initial"] = trained.initial
    offline = measures.offline(block)
    if offline["n_events"]:
        data["peri_t"] = np.asarray(offline["peri_event_t_s"])
        data["peri_place"] = np.asarray(offline["peri_event_z_place"])
        data["peri_cue"] = np.asarray(offline["peri_event_z_cue"])
    o_place, o_cue = measures.by_class(block)
    centres = np.array([t.annotations["field_centre_cm"] for t in o_place])
    rank = np.argsort(np.argsort(centres))
    t_start = offline["window_ms"][0] * pq.ms
    window = [t.time_slice(t_start, t.t_stop) for t in o_place]
    for train in window:
        train.t_start = t_start
    try:
        events = replay.population_events(window, "binned")[1:]
    except ValueError:
        events = []
    if len(events):
        biggest = np.argsort(events.array_annotations["n_spikes"])[::-1][:3]
        spans = []
        for index in sorted(biggest):
            start = float(events.times[index].rescale(pq.ms))
            stop = start + float(events.durations[index].rescale(pq.ms))
            spans.append((start, stop))
        data["event_spans_ms"] = np.array(spans)
        times, rows, kinds = [], [], []
        for start, stop in spans:
            for group, kind, order in ((o_place, 0, rank), (o_cue, 1, None)):
                for i, train in enumerate(group):
                    t = train.magnitude[(train.magnitude >= start - 300)
                                        & (train.magnitude < stop + 300)]
                    times.append(t)
                    rows.append(np.full(t.size, order[i] if order is not None
                                        else len(o_place) + i))
                    kinds.append(np.full(t.size, kind))
        data["event_spike_times_ms"] = np.concatenate(times)
        data["event_spike_rows"] = np.concatenate(rows)
        data["event_spike_kinds"] = np.concatenate(kinds)
    return data


def claim_figures(table, results, configuration_of):
    """``{file name: write(path)}`` of the claim experiment's figures; ``configuration_of``
    names a result's configuration."""
    first = {}
    for result in results:
        key = (result.run.backend, configuration_of(result))
        if key not in first or result.run.seed < first[key].run.seed:
            first[key] = result
    arrays = {key: result.arrays() for key, result in first.items()}
    return {"claim_correlation.png": partial(plot_correlation, table),
            "claim_peri_event.png": partial(plot_peri_event, arrays),
            "claim_weights.png": partial(plot_weights, arrays),
            "claim_place_fields.png": partial(plot_place_fields, arrays),
            "claim_events.png": partial(plot_events, arrays)}


def _figure(n_panels, width=3.2, height=2.6):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, n_panels, figsize=(width * n_panels, height), squeeze=False)
    return plt, figure, axes[0]


def plot_correlation(table, path):
    """Offline place-cue r per seed (dots), mean and 95% CI, per configuration and backend."""
    configurations = table["configurations"]
    backends = table["backends"]
    plt, figure, axes = _figure(1, width=1.6 + 1.3 * len(configurations) * len(backends) / 2)
    ax = axes[0]
    x = 0
    ticks, labels = [], []
    for configuration in configurations:
        for backend in backends:
            r = [np.nan if run["r"] is None else run["r"] for run in table["runs"]
                 if run["configuration"] == configuration and run["backend"] == backend]
            entry = table["summary"].get(configuration, {}).get(backend)
            ax.plot(np.full(len(r), x) + np.linspace(-0.12, 0.12, max(len(r), 1))[:len(r)],
                    r, "o", color="0.6", ms=3)
            if entry and entry["r_ci95"]:
                ax.errorbar(x, entry["r_mean"], yerr=[[entry["r_mean"] - entry["r_ci95"][0]],
                                                      [entry["r_ci95"][1] - entry["r_mean"]]],
                            fmt="s", color="k", capsize=3)
            elif entry and entry["r_mean"] is not None:
                ax.plot(x, entry["r_mean"], "s", color="k")
            ticks.append(x)
            labels.append(f"{configuration}\n{backend}")
            x += 1
        x += 0.5
    ax.axhline(0, color="0.3", lw=0.8)
    published = table["published"]["baseline"]["r"]
    ax.axhline(published, color=PLACE_COLOUR, lw=0.8, ls="--", label="published baseline")
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_ylabel("offline place-cue r (150 ms bins)")
    ax.legend(fontsize=7, frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)


def plot_peri_event(arrays, path):
    """Mean peri-event z-score of place and cue cells, per backend and configuration."""
    keys = sorted(k for k in arrays if "peri_t" in arrays[k])
    plt, figure, axes = _figure(max(len(keys), 1))
    for ax, key in zip(axes, keys):
        data = arrays[key]
        ax.plot(data["peri_t"], data["peri_place"], color=PLACE_COLOUR, label="place")
        ax.plot(data["peri_t"], data["peri_cue"], color=CUE_COLOUR, label="cue")
        ax.axvline(0, color="0.5", lw=0.6)
        ax.set_title(f"{key[1]}, {key[0]}", fontsize=8)
        ax.set_xlabel("time from event centre (s)")
    if keys:
        axes[0].set_ylabel("z-scored rate")
        axes[0].legend(fontsize=7, frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)


def plot_weights(arrays, path):
    """PVBC->PYR and E->E weights onto place and cue cells (first seed), per backend and
    configuration, relative to their initial value."""
    keys = sorted(arrays)
    pathways = ("PVBC_PYR", "PYR_PYR", "MF_PYR", "LEC_PYR")
    plt, figure, axes = _figure(len(pathways), width=2.2 + 0.5 * len(keys))
    for ax, pathway in zip(axes, pathways):
        boxes, labels, colours = [], [], []
        for key in keys:
            data = arrays[key]
            if f"w_{pathway}_place" not in data:
                continue
            initial = np.median(data[f"w_{pathway}_initial"])
            for kind, colour in (("place", PLACE_COLOUR), ("cue", CUE_COLOUR)):
                values = data[f"w_{pathway}_{kind}"]
                if values.size:
                    boxes.append(values / initial)
                    labels.append(f"{key[1][:8]}\n{key[0]}\n{kind}")
                    colours.append(colour)
        if boxes:
            parts = ax.boxplot(boxes, patch_artist=True, showfliers=False)
            for patch, colour in zip(parts["boxes"], colours):
                patch.set_facecolor(colour)
            ax.set_xticks(range(1, len(labels) + 1), labels, fontsize=5)
        ax.set_title(pathway.replace("_", " -> "), fontsize=8)
        ax.set_ylabel("weight / initial weight")
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)


def plot_place_fields(arrays, path):
    """Place cells' rate maps over the last training laps, ordered by peak (first seed)."""
    keys = sorted(arrays)
    plt, figure, axes = _figure(max(len(keys), 1), width=2.6)
    for ax, key in zip(axes, keys):
        data = arrays[key]
        fields = data["fields"]
        image = ax.imshow(fields, aspect="auto", cmap="viridis", vmax=max(fields.max(), 1),
                          extent=(data["field_centres_cm"][0], data["field_centres_cm"][-1],
                                  fields.shape[0], 0))
        ax.set_title(f"{key[1]}, {key[0]}", fontsize=8)
        ax.set_xlabel("position (cm)")
        figure.colorbar(image, ax=ax, label="Hz")
    if keys:
        axes[0].set_ylabel("place cell (by peak)")
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)


def plot_events(arrays, path):
    """The three largest offline events (first seed): place cells ordered by field, cue
    cells above."""
    keys = sorted(k for k in arrays if "event_spans_ms" in arrays[k])
    plt, figure, axes = _figure(max(len(keys), 1), width=3.6)
    for ax, key in zip(axes, keys):
        data = arrays[key]
        colours = np.where(data["event_spike_kinds"] == 0, PLACE_COLOUR, CUE_COLOUR)
        ax.scatter(data["event_spike_times_ms"] / 1000.0, data["event_spike_rows"], s=1,
                   c=colours)
        for start, stop in data["event_spans_ms"]:
            ax.axvspan(start / 1000.0, stop / 1000.0, color="0.9", zorder=0)
        ax.set_title(f"{key[1]}, {key[0]}", fontsize=8)
        ax.set_xlabel("time (s)")
    if keys:
        axes[0].set_ylabel("cell (place by field, then cue)")
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)
