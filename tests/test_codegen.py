"""The NESTML front end, the step program, units and the compile cache."""

import contextlib
import dataclasses
import math
import multiprocessing
import subprocess
import sys
from pathlib import Path

import astropy.units as au
import pytest

from trisim.codegen import cache, frontend, program, units
from trisim.errors import NestmlError


@pytest.mark.parametrize("name, legal", [
    ("V_m", "V_m"), ("__h", "nml_h"), ("g_exc__X__exc_spikes", "g_exc_X_exc_spikes"),
    ("__P__a__b", "nml_P_a_b"), ("t", "nml_t"), ("dt", "nml_dt"), ("lambda", "nml_lambda"),
])
def test_legal_name(name, legal):
    assert program.legal_name(name) == legal


def test_legal_name_renames_every_brian2_unit():
    """Brian2 refuses a variable named like a unit of its namespace; the pattern that spares
    importing Brian2 for every target must know all of them (it once missed kHz and MHz)."""
    from brian2.core.namespace import DEFAULT_UNITS
    from brian2.units import stdunits
    names = set(DEFAULT_UNITS) | set(stdunits.__all__)
    assert not [name for name in names if program.legal_name(name) == name]


@pytest.mark.parametrize("unit, pynn, factor", [
    ("mV", "mV", 1.0), ("pA", "nA", 1000.0), ("nS", "uS", 1000.0), ("pF", "nF", 1000.0),
    ("ms", "ms", 1.0), ("GOhm", "MOhm", 0.001), ("pA/mV", "uS", 1000.0), ("s", "ms", 0.001),
])
def test_nestml_units_against_pynn_units(unit, pynn, factor):
    converted = units.from_astropy(au.Unit(unit))
    assert converted.pynn_name == pynn and converted.pynn_to_nestml == pytest.approx(factor)


def write(tmp_path, text, name="broken_neuron.nestml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ("model broken_neuron:\n    state:\n        V_m mV = -70 mV +\n", r"broken_neuron.nestml:4: .*parsing"),
    ("model broken_neuron:\n    state:\n        V_m mV = -70 mV\n    equations:\n"
     "        V_m' = -V_m / tau\n", r"broken_neuron.nestml:5: Variable \"tau\" not defined"),
])
def test_bad_nestml_is_reported_with_file_and_line(tmp_path, text, message):
    with pytest.raises(NestmlError, match=message):
        frontend.analyse(write(tmp_path, text))


def test_missing_nestml_file(tmp_path):
    with pytest.raises(NestmlError, match="no such NESTML file"):
        frontend.analyse(tmp_path / "absent.nestml")


def test_loops_are_refused_with_their_line(tmp_path):
    text = ("model looping_neuron:\n    state:\n        V_m mV = -70 mV\n    update:\n"
            "        while V_m < 0 mV:\n            V_m += 1 mV\n")
    with pytest.raises(NestmlError, match=r"looping_neuron.nestml:5: for/while loops"):
        program.build(frontend.analyse(write(tmp_path, text, "looping_neuron.nestml")))


def test_iaf_cond_exp_program(shipped):
    built = program.build(frontend.analyse(shipped("iaf_cond_exp")))
    assert [p.name for p in built.spike_ports] == ["exc_spikes", "inh_spikes"]
    assert {p.weight_unit.name for p in built.spike_ports} == {"nS"}
    assert {v.name: v.value for v in built.parameters}["C_m"] == 250.0
    assert {v.name: v.value for v in built.state}["V_m"] == -70.0  # E_L
    # kernel states: new values from the state at the start of the step, taken after the
    # update block (NEST's order), then this step's spikes
    kernels = {"g_exc_X_exc_spikes", "g_inh_X_inh_spikes"}
    *new, update, set_a, set_b, spikes_a, spikes_b = built.step[:7]
    assert {s.name for s in new} == {f"nml_kernel_{k}" for k in kernels}
    assert {s.target for s in (set_a, set_b)} == kernels
    assert {(s.target, s.operator) for s in (spikes_a, spikes_b)} == {(k, "+=") for k in kernels}
    on_condition, consumed = built.step[-2:]
    assert isinstance(update, program.If)  # refractory or not: two integrations
    assert all(isinstance(body[0], program.Integrate) for _, body in update.branches)
    assert isinstance(on_condition.branches[0][1][-1], program.Emit)
    # the continuous input holds one step's current sources, as NEST's buffer does
    assert consumed == program.Assign("I_stim", "=", "0")
    assert program.current_port(built).name == "I_stim"
    assert program.current_port(built).unit.pynn_to_nestml == 1000.0  # nA -> pA


@pytest.fixture
def kernel_conversions(monkeypatch):
    """The kernels ODE-toolbox converts to ODEs from here on, none remembered yet; ``counted``
    is the counting conversion put in its place."""
    from odetoolbox.shapes import Shape
    conversions = []
    convert = Shape.__dict__["from_function"].__func__

    def counted(cls, symbol, *args, **kwargs):
        conversions.append(symbol)
        return convert(cls, symbol, *args, **kwargs)

    monkeypatch.setattr(Shape, "from_function", classmethod(counted))
    monkeypatch.setattr(frontend, "_KERNEL_ODES", {})
    return conversions, counted


