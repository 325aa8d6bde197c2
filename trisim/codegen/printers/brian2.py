"""Brian2 printer: the Brian2 target's text, from the step and synapse programs.

A NESTML neuron is a NeuronGroup: its equations (template ``brian2_equations.jinja2``)
declare every model variable as a number in the unit the .nestml file declares, and its step
is Brian2 abstract code run at the end of each time step. Spike buffers hold amperes, because
pyNN.brian2's synapse code adds weights with units to them; the step divides by the port's
weight unit. Brian2's abstract code has no ``if``: a branch's assignments are predicated on
its condition, which is evaluated once before any branch runs, so the branches stay mutually
exclusive. A NESTML synapse is Brian2 Synapses whose events are abstract code (template
``brian2_synapse_event.jinja2``) over per-connection variables.
"""

import ast
import re

from .. import program as prog
from .. import synapse as syn
from .. import units
from ...errors import NestmlError
from ..templates import render

SPIKE_FLAG = "nml_spike"
CURRENT_INPUT = "i_inj"  # pyNN.brian2's current sources add to this variable (in amperes)
_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b")
_SUBSTEPS_BEGIN, _SUBSTEPS_END = "# nml_substeps_begin", "# nml_substeps_end"
_FUNCTIONS = {"min": "nml_fmin", "max": "nml_fmax", "expm1": "nml_exp_minus_1", "ln": "log",
              "nml_uniform": "rand", "nml_normal": "randn"}


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

    class Divisions(ast.NodeTransformer):
        def visit_BinOp(self, node):
            self.generic_visit(node)
            if isinstance(node.op, ast.Div):
                return ast.Call(ast.Name("nml_div", ast.Load()), [node.left, node.right], [])
            return node

    return ast.unparse(Divisions().visit(ast.parse(expression, mode="eval")))


def cell_code(program):
    """What the Brian2 target stores of ``program``: its NeuronGroup's equations, the code
    computing its internals, its step code, and the unit constants ({name: [SI scale, SI
    powers]}) these use."""
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
    equations = render(
        "brian2_equations.jinja2", spike_flag=SPIKE_FLAG, current_input=CURRENT_INPUT,
        numbers=[v.name for v in program.parameters + program.state + program.internals
                 + program.continuous_ports],
        buffers=[p.name for p in program.spike_ports], current=current,
        inlines={name: printer.expression(text)
                 for name, text in program.recordable_inlines.items()})
    return {"equations": equations.strip("\n"), "internals": "\n".join(internals),
            "step": "\n".join(printer.lines),
            "units": {name: [unit.si_scale, list(unit.si_powers)]
                      for name, unit in printer.namespace_units.items()}}


def repeat_substeps(code, count):
    """Brian2 code has no loops: write each marked substep block ``count`` times."""
    pattern = re.compile(re.escape(_SUBSTEPS_BEGIN) + r"\n(.*?)\n" + re.escape(_SUBSTEPS_END),
                         re.DOTALL)
    return pattern.sub(lambda match: "\n".join([match.group(1)] * count), code)


SYNAPSE_DELAY = "nml_delay"  # the presynaptic pathway's delay in ms (shared if homogeneous)


class _SynapsePrinter(_Printer):
    """Prints a synapse event: variables are numbers, and a spike adds to the receptor."""

    def __init__(self, booleans=()):
        self.units, self.namespace_units, self.lines, self.flags = {}, {}, [], 0
        self.booleans, self.constants = set(booleans), {}

    def expression(self, text):
        text = text.replace("%", "%%")  # PyNN %-formats the code with the receptor's names

        def number(match):
            name = match.group()
            if name in self.constants:
                return f"({self.constants[name]})"
            if name in self.booleans:  # stored as 0/1, as in cells
                return f"({name} != 0)"
            return _FUNCTIONS.get(name, name)
        return _IDENTIFIER.sub(number, text)

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
    """What the Brian2 target stores of a synapse program: its variables and event code.

    ``variables`` are the per-connection variables; ``fixed`` are those of them that a
    projection may store once (see :class:`trisim.codegen.brian2.NestmlSynapse`): the
    parameters no event changes, and the delay. ``native`` maps the model's names to Brian2's
    (the weight is "weight"); ``initial`` gives the initial state, by Brian2 name, as a number
    or an expression; ``on_pre``, ``on_post`` and ``on_mod`` (by third-factor port) are the
    events' code.
    """
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

    booleans = {v.name for v in synapse.parameters + synapse.state + synapse.internals
                if v.type == "boolean"}

    def event(statements, time=f"t / ms - {SYNAPSE_DELAY}"):
        printer = _SynapsePrinter(booleans)
        internals = {v.name: printer.expression(v.expression) for v in synapse.internals}
        printer.statements(statements)
        return render("brian2_synapse_event.jinja2", event_time=syn.EVENT_TIME, time=time,
                      # a postsynaptic event's t_post, where the event code reads it
                      spike_time=(syn.SPIKE_TIME if syn._reads(statements, syn.SPIKE_TIME)
                                  else None),
                      internals=internals, body=printer.lines).strip("\n")

    def on_target(code):
        """Event code run by synapses onto these synapses: their variables are _post."""
        names = set(["weight"] + [renamed(name) for name in variables])
        return _IDENTIFIER.sub(lambda m: f"{m.group()}_post" if m.group() in names
                               else m.group(), code)

    brian2_names = {name: renamed(name) for name in synapse.connection_variables}
    # a third-factor spike is an event at its arrival time, on every connection
    return {"variables": [renamed(name) for name in variables],
            "fixed": [native.get(name, name) for name in fixed],
            "native": brian2_names,
            "initial": {brian2_names[v.name]: _initial_value(v.expression, brian2_names)
                        for v in synapse.state if v.name != synapse.weight},
            "on_pre": renamed(event(synapse.on_pre)),
            "on_post": renamed(event(synapse.on_post)) if synapse.post_port else None,
            "on_mod": {port: on_target(renamed(event(synapse.on_mod[port], "t / ms")))
                       for port in synapse.mod_ports}}


def _native_synapse_name(name):
    """What Brian2 calls synapse variable ``name``: a name ending in _pre or _post gets
    "_syn" appended (Brian2 reads those suffixes as the cells' variables)."""
    return f"{name}_syn" if name.endswith(("_pre", "_post")) else name


_BOOLEAN_LITERALS = {"True": "1.0", "False": "0.0"}  # synapse variables are numbers


def _initial_value(expression, brian2_names):
    """A number as a number (for an expression, Brian2 generates and loads code), else the
    expression in Brian2's names."""
    expression = _IDENTIFIER.sub(lambda m: _BOOLEAN_LITERALS.get(m.group(), m.group()),
                                 expression)
    try:
        return float(expression)
    except ValueError:
        return _IDENTIFIER.sub(lambda m: brian2_names.get(m.group(), m.group()), expression)
