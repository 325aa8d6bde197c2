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
next step, so it is stamped at the end of the step that produced it, as on NEST. A model with
a current port (:func:`trisim.codegen.program.current_port`) also has ``i_inj``, which
pyNN.brian2's current sources set at the start of each step; the step adds it, converted to
the port's unit, to the port.
"""

import json
import re

import numpy as np

from ..errors import NestmlError
from . import celltype, synapsetype, units
from . import program as prog

SPIKE_FLAG = "nml_spike"
CURRENT_INPUT = "i_inj"  # pyNN.brian2's current sources add to this variable (in amperes)
_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b")
_SUBSTEPS_BEGIN, _SUBSTEPS_END = "# nml_substeps_begin", "# nml_substeps_end"
_FUNCTIONS = {"min": "nml_min", "max": "nml_max", "expm1": "nml_expm1", "ln": "log",
              "nml_uniform": "rand", "nml_normal": "randn"}


CODE_FILE = "brian2_code.json"


def build(program, directory, native_name):
    """Print the model's Brian2 equations and step code into ``directory``."""
    equations, internals, step, unit_names = code(program)
    (directory / CODE_FILE).write_text(json.dumps({
        "equations": equations, "internals": internals, "step": step,
        "units": {name: [unit.si_scale, list(unit.si_powers)]
                  for name, unit in unit_names.items()}}, indent=1))


def _unit_name(unit):
    return "nml_u_" + re.sub(r"\W", "_", unit.name.replace("/", "_per_").replace("**", "_pow_"))


def _port_unit(port):
    """The Brian2 quantity that one unit of ``port``'s NESTML weight is in its buffer.

    pyNN.brian2 adds each weight, a number in PyNN's unit, times nA (the cell types say they
    are neither conductance- nor voltage-based), whatever the port's unit: its buffer holds
    amperes, and a port whose weights are in nS (PyNN: uS) reads 1 nS as 1e-3 nA. So the
    ports of one cell may take weights of different units.
    """
    scale = 1e-9 / port.weight_unit.pynn_to_nestml
    return units.Unit(f"w_{port.name}", scale, (0, 0, 1, 0), (0.0, 0.0, 0.0, 1.0))


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
        # spike buffers hold amperes (see _port_unit); one constant per port converts
        self.units = {p.name: _port_unit(p) for p in program.spike_ports}
        self.namespace_units = {_unit_name(u): u for u in self.units.values()}
        # NESTML booleans are numbers 0/1 here (PyNN sets parameters as floats); Brian2's
        # and/or/not take booleans only
        self.booleans = {v.name for v in program.parameters + program.state + program.internals
                         if v.type == "boolean"}
        self.lines = []
        self.flags = 0
        # locals whose value is a number, written where read: Brian2 takes such a temporary
        # for a scalar, and scalars must be written before any per-neuron variable
        self.constants = {}

    def expression(self, text):
        def number(match):
            name = match.group()
            if name in self.constants:
                return f"({self.constants[name]})"
            if name in _FUNCTIONS:
                return _FUNCTIONS[name]
            if name in self.units:
                return f"({name} / {_unit_name(self.units[name])})"
            if name in self.booleans:
                return f"({name} != 0)"
            return name
        return _IDENTIFIER.sub(number, text)

    def assign(self, name, value, mask):
        if name in self.booleans:
            value = f"nml_where({value}, 1.0, 0.0)"
        if mask:
            current = name if name in self.booleans else self.expression(name)
            value = f"nml_where({mask}, {value}, {current})"
        if name in self.units:
            value = f"({value}) * {_unit_name(self.units[name])}"
        self.lines.append(f"{name} = {value}")

    def statements(self, statements, mask=None):
        for statement in statements:
            if isinstance(statement, prog.Local):
                value = self.expression(_guarded(statement.expression, mask))
                self.constants.pop(statement.name, None)
                if not mask and not _IDENTIFIER.search(value):
                    self.constants[statement.name] = value
                    continue
                self.lines.append(f"{statement.name} = {f'nml_where({mask}, {value}, 0.0)' if mask else value}")
            elif isinstance(statement, prog.Assign):
                value = self.expression(_guarded(statement.expression, mask))
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


