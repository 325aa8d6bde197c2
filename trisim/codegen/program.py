"""A NESTML neuron as one target-neutral program: its variables and what it does each time step.

The per-step semantics are NESTML's (as its NEST and Python targets run them): the update block
(``integrate_odes`` advancing some or all ODEs by one step), then the spike inputs collected
during the step are applied (kernel jumps, ``onReceive`` blocks) and the buffers cleared, then
every ``onCondition`` block is tested. NEURON and Brian2 print this same program, so they differ
only in float arithmetic; NEST runs NESTML's own C++ of it.

Expressions are strings in Python syntax over plain names, printed by NESTML's Python printer
with the variable and function printers below: names NESTML generates (``__h``, ``__P__...``)
are made legal on every target, inline expressions and single-expression user functions are
expanded in place, and units are already folded into the numbers, in NESTML's declared units.
"""

import dataclasses
import json
import keyword
import math
import re
from dataclasses import dataclass, field

from . import units
from .frontend import fail_at

# Names a target reserves (NMODL: v t dt i area celsius diam; Brian2: t dt i N xi lastspike...;
# i_inj: the current pyNN.brian2's current sources inject).
RESERVED = {"v", "t", "dt", "i", "area", "celsius", "diam", "L", "N", "xi", "lastspike",
            "not_refractory", "e", "pi", "inf", "exp", "rand", "randn", "int", "float", "i_inj"}
TIME_STEP = "nml_dt"  # the simulation time step in ms, supplied by each target
# random numbers, printed as calls each target supplies: uniform on [0, 1), standard normal
UNIFORM, NORMAL = "nml_uniform()", "nml_normal()"
SUBSTEP = "nml_hsub"  # the RK4 substep in ms: TIME_STEP / SUBSTEPS
SUBSTEPS = "nml_substeps"  # RK4 substeps per time step
MAX_SUBSTEP = 0.01  # ms


def substeps(dt, max_substep=MAX_SUBSTEP):
    """RK4 substeps per time step ``dt`` (ms): enough that none is longer than ``max_substep``.

    Fixed-step RK4 at the simulation step is unstable in the upstroke of fast sodium spikes
    (Hodgkin-Huxley, Wang-Buzsaki at dt 0.1 ms); NEST integrates such models with GSL's
    adaptive RKF45. At MAX_SUBSTEP (0.01 ms) RK4 is stable for them and its error is far
    below NEST's GSL tolerance, so the backends agree to the time step. Slower models get a
    longer substep (:func:`stable_substep`).
    """
    return max(1, math.ceil(round(dt / max_substep, 9)))


# The substep a model gets is STIFFNESS_FACTOR / (its fastest rate), never less than
# MAX_SUBSTEP. The rate is the largest eigenvalue modulus of the numeric system's Jacobian at
# the default state and with its voltages raised by up to VOLTAGE_PROBE, so a spike upstroke
# (an exponential or cubic term in V, sodium gates) counts: models with one keep 0.01 ms, and
# only models linear in V (e.g. conductance-based integrate-and-fire, fastest rate 0.067/ms)
# get one RK4 step per 0.1 ms time step. The Wang-Buzsaki cell (0.88/ms at rest) needs
# 0.01 ms, which sets the factor.
STIFFNESS_FACTOR = 0.008
VOLTAGE_PROBE = (10.0, 20.0, 30.0, 40.0)  # mV above the default state


