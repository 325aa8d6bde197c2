"""Brian2 target: a NESTML neuron as a NeuronGroup whose step is generated Brian2 code.

The model's step (:mod:`trisim.codegen.program`) runs as a ``run_regularly`` operation at the
end of each time step. Model variables hold numbers in the units the .nestml file declares,
as on NEST and NEURON; PyNN's unit conversion happens where values enter (translations).
Storing them in SI units instead, and converting every step, changed timers such as
``refr_t`` by one rounding error and so spike times by a step. Spike buffers keep Brian2
units, because PyNN's synapse code adds weights with units to them; the step divides by the
port's weight unit. Brian2's abstract code has no ``if``: a branch's assignments are
predicated on its condition, which is evaluated once before any branch runs, so the branches
stay mutually exclusive. A spike sets a flag that Brian2's threshold sees at the start of the
next step, so it is stamped at the end of the step that produced it, as on NEST.
"""

import json
import re

import numpy as np

from . import celltype
from . import program as prog

SIMULATOR_DISTRIBUTION = "Brian2"
SPIKE_FLAG = "nml_spike"
_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b")
_SUBSTEPS_BEGIN, _SUBSTEPS_END = "# nml_substeps_begin", "# nml_substeps_end"
_FUNCTIONS = {"min": "nml_min", "max": "nml_max", "expm1": "nml_expm1", "ln": "log"}


CODE_FILE = "brian2_code.json"


def build(program, directory, native_name):
    """Print the model's Brian2 equations and step code into ``directory``."""
    equations, step, unit_names = code(program)
    (directory / CODE_FILE).write_text(json.dumps({
        "equations": equations, "step": step,
        "units": {name: [unit.si_scale, list(unit.si_powers)]
                  for name, unit in unit_names.items()}}, indent=1))


def _unit_name(unit):
    return "nml_u_" + re.sub(r"\W", "_", unit.name.replace("/", "_per_").replace("**", "_pow_"))


def _base_units(unit):
    """The unit as a product of Brian2's base units (without its scale), for equations."""
    powers = [(name, p) for name, p in zip(("kilogram", "metre", "second", "amp"),
                                           unit.si_powers) if p]
    return " * ".join(f"{name}**{p:g}" for name, p in powers) or "1"


def _quantity(scale, si_powers):
    import brian2
    value = scale
    for name, power in zip(("kilogram", "metre", "second", "amp"), si_powers):
        value = value * getattr(brian2, name) ** power
    return value


class _Printer:
    """Prints the step program as Brian2 abstract code over variables with units."""

    def __init__(self, program):
        self.units = {p.name: p.weight_unit for p in program.spike_ports}  # buffers
        self.namespace_units = {_unit_name(u): u for u in self.units.values()}
        self.lines = []
        self.flags = 0

    def expression(self, text):
        def number(match):
            name = match.group()
            if name in _FUNCTIONS:
                return _FUNCTIONS[name]
            if name in self.units:
                return f"({name} / {_unit_name(self.units[name])})"
            return name
        return _IDENTIFIER.sub(number, text)

    def assign(self, name, value, mask):
        if mask:
            value = f"nml_where({mask}, {value}, {self.expression(name)})"
        if name in self.units:
            value = f"({value}) * {_unit_name(self.units[name])}"
        self.lines.append(f"{name} = {value}")

    def statements(self, statements, mask=None):
        for statement in statements:
            if isinstance(statement, prog.Local):
                value = self.expression(statement.expression)
                self.lines.append(f"{statement.name} = {f'nml_where({mask}, {value}, 0.0)' if mask else value}")
            elif isinstance(statement, prog.Assign):
                value = self.expression(statement.expression)
                if statement.operator != "=":
                    value = f"{self.expression(statement.target)} {statement.operator[0]} ({value})"
                self.assign(statement.target, value, mask)
            elif isinstance(statement, prog.Emit):
                self.lines.append(f"{SPIKE_FLAG} = {f'nml_where({mask}, 1.0, {SPIKE_FLAG})' if mask else '1.0'}")
            elif isinstance(statement, prog.If):
                self._if(statement, mask)
            elif isinstance(statement, prog.Substeps):  # repeated when the dt is known
                self.lines.append(_SUBSTEPS_BEGIN)
                self.statements(statement.body, mask)
                self.lines.append(_SUBSTEPS_END)

    def _if(self, statement, mask):
        taken = []
        for condition, body in statement.branches + [("True", statement.orelse)]:
            self.flags += 1
            flag = f"nml_branch{self.flags}"
            clauses = ([mask] if mask else []) + [f"not {t}" for t in taken]
            clauses.append(f"({self.expression(condition)})")
            self.lines.append(f"{flag} = {' and '.join(clauses)}")
            taken.append(flag)
        for (_, body), flag in zip(statement.branches + [("True", statement.orelse)], taken):
            self.statements(body, flag)