def _guarded(expression, mask):
    """``expression`` with C division semantics where a branch is predicated (``mask``), or
    where a conditional expression (``nml_ternary``) computes both of its values.

    A predicated branch is computed whether or not it is taken, and Brian2's Cython code
    raises ZeroDivisionError on ``x / 0`` (e.g. ``exp(-h / tau)`` under ``if tau > 0``), so
    there every division is ``nml_div``: a / b, or +-inf / nan for b == 0, as in C.
    """
    if (not mask and prog.TERNARY not in expression) or "/" not in expression:
        return expression
    import ast

    class Divisions(ast.NodeTransformer):
        def visit_BinOp(self, node):
            self.generic_visit(node)
            if isinstance(node.op, ast.Div):
                return ast.Call(ast.Name("nml_div", ast.Load()), [node.left, node.right], [])
            return node

    return ast.unparse(Divisions().visit(ast.parse(expression, mode="eval")))


def code(program):
    """The Brian2 model equations, internals code and step code of ``program``, and its unit
    constants."""
    printer = _Printer(program)
    for variable in program.internals:
        printer.assign(variable.name, printer.expression(_guarded(variable.expression, None)),
                       None)
    internals, printer.lines = printer.lines, []
    current = prog.current_port(program)
    if current is not None:  # what pyNN.brian2's current sources inject, for this step
        printer.namespace_units[_unit_name(current.unit)] = current.unit
        printer.lines.append(f"{current.name} += {CURRENT_INPUT} / {_unit_name(current.unit)}")
    printer.statements(prog.lower(program.step))
    declared = (program.parameters + program.state + program.internals
                + program.continuous_ports)
    equations = [f"{v.name} : 1" for v in declared]
    equations += [f"{p.name} : amp" for p in program.spike_ports]
    equations += [f"{name} = {printer.expression(text)} : 1"  # recordable inlines, as numbers
                  for name, text in program.recordable_inlines.items()]
    equations.append(f"{SPIKE_FLAG} : 1")
    if current is not None:
        equations.append(f"{CURRENT_INPUT} : amp")
    return ("\n".join(equations), "\n".join(internals), "\n".join(printer.lines),
            printer.namespace_units)


def _repeat_substeps(code, count):
    """Brian2 code has no loops: write each marked substep block ``count`` times."""
    pattern = re.compile(re.escape(_SUBSTEPS_BEGIN) + r"\n(.*?)\n" + re.escape(_SUBSTEPS_END),
                         re.DOTALL)
    return pattern.sub(lambda match: "\n".join([match.group(1)] * count), code)


def _functions():
    """Brian2 functions the step code uses that Brian2 lacks, for numpy and Cython."""
    from brian2 import Function
    from brian2.core.functions import DEFAULT_FUNCTIONS  # noqa: F401  (registers targets)

    def make(name, python, arguments, body, arg_types, header=""):
        """``body`` returns the value of C function ``name(arguments)``; inline and
        noexcept, so that the C compiler can fold it into the step's loop (a plain cdef
        function is a call, with an exception check, per use: most of the step's time)."""
        function = Function(python, arg_units=[1] * len(arg_types), return_unit=1,
                            arg_types=arg_types, return_type="float", stateless=True)
        cython = (f"{header}cdef inline double {name}({arguments}) noexcept nogil:\n"
                  f"    return {body}")
        function.implementations.add_implementation("cython", cython, name=name)
        return function

    return {
        "nml_where": make("nml_where", lambda c, a, b: np.where(c, a, b),
                          "bint c, double a, double b", "a if c else b",
                          ["boolean", "any", "any"]),
        "nml_min": make("nml_min", np.minimum, "double a, double b", "a if a < b else b",
                        ["any", "any"]),
        "nml_max": make("nml_max", np.maximum, "double a, double b", "a if a > b else b",
                        ["any", "any"]),
        "nml_div": make("nml_div", lambda a, b: np.true_divide(a, b), "double a, double b",
                        "a / b", ["any", "any"],
                        header="cimport cython\n@cython.cdivision(True)\n"),
        "nml_expm1": make("nml_expm1", np.expm1, "double x", "expm1(x)", ["float"],
                          header="from libc.math cimport expm1\n"),
        prog.TERNARY: make(prog.TERNARY, lambda c, a, b: np.where(c, a, b),
                           "double c, double a, double b", "a if c != 0 else b",
                           ["any", "any", "any"]),
        prog.TRUNCATE: make(prog.TRUNCATE, np.trunc, "double x", "trunc(x)", ["any"],
                            header="from libc.math cimport trunc\n"),
        prog.REMAINDER: make(prog.REMAINDER, np.fmod, "double a, double b", "fmod(a, b)",
                             ["any", "any"], header="from libc.math cimport fmod\n"),
        prog.STEPS: make(prog.STEPS, _steps, "double t, double step",
                         "floor((floor(t * 1000 + 0.5) + floor(step * 1000 + 0.5) - 1) "
                         "/ floor(step * 1000 + 0.5))", ["any", "any"],
                         header="from libc.math cimport floor\ncimport cython\n"
                                "@cython.cdivision(True)\n"),
    }


