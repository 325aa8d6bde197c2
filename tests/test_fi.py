"""trisim.analysis.fi: rates counted in a window, comparison with targets, the figure."""

import matplotlib.image
import neo
import numpy as np
import pytest
import quantities as pq

from trisim.analysis.fi import FICurve, PoissonDrive, compare, plot_fi, rates_in_window


def test_rates_count_only_the_window():
    trains = [neo.SpikeTrain(times, units="ms", t_stop=2000.0)
              for times in ([100.0, 400.0, 600.0, 1999.0], [], np.arange(0.0, 2000.0, 50.0))]
    np.testing.assert_allclose(rates_in_window(trains, 500 * pq.ms), [2 / 1.5, 0.0, 20.0])


def test_bad_window_is_refused():
    with pytest.raises(TypeError, match="count_from"):
        rates_in_window([neo.SpikeTrain([1.0], units="ms", t_stop=10.0)], 5.0)


def test_comparison_per_current_with_scalar_or_listed_tolerance():
    curve = FICurve("cell", "some_neuron", {}, [100.0, 200.0, 300.0],
                    targets_hz=[10.0, None, 0.0], tolerance=[0.1, 0.1, 0.5])
    rows = compare(curve, [10.5, 20.0, 0.2])
    assert rows[0]["within_tolerance"] and rows[0]["relative_difference"] == pytest.approx(0.05)
    assert "within_tolerance" not in rows[1]  # no target there
    assert rows[2]["within_tolerance"]  # a target of 0 Hz: the rate itself is the difference
    assert not compare(curve, [12.0, 20.0, 0.6])[0]["within_tolerance"]
    assert FICurve("c", "n", {}, [1.0, 2.0], tolerance=0.2).tolerances() == [0.2, 0.2]


def test_figure_is_a_png(tmp_path):
    curve = FICurve("cell", "some_neuron", {}, [100.0, 200.0], targets_hz=[5.0, 10.0])
    plot_fi({"cell": compare(curve, [5.1, 9.5])}, "title", tmp_path / "fi.png")
    assert matplotlib.image.imread(tmp_path / "fi.png").shape[2] in (3, 4)


def test_synaptic_curve_is_keyed_by_afferent_rate_and_plotted_beside_currents(tmp_path):
    drive = PoissonDrive([(84, {"ampa_spikes": 0.001}), (16, {"gaba_spikes": 0.002})])
    assert drive.afferents() == 100
    synaptic = FICurve("cell, synaptic", "some_neuron", {}, [500.0, 1000.0],
                       targets_hz=[None, 8.0], drive=drive)
    rows = compare(synaptic, [2.0, 9.0])
    assert synaptic.input_key == "input_hz" and rows[1]["input_hz"] == 1000.0
    assert rows[1]["within_tolerance"] is False  # 12.5% off, tolerance 10%
    current = FICurve("cell", "some_neuron", {}, [100.0], targets_hz=[5.0])
    plot_fi({"cell": compare(current, [5.0]), "cell, synaptic": rows}, "t", tmp_path / "f.png")
    # two panels side by side: twice as wide as one
    assert matplotlib.image.imread(tmp_path / "f.png").shape[1] > 1.8 * 7 * 110 * 0.95
