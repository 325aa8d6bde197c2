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
from .frontend import cpp_keywords, fail_at, nest_name

# Names a target reserves (NMODL: v t dt i area celsius diam; Brian2: t dt i N xi lastspike...;
# i_inj: the current pyNN.brian2's current sources inject), Brian2's functions, and the
# attributes of the NEURON target's cell object (trisim.codegen.neuron). C++ keywords come
# from NESTML (see legal_name).
RESERVED = {"v", "t", "dt", "i", "area", "celsius", "diam", "L", "N", "xi", "lastspike",
            "not_refractory", "e", "pi", "inf", "exp", "rand", "randn", "int", "float", "i_inj",
            "t_in_timesteps", "abs", "arccos", "arcsin", "arctan", "ceil", "clip", "cos", "cosh",
            "expm1", "exprel", "floor", "log", "log10", "log1p", "poisson", "sign", "sin",
            "sinh", "sqrt", "tan", "tanh", "timestep", "min", "max", "ln",
            "section", "process", "source", "source_section", "rec", "spike_times", "traces",
            "recording_time", "initial_values", "recordable", "current_clamp", "memb_init"}
# Names NEURON's nocmodl (9.0) keeps: its keywords and built-in functions, and the
# identifiers of the C++ it writes around a mechanism, where each variable of the NMODL
# becomes a macro. NEURON publishes no list; these were read off nocmodl and its output and
# each checked by compiling a mechanism with a variable so named.
NEURON_NAMES = set("""
    ARTIFICIAL_CELL AFTER ASSIGNED BBCOREPOINTER BEFORE BREAKPOINT BY CHARGE COMMENT
    COMPARTMENT CONDUCTANCE CONSERVE CONSTANT CONSTRUCTOR DEFINE DEL DEL2 DEPEND DERIVATIVE
    DESTRUCTOR DISCRETE ELECTRODE_CURRENT EQUATION EXTERNAL FOR_NETCONS FROM FUNCTION GLOBAL
    INCLUDE INDEPENDENT INITIAL KINETIC LAG LINEAR LOCAL LONGITUDINAL_DIFFUSION METHOD
    MUTEXLOCK MUTEXUNLOCK NET_RECEIVE NEURON NONLINEAR NONSPECIFIC_CURRENT PARAMETER
    POINTER POINT_PROCESS PROCEDURE PROTECT RANDOM RANGE READ REPRESENTS SOLVE SOLVEFOR START
    STATE STEADYSTATE STEP SUFFIX SWEEP TABLE THREADSAFE TITLE TO UNITS UNITSOFF UNITSON
    USEION VALENCE VERBATIM VS WATCH WITH WRITE
    acos after_cvode asin at_time atan atan2 b_flux boundary cnexp cos cosh cvode_t
    cvode_t_v deflate derivimplicit derivs erf error euler exprand expfit f_flux factorial
    fabs first_time fmod gauss harmonic hyperbol invert legendre net_event net_move net_send
    newton normrand perpulse perstep poisrand pow printf prterr pulse ramp revhyperbol
    revsawtooth revsigmoid romberg runge sawtooth schedule scop_random set_seed setseed
    sigmoid simeq sparse spline squarewave state_discontinuity step stepforce threshold
    Datum DoubScal DoubVec HocParmLimits HocParmUnits HocStateTolerance Memb_list
    Member_func NMODL_TEXT NODEV NULL Node NrnThread Object Point_process Prop Symbol
    VoidFunc abort_run assert create_point_process data delta_t
    destroy_point_process dptr_field fpfield get get_loc_point_process getarg gind
    has_loc_point initmodel ivoc_help legacy literal_value loc_point_process mech_type
    mechtype modelname need_memb neuron nmodl_file_text nmodl_filename node
    node_d_storage node_rhs_storage node_sav_d_storage node_sav_rhs_storage
    node_voltage_storage ob pnt_receive pnt_receive_init pnt_receive_size
    point_register_mech prop_ion register_nmodl_text_and_filename set_globals_from_prop
    size_t std_cerr_stream terminal
""".split())
# Cython's keywords (Brian2's runtime target compiles the model's code with Cython)
CYTHON_KEYWORDS = {"cdef", "cpdef", "ctypedef", "cimport", "DEF", "IF", "ELIF", "ELSE", "gil",
                   "nogil", "api", "readonly", "include", "by", "NULL", "property"}
# Brian2's unit names (variables so named are refused by Brian2): a base unit, or one of its
# short names, with an SI prefix and a power
BRIAN2_UNIT = re.compile(
    r"(?:Y|Z|E|P|T|G|M|k|h|da|d|c|m|u|n|p|f|a|z|y)?"
    r"(?:amp|ampere|becquerel|candle|coulomb|farad|gram|gramme|gray|henry|hertz|joule|katal|"
    r"kelvin|kilogram|kilogramme|liter|litre|lumen|lux|meter|metre|mol|molar|mole|newton|ohm|"
    r"pascal|radian|second|siemens|sievert|steradian|tesla|volt|watt|weber)[23]?"
    r"|(?:Hz|kHz|MHz|cm|mA|mM|mS|mV|mm|ms|nA|nF|nM|nS|pA|pF|uA|uF|uM|uS|um|us)[23]?")
