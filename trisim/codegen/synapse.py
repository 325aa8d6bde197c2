"""A NESTML synapse as one target-neutral program: per-connection variables and event code.

The semantics are those of NESTML's NEST target, which NEURON and Brian2 reproduce:

- every connection holds its own copy of the model's parameters and state;
- the synapse changes only at events. An event at model time ``T`` first advances the state
  from the previous event (the update block, whose ``integrate_odes()`` applies the exact
  propagators over ``T - t_last``; nothing moves when ``T == t_last``), then runs the
  port's ``onReceive`` block, and sets ``t_last = T`` (initially 0);
- a presynaptic spike emitted at ``t_pre`` is an event at ``T = t_pre``; a postsynaptic spike
  at ``t_post`` reaches the synapse after the connection's delay ``d``, at ``T = t_post + d``
  (NEST treats the whole delay as dendritic), and postsynaptic events come before a
  presynaptic one at the same ``T``;
- ``emit_spike(x)`` transmits weight ``x`` to the postsynaptic receptor, arriving at
  ``t_pre + d``;
- the model time ``t`` that the code reads is ``T``, except in two places where NESTML's NEST
  target gives another: ``onReceive`` of the postsynaptic port reads ``t = t_post`` (the time
  the cell fired, not ``T = t_post + d``), and the update block reads the time of the
  previous event (its ``integrate_odes()`` advances from there).

Targets deliver a presynaptic event when the spike arrives (at ``t_pre + d``) and a
postsynaptic one at ``t_post + 2 d``, so every interval between events is NEST's; the event
code reads the model time ``T`` as :data:`EVENT_TIME`, which the target sets to its own time
minus the delay, and a postsynaptic event's ``t_post`` as :data:`SPIKE_TIME`, which the target
sets to its own time minus that event's delay. Weights (the weight variable, and whatever the
model compares with it) are numbers in PyNN's units (uS or nA, as the receptor takes), on
every target: each target scales only the transmitted value, once.
"""

import dataclasses
import json
from dataclasses import dataclass

from . import program as prog
from . import units
from .frontend import fail_at

EVENT_TIME = prog.legal_name("t")  # the model time T of the event being processed
LAST_EVENT = "nml_tlast"  # per connection, if read (SynapseProgram.timed): previous T
INTERVAL = prog.legal_name("__h")  # T - LAST_EVENT, NESTML's __h
WEIGHT_VARIABLE = "w"  # NESTML's default name of a synapse's weight
SPIKE_TIME = "nml_tspike"  # t_post in a postsynaptic event that reads it; targets set it


@dataclass
class SynapseProgram:
    name: str
    source: str
    parameters: list  # [Variable], per connection
    state: list  # [Variable], per connection; initial values may use parameters
    internals: list  # [Variable] that do not change between events
    propagators: list  # [Variable] that depend on INTERVAL, recomputed at every event
    weight: str  # the legal name of the weight variable (a parameter or a state variable)
    pre_port: str
    post_port: str  # None for a synapse that sees presynaptic spikes only
    on_pre: list  # statements of a presynaptic event
    on_post: list  # statements of a postsynaptic event ([] without a post port)
    uses_random: bool
    mod_ports: list = dataclasses.field(default_factory=list)  # third-factor spike ports
    on_mod: dict = dataclasses.field(default_factory=dict)  # port -> statements of its event

    @property
    def connection_variables(self):
        """Names of the per-connection values, parameters first."""
        return [v.name for v in self.parameters + self.state]

    @property
    def timed(self):
        """Whether the event code reads the interval since the previous event, so that
        targets keep :data:`LAST_EVENT` per connection."""
        return any(isinstance(s, prog.Assign) and s.target == LAST_EVENT for s in self.on_pre)

    def events(self):
        """{kind: statements} of every event but the presynaptic one: the postsynaptic
        port's (kind 1), then each third-factor port's (kinds 2, 3, ...)."""
        kinds = {1: self.on_post} if self.post_port else {}
        kinds.update({2 + i: self.on_mod[port] for i, port in enumerate(self.mod_ports)})
        return kinds