def stable_substep(rhs, state, known, voltages=()):
    """The longest RK4 substep (ms) for the numeric ODE system ``rhs`` (variable ->
    derivative expression).

    ``state`` gives the variables' initial values, ``known`` every other name's value, and
    ``voltages`` the variables (in mV) raised by VOLTAGE_PROBE. Returns MAX_SUBSTEP where the
    Jacobian cannot be evaluated (or overflows).
    """
    import numpy as np
    names = list(rhs)
    if not names:
        return MAX_SUBSTEP
    namespace = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
    namespace.update(known, min=min, max=max, abs=abs)

    def derivative(values):
        scope = dict(namespace, **dict(zip(names, values)))
        return np.array([eval(rhs[n], {"__builtins__": {}}, scope) for n in names])  # noqa: S307

    def fastest_rate(x):
        jacobian = np.empty((len(names), len(names)))
        for column, value in enumerate(x):
            step = 1e-6 * max(1.0, abs(value))
            delta = np.zeros_like(x)
            delta[column] = step
            jacobian[:, column] = (derivative(x + delta) - derivative(x - delta)) / (2 * step)
        return float(np.max(np.abs(np.linalg.eigvals(jacobian))))

    try:
        x = np.array([float(state[n]) for n in names])
        raised = np.array([1.0 if n in voltages else 0.0 for n in names])
        rate = max(fastest_rate(x + shift * raised) for shift in (0.0,) + VOLTAGE_PROBE)
    except (KeyError, TypeError, ValueError, NameError, ZeroDivisionError, OverflowError,
            np.linalg.LinAlgError):
        return MAX_SUBSTEP
    if not np.isfinite(rate):
        return MAX_SUBSTEP
    return max(MAX_SUBSTEP, STIFFNESS_FACTOR / rate) if rate > 0 else float("inf")


def legal_name(name):
    """A name legal in NMODL and Brian2 for NESTML variable ``name``.

    Runs of underscores become one (``g_exc__X__spikes`` -> ``g_exc_X_spikes``); names that
    started with an underscore or are reserved by a target get the prefix ``nml_``, which
    NESTML models do not use. A trailing underscore stays (``w_`` is not ``w``).
    """
    legal = re.sub("_{2,}", "_", name).lstrip("_")
    if name.startswith("_") or legal in RESERVED or keyword.iskeyword(legal):
        legal = "nml_" + legal
    return legal


@dataclass
class Variable:
    name: str  # legal name
    unit: units.Unit
    value: float = None  # default (parameters) or initial value (state), NESTML units
    expression: str = None  # defining expression (internals, state initial values)
    nestml_name: str = None  # as NESTML (and so NEST) calls it


@dataclass
class Port:
    name: str
    weight_unit: units.Unit = None  # spike ports: the unit one unit of weight stands for
    unit: units.Unit = None  # continuous ports


@dataclass
class Integration:
    """One ``integrate_odes(...)`` call: exact propagators and/or a numeric system."""

    analytic: list  # [(variable, update expression)]
    numeric: list  # variables integrated numerically
    rhs: dict  # variable -> derivative expression (0 for variables held still)


@dataclass
class Assign:
    target: str
    operator: str  # "=", "+=", "-=", "*=", "/="
    expression: str


@dataclass
class Local:
    name: str
    expression: str


@dataclass
class If:
    branches: list  # [(condition, [statements])]
    orelse: list = field(default_factory=list)


@dataclass
class Integrate:
    integration: Integration


@dataclass
class Emit:
    """``emit_spike(...)``: a neuron spikes; a synapse transmits ``weight`` (an expression)."""

    weight: str = None


@dataclass
class Substeps:
    """``body`` repeated SUBSTEPS times within one time step."""

    body: list


@dataclass
class Program:
    name: str
    source: str
    parameters: list
    state: list
    internals: list
    spike_ports: list
    continuous_ports: list
    recordable_inlines: dict  # name -> expression
    step: list
    uses_numeric: bool
    max_substep: float = MAX_SUBSTEP  # ms, for the numeric system's RK4 (see stable_substep)


def build(analysis):
    """The :class:`Program` of an analysed neuron model."""
    return _Builder(analysis).program()


CURRENT = (0, 0, 1, 0)  # the dimension of a current in units.Unit


def current_port(program):
    """The continuous input port PyNN's current sources drive, or None if there is none.

    It is the first continuous port the model declares, if its unit is a current: NESTML's
    NEST target delivers a CurrentEvent to the continuous port numbered by the connection's
    receptor type, and PyNN's current sources connect with receptor type 0, i.e. the first
    declared continuous port. Every target uses the same port.
    """
    ports = program.continuous_ports
    if ports and ports[0].unit is not None and ports[0].unit.dimension == CURRENT:
        return ports[0]
    return None