# Helpers the printed expressions call, which every target defines (and _evaluate too):
# a conditional expression (all three arguments are evaluated), C's truncating integer
# conversion and remainder, and NEST's steps(t) (t in ms) at the time step TIME_STEP.
TERNARY, TRUNCATE, REMAINDER, STEPS = \
    "nml_ternary", "nml_trunc", "nml_remainder", "nml_steps"
# The simulation time step in ms, supplied by each target. trisim's own names start with
# "nml_" but are never "nml_" + a name legal_name renames, which is what a model's variable
# so named becomes (a parameter dt is nml_dt, a state i is nml_i, a variable min nml_min).
TIME_STEP = "nml_resolution"
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
        with np.errstate(all="ignore"):  # a singular point gives nan, handled below
            rate = max(fastest_rate(x + shift * raised) for shift in (0.0,) + VOLTAGE_PROBE)
    except (KeyError, TypeError, ValueError, NameError, ZeroDivisionError, OverflowError,
            np.linalg.LinAlgError):
        return MAX_SUBSTEP
    if not np.isfinite(rate):
        return MAX_SUBSTEP
    return max(MAX_SUBSTEP, STIFFNESS_FACTOR / rate) if rate > 0 else float("inf")


def legal_name(name):
    """A name legal in NMODL, in the C++ NEURON and Brian2 compile it to, and in Brian2, for
    NESTML variable ``name``.

    Runs of underscores become one (``g_exc__X__spikes`` -> ``g_exc_X_spikes``); names that
    started with an underscore or are reserved by a target (a keyword of Python, C++, Cython
    or NMODL, a name of NEURON's generated C++, a unit or function of Brian2) get the prefix
    ``nml_``, which NESTML models do not use. A trailing underscore stays (``w_`` is not
    ``w``).
    """
    legal = re.sub("_{2,}", "_", name).lstrip("_")
    if (name.startswith("_") or legal in RESERVED or legal in NEURON_NAMES
            or legal.startswith(("nrn", "hoc_")) or keyword.iskeyword(legal)
            or legal in cpp_keywords() or legal in CYTHON_KEYWORDS
            or BRIAN2_UNIT.fullmatch(legal)):
        legal = "nml_" + legal
    return legal