def test_each_kernel_is_converted_to_odes_once_and_the_program_is_unchanged(
        shipped, monkeypatch, kernel_conversions):
    from odetoolbox.shapes import Shape
    conversions, counted = kernel_conversions
    remembered = program.build(frontend.analyse(shipped("iaf_cond_exp")))
    kernels = ["g_exc__X__exc_spikes", "g_inh__X__inh_spikes"]
    assert sorted(conversions) == kernels
    assert Shape.__dict__["from_function"].__func__ is counted  # put back
    # without the memo: NESTML runs ODE-toolbox twice, each reading every kernel twice
    conversions.clear()
    monkeypatch.setattr(frontend, "kernels_converted_once", contextlib.nullcontext)
    converted_each_time = program.build(frontend.analyse(shipped("iaf_cond_exp")))
    assert sorted(conversions) == sorted(kernels * 4)
    assert _unordered(remembered) == _unordered(converted_each_time)


def test_nest_generation_converts_no_kernel_again(shipped, monkeypatch, tmp_path,
                                                  kernel_conversions):
    """NESTML's NEST target runs the whole analysis again: the kernels the front end
    converted are not converted again (the C++ compile is left out here)."""
    from pynestml.codegeneration.nest_builder import NESTBuilder
    from trisim.codegen import nest as nest_target
    conversions, _ = kernel_conversions
    monkeypatch.setattr(NESTBuilder, "build", lambda self: None)
    built = program.build(frontend.analyse(shipped("iaf_cond_exp")))
    with pytest.raises(NestmlError, match="produced no module"):
        nest_target.build(built, tmp_path, "iaf_cond_exp_neuron")
    assert (tmp_path / "build" / "iaf_cond_exp_neuron.cpp").is_file()  # generated
    assert sorted(conversions) == ["g_exc__X__exc_spikes", "g_inh__X__inh_spikes"]


def _unordered(built):
    """A program's fields with the order of its lists forgotten: NESTML lists a model's
    kernel states in an order that can change from one analysis to the next."""
    def forget(value):
        if isinstance(value, dict):
            return {key: forget(item) for key, item in value.items()}
        if isinstance(value, tuple):
            return tuple(forget(item) for item in value)
        if isinstance(value, list):
            return sorted((forget(item) for item in value), key=repr)
        return value
    return forget(dataclasses.asdict(built))


def test_current_port_is_the_first_continuous_port_if_it_is_a_current():
    def ports(*names_units):
        return program.Program(
            name="m", source="m.nestml", parameters=[], state=[], internals=[], spike_ports=[],
            continuous_ports=[program.Port(n, unit=units.Unit(n, s, d, ()))
                              for n, s, d in names_units],
            recordable_inlines={}, step=[], uses_numeric=False)
    pa, mv = (1e-12, (0, 0, 1, 0)), (1e-3, (0, 1, 0, 0))
    assert program.current_port(ports(("I_a", *pa), ("I_b", *pa))).name == "I_a"
    assert program.current_port(ports(("V_in", *mv), ("I_b", *pa))) is None  # NEST: port 0
    assert program.current_port(ports()) is None


def test_izhikevich_port_takes_millivolts(shipped):
    built = program.build(frontend.analyse(shipped("izhikevich")))
    assert built.spike_ports[0].weight_unit.name == "mV"
    assert {v.name: v.value for v in built.state}["U_m"] == pytest.approx(-13.0)  # b * V_m_init


def test_integration_runs_rk4_substeps_and_exact_updates():
    integration = program.Integration(analytic=[("g", "P * g")], numeric=["V", "g"],
                                      rhs={"V": "-V + g", "g": "-g"})
    statements = program.integration_statements(integration)
    assert isinstance(statements[0], program.Local) and statements[0].expression == "P * g"
    substeps = [s for s in statements if isinstance(s, program.Substeps)][0]
    updates = [s.target for s in substeps.body if isinstance(s, program.Assign)]
    assert updates == ["V", "g"]
    assert statements[-1] == program.Assign("g", "=", "nml_exact_g")
    assert program.substeps(0.1) == 10 and program.substeps(0.025) == 3
    assert program.substeps(0.005) == 1


def _run_statements(statements, values):
    """Execute lowered step statements on ``values`` (a dict of numbers), in Python."""
    for statement in statements:
        if isinstance(statement, program.Local):
            values[statement.name] = eval(statement.expression, {"exp": math.exp}, values)
        elif isinstance(statement, program.Assign):
            value = eval(statement.expression, {"exp": math.exp}, values)
            values[statement.target] = (value if statement.operator == "="
                                        else values[statement.target] + value)
        elif isinstance(statement, program.Substeps):
            for _ in range(values[program.SUBSTEPS]):
                _run_statements(statement.body, values)
    return values