def save(program, path):
    """Write what a built model needs at run time (all but the step, which is compiled in)."""
    data = dataclasses.asdict(dataclasses.replace(program, step=[]))
    path.write_text(json.dumps(data, indent=1))


def load(path):
    """Read a :class:`Program` written by :func:`save` (without its step)."""
    data = json.loads(path.read_text())

    def unit(value):
        return None if value is None else units.Unit(value["name"], value["si_scale"],
                                                     tuple(value["dimension"]),
                                                     tuple(value["si_powers"]))

    def variables(rows):
        return [Variable(r["name"], unit(r["unit"]), r["value"], r["expression"], r["nestml_name"])
                for r in rows]

    def ports(rows):
        return [Port(r["name"], unit(r["weight_unit"]), unit(r["unit"])) for r in rows]

    return Program(name=data["name"], source=data["source"],
                   parameters=variables(data["parameters"]), state=variables(data["state"]),
                   internals=variables(data["internals"]),
                   spike_ports=ports(data["spike_ports"]),
                   continuous_ports=ports(data["continuous_ports"]),
                   recordable_inlines=data["recordable_inlines"], step=[],
                   uses_numeric=data["uses_numeric"],
                   max_substep=data.get("max_substep", MAX_SUBSTEP))


class _Builder:
    def __init__(self, analysis):
        self.analysis = analysis
        self.ns = analysis.namespace
        self.model = analysis.model
        self.printer = _python_printer(self)

    def fail(self, node, message):
        return fail_at(self.analysis.path, node, message)

    def expr(self, node):
        return self.printer.print(node)

    # -- declarations ----------------------------------------------------------------------
    def program(self):
        model = self.model
        ports = [p for block in model.get_input_blocks() for p in block.get_input_ports()]
        return Program(
            name=model.get_name(),
            source=str(self.analysis.path),
            parameters=[self._variable(s, default=True) for s in model.get_parameter_symbols()],
            state=[self._variable(s, default=True) for s in model.get_state_symbols()
                   if not s.is_inline_expression],
            internals=[self._variable(s) for s in model.get_internal_symbols()],
            spike_ports=[Port(legal_name(p.get_name()), weight_unit=self._weight_unit(p))
                         for p in ports if p.is_spike()],
            continuous_ports=[Port(legal_name(p.get_name()),
                                   unit=units.of_type_symbol(p.get_datatype().get_type_symbol()))
                              for p in ports if p.is_continuous()],
            recordable_inlines={legal_name(s.get_symbol_name()):
                                self.expr(s.get_declaring_expression())
                                for s in model.get_inline_expression_symbols()
                                if s.is_recordable},
            step=self._step(),
            uses_numeric=bool(self.ns.get("uses_numeric_solver")),
            max_substep=self._max_substep(),
        )

    def _max_substep(self):
        """The RK4 substep for the numeric system (kernel states, which are solved exactly,
        and timers, which are linear in time, excluded)."""
        ns = self.ns
        if not ns.get("uses_numeric_solver"):
            return MAX_SUBSTEP
        exact = set(ns.get("analytic_state_variables", [])) if ns.get("uses_analytic_solver") \
            else set()
        rhs = {legal_name(v): self.expr(ns["numeric_update_expressions"][v])
               for v in ns["numeric_state_variables"] if v not in exact and "__X__" not in v}
        known = dict(self._defaults())
        state = {}
        for symbol in self.model.get_state_symbols():
            if symbol.is_inline_expression:
                continue
            expression = symbol.get_declaring_expression()
            value = _evaluate(self.expr(expression) if expression is not None else "0",
                              {**known, **state})
            state[legal_name(symbol.get_symbol_name())] = 0.0 if value is None else value
        known.update(state)
        known.update({legal_name(p.get_name()): 0.0 for block in self.model.get_input_blocks()
                      for p in block.get_input_ports()})
        known[TIME_STEP] = 0.1
        rhs = {v: e for v, e in rhs.items() if e.strip() not in ("-1", "-1.0")}  # timers
        voltages = {legal_name(s.get_symbol_name()) for s in self.model.get_state_symbols()
                    if units.of_type_symbol(s.get_type_symbol()).dimension == (0, 1, 0, 0)}
        return stable_substep(rhs, state, known, voltages)

    def _variable(self, symbol, default=False):
        expression = symbol.get_declaring_expression()
        printed = self.expr(expression) if expression is not None else "0"
        value = None
        if default:
            value = _evaluate(printed, self._defaults())
        return Variable(legal_name(symbol.get_symbol_name()),
                        units.of_type_symbol(symbol.get_type_symbol()), value, printed,
                        symbol.get_symbol_name())

    def _defaults(self):
        """Numeric defaults of parameters and internals (initial values may use both)."""
        if not hasattr(self, "_known"):
            self._known = {}
            for symbol in (self.model.get_parameter_symbols()
                           + self.model.get_internal_symbols()):
                expression = symbol.get_declaring_expression()
                printed = self.expr(expression) if expression is not None else "0"
                value = _evaluate(printed, self._known)
                if value is not None:
                    self._known[legal_name(symbol.get_symbol_name())] = value
        return self._known

    def _weight_unit(self, port):
        """The unit of one unit of weight on spike port ``port`` (see :func:`port_weight_unit`)."""
        unit = port_weight_unit(self.model, port.get_name())
        if unit is None:
            raise self.fail(port, f"cannot tell the weight unit of spike port {port.get_name()!r}: "
                            "multiply it (or its convolution) by a constant with a unit, "
                            "e.g. unit_psg nS = 1 nS")
        return unit

    # -- the step --------------------------------------------------------------------------
    def _step(self):
        model = self.model
        statements = []
        for block in model.get_update_blocks():
            statements += self._body(block.get_stmts_body())
        for port, updates in self.ns.get("spike_updates", {}).items():
            for assignment in updates:
                statements.append(self._assignment(assignment))
        for block in model.get_on_receive_blocks():
            # "a spike arrived" is "the port's summed weight is not zero" on every target (PyNN's
            # synapse code adds weights to one variable); only inputs summing to exactly 0 differ
            # from NEST, which also runs the block for them
            port = legal_name(block.get_port_name())
            statements.append(If([(f"{port} != 0", self._body(block.get_stmts_body()))]))
        for port in model.get_spike_input_ports():  # the step has consumed this step's input
            statements.append(Assign(legal_name(port.get_symbol_name()), "=", "0"))
        for block in model.get_on_condition_blocks():
            statements.append(If([(self.expr(block.get_cond_expr()),
                                   self._body(block.get_stmts_body()))]))
        # continuous inputs hold what the targets added for this step (current sources), as
        # NEST's per-step buffer value does; the next step starts from nothing
        for block in model.get_input_blocks():
            for port in block.get_input_ports():
                if port.is_continuous():
                    statements.append(Assign(legal_name(port.get_name()), "=", "0"))
        return statements

    def _body(self, body):
        out = []
        for statement in body.get_stmts():
            if statement.is_small_stmt():
                out += self._small(statement.small_stmt)
            elif statement.compound_stmt.is_if_stmt():
                out.append(self._if(statement.compound_stmt.get_if_stmt()))
            else:
                raise self.fail(statement, "for/while loops are not supported on NEURON and "
                                "Brian2 (a step must be straight-line code with if/else)")
        return out

    def _small(self, small):
        if small.is_assignment():
            return [self._assignment(small.get_assignment())]
        if small.is_declaration():
            declaration = small.get_declaration()
            value = self.expr(declaration.get_expression()) if declaration.has_expression() else "0"
            return [Local(legal_name(v.get_complete_name()), value)
                    for v in declaration.get_variables()]
        if small.is_function_call():
            return self._call(small.get_function_call())
        raise self.fail(small, "a return statement outside a function")

    def _call(self, call):
        from pynestml.symbols.predefined_functions import PredefinedFunctions
        name = call.get_name()
        if name == PredefinedFunctions.INTEGRATE_ODES:
            return [Integrate(self._integration(call))]
        if name == PredefinedFunctions.EMIT_SPIKE:
            arguments = call.get_args()
            if len(arguments) > 1:
                raise self.fail(call, "emit_spike(weight, delay): a delay per spike is not "
                                "supported; the delay is the connection's")
            return [Emit(self.expr(arguments[0]) if arguments else None)]
        raise self.fail(call, f"the statement {name}(...) has no effect trisim can express")

    def _assignment(self, assignment):
        operator = ("+=" if assignment.is_compound_sum else "-=" if assignment.is_compound_minus
                    else "*=" if assignment.is_compound_product
                    else "/=" if assignment.is_compound_quotient else "=")
        if assignment.is_compound_integer_quotient:
            raise self.fail(assignment, "integer division assignment (//=) is not supported")
        target = legal_name(assignment.get_variable().get_complete_name())
        return Assign(target, operator, self.expr(assignment.get_expression()))

    def _if(self, node):
        clause = node.get_if_clause()
        branches = [(self.expr(clause.get_condition()), self._body(clause.get_stmts_body()))]
        for elif_clause in node.get_elif_clauses():
            branches.append((self.expr(elif_clause.get_condition()),
                             self._body(elif_clause.get_stmts_body())))
        orelse = self._body(node.get_else_clause().get_stmts_body()) if node.has_else_clause() else []
        return If(branches, orelse)

    def _integration(self, call):
        """What ``integrate_odes(args)`` does, following NESTML's Python target.

        Variables solved exactly get their propagator update; the others are integrated
        numerically together, with every variable outside ``args`` held still (kernel states are
        always advanced). Exact results overwrite numeric ones for exactly solved variables.
        """
        ns = self.ns
        subset = [legal_name(arg.get_variable().get_complete_name()) for arg in call.get_args()]
        kernels = [v for v in ns.get("analytic_state_variables", []) if "__X__" in v]
        analytic = list(ns.get("analytic_state_variables", [])) if ns.get("uses_analytic_solver") else []
        if subset:
            analytic = [v for v in analytic if legal_name(v) in subset or v in kernels]
        updates = [(legal_name(v), self.expr(ns["update_expressions"][v])) for v in analytic]
        numeric, rhs = [], {}
        if ns.get("uses_numeric_solver"):
            numeric = [legal_name(v) for v in ns["numeric_state_variables"]]
            for variable in ns["numeric_state_variables"]:
                moves = not subset or legal_name(variable) in subset or "__X__" in variable
                rhs[legal_name(variable)] = (self.expr(ns["numeric_update_expressions"][variable])
                                             if moves else "0")
        return Integration(analytic=updates, numeric=numeric, rhs=rhs)


