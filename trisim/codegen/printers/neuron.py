"""NMODL printer: the NEURON target's text, from the step and synapse programs.

A NESTML neuron is one POINT_PROCESS that runs the model's step
(:mod:`trisim.codegen.program`) once per time step, one small port process per spike port and,
for a model with a current port, an electrode process with IClamp's interface; a NESTML
synapse is one relay process per postsynaptic cell and delay, whose connections' values ride
in their NetCons' weight vectors. The files' layout is in the templates
(``trisim/codegen/templates/neuron*.mod.jinja2``); this module prints the model's statements
into them (C-like expressions, ``^`` for powers, no ``min``/``max`` builtins).
"""

import io
import tokenize

from .. import program as prog
from .. import synapse as syn
from ..templates import render

# Python syntax -> NMODL (C-like expressions, ^ for powers, no min/max/abs builtins)
_TOKENS = {"**": "^", "and": "&&", "or": "||", "not": "!", "True": "1", "False": "0",
           "inf": "1e300", "min": "nml_fmin", "max": "nml_fmax", "abs": "fabs",
           "clip": "nml_clamp", "expm1": "nml_exp_minus_1", "ln": "log"}
# a connection's arguments in a synapse's NET_RECEIVE, after its variables
SYNAPSE_KIND = "nml_kind"  # 0: a connection's NetCon, 1: the postsynaptic cell's spikes
SUBSTEP_COUNTER = "nml_substep"  # not "nml_i": a model's variable i is printed so


def nmodl(expression):
    """An expression printed in Python syntax, in NMODL syntax, wrapped into short lines."""
    tokens = tokenize.generate_tokens(io.StringIO(expression).readline)
    lines, line = [], ""
    for token in tokens:
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            continue
        line += _TOKENS.get(token.string, token.string) + " "
        if len(line) > _LINE_LENGTH and token.type == tokenize.OP and token.string in "+-*/(,":
            lines.append(line.rstrip())  # nocmodl rejects long lines; expressions may wrap
            line = ""
    return "\n        ".join(lines + [line.rstrip()])


_LINE_LENGTH = 200


def _number(value):
    if value is None or value == float("inf"):
        return "1e300"
    if value == float("-inf"):
        return "-1e300"
    return repr(float(value))


def _statements(statements, indent, emit=lambda weight: "spike_out = 1 - spike_out"):
    pad = " " * indent
    lines = []
    for statement in statements:
        if isinstance(statement, (prog.Assign, prog.Local)):
            target = statement.target if isinstance(statement, prog.Assign) else statement.name
            operator = statement.operator if isinstance(statement, prog.Assign) else "="
            value = nmodl(statement.expression)
            if operator != "=":  # NMODL has no compound assignment
                value = f"{target} {operator[0]} ({value})"
            lines.append(f"{pad}{target} = {value}")
        elif isinstance(statement, prog.Emit):
            lines.append(pad + emit(statement.weight and nmodl(statement.weight)))
        elif isinstance(statement, prog.Substeps):
            lines.append(f"{pad}FROM {SUBSTEP_COUNTER} = 1 TO {prog.SUBSTEPS} {{")
            lines += _statements(statement.body, indent + 4, emit)
            lines.append(f"{pad}}}")
        elif isinstance(statement, prog.If):
            for index, (condition, body) in enumerate(statement.branches):
                opener = "if" if index == 0 else "} else if"
                lines.append(f"{pad}{opener} ({nmodl(condition)}) {{")
                lines += _statements(body, indent + 4, emit)
            if statement.orelse:
                lines.append(f"{pad}}} else {{")
                lines += _statements(statement.orelse, indent + 4, emit)
            lines.append(f"{pad}}}")
    return lines


def cell_sources(program, mechanism):
    """The NMODL files (name -> text) of ``program`` as mechanism ``mechanism``."""
    step = prog.lower(program.step)
    assigned = ([v.name for v in program.state + program.internals]
                + [p.name for p in program.continuous_ports]
                + [p.name for p in program.spike_ports]
                + ["spike_out", prog.SUBSTEP, prog.TIME_STEP])
    context = dict(program=program, mechanism=mechanism, number=_number, nmodl=nmodl,
                   assigned=assigned,
                   range_variables=[prog.SUBSTEPS] + [v.name for v in program.parameters] + assigned[:-1],
                   locals=prog.locals_of(step) + [SUBSTEP_COUNTER], substeps=prog.SUBSTEPS,
                   time_step=prog.TIME_STEP,
                   body="\n".join(_statements(step, 4)))
    files = {f"{mechanism}.mod": render("neuron.mod.jinja2", **context),
             f"{mechanism}_port.mod": render("neuron_port.mod.jinja2", mechanism=mechanism)}
    current = prog.current_port(program)
    if current is not None:
        files[f"{mechanism}_current.mod"] = render("neuron_current.mod.jinja2",
                                                   mechanism=mechanism, port=current)
    return files


def synapse_arguments(synapse):
    """The NET_RECEIVE arguments of a synapse: its variables, the last event time (if the
    event code reads it), the kind."""
    return synapse.connection_variables + [syn.LAST_EVENT] * synapse.timed + [SYNAPSE_KIND]


def synapse_source(synapse, mechanism):
    """The NMODL text of ``synapse`` as mechanism ``mechanism``."""
    arguments = synapse_arguments(synapse)
    looped = {name: f"{name}_nc" for name in arguments}  # FOR_NETCONS needs names of its own

    def emit(weight):
        return f"nml_target = nml_target + ({weight}) * nml_scale"

    constants = [prog.Local(v.name, v.expression) for v in synapse.internals]
    on_pre = constants + synapse.on_pre
    # events on every connection (the postsynaptic cell's spikes, third-factor spikes), by
    # kind: each runs on the loop's copies of the connection variables
    events = {kind: [prog.renamed(s, looped) for s in constants + body]
              for kind, body in synapse.events().items()}
    if syn._reads(synapse.on_post, syn.SPIKE_TIME):  # t_post: before the postsynaptic delay
        events[1].insert(0, prog.Local(syn.SPIKE_TIME, "t - nml_post_delay"))
    names = prog.locals_of(on_pre + [s for body in events.values() for s in body])
    names += [syn.EVENT_TIME]
    return render(
        "neuron_synapse.mod.jinja2", synapse=synapse, mechanism=mechanism,
        arguments=arguments, loop_arguments=[looped[a] for a in arguments],
        time_step=prog.TIME_STEP,
        loop_kind=looped[SYNAPSE_KIND], locals=[n for n in dict.fromkeys(names)
                                                  if n not in arguments],
        initial=[(v.name, nmodl(v.expression)) for v in synapse.state
                 if v.name != synapse.weight] + [(syn.LAST_EVENT, "0")] * synapse.timed,
        on_pre="\n".join(_statements(on_pre, 8, emit)),
        events={kind: "\n".join(_statements(body, 20, emit)) for kind, body in events.items()})