@dataclass
class Variable:
    name: str  # legal name
    unit: units.Unit
    value: float = None  # default (parameters) or initial value (state), NESTML units, at
    # dt 0.1 ms (values that depend on the time step are evaluated again by evaluate())
    expression: str = None  # defining expression (internals, state initial values)
    nestml_name: str = None  # as NESTML's NEST target calls it
    type: str = "real"  # "real", "integer" or "boolean" (NESTML's primitive type)

    def typed(self, value):
        """``value`` as this variable's Python type (bool, int or float)."""
        if value is None:
            return None
        return {"boolean": bool, "integer": int}.get(self.type, float)(value)


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
    restored: list = field(default_factory=list)  # numeric variables put back afterwards
    jumps: list = field(default_factory=list)  # [Assign]: delta inputs, added last
    # [(variable, update over a substep, update over half a substep)]: restored variables
    # (kernel states) whose exact propagators replace RK4 within the substeps
    carried: list = field(default_factory=list)


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
        return [Variable(r["name"], unit(r["unit"]), r["value"], r["expression"], r["nestml_name"],
                         r.get("type", "real")) for r in rows]

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
        # what timestep() means: in a synapse, the interval an update advances over
        self.timestep_name = legal_name("__h") if analysis.is_synapse else TIME_STEP
        self.model_names = {s.get_symbol_name() for s in (
            *self.model.get_parameter_symbols(), *self.model.get_state_symbols(),
            *self.model.get_internal_symbols())}
        self.printer = _python_printer(self)
        self._refuse_unsupported()

    def fail(self, node, message):
        return fail_at(self.analysis.path, node, message)

    def _refuse_unsupported(self):
        """Refuse, at the first declaration that uses one, what NEST's target runs but the
        step NEURON and Brian2 run has no place for: vectors (a variable or port with a size),
        strings, and delay differential equations (``x(t - d)`` reads a past value of x).
        Left to the printers, each would run silently wrong: as one scalar, as text, or
        without its delay. A user function that assigns a variable of the model is refused
        too: NESTML compiles it as a const member for NEST, where it does not compile."""
        model = self.model
        for symbol in (*model.get_parameter_symbols(), *model.get_state_symbols(),
                       *model.get_internal_symbols()):
            name, node = symbol.get_symbol_name(), symbol.get_referenced_object()
            if symbol.has_vector_parameter():
                raise self.fail(node, f"vector variable '{name} [{symbol.get_vector_parameter()}]'"
                                ": vectors are not supported on NEURON and Brian2")
            if _primitive_type(symbol.get_type_symbol()) == "string":
                raise self.fail(node, f"string variable {name!r}: strings are not supported on "
                                "NEURON and Brian2")
            if symbol.has_delay_parameter():
                raise self.fail(node, f"'{name}(t - {symbol.get_delay_parameter()})': delay "
                                "differential equations are not supported on NEURON and "
                                "Brian2")
        for function in model.get_functions():
            assignment = _model_assignment(function)
            if assignment is not None:
                name = assignment.get_variable().get_complete_name()
                raise self.fail(assignment, f"function {function.get_name()} assigns {name}, "
                                "a variable of the model: NESTML's NEST target compiles "
                                "functions as const, which cannot change the model's state")
        for block in model.get_input_blocks():
            for port in block.get_input_ports():
                if port.has_size_parameter():
                    raise self.fail(port, f"vector input port '{port.get_name()}"
                                    f"[{self.expr(port.get_size_parameter())}]': vectors are "
                                    "not supported on NEURON and Brian2")

    def name_of(self, variable):
        """The printed name of the NESTML ``variable`` (an AST variable) where it stands.

        A local declared with the name of a state variable, parameter or internal shadows it
        in its block only, as in the C++ NESTML generates for NEST: the model's variable keeps
        its value, and what is declared at model level reads it (e.g. an ``onCondition``). Such
        a local gets a name of its own.
        """
        from pynestml.symbols.variable_symbol import BlockType
        name = variable.get_complete_name()
        scope = variable.get_scope()
        symbol = scope.resolve_to_symbol(name, _variable_kind()) if scope is not None else None
        if (symbol is not None and symbol.get_block_type() == BlockType.LOCAL
                and name in self.model_names):
            return f"nml_local_{legal_name(name)}"
        return legal_name(name)

    def expr(self, node):
        return self.printer.print(node)

    # -- declarations ----------------------------------------------------------------------
    def program(self):
        model = self.model
        ports = [p for block in model.get_input_blocks() for p in block.get_input_ports()]
        parameters = [self._variable(s) for s in model.get_parameter_symbols()]
        internals = [self._variable(s) for s in model.get_internal_symbols()]
        state = [self._variable(s) for s in model.get_state_symbols()
                 if not s.is_inline_expression]
        self.values = evaluate(parameters + internals + state)
        for variable in parameters + state:
            variable.value = variable.typed(self.values.get(variable.name))
        self.internals = internals
        self.substep_propagators = {}  # propagator -> (its substep and half-substep copies)
        step = self._step()
        internals = internals + [variable for copies in self.substep_propagators.values()
                                 for variable in copies]
        return Program(
            name=model.get_name(),
            source=str(self.analysis.path),
            parameters=parameters, state=state, internals=internals,
            spike_ports=self._spike_ports([p for p in ports if p.is_spike()]),
            continuous_ports=[Port(legal_name(p.get_name()),
                                   unit=units.of_type_symbol(p.get_datatype().get_type_symbol()))
                              for p in ports if p.is_continuous()],
            recordable_inlines={legal_name(s.get_symbol_name()):
                                self.expr(s.get_declaring_expression())
                                for s in model.get_inline_expression_symbols()
                                if s.is_recordable},
            step=step,
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
        state_names = {legal_name(s.get_symbol_name()) for s in self.model.get_state_symbols()
                       if not s.is_inline_expression}
        known = {name: float(value) for name, value in self.values.items()}
        state = {name: known.get(name, 0.0) for name in state_names}
        known.update(state)
        known.update({legal_name(p.get_name()): 0.0 for block in self.model.get_input_blocks()
                      for p in block.get_input_ports()})
        rhs = {v: e for v, e in rhs.items() if e.strip() not in ("-1", "-1.0")}  # timers
        voltages = {legal_name(s.get_symbol_name()) for s in self.model.get_state_symbols()
                    if units.of_type_symbol(s.get_type_symbol()).dimension == (0, 1, 0, 0)}
        return stable_substep(rhs, state, known, voltages)

    def _variable(self, symbol):
        expression = symbol.get_declaring_expression()
        printed = self.expr(expression) if expression is not None else "0"
        kind = _primitive_type(symbol.get_type_symbol())
        if kind == "integer":  # C++ converts what is assigned to an integer by truncation
            printed = f"{TRUNCATE}({printed})"
        return Variable(legal_name(symbol.get_symbol_name()),
                        units.of_type_symbol(symbol.get_type_symbol()), None, printed,
                        nest_name(symbol.get_symbol_name()), kind)

    def _spike_ports(self, ports):
        """The spike ports, each with the unit of one unit of weight (see
        :func:`port_weight_unit`). A port whose weights the model never reads takes the unit
        of the first port that has one: what it is given does not matter, and one unit for
        all ports is what NEST and Brian2 take most simply."""
        found = {}
        for port in ports:
            unit = port_weight_unit(self.model, port.get_name(), self.ns.get("spike_updates", {}))
            if unit is None:
                raise self.fail(port, f"cannot tell the weight unit of spike port "
                                f"{port.get_name()!r}: it is used other than as a factor of a "
                                "sum (e.g. inside a function or a denominator)")
            found[port.get_name()] = unit
        read = [u for u in found.values() if u is not UNREAD]
        return [Port(legal_name(name), weight_unit=(unit if unit is not UNREAD else
                                                     read[0] if read else units.DIMENSIONLESS))
                for name, unit in found.items()]

    # -- the step --------------------------------------------------------------------------
    def _step(self):
        """The per-step program, in the order of NESTML's NEST target: kernel states' new
        values are computed from the state at the start of the step, the update block runs
        (each ``integrate_odes`` applying the delta inputs of the variables it integrates),
        then the ``onReceive`` blocks; then the kernel states take their new values and this
        step's spikes, and the ``onCondition`` blocks run."""
        model = self.model
        kernels = self._kernel_states()
        statements = [Local(f"nml_kernel_{legal_name(k)}", self.expr(self.ns["update_expressions"][k]))
                      for k in kernels]
        for block in model.get_update_blocks():
            statements += self._body(block.get_stmts_body())
        for block in model.get_on_receive_blocks():
            # "a spike arrived" is "the port's summed weight is not zero" on every target (PyNN's
            # synapse code adds weights to one variable); only inputs summing to exactly 0 differ
            # from NEST, which also runs the block for them
            port = legal_name(block.get_port_name())
            statements.append(If([(f"{port} != 0", self._body(block.get_stmts_body()))]))
        statements += [Assign(legal_name(k), "=", f"nml_kernel_{legal_name(k)}") for k in kernels]
        for updates in self.ns.get("spike_updates", {}).values():
            statements += [self._assignment(a) for a in updates
                           if "__X__" in a.get_variable().get_complete_name()]
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

    def _kernel_states(self):
        """Kernel (convolution) states solved exactly: advanced once per step, whatever the
        update block's ``integrate_odes`` calls."""
        if not self.ns.get("uses_analytic_solver"):
            return []
        return [v for v in self.ns.get("analytic_state_variables", []) if "__X__" in v]

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
            if declaration.has_size_parameter():
                raise self.fail(declaration, "a vector local: vectors are not supported on "
                                "NEURON and Brian2")
            if _primitive_type(declaration.get_data_type().get_type_symbol()) == "string":
                raise self.fail(declaration, "a string local: strings are not supported on "
                                "NEURON and Brian2")
            value = self.expr(declaration.get_expression()) if declaration.has_expression() else "0"
            if _primitive_type(declaration.get_data_type().get_type_symbol()) == "integer":
                value = f"{TRUNCATE}({value})"
            return [Local(self.name_of(v), value) for v in declaration.get_variables()]
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
        if name in (PredefinedFunctions.PRINT, PredefinedFunctions.PRINTLN):
            return []  # diagnostic output, not part of the dynamics
        if self.function(name) is not None:
            # its value is dropped, and it changes no variable of the model (see
            # _refuse_unsupported): only its print statements would show
            return []
        raise self.fail(call, f"the statement {name}(...) has no effect trisim can express")

    def function(self, name):
        """The model's user function ``name``, or None."""
        return next((f for f in self.model.get_functions() if f.get_name() == name), None)

    def _assignment(self, assignment):
        if assignment.is_compound_integer_quotient:
            raise self.fail(assignment, "integer division assignment (//=) is not supported")
        variable = assignment.get_variable()
        target = self.name_of(variable)
        value = self.expr(assignment.get_expression())
        symbol = variable.get_scope().resolve_to_symbol(variable.get_complete_name(),
                                                        _variable_kind())
        if symbol is not None and _primitive_type(symbol.get_type_symbol()) == "integer":
            operator = _operator(assignment)
            if operator != "=":
                value = f"{target} {operator[0]} ({value})"
            return Assign(target, "=", f"{TRUNCATE}({value})")
        return Assign(target, _operator(assignment), value)

    def _if(self, node):
        clause = node.get_if_clause()
        branches = [(self.expr(clause.get_condition()), self._body(clause.get_stmts_body()))]
        for elif_clause in node.get_elif_clauses():
            branches.append((self.expr(elif_clause.get_condition()),
                             self._body(elif_clause.get_stmts_body())))
        orelse = self._body(node.get_else_clause().get_stmts_body()) if node.has_else_clause() else []
        return If(branches, orelse)

    def _integration(self, call):
        """What ``integrate_odes(args)`` does, following NESTML's NEST target.

        Variables solved exactly get their propagator update; the others are integrated
        numerically together, with every variable outside ``args`` held still. Kernel states
        move within the numeric system (the others see them change during the step) and are
        then put back: they advance once per step (see :meth:`_step`). Exact results
        overwrite numeric ones, and the delta inputs onto the integrated variables are added.
        """
        ns = self.ns
        named = {arg.get_variable().get_complete_name() for arg in call.get_args()}
        # a variable named also integrates its derivatives (x__d, x__d__d), as on NEST
        subset = {legal_name(v) for v in (ns.get("analytic_state_variables") or [])
                  + (ns.get("numeric_state_variables") or []) if _base(v) in named}
        subset |= {legal_name(n) for n in named}
        kernels = self._kernel_states()
        analytic = ([v for v in ns.get("analytic_state_variables", []) if v not in kernels]
                    if ns.get("uses_analytic_solver") else [])
        if subset:
            analytic = [v for v in analytic if legal_name(v) in subset]
        updates = [(legal_name(v), self.expr(ns["update_expressions"][v])) for v in analytic]
        integrated = {legal_name(v) for v in analytic}
        numeric, rhs = [], {}
        if ns.get("uses_numeric_solver"):
            numeric = [legal_name(v) for v in ns["numeric_state_variables"]]
            for variable in ns["numeric_state_variables"]:
                named = not subset or legal_name(variable) in subset
                moves = named or "__X__" in variable
                rhs[legal_name(variable)] = (self.expr(ns["numeric_update_expressions"][variable])
                                             if moves else "0")
                if named and "__X__" not in variable:
                    integrated.add(legal_name(variable))
        jumps = [self._assignment(a) for port_updates in ns.get("spike_updates", {}).values()
                 for a in port_updates
                 if "__X__" not in a.get_variable().get_complete_name()
                 and legal_name(a.get_variable().get_complete_name()) in integrated]
        restored = [legal_name(k) for k in kernels if legal_name(k) in numeric]
        return Integration(analytic=updates, numeric=numeric, rhs=rhs, restored=restored,
                           jumps=jumps, carried=self._carried(kernels, restored))

    def _carried(self, kernels, restored):
        """(kernel state, its update over a substep, over half a substep) for the kernel
        states the numeric system carries along (``restored``), where their exact update can
        be written for a shorter interval: it reads only kernel states of that set, and its
        propagators are internals computed from the step ``__h`` and parameters alone (as
        ODE-toolbox writes them). They then follow their exact solution through the RK4
        substeps instead of being integrated with them (NEST's GSL integrates them, to its
        tolerance), which saves four right-hand sides per variable and substep; empty where
        any of them cannot, so that coupled kernel states move together."""
        if not restored:  # nothing integrated numerically (always so in a synapse)
            return []
        step = legal_name("__h")
        internals = {v.name: v for v in self.internals}
        updates = {legal_name(k): self.expr(self.ns["update_expressions"][k]) for k in kernels}
        updates = {k: e for k, e in updates.items() if k in restored}
        if set(updates) != set(restored):
            return []
        names = set()
        for expression in updates.values():
            names |= set(re.findall(r"\b[A-Za-z_]\w*\b", expression))
        states = {legal_name(s.get_symbol_name()) for s in self.model.get_state_symbols()}
        if names & states - set(updates):
            return []  # reads a state variable that is not carried along
        def reads(name):  # the internals and the step that internal ``name`` reads
            return set(re.findall(r"\b[A-Za-z_]\w*\b", internals[name].expression or "")) \
                & (set(internals) | {step})
        propagators = sorted(n for n in names & set(internals) if step in reads(n))
        if any(reads(n) - {step} for n in names & set(internals)):
            return []  # through other internals: not rewritten here
        copies = {name: {kind: f"nml_{kind}_{name.removeprefix('nml_')}"
                         for kind in ("sub", "half")} for name in propagators}
        for name in propagators:
            if name not in self.substep_propagators:
                self.substep_propagators[name] = tuple(
                    Variable(copies[name][kind], internals[name].unit, None,
                             _substitute(internals[name].expression, {step: interval}),
                             None, internals[name].type)
                    for kind, interval in (("sub", SUBSTEP), ("half", f"(0.5 * {SUBSTEP})")))
        return [(k, *(_substitute(e, {p: copies[p][kind] for p in propagators})
                      for kind in ("sub", "half")))
                for k, e in updates.items()]


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
    targets do). The numeric system advances by :func:`substeps` classic RK4 steps; the
    variables it only carries along (``restored``) get their values back, and the delta
    inputs (``jumps``) come last.
    """
    out = [Local(f"nml_exact_{v}", e) for v, e in integration.analytic]
    moving = [v for v in integration.numeric if integration.rhs[v] != "0"]
    exact = {v for v, _ in integration.analytic}
    restored = [v for v in integration.restored if v in moving]
    carried = {v: (sub, half) for v, sub, half in integration.carried if v in moving}
    if moving and not set(moving) - set(restored) <= exact:  # else it changes nothing kept
        stepped = [v for v in moving if v not in carried]  # by RK4
        # carried variables at the substep's middle (stages 2 and 3) and end (stage 4)
        body = [Local(f"nml_y{stage}_{v}", update[index]) for v, update in carried.items()
                for stage, index in ((2, 1), (4, 0))]
        carried_at = {2: 2, 3: 2, 4: 4}

        def at(stage):  # the state at an RK stage: moving variables replaced by their stage value
            names = {v: f"nml_y{stage}_{v}" for v in stepped} if stage > 1 else {}
            if stage > 1:
                names.update({v: f"nml_y{carried_at[stage]}_{v}" for v in carried})
            return {v: _substitute(integration.rhs[v], names) for v in stepped}
        for stage, (previous, fraction) in enumerate(((None, 0), (1, 0.5), (2, 0.5), (3, 1.0)),
                                                      start=1):
            if previous:
                body += [Local(f"nml_y{stage}_{v}",
                               f"{v} + {fraction} * {SUBSTEP} * nml_k{previous}_{v}")
                         for v in stepped]
            body += [Local(f"nml_k{stage}_{v}", rhs) for v, rhs in at(stage).items()]
        body += [Assign(v, "+=", f"{SUBSTEP} / 6.0 * (nml_k1_{v} + 2.0 * nml_k2_{v} "
                        f"+ 2.0 * nml_k3_{v} + nml_k4_{v})") for v in stepped]
        body += [Assign(v, "=", f"nml_y4_{v}") for v in carried]
        out += [Local(f"nml_kept_{v}", v) for v in restored]
        out.append(Substeps(body))
        out += [Assign(v, "=", f"nml_kept_{v}") for v in restored]
    out += [Assign(v, "=", f"nml_exact_{v}") for v, _ in integration.analytic]
    return out + list(integration.jumps)


def _substitute(expression, names):
    if not names:
        return expression
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda m: names[m.group(1)], expression)


def renamed(statement, names):
    """``statement`` with the variables in ``names`` renamed where read and assigned (the
    names of locals it defines stay)."""
    def sub(text):
        return _substitute(text, names) if text is not None else None
    if isinstance(statement, Assign):
        return Assign(names.get(statement.target, statement.target), statement.operator,
                      sub(statement.expression))
    if isinstance(statement, Local):
        return Local(statement.name, sub(statement.expression))
    if isinstance(statement, Emit):
        return Emit(sub(statement.weight))
    if isinstance(statement, If):
        return If([(sub(c), [renamed(s, names) for s in body]) for c, body in statement.branches],
                  [renamed(s, names) for s in statement.orelse])
    if isinstance(statement, Substeps):
        return Substeps([renamed(s, names) for s in statement.body])
    return statement


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


UNREAD = units.Unit("unread", 1.0, (0, 0, 0, 0), (0, 0, 0, 0))  # a port whose weights no term reads


def port_weight_unit(model, port_name, spike_updates=None):
    """The physical unit of one unit of weight on a spike port, read off how the model uses it.

    NESTML weights carry no unit (a spike port is a train of delta pulses, 1/s); what a weight
    means follows from the term it enters. A port adds to a variable (``V_m += unit_psp *
    spikes / (1 1/s)``, a delta input: mV) or is convolved with a kernel, whose state then
    enters a term (``(F_E + unit_psg * convolve(g, spikes)) * (V_m - E_ex)``: nS). The unit is
    that of the product of the port (1/s) or kernel state (its own unit) with the term's
    other factors, where a factor that reads a state variable (a driving force, a gating
    function) counts as dimensionless. Uses are looked for in the spike updates
    ODE-toolbox derived (``spike_updates``), then in the model's expressions, in order; the
    first term that gives a unit decides. Returns :data:`UNREAD` for a port whose weights the
    model never reads, None if the port is used, but never as a factor of a term.
    """
    import astropy.units as au

    state = {s.get_symbol_name(): s for s in model.get_state_symbols()}
    kernel_suffix = "__X__" + port_name

    def target_unit(name):
        if name == port_name:
            return au.Unit("1/s")
        if name.endswith(kernel_suffix) and name in state:
            return _astropy_unit(state[name].get_type_symbol())
        return None

    def contains(node):
        return any(target_unit(n) is not None for n in _names_in(node))

    def factor_unit(node):
        if set(_names_in(node)) & state.keys():
            return au.dimensionless_unscaled  # a driving force or gating factor
        return _astropy_unit(getattr(node, "type", None))

    def term_unit(node):
        from pynestml.meta_model.ast_simple_expression import ASTSimpleExpression
        if isinstance(node, ASTSimpleExpression):
            if node.is_variable():
                return target_unit(node.get_variable().get_complete_name())
            return None  # inside a function call: not a term
        if node.is_encapsulated or node.is_unary_operator() or node.is_logical_not:
            return term_unit(node.get_expression())
        if node.is_expression():
            return term_unit(node.get_expression())
        if not node.is_compound_expression():
            return None
        operator, lhs, rhs = node.get_binary_operator(), node.get_lhs(), node.get_rhs()
        inner, other = (lhs, rhs) if contains(lhs) else (rhs, lhs)
        if getattr(operator, "is_plus_op", False) or getattr(operator, "is_minus_op", False):
            return term_unit(inner)
        unit = term_unit(inner)
        if unit is None or contains(other):
            return None
        if getattr(operator, "is_times_op", False):
            return unit * factor_unit(other)
        if getattr(operator, "is_div_op", False) and inner is lhs:
            return unit / factor_unit(other)
        return None

    uses = [update.get_expression() for update in (spike_updates or {}).get(port_name, [])
            if "__X__" not in update.get_variable().get_complete_name()]
    uses += [e for e in _root_expressions(model) if contains(e)]
    for expression in uses:
        unit = term_unit(expression)
        if unit is not None:
            return units.from_astropy(au.Unit(unit))
    return None if uses else UNREAD


def _astropy_unit(type_symbol):
    import astropy.units as au
    unit = getattr(getattr(type_symbol, "unit", None), "unit", None)
    return au.dimensionless_unscaled if unit is None else unit


def _root_expressions(model):
    """Every expression the model states (inline expressions, ODEs, declarations,
    assignments, conditions' bodies), outermost only, in the order of the file."""
    from pynestml.visitors.ast_visitor import ASTVisitor
    found = []

    class Finder(ASTVisitor):
        def visit_inline_expression(self, node):
            found.append(node.get_expression())

        def visit_ode_equation(self, node):
            found.append(node.get_rhs())

        def visit_declaration(self, node):
            if node.has_expression():
                found.append(node.get_expression())

        def visit_assignment(self, node):
            found.append(node.get_expression())

    model.accept(Finder())
    return found


def _model_assignment(function):
    """The first assignment in user ``function`` to a variable of the model (not one of its
    parameters or locals), or None."""
    from pynestml.symbols.variable_symbol import BlockType
    from pynestml.visitors.ast_visitor import ASTVisitor
    found = []

    class Finder(ASTVisitor):
        def visit_assignment(self, node):
            variable = node.get_variable()
            symbol = variable.get_scope().resolve_to_symbol(variable.get_complete_name(),
                                                            _variable_kind())
            if symbol is not None and symbol.get_block_type() != BlockType.LOCAL:
                found.append(node)

    function.accept(Finder())
    return found[0] if found else None


def _names_in(node):
    from pynestml.meta_model.ast_variable import ASTVariable
    names = [node.get_complete_name()] if isinstance(node, ASTVariable) else []
    for child in node.get_children():
        names += _names_in(child)
    return names


def nest_steps(t, dt):
    """NEST's ``steps(t)``: the number of time steps ``dt`` in ``t`` (ms), counted in NEST's
    integer tics (1000 per ms) and rounded up."""
    tics, per_step = math.floor(t * 1000.0 + 0.5), math.floor(dt * 1000.0 + 0.5)
    return float((tics + per_step - 1) // per_step)


# the helpers of printed expressions, in Python (for defaults computed here)
HELPERS = {TERNARY: lambda condition, a, b: a if condition else b,
           TRUNCATE: lambda x: float(math.trunc(x)), REMAINDER: math.fmod, STEPS: nest_steps,
           "ln": math.log, "min": min, "max": max, "abs": abs, "inf": math.inf,
           "True": True, "False": False}


def _evaluate(expression, known):
    """Evaluate a printed expression over the values in ``known``; None if it needs others."""
    namespace = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
    namespace.update(HELPERS, **known)
    try:
        value = eval(expression, {"__builtins__": {}}, namespace)  # trusted: printed by us
        return value if isinstance(value, bool) else float(value)
    except (NameError, TypeError, ZeroDivisionError, ValueError, SyntaxError, OverflowError):
        return None


def evaluate(variables, dt=0.1):
    """{name: value} of ``variables`` (parameters, internals and state, in any order) from
    their expressions, at time step ``dt`` (ms); names it cannot compute are left out.

    NESTML declares parameters, internals and initial values in that order, but a default
    may read any of them (e.g. gating variables at rest: a parameter that reads the initial
    membrane potential), so values are computed until none more can be.
    """
    known, pending = {TIME_STEP: dt}, list(variables)
    while pending:
        remaining = []
        for variable in pending:
            value = _evaluate(variable.expression or "0", known)
            if value is None:
                remaining.append(variable)
            else:
                known[variable.name] = variable.typed(value)
        if len(remaining) == len(pending):
            break
        pending = remaining
    del known[TIME_STEP]
    return known


def _integer_division(node):
    """Whether NESTML's C++ divides the two sides of division ``node`` as integers: both
    are integers and the divisor is not a number literal (printed as a double)."""
    from pynestml.meta_model.ast_simple_expression import ASTSimpleExpression
    rhs = node.get_rhs()
    if isinstance(rhs, ASTSimpleExpression) and rhs.is_numeric_literal():
        return False
    return all(_primitive_type(getattr(side, "type", None)) == "integer"
               for side in (node.get_lhs(), rhs))


def _primitive_type(type_symbol):
    from pynestml.symbols.boolean_type_symbol import BooleanTypeSymbol
    from pynestml.symbols.integer_type_symbol import IntegerTypeSymbol
    from pynestml.symbols.string_type_symbol import StringTypeSymbol
    if isinstance(type_symbol, BooleanTypeSymbol):
        return "boolean"
    if isinstance(type_symbol, StringTypeSymbol):
        return "string"
    return "integer" if isinstance(type_symbol, IntegerTypeSymbol) else "real"


def _python_printer(builder):
    """NESTML's Python expression printer, printing our names and expanding inlines/functions.

    Beyond NESTML's printer: a conditional expression becomes ``nml_ternary(c, a, b)``; ``%``
    is C's remainder, as in the C++ NESTML generates for NEST (where a division of two
    integers truncates unless the divisor is a number, and a value assigned to an integer is
    truncated); ``steps(t)`` is
    NEST's count of steps; user functions are expanded in place (:class:`_Inliner`).
    """
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

    substitutions = {}  # function parameter or local -> printed value, while expanding a call

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
            return builder.name_of(variable)

    class Functions(PythonFunctionCallPrinter):
        def print_function_call(self, call):
            name = call.get_name()
            if name == PredefinedFunctions.TIME_RESOLUTION:
                return TIME_STEP
            if name == PredefinedFunctions.TIME_TIMESTEP:
                # in a synapse, the interval the update block advances over (NEST's __timestep)
                return builder.timestep_name
            arguments = [self._expression_printer.print(a) for a in call.get_args()]
            if name == PredefinedFunctions.TIME_STEPS:
                return f"{STEPS}({arguments[0]}, {TIME_STEP})"
            if name == PredefinedFunctions.RANDOM_UNIFORM:
                low, high = arguments
                return f"({low} + ({high} - {low}) * {UNIFORM})"
            if name == PredefinedFunctions.RANDOM_NORMAL:
                mean, sd = arguments
                return f"({mean} + {sd} * {NORMAL})"
            definition = builder.function(name)
            if definition is None:
                return super().print_function_call(call)
            saved = dict(substitutions)
            try:
                return _Inliner(builder, substitutions, printer).expand(definition, arguments)
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
            return (f"{TERNARY}({self.print(node.get_condition())}, "
                    f"{self.print(node.get_if_true())}, {self.print(node.if_not)})")

        def print_arithmetic_operator(self, node):
            # a division of two integers truncates, as in NESTML's C++, unless the divisor is
            # a number (which NESTML's C++ divides by as a double); assigning to an integer
            # truncates too (see _assignment)
            operator = node.get_binary_operator()
            if operator.is_modulo_op:
                return f"{REMAINDER}({self.print(node.get_lhs())}, {self.print(node.get_rhs())})"
            if operator.is_div_op and _integer_division(node):
                return f"{TRUNCATE}({super().print_arithmetic_operator(node)})"
            return super().print_arithmetic_operator(node)

        def print_bit_operator(self, node):
            raise builder.fail(node, "bit operators (<<, >>, &, |, ^) are not supported: "
                               "NMODL and Brian2 compute in floating point")

    variables = Variables(None, with_origin=False, with_vector_parameter=False)
    functions = Functions(None)
    printer = Expressions(simple_expression_printer=SimpleExpressions(
        variable_printer=variables, constant_printer=ConstantPrinter(),
        function_call_printer=functions))
    variables._expression_printer = printer
    functions._expression_printer = printer
    return printer


class _Inliner:
    """A user function call as one expression: its body run symbolically.

    Locals and parameters hold printed expressions; an ``if`` merges what its branches assign
    into ``nml_ternary`` expressions, and the value is the first ``return`` reached, as a
    chain of ``nml_ternary`` over the conditions under which each return is reached. Loops
    cannot be expanded (their number of iterations is not known when printing).
    """

    def __init__(self, builder, substitutions, printer):
        self.builder, self.substitutions, self.printer = builder, substitutions, printer
        self.returns = []  # [(condition, value)] in the order they are reached

    def expand(self, definition, arguments):
        parameters = definition.get_parameters()
        if len(parameters) != len(arguments):
            raise self.builder.fail(definition, f"function {definition.get_name()} takes "
                                    f"{len(parameters)} arguments, not {len(arguments)}")
        self.definition = definition
        env = {p.get_name(): f"({a})" for p, a in zip(parameters, arguments)}
        self._run(definition.get_stmts_body().get_stmts(), env, "True")
        if not self.returns:
            raise self.builder.fail(definition, f"function {definition.get_name()} returns "
                                    "no value")
        value = self.returns[-1][1]
        for condition, returned in reversed(self.returns[:-1]):
            value = f"{TERNARY}({condition}, {returned}, {value})"
        return f"({value})"

    def _print(self, node, env):
        self.substitutions.clear()
        self.substitutions.update(env)
        return self.printer.print(node)

    def _run(self, statements, env, condition):
        """Run ``statements`` on ``env`` (changed in place) under ``condition``; returns
        True if every path through them returned."""
        for statement in statements:
            if statement.is_small_stmt():
                small = statement.small_stmt
                if small.is_return_stmt():
                    self.returns.append((condition, f"({self._print(small.get_return_stmt().get_expression(), env)})"))
                    return True
                if small.is_declaration():
                    declaration = small.get_declaration()
                    for variable in declaration.get_variables():
                        value = (self._print(declaration.get_expression(), env)
                                 if declaration.has_expression() else "0")
                        if _primitive_type(declaration.get_data_type().get_type_symbol()) \
                                == "integer":
                            value = f"{TRUNCATE}({value})"
                        env[variable.get_complete_name()] = f"({value})"
                elif small.is_assignment():
                    assignment = small.get_assignment()
                    name = assignment.get_variable().get_complete_name()
                    value = self._print(assignment.get_expression(), env)
                    operator = _operator(assignment)
                    if operator != "=":
                        value = f"{env.get(name, name)} {operator[0]} ({value})"
                    env[name] = f"({value})"
                else:
                    raise self.builder.fail(small, f"function {self.definition.get_name()}: "
                                            "only declarations, assignments, if and return "
                                            "can be expanded")
            elif statement.compound_stmt.is_if_stmt():
                if self._if(statement.compound_stmt.get_if_stmt(), env, condition):
                    return True
            else:
                raise self.builder.fail(statement, f"function {self.definition.get_name()}: "
                                        "loops cannot be expanded into an expression")
        return False

    def _if(self, node, env, condition):
        clauses = [(node.get_if_clause().get_condition(), node.get_if_clause().get_stmts_body())]
        clauses += [(c.get_condition(), c.get_stmts_body()) for c in node.get_elif_clauses()]
        if node.has_else_clause():
            clauses.append((None, node.get_else_clause().get_stmts_body()))
        branches, earlier, all_return = [], [], True
        for test, body in clauses:
            taken = "True" if test is None else f"({self._print(test, env)})"
            branch_condition = " and ".join([condition] + [f"not {c}" for c in earlier]
                                            + [taken])
            branch_env = dict(env)
            all_return &= self._run(body.get_stmts(), branch_env, branch_condition)
            branches.append((taken, branch_env))
            earlier.append(taken)
        if not node.has_else_clause():
            branches.append(("True", dict(env)))
            all_return = False
        for name in [n for n in env if any(e.get(n) != env[n] for _, e in branches)]:
            value = branches[-1][1].get(name, env.get(name))
            for taken, branch_env in reversed(branches[:-1]):
                value = f"{TERNARY}({taken}, {branch_env.get(name, env.get(name))}, {value})"
            env[name] = value
        return all_return


def _base(name):
    """The variable whose derivative state ``name`` is (``x`` for ``x__d__d``)."""
    while name.endswith("__d"):
        name = name[:-len("__d")]
    return name


def _variable_kind():
    from pynestml.symbols.symbol import SymbolKind
    return SymbolKind.VARIABLE


def _operator(assignment):
    return ("+=" if assignment.is_compound_sum else "-=" if assignment.is_compound_minus
            else "*=" if assignment.is_compound_product
            else "/=" if assignment.is_compound_quotient else "=")