def lower(statements):
    """``statements`` with every :class:`Integrate` replaced by plain statements."""
    out = []
    for statement in statements:
        if isinstance(statement, Integrate):
            out += integration_statements(statement.integration)
        elif isinstance(statement, If):
            out.append(If([(c, lower(body)) for c, body in statement.branches],
                          lower(statement.orelse)))
        else:
            out.append(statement)
    return out


def integration_statements(integration):
    """One step of ``integrate_odes``: exact updates, and RK4 substeps for the numeric system.

    Exact updates are computed from the values at the start of the step and written last, so
    they override the numeric result for variables ODE-toolbox solved exactly (as NESTML's
    targets do). The numeric system advances by :func:`substeps` classic RK4 steps.
    """
    out = [Local(f"nml_exact_{v}", e) for v, e in integration.analytic]
    moving = [v for v in integration.numeric if integration.rhs[v] != "0"]
    exact = {v for v, _ in integration.analytic}
    if moving and not set(moving) <= exact:  # else the exact values replace all it would do
        body = []

        def at(stage):  # the state at an RK stage: moving variables replaced by their stage value
            names = {v: f"nml_y{stage}_{v}" for v in moving} if stage > 1 else {}
            return {v: _substitute(integration.rhs[v], names) for v in moving}
        for stage, (previous, fraction) in enumerate(((None, 0), (1, 0.5), (2, 0.5), (3, 1.0)),
                                                      start=1):
            if previous:
                body += [Local(f"nml_y{stage}_{v}",
                               f"{v} + {fraction} * {SUBSTEP} * nml_k{previous}_{v}")
                         for v in moving]
            body += [Local(f"nml_k{stage}_{v}", rhs) for v, rhs in at(stage).items()]
        body += [Assign(v, "+=", f"{SUBSTEP} / 6.0 * (nml_k1_{v} + 2.0 * nml_k2_{v} "
                        f"+ 2.0 * nml_k3_{v} + nml_k4_{v})") for v in moving]
        out.append(Substeps(body))
    out += [Assign(v, "=", f"nml_exact_{v}") for v, _ in integration.analytic]
    return out