def _steps(t, step):
    """NEST's steps(t) (see trisim.codegen.program.nest_steps), on arrays."""
    per_step = np.floor(step * 1000.0 + 0.5)
    return np.floor((np.floor(t * 1000.0 + 0.5) + per_step - 1) / per_step)


def cell_type(program, directory, native_name):
    """The PyNN cell type of ``program`` on pyNN.brian2."""
    import brian2
    from pyNN.brian2 import simulator
    from pyNN.standardmodels import build_translations

    generated = json.loads((directory / CODE_FILE).read_text())
    equations = generated["equations"]
    count = prog.substeps(simulator.state.dt, program.max_substep)
    step = _repeat_substeps(generated["step"], count)
    namespace = {name: _quantity(scale, powers)
                 for name, (scale, powers) in generated["units"].items()}
    # the step in ms as the exact number PyNN was given (dt / ms is not exact in floats)
    namespace[prog.TIME_STEP] = simulator.state.dt
    namespace[prog.SUBSTEP] = simulator.state.dt / count
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
            self.add_attribute("internals_code")
            self.internals_code = None

        def before_run(self, run_namespace):
            super().before_run(run_namespace)
            self.update_internals(run_namespace)

        def update_internals(self, run_namespace):
            """Compute the internals from the parameters once per run, as NEST does before
            each Simulate, rather than in every step: at one exp() per cell and step they
            were most of a conductance-based cell's step. numpy (Brian2's target for values
            set from strings): the code runs once, so it is not worth a Cython build."""
            if not generated["internals"]:
                return
            if self.internals_code is None:
                from brian2.codegen.codeobject import create_runner_codeobj
                from brian2.devices.device import get_device
                self.internals_code = create_runner_codeobj(
                    self, generated["internals"], "stateupdate", run_namespace=run_namespace,
                    codeobj_class=get_device().code_object_class(
                        fallback_pref="codegen.string_expression_target"))
            self.internals_code()

        def initialize(self):
            for name, values in self.initial_values.items():
                setattr(self, name, values)

    attributes = celltype.common_attributes(program, simulator.state.dt)
    attributes.update(
        state_variable_translations=build_translations(*[(v.name, v.name, v.unit.pynn_to_nestml)
                                                         for v in program.state]),
        eqs=equations, brian2_model=Group,
        post_synaptic_variables={p.name: p.name for p in program.spike_ports},
        # pyNN.brian2 adds every weight times nA (see _port_unit)
        conductance_based=False, voltage_based_synapses=False,
    )
    return type(program.name, (celltype.NestmlCellType,), attributes)


# -- synapses --------------------------------------------------------------------------------
SYNAPSE_DELAY = "nml_delay"  # the presynaptic pathway's delay in ms (shared if homogeneous)


class _SynapsePrinter(_Printer):
    """Prints a synapse event: variables are numbers, and a spike adds to the receptor."""

    def __init__(self):
        self.units, self.namespace_units, self.lines, self.flags = {}, {}, [], 0
        self.booleans, self.constants = set(), {}

    def expression(self, text):
        text = text.replace("%", "%%")  # PyNN %-formats the code with the receptor's names
        return _IDENTIFIER.sub(lambda m: f"({self.constants[m.group()]})"
                               if m.group() in self.constants
                               else _FUNCTIONS.get(m.group(), m.group()), text)

    def statements(self, statements, mask=None):
        for statement in statements:
            if isinstance(statement, prog.Emit):
                weight = self.expression(_guarded(statement.weight, mask))
                if mask:
                    weight = f"nml_where({mask}, {weight}, 0.0)"
                # PyNN fills in the receptor variable, its SI unit and the PyNN unit's scale
                self.lines.append(f"%(syn_var)s += ({weight}) * %(weight_scale)s "
                                  f"* %(weight_units)s")
            else:
                super().statements([statement], mask)


def _weight_renamed(code, weight):
    """``code`` with the synapse's weight variable ``weight`` called ``weight``, the name
    pyNN.brian2 reads and writes connection weights under."""
    return _IDENTIFIER.sub(lambda m: "weight" if m.group() == weight else m.group(), code)


