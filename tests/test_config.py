"""trisim.config: quantities with units, every model's default config, bad configs named by key."""

import pytest

from trisim import config, model
from trisim.errors import ConfigError
from trisim.pynn_models import coba_stp


def write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, unit, expected", [
    ("9.99 nS", "uS", 0.00999), ("198pF", "nF", 0.198), ("-60 mV", "mV", -60.0),
    ("0.5 s", "ms", 500.0), ("150 pA", "nA", 0.15), ("1e3 ms", "s", 1.0),
])
def test_parse_quantity_converts_to_the_declared_unit(text, unit, expected):
    assert config.parse_quantity(text, unit) == pytest.approx(expected)


@pytest.mark.parametrize("text, message", [
    ("9.99", "needs a number and a unit"),
    ("9.99 mV", "not convertible to uS"),
    ("9.99 blorps", "unknown unit 'blorps'"),
    ("nS", "needs a number and a unit"),
])
def test_parse_quantity_rejects_bad_values(text, message):
    with pytest.raises(ValueError, match=message):
        config.parse_quantity(text, "uS")


def test_default_config_of_every_model_is_valid():
    for name in model.registered():
        found = model.load(name)
        cfg = config.load(found.config_path, found.module.Parameters)
        assert cfg.simulation.dt > 0


def test_coba_stp_config_matches_the_published_values():
    cfg = config.load(model.load("coba_stp").config_path, coba_stp.Parameters)
    p = cfg.parameters
    assert (p.n_exc, p.n_inh, p.p_e, p.p_i, p.U_0) == (3200, 800, 0.05, 0.2, 0.6)
    assert p.g_l == pytest.approx(0.00999) and p.C_m == pytest.approx(0.198)
    assert p.w_e == pytest.approx(5e-5) and p.w_i == pytest.approx(1e-3)
    assert p.I_ex == pytest.approx(0.15) and p.tau_rec == pytest.approx(500.0)
    assert cfg.simulation.seed == 11922
    assert cfg.as_dict()["parameters"]["g_l"] == "0.00999 uS"


@pytest.mark.parametrize("text, message", [
    ("parameters:\n  w_x: 1 nS\n", r"c.yaml: w_x: unknown key"),
    ("parameters:\n  w_e: 1 mV\n", r"c.yaml: w_e: '1 mV' is not convertible to uS"),
    ("parameters:\n  n_exc: many\n", r"c.yaml: n_exc: Input should be a valid integer"),
    ("simulation:\n  dt: 0.1\n", r"c.yaml: dt: 0.1 needs a number and a unit"),
    ("parameters: [1, 2\n", r"c.yaml:2: malformed YAML"),
    ("- 1\n- 2\n", r"c.yaml: a config is a mapping"),
    ("extras: {}\n", r"c.yaml: extras: unknown key"),
])
def test_bad_config_names_file_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        config.load(write(tmp_path, text), coba_stp.Parameters)


def test_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: cannot read config"):
        config.load(tmp_path / "nope.yaml", coba_stp.Parameters)


def test_overrides_are_validated_like_the_file(tmp_path):
    path = write(tmp_path, "parameters:\n  w_i: 1.0 nS\n")
    cfg = config.load(path, coba_stp.Parameters, ["w_i=1.2 nS", "seed=7", "n_exc=400"])
    assert cfg.parameters.w_i == pytest.approx(0.0012)
    assert (cfg.simulation.seed, cfg.parameters.n_exc) == (7, 400)
    for override, message in (("w_q=1 nS", "--set w_q: unknown key"),
                              ("w_i=1.2 ms", "^w_i: '1.2 ms' is not convertible"),
                              ("w_i", "expected key=value"),
                              ("scale=-1", r"^scale: -1 is outside \(0, inf\)")):
        with pytest.raises(ConfigError, match=message):
            config.load(path, coba_stp.Parameters, [override])


def test_a_key_given_twice_takes_the_last_value_and_the_first_is_checked(tmp_path):
    path = write(tmp_path, "parameters:\n  w_i: 1.0 nS\n")
    # device has no constraints besides its type, seed has bounds
    cfg = config.load(path, coba_stp.Parameters, ["device=cpp_standalone", "device=runtime",
                                                  "seed=3", "seed=4"])
    assert (cfg.simulation.device, cfg.simulation.seed) == ("runtime", 4)
    for overrides, message in ((["device=gpu", "device=runtime"], "^device: 'gpu'"),
                               (["seed=0", "seed=4"], "^seed: 0")):
        with pytest.raises(ConfigError, match=message):
            config.load(path, coba_stp.Parameters, overrides)