def _substitute(expression, names):
    if not names:
        return expression
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda m: names[m.group(1)], expression)


def locals_of(statements):
    """Names of all local variables in ``statements`` (in order of first appearance)."""
    names = []
    for statement in statements:
        if isinstance(statement, Local) and statement.name not in names:
            names.append(statement.name)
        elif isinstance(statement, If):
            for body in [b for _, b in statement.branches] + [statement.orelse]:
                names += [n for n in locals_of(body) if n not in names]
        elif isinstance(statement, Substeps):
            names += [n for n in locals_of(statement.body) if n not in names]
    return names


def port_weight_unit(model, port_name):
    """The physical unit of one unit of weight on a spike port, read off the model.

    NESTML weights carry no unit (spike ports are 1/s); the unit comes from the constants the
    port is multiplied by: ``unit_psg * convolve(g, port)`` makes weights nS, and
    ``V_m += unit_psp * port * 1 s`` makes them mV. trisim takes the product of the units of the
    factors next to the port (or its convolution, a kernel state ``<kernel>__X__<port>`` once
    NESTML has transformed the model) that mention no state variable, in the first product
    where the port appears; a bare port contributes 1/s.
    """
    import astropy.units as au
    from pynestml.visitors.ast_visitor import ASTVisitor

    state = {s.get_symbol_name() for s in model.get_state_symbols()}
    found = []

    def role(factor):
        names = set(_names_in(factor))
        if port_name in names:
            return "port"
        if any(n.endswith("__X__" + port_name) for n in names):
            return "convolution"
        return "state" if names & state else "constant"

    class Finder(ASTVisitor):
        def visit_expression(self, node):
            if found or not _is_product(node):
                return
            factors = _product_factors(node)
            roles = [role(f) for f in factors]
            if "port" not in roles and "convolution" not in roles:
                return
            unit = au.Unit(1 if "convolution" in roles else "1/s")
            for factor, kind in zip(factors, roles):
                if kind == "constant":
                    symbol_unit = getattr(getattr(factor.type, "unit", None), "unit", None)
                    unit = unit * (symbol_unit if symbol_unit is not None else 1)
            found.append(units.from_astropy(au.Unit(unit)))

    model.accept(Finder())
    if not found or found[0].is_dimensionless:
        return None
    return found[0]