def _temporaries_renamed(code, variables):
    """``code`` with the names it only assigns to (the event time, internals, propagators)
    prefixed with ``nml_syn_``. To Brian2 a bare name that the synapse does not declare is
    the postsynaptic cell's variable of that name, so a temporary ``nml_h`` in a synapse
    event would overwrite the ``nml_h`` of a NESTML cell it connects onto."""
    temporaries = {m.group(1) for m in re.finditer(r"^(\w+) = ", code, re.M)} - set(variables)
    return _IDENTIFIER.sub(lambda m: f"nml_syn_{m.group()}" if m.group() in temporaries
                           else m.group(), code)


def synapse_code(synapse):
    """The Brian2 variables and on_pre/on_post code of a synapse program.

    ``variables`` are the per-connection variables; ``fixed`` are those of them that a
    projection may store once (see :func:`synapse_type`): the parameters no event changes,
    and the delay.
    """
    from . import synapse as syn
    variables = synapse.connection_variables + [syn.LAST_EVENT] * synapse.timed
    variables.append(SYNAPSE_DELAY)
    every_event = synapse.on_pre + [s for body in synapse.events().values() for s in body]
    assigned = {s.target for s in syn._flatten(every_event) if isinstance(s, prog.Assign)}
    fixed = [v.name for v in synapse.parameters
             if v.name not in assigned and v.name != synapse.weight] + [SYNAPSE_DELAY]
    # Brian2 reads the suffixes _pre and _post as the pre-/postsynaptic cell's variables
    native = {n: _native_synapse_name(n) for n in synapse.connection_variables}
    # pyNN.brian2 reads connection values under their PyNN names: the weight is "weight"
    if "weight" in synapse.connection_variables:
        raise NestmlError(f"{synapse.source}: on Brian2 a synapse variable may not be called "
                         "'weight' (trisim's name for the weight variable w)")

    def renamed(code):
        code = _temporaries_renamed(_weight_renamed(code, synapse.weight),
                                    ["weight"] + variables)
        return _IDENTIFIER.sub(lambda m: native.get(m.group(), m.group()), code)

    def event(statements, time=f"t / ms - {SYNAPSE_DELAY}"):
        printer = _SynapsePrinter()
        printer.lines.append(f"{syn.EVENT_TIME} = {time}")
        if syn._reads(statements, syn.SPIKE_TIME):  # a postsynaptic event's t_post: in
            # the code of the post pathway, Brian2's "delay" is that pathway's
            printer.lines.append(f"{syn.SPIKE_TIME} = t / ms - delay / ms")
        for variable in synapse.internals:
            printer.lines.append(f"{variable.name} = {printer.expression(variable.expression)}")
        printer.statements(statements)
        return "\n".join(printer.lines)

    def on_target(code):
        """Event code run by synapses onto these synapses: their variables are _post."""
        names = set(["weight"] + [renamed(name) for name in variables])
        return _IDENTIFIER.sub(lambda m: f"{m.group()}_post" if m.group() in names
                               else m.group(), code)

    # a third-factor spike is an event at its arrival time, on every connection
    return {"variables": [renamed(name) for name in variables],
            "fixed": [native.get(name, name) for name in fixed],
            "native": {name: renamed(name) for name in synapse.connection_variables},
            "on_pre": renamed(event(synapse.on_pre)),
            "on_post": renamed(event(synapse.on_post)) if synapse.post_port else None,
            "on_mod": {port: on_target(renamed(event(synapse.on_mod[port], "t / ms")))
                       for port in synapse.mod_ports}}


def _native_synapse_name(name):
    """What Brian2 calls synapse variable ``name``: a name ending in _pre or _post gets
    "_syn" appended (Brian2 reads those suffixes as the cells' variables)."""
    return f"{name}_syn" if name.endswith(("_pre", "_post")) else name


def build_synapse(synapse, directory, native_name):
    """Print the synapse's Brian2 equations and event code into ``directory``."""
    (directory / CODE_FILE).write_text(json.dumps(synapse_code(synapse), indent=1))