def build(analysis):
    """The :class:`SynapseProgram` of an analysed synapse model."""
    builder = prog._Builder(analysis)
    model = analysis.model
    path = analysis.path
    ns = analysis.namespace
    if ns.get("uses_numeric_solver"):
        raise fail_at(path, model, "synapse ODEs must have an exact solution (linear ODEs); "
                      "ODE-toolbox found none, and synapses are updated only at events")
    ports = [p for block in model.get_input_blocks() for p in block.get_input_ports()]
    continuous = [p for p in ports if p.is_continuous()]
    if continuous:
        raise fail_at(path, continuous[0], f"continuous input port {continuous[0].get_name()!r}: "
                      "a synapse reading a variable of its postsynaptic cell is not supported")
    if any("__X__" in v for v in ns.get("analytic_state_variables") or []):
        raise fail_at(path, model, "convolutions in synapses are not supported")
    blocks = {block.get_port_name(): block for block in model.get_on_receive_blocks()}
    pre_port, post_port, mod_ports = _ports(path, model, ports, blocks)
    variables = {s.get_symbol_name() for s in model.get_state_symbols()
                 + model.get_parameter_symbols()}
    if WEIGHT_VARIABLE not in variables:
        raise fail_at(path, model, f"a synapse needs its weight in a parameter or state "
                      f"variable named {WEIGHT_VARIABLE!r}")
    parameters = [builder._variable(s) for s in model.get_parameter_symbols()]
    internals = [builder._variable(s) for s in model.get_internal_symbols()]
    state = [builder._variable(s) for s in model.get_state_symbols()
             if not s.is_inline_expression]
    values = prog.evaluate(parameters + internals + state)
    for variable in parameters + state:
        variable.value = variable.typed(values.get(variable.name))
    moving = _depends_on(internals, INTERVAL)
    advance = []
    for block in model.get_update_blocks():
        advance += prog.lower(builder._body(block.get_stmts_body()))
    received = {port: builder._body(block.get_stmts_body()) for port, block in blocks.items()}
    # the previous event's time is kept per connection only if some code reads the interval
    # or the update block does anything (NEST runs it only when time has passed)
    timed = bool(moving or advance) or _reads([s for b in received.values() for s in b],
                                              INTERVAL)

    def event(port):
        body = [prog.Local(INTERVAL, f"{EVENT_TIME} - {LAST_EVENT}")] if timed else []
        update = [prog.Local(v.name, v.expression) for v in internals if v.name in moving]
        # NEST runs the update block with t at the previous event, whence it advances
        update += [prog.renamed(s, {EVENT_TIME: LAST_EVENT}) for s in advance]
        if update:  # NEST skips the update over an interval shorter than 1e-12 ms
            body.append(prog.If([(f"{INTERVAL} > 1e-12", update)]))
        if timed:
            body.append(prog.Assign(LAST_EVENT, "=", EVENT_TIME))
        code = received.get(port, [])
        if port == post_port:
            # the postsynaptic spike reaches the synapse at T = t_post + d, but NEST's code
            # gives its onReceive block t = t_post
            code = [prog.renamed(s, {EVENT_TIME: SPIKE_TIME}) for s in code]
        return body + code

    on_pre = event(pre_port)
    if not any(isinstance(s, prog.Emit) for s in _flatten(on_pre)):
        raise fail_at(path, blocks.get(pre_port, model),
                      f"onReceive({pre_port}) never calls emit_spike(...): nothing is "
                      "transmitted")
    if any(isinstance(s, prog.Emit) and s.weight is None for s in _flatten(on_pre)):
        raise fail_at(path, blocks[pre_port], "emit_spike() in a synapse needs the weight "
                      "to transmit: emit_spike(w)")
    on_post = event(post_port) if post_port else []
    on_mod = {port: event(port) for port in mod_ports}
    printed = json.dumps([dataclasses.asdict(s) for s in _flatten(
        on_pre + on_post + [s for body in on_mod.values() for s in body])])
    return SynapseProgram(
        name=model.get_name(), source=str(path), parameters=parameters, state=state,
        internals=[v for v in internals if v.name not in moving and v.name != INTERVAL],
        propagators=[v for v in internals if v.name in moving and v.name != INTERVAL],
        weight=prog.legal_name(WEIGHT_VARIABLE), pre_port=pre_port, post_port=post_port,
        on_pre=on_pre, on_post=on_post, mod_ports=mod_ports, on_mod=on_mod,
        uses_random=prog.UNIFORM in printed or prog.NORMAL in printed)