def code(program):
    """The Brian2 model equations and step code of ``program``, and its unit constants."""
    printer = _Printer(program)
    for variable in program.internals:  # cheap, and always current with the parameters
        printer.assign(variable.name, printer.expression(variable.expression), None)
    printer.statements(prog.lower(program.step))
    declared = (program.parameters + program.state + program.internals
                + program.continuous_ports)
    equations = [f"{v.name} : 1" for v in declared]
    equations += [f"{p.name} : {_base_units(p.weight_unit)}" for p in program.spike_ports]
    equations += [f"{name} = {printer.expression(text)} : 1"  # recordable inlines, as numbers
                  for name, text in program.recordable_inlines.items()]
    equations.append(f"{SPIKE_FLAG} : 1")
    return "\n".join(equations), "\n".join(printer.lines), printer.namespace_units


def _repeat_substeps(code, count):
    """Brian2 code has no loops: write each marked substep block ``count`` times."""
    pattern = re.compile(re.escape(_SUBSTEPS_BEGIN) + r"\n(.*?)\n" + re.escape(_SUBSTEPS_END),
                         re.DOTALL)
    return pattern.sub(lambda match: "\n".join([match.group(1)] * count), code)


def _functions():
    """Brian2 functions the step code uses that Brian2 lacks, for numpy and Cython."""
    from brian2 import Function
    from brian2.core.functions import DEFAULT_FUNCTIONS  # noqa: F401  (registers targets)

    def make(name, python, cython, arg_types):
        function = Function(python, arg_units=[1] * len(arg_types), return_unit=1,
                            arg_types=arg_types, return_type="float", stateless=True)
        function.implementations.add_implementation("cython", cython, name=name)
        return function

    return {
        "nml_where": make("nml_where", lambda c, a, b: np.where(c, a, b),
                          "cdef double nml_where(bint c, double a, double b):\n"
                          "    return a if c else b", ["boolean", "any", "any"]),
        "nml_min": make("nml_min", np.minimum, "cdef double nml_min(double a, double b):\n"
                        "    return a if a < b else b", ["any", "any"]),
        "nml_max": make("nml_max", np.maximum, "cdef double nml_max(double a, double b):\n"
                        "    return a if a > b else b", ["any", "any"]),
        "nml_expm1": make("nml_expm1", np.expm1,
                          "from libc.math cimport expm1\n"
                          "cdef double nml_expm1(double x):\n    return expm1(x)", ["float"]),
    }


def cell_type(program, directory, native_name):
    """The PyNN cell type of ``program`` on pyNN.brian2."""
    import brian2
    from pyNN.brian2 import simulator
    from pyNN.standardmodels import StandardCellType, build_translations

    generated = json.loads((directory / CODE_FILE).read_text())
    equations = generated["equations"]
    step = _repeat_substeps(generated["step"], prog.substeps(simulator.state.dt))
    namespace = {name: _quantity(scale, powers)
                 for name, (scale, powers) in generated["units"].items()}
    # the step in ms as the exact number PyNN was given (dt / ms is not exact in floats)
    namespace[prog.TIME_STEP] = simulator.state.dt
    namespace[prog.SUBSTEP] = simulator.state.dt / prog.substeps(simulator.state.dt)
    namespace.update(_functions())

    class Group(brian2.NeuronGroup):
        def __init__(self, n, equations, **parameters):
            super().__init__(n, model=equations, threshold=f"{SPIKE_FLAG} > 0.5",
                             reset=f"{SPIKE_FLAG} = 0", namespace=namespace,
                             clock=simulator.state.network.clock, name=f"{native_name}*")
            for name, value in parameters.items():
                setattr(self, name, value)
            # before pyNN.brian2's monitors, which record in the same slot
            self.run_regularly(step, when="end", order=-1, name=f"{self.name}_step")
            self.add_attribute("initial_values")
            self.initial_values = {}

        def initialize(self):
            for name, values in self.initial_values.items():
                setattr(self, name, values)

    port_units = {p.weight_unit.pynn_name for p in program.spike_ports}
    if len(port_units) > 1:
        raise ValueError(f"{program.source}: on Brian2, all spike ports of a model must take "
                         "weights of one unit")
    attributes = celltype.common_attributes(program)
    attributes.update(
        state_variable_translations=build_translations(*[(v.name, v.name, v.unit.pynn_to_nestml)
                                                         for v in program.state]),
        eqs=equations, brian2_model=Group, nestml_step_semantics=True,
        post_synaptic_variables={p.name: p.name for p in program.spike_ports},
        voltage_based_synapses=port_units == {"mV"},
    )
    return type(program.name, (StandardCellType,), attributes)