def test_kernel_states_carried_through_the_substeps_follow_their_propagators():
    """A conductance the numeric system carries along (a kernel state, put back after the
    substeps) is read at each RK4 stage from its exact propagator, not integrated: its
    right-hand side is never evaluated, and V is closer to the exact solution than with the
    conductance RK4-integrated (which NEST's GSL also does, to its tolerance)."""
    tau, h, n = 2.0, 0.1, 2  # a fast conductance and few substeps: RK4's error shows
    values = {"g": 1.0, "V": 0.0, "nml_hsub": h / n, program.SUBSTEPS: n,
              "P": math.exp(-h / tau), "nml_sub_P": math.exp(-h / n / tau),
              "nml_half_P": math.exp(-h / n / 2 / tau)}
    rhs = {"V": "-V + g", "g": "-g / 2.0"}
    rk4 = program.Integration(analytic=[], numeric=["V", "g"], rhs=rhs, restored=["g"])
    carried = program.Integration(analytic=[], numeric=["V", "g"], rhs=rhs, restored=["g"],
                                  carried=[("g", "nml_sub_P * g", "nml_half_P * g")])
    statements = program.integration_statements(carried)
    body = [s for s in statements if isinstance(s, program.Substeps)][0].body
    assert not [s for s in body if isinstance(s, program.Local) and "_k1_g" in s.name]
    # V' = g0 exp(-t/tau) - V from V(0) = 0: V(h) = g0 tau / (tau - 1) (e^{-h/tau} - e^{-h})
    exact = tau / (tau - 1) * (math.exp(-h / tau) - math.exp(-h))
    after = {name: _run_statements(program.integration_statements(integration),
                                   dict(values))
             for name, integration in (("rk4", rk4), ("carried", carried))}
    assert after["carried"]["g"] == after["rk4"]["g"] == 1.0  # put back: advanced once later
    assert abs(after["carried"]["V"] - exact) < abs(after["rk4"]["V"] - exact)
    assert after["carried"]["V"] == pytest.approx(exact, rel=1e-7)


def _build_once(root, counter):
    import os
    os.environ[cache.ROOT_VARIABLE] = str(root)

    def build(directory):
        with open(counter, "a") as f:
            f.write("built\n")
        (directory / "product").write_text("ok")
    return str(cache.entry("test", "model", "0" * 64, build))


def test_cache_builds_each_entry_once_across_processes(tmp_path):
    counter = tmp_path / "builds.txt"
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        directories = pool.starmap(_build_once, [(tmp_path / "cache", counter)] * 6)
    assert len(set(directories)) == 1
    assert counter.read_text().count("built") == 1
    assert not list((tmp_path / "cache").rglob("*.building-*"))


def test_cache_keys_of_one_process_stay_those_of_the_generator_it_runs(monkeypatch):
    """Generator files changing under a running process (a checkout or rebase during a long
    first build) do not change the keys it computes: a NEST cell built with its
    postsynaptic-port synapse, and that synapse's type made minutes later, must agree on the
    synapse's key to pair."""
    before = cache.key("model a_neuron:\n", "nest", "NESTML")
    package = Path(cache.__file__).parent
    read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read_bytes(self) + (
        b"# edited" if package in self.parents else b""))
    assert cache._generator_fingerprint("nest") != cache._FINGERPRINTS["nest"]  # an edit
    assert cache.key("model a_neuron:\n", "nest", "NESTML") == before


def test_cache_key_changes_with_source_and_target():
    a = cache.key("model a_neuron:\n", "neuron", "NEURON")
    assert a == cache.key("model a_neuron:\n", "neuron", "NEURON")
    assert a != cache.key("model a_neuron: \n", "neuron", "NEURON")
    assert a != cache.key("model a_neuron:\n", "brian2", "NEURON")


def test_cell_command_reports_a_broken_file_in_one_line(tmp_path):
    path = write(tmp_path, "model broken_neuron:\n    state:\n        V_m mV = -70 mV +\n")
    result = subprocess.run([sys.executable, "-m", "trisim.cli", "cell", str(path),
                             "--backend", "neuron"], capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "broken_neuron.nestml:4:" in errors[0]


# NEST in a process of its own, as everywhere in the suite: the module of a shipped cell, and
# NEST's kernel
NEST_BINARIES = """
from pathlib import Path
import nest
from trisim import codegen, nestml
directory, _ = codegen.built(nestml.shipped_path("iaf_cond_exp"), "nest")
print(*directory.glob("*module.so"), Path(nest.__file__).with_name("nestkernel_api.so"))
"""


def test_nest_modules_keep_asserts_only_if_nests_kernel_does():
    """A NESTML module compiles NEST's inline headers (ring buffers, events) into its cell's
    update loop; their asserts, left in where the kernel has none, slow that loop."""
    result = subprocess.run([sys.executable, "-c", NEST_BINARIES], capture_output=True,
                            text=True, check=True)
    module, kernel = result.stdout.split()[-2:]
    assert module.endswith("module.so")
    asserting = [b"\0__assert_fail\0" in Path(path).read_bytes() for path in (module, kernel)]
    assert asserting[0] == asserting[1]