def _ports(path, model, ports, blocks):
    """(presynaptic port, postsynaptic port or None, [third-factor ports]).

    NESTML names none of them (its NEST target is told in its code generation options). The
    presynaptic port is the one whose ``onReceive`` transmits. One other spike port is the
    postsynaptic cell's; of several, the one whose name says "post" is, and the others are
    third-factor ports: spikes from other cells (e.g. dopamine neurons), delivered to every
    connection of the synapse type (NEST's volume transmitter).
    """
    names = [p.get_name() for p in ports if p.is_spike()]
    emitting = [n for n in names if n in blocks and _emits(blocks[n])]
    if len(emitting) != 1:
        raise fail_at(path, model, "exactly one port's onReceive block must call emit_spike "
                      f"(the presynaptic port); found {emitting or 'none'}")
    pre = emitting[0]
    others = [n for n in names if n != pre]
    if len(others) <= 1:
        return pre, (others[0] if others else None), []
    post = [n for n in others if "post" in n.lower()]
    if len(post) != 1:
        raise fail_at(path, model, f"spike ports {', '.join(others)}: cannot tell which one "
                      "brings the postsynaptic cell's spikes; name it with 'post' (e.g. "
                      "post_spikes), the others are third-factor ports")
    return pre, post[0], [n for n in others if n != post[0]]


def checked_modulators(synapse, modulators):
    """``modulators`` ({third-factor port: PyNN Population}, given to a synapse type)
    checked against the ports of ``synapse``.

    Raises
    ------
    NestmlError
        Naming the file, for a port that is not a third-factor port of the model or a port
        without a population.
    """
    from ..errors import NestmlError
    modulators = dict(modulators or {})
    unknown = sorted(set(modulators) - set(synapse.mod_ports))
    if unknown:
        raise NestmlError(f"{synapse.source}: modulators for {', '.join(unknown)}: the "
                          f"model's third-factor ports are {', '.join(synapse.mod_ports) or 'none'}")
    for port, population in modulators.items():
        if not hasattr(population, "all_cells"):
            raise NestmlError(f"{synapse.source}: modulators[{port!r}] must be a Population "
                              f"(its cells' spikes reach every connection), not "
                              f"{type(population).__name__}")
    return modulators


def _emits(block):
    from pynestml.visitors.ast_visitor import ASTVisitor
    found = []

    class Finder(ASTVisitor):
        def visit_function_call(self, node):
            if node.get_name() == "emit_spike":
                found.append(node)

    block.accept(Finder())
    return bool(found)


def _depends_on(variables, name):
    """Names of ``variables`` whose expressions use ``name``, directly or through another."""
    dependent = {name}
    for variable in variables:  # declared in order, so one pass suffices
        if any(_uses(variable.expression, d) for d in dependent):
            dependent.add(variable.name)
    return dependent - {name}


def _reads(statements, name):
    """Whether an expression or condition in ``statements`` uses ``name``."""
    for statement in _flatten(statements):
        if isinstance(statement, prog.If):
            texts = [condition for condition, _ in statement.branches]
        else:
            texts = [getattr(statement, "expression", None), getattr(statement, "weight", None)]
        if any(_uses(text, name) for text in texts):
            return True
    return False


def _uses(expression, name):
    import re
    return re.search(rf"\b{re.escape(name)}\b", expression or "") is not None


def _flatten(statements):
    for statement in statements:
        yield statement
        if isinstance(statement, prog.If):
            for _, body in statement.branches:
                yield from _flatten(body)
            yield from _flatten(statement.orelse)


def save(synapse, path):
    path.write_text(json.dumps(dataclasses.asdict(synapse), indent=1))


def load(path):
    """Read a :class:`SynapseProgram` written by :func:`save`."""
    data = json.loads(path.read_text())

    def unit(value):
        return units.Unit(value["name"], value["si_scale"], tuple(value["dimension"]),
                          tuple(value["si_powers"]))

    def variables(rows):
        return [prog.Variable(r["name"], unit(r["unit"]), r["value"], r["expression"],
                              r["nestml_name"], r.get("type", "real")) for r in rows]

    def statements(rows):
        out = []
        for row in rows:
            if "branches" in row:
                out.append(prog.If([(c, statements(b)) for c, b in row["branches"]],
                                   statements(row["orelse"])))
            elif "operator" in row:
                out.append(prog.Assign(**row))
            elif "target" not in row and "name" in row:
                out.append(prog.Local(**row))
            elif "body" in row:
                out.append(prog.Substeps(statements(row["body"])))
            else:
                out.append(prog.Emit(**row))
        return out

    return SynapseProgram(
        name=data["name"], source=data["source"], parameters=variables(data["parameters"]),
        state=variables(data["state"]), internals=variables(data["internals"]),
        propagators=variables(data["propagators"]), weight=data["weight"],
        pre_port=data["pre_port"], post_port=data["post_port"],
        on_pre=statements(data["on_pre"]), on_post=statements(data["on_post"]),
        uses_random=data["uses_random"], mod_ports=data.get("mod_ports", []),
        on_mod={port: statements(body) for port, body in data.get("on_mod", {}).items()})