def _is_product(node):
    operator = getattr(node, "get_binary_operator", lambda: None)()
    return getattr(operator, "is_times_op", False)


def _product_factors(node):
    """The factors of a product expression tree ``a * b * c``."""
    if _is_product(node):
        return _product_factors(node.get_lhs()) + _product_factors(node.get_rhs())
    return [node]


def _names_in(node):
    from pynestml.meta_model.ast_variable import ASTVariable
    names = [node.get_complete_name()] if isinstance(node, ASTVariable) else []
    for child in node.get_children():
        names += _names_in(child)
    return names


def _evaluate(expression, known):
    """Evaluate a printed default (constants and earlier parameters only) to a float."""
    namespace = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
    namespace.update(known, min=min, max=max, abs=abs, math=math)
    try:
        return float(eval(expression, {"__builtins__": {}}, namespace))  # trusted: printed by us
    except (NameError, TypeError, ZeroDivisionError, ValueError, SyntaxError):
        return None


def _python_printer(builder):
    """NESTML's Python expression printer, printing our names and expanding inlines/functions."""
    from pynestml.codegeneration.printers.constant_printer import ConstantPrinter
    from pynestml.codegeneration.printers.python_expression_printer import PythonExpressionPrinter
    from pynestml.codegeneration.printers.python_function_call_printer import (
        PythonFunctionCallPrinter)
    from pynestml.codegeneration.printers.python_simple_expression_printer import (
        PythonSimpleExpressionPrinter)
    from pynestml.codegeneration.printers.python_variable_printer import PythonVariablePrinter
    from pynestml.symbols.predefined_functions import PredefinedFunctions
    from pynestml.symbols.predefined_variables import PredefinedVariables
    from pynestml.symbols.symbol import SymbolKind

    substitutions = {}  # function parameter -> printed argument, while expanding a call

    class Variables(PythonVariablePrinter):
        def print_variable(self, variable):
            name = variable.get_complete_name()
            if name in substitutions:
                return substitutions[name]
            if name == PredefinedVariables.E_CONSTANT:
                return repr(math.e)
            if name == PredefinedVariables.PI_CONSTANT:
                return repr(math.pi)
            symbol = variable.get_scope().resolve_to_symbol(name, SymbolKind.VARIABLE)
            if symbol is not None and symbol.is_inline_expression:
                return "(" + self._expression_printer.print(symbol.get_declaring_expression()) + ")"
            return super().print_variable(variable)

        def _print(self, variable, symbol, with_origin=True):
            return legal_name(variable.get_complete_name())

    class Functions(PythonFunctionCallPrinter):
        def print_function_call(self, call):
            name = call.get_name()
            if name in (PredefinedFunctions.TIME_RESOLUTION, PredefinedFunctions.TIME_TIMESTEP):
                return TIME_STEP
            arguments = [self._expression_printer.print(a) for a in call.get_args()]
            if name == PredefinedFunctions.RANDOM_UNIFORM:
                low, high = arguments
                return f"({low} + ({high} - {low}) * {UNIFORM})"
            if name == PredefinedFunctions.RANDOM_NORMAL:
                mean, sd = arguments
                return f"({mean} + {sd} * {NORMAL})"
            definition = next((f for f in builder.model.get_functions() if f.get_name() == name),
                              None)
            if definition is None:
                return super().print_function_call(call)
            return self._expand(call, definition)

        def _expand(self, call, definition):
            statements = definition.get_stmts_body().get_stmts()
            if len(statements) != 1 or not statements[0].is_small_stmt() \
                    or not statements[0].small_stmt.is_return_stmt():
                raise builder.fail(definition, f"function {definition.get_name()}: only functions "
                                   "whose body is one return statement can be expanded")
            arguments = [self._expression_printer.print(a) for a in call.get_args()]
            saved = dict(substitutions)
            substitutions.update({p.get_name(): f"({a})"
                                  for p, a in zip(definition.get_parameters(), arguments)})
            try:
                body = statements[0].small_stmt.get_return_stmt().get_expression()
                return "(" + self._expression_printer.print(body) + ")"
            finally:
                substitutions.clear()
                substitutions.update(saved)

    class SimpleExpressions(PythonSimpleExpressionPrinter):
        def print_simple_expression(self, node):
            if node.is_inf_literal:
                return "inf"
            return super().print_simple_expression(node)

    class Expressions(PythonExpressionPrinter):
        def _print_ternary_operator_expression(self, node):
            raise builder.fail(node, "conditional expressions (a ? b : c) are not supported; "
                               "use an if statement")

    variables = Variables(None, with_origin=False, with_vector_parameter=False)
    functions = Functions(None)
    printer = Expressions(simple_expression_printer=SimpleExpressions(
        variable_printer=variables, constant_printer=ConstantPrinter(),
        function_call_printer=functions))
    variables._expression_printer = printer
    functions._expression_printer = printer
    return printer