def synapse_type(synapse, directory, native_name):
    """The PyNN synapse type of ``synapse`` on pyNN.brian2."""
    import brian2
    from pyNN.brian2.simulator import state
    from pyNN.standardmodels import StandardSynapseType

    generated = json.loads((directory / CODE_FILE).read_text())
    # Brian2 warns that event code which adds to a postsynaptic variable and draws random
    # numbers "may depend on the order of execution"; Cython runs synapses one at a time, in
    # order, which is the semantics of NESTML's event code.
    brian2.BrianLogger.suppress_name("brian2.codegen.generators.base")

    native = generated["native"]  # model name -> Brian2 name (the weight: "weight")

    def initial_value(expression):
        """A number as a number: for an expression, Brian2 generates and loads code."""
        try:
            return float(expression)
        except ValueError:
            return _IDENTIFIER.sub(lambda m: native.get(m.group(), m.group()), expression)

    initial = {native[v.name]: initial_value(v.expression) for v in synapse.state
               if v.name != synapse.weight}

    class NestmlSynapse(synapsetype.NestmlSynapseType, StandardSynapseType):
        initial_conditions = {}  # set from the model's expressions after connecting
        _weight_scale = 1.0
        brian2_variables = tuple(generated["variables"])
        delay_variable = SYNAPSE_DELAY

        def __init__(self, modulators=None, **parameters):
            self.modulations = []  # the Brian2 Synapses that bring the modulators' spikes
            super().__init__(modulators, **parameters)

        def get_schema(self):
            """PyNN's schema, with the state variables, which Projection.get reads."""
            return {**super().get_schema(), **{v.name: float for v in synapse.state
                                               if v.name != synapse.weight}}

        @property
        def eqs(self):
            """The Synapses' variables, for the projection being created: a fixed variable
            that is homogeneous there is stored once (shared), not per connection (at seed
            002's size, 10 MB less each)."""
            once = self.stored_once()
            return "\n".join(f"{name} : 1" + " (shared)" * (name in once)
                             for name in generated["variables"])

        def stored_once(self):
            """Names of the fixed variables whose value is the same for every connection."""
            homogeneous = {native.get(name, name) for name in self.parameter_space.keys()
                           if self.parameter_space[name].is_homogeneous}
            if "delay" in homogeneous:
                homogeneous.add(SYNAPSE_DELAY)
            return homogeneous.intersection(generated["fixed"])

        @property
        def pre(self):
            return generated["on_pre"].replace("%(weight_scale)s", repr(self._weight_scale))

        @property
        def post(self):
            if generated["on_post"] is None:
                return None
            return generated["on_post"].replace("%(weight_scale)s", repr(self._weight_scale))

        def _get_minimum_delay(self):
            return state.dt

        def _set_target_type(self, weight_units):
            # weights stay numbers in PyNN's unit (uS, nA or mV); a spike adds them in SI
            self._weight_scale = float(weight_units / brian2.get_unit(weight_units.dim))

        def connected(self, synapses, delay_advance):
            """Finish ``synapses`` (one Brian2 Synapses object) after all were connected.

            ``delay_advance`` (ms) is how much earlier than its delay the receptor takes a
            spike (see trisim.backends.brian2.Projection).
            """
            if synapses.namespace is None:
                synapses.namespace = {}
            synapses.namespace.update(_functions())
            self.delays_set(synapses, delay_advance)  # (the last event time starts at 0)
            for name, value in initial.items():
                setattr(synapses, name, value)
            if generated["on_post"] is not None:
                synapses.post.order = synapses.pre.order - 1
            for port, population in self.modulators.items():
                # the third-factor cells' spikes reach every connection, one step after
                # they are emitted (as NEST's volume transmitter takes them)
                modulation = brian2.Synapses(
                    population.brian2_group, synapses, on_pre=generated["on_mod"][port],
                    namespace=dict(_functions()), clock=state.network.clock,
                    name=f"{synapses.name}_{port}*")
                modulation.connect()
                modulation.delay = state.dt * brian2.ms
                modulation.pre.order = synapses.pre.order - 2
                state.network.add(modulation)
                self.modulations.append(modulation)

        def delays_set(self, synapses, delay_advance):
            """Derive from the delays of ``synapses`` (as delivered) the synapse's own copy
            of them and the delay of its postsynaptic events: at creation, and again when
            Projection.set changes the delays."""
            delay = synapses.delay[:] / brian2.ms  # D, as delivered
            if synapses.variables[SYNAPSE_DELAY].scalar:  # all equal (the Projection checks)
                delay = delay[0]
            setattr(synapses, SYNAPSE_DELAY, delay)
            if generated["on_post"] is not None:
                # a postsynaptic spike is an event after the full delay d = D + advance,
                # measured from presynaptic arrival: at t_post + D + d, before arrivals
                synapses.post.delay = (2 * delay + delay_advance) * brian2.ms

    return type(synapse.name, (NestmlSynapse,), synapsetype.common_attributes(
        synapse, "Brian2", lambda variable: native[variable.name], delay_unit=brian2.ms))
