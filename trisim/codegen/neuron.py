"""NEURON target: a NESTML neuron as a generated NMODL POINT_PROCESS, compiled with nrnivmodl.

The point process holds the model's variables and runs the model's step
(:mod:`trisim.codegen.program`) once per NEURON time step; its section is a placeholder.
Spikes leave through ``net_event`` (a WATCH on a flag the step sets) and arrive through one
small port process per spike port, which adds each weight (converted from PyNN's unit to the
port's NESTML unit) to the model's buffer for the next step. PyNN's current sources drive the
model's current port through a generated electrode process with IClamp's interface
(``<mechanism>_current``), which adds its current to the port before each step. Fixed time
step only: the step is explicit, as in NEST.
"""

import io
import subprocess
import sys
import tokenize
from collections import defaultdict
from pathlib import Path

from ..errors import NestmlError
from . import celltype, synapsetype
from . import program as prog
from .templates import render

# Python syntax -> NMODL (C-like expressions, ^ for powers, no min/max/abs builtins)
_TOKENS = {"**": "^", "and": "&&", "or": "||", "not": "!", "True": "1", "False": "0",
           "inf": "1e300", "min": "nml_min", "max": "nml_max", "abs": "fabs",
           "clip": "nml_clip", "expm1": "nml_expm1", "ln": "log"}
# a connection's arguments in a synapse's NET_RECEIVE, after its variables
SYNAPSE_KIND = "nml_kind"  # 0: a connection's NetCon, 1: the postsynaptic cell's spikes


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


def _statements(statements, indent, emit=lambda weight: "spike_out = 1"):
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
            lines.append(f"{pad}FROM nml_i = 1 TO {prog.SUBSTEPS} {{")
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


def sources(program, mechanism):
    """The NMODL files (name -> text) of ``program`` as mechanism ``mechanism``."""
    step = prog.lower(program.step)
    assigned = ([v.name for v in program.state + program.internals]
                + [p.name for p in program.continuous_ports]
                + [p.name for p in program.spike_ports]
                + ["spike_out", prog.SUBSTEP, prog.TIME_STEP])
    context = dict(program=program, mechanism=mechanism, number=_number, nmodl=nmodl,
                   assigned=assigned,
                   range_variables=[prog.SUBSTEPS] + [v.name for v in program.parameters] + assigned[:-1],
                   locals=prog.locals_of(step) + ["nml_i"], substeps=prog.SUBSTEPS,
                   body="\n".join(_statements(step, 4)))
    files = {f"{mechanism}.mod": render("neuron.mod.jinja2", **context),
             f"{mechanism}_port.mod": render("neuron_port.mod.jinja2", mechanism=mechanism)}
    current = prog.current_port(program)
    if current is not None:
        files[f"{mechanism}_current.mod"] = render("neuron_current.mod.jinja2",
                                                   mechanism=mechanism, port=current)
    return files


def build(program, directory, mechanism):
    """Write the NMODL files into ``directory`` and compile them with nrnivmodl."""
    directory = Path(directory)
    for name, text in sources(program, mechanism).items():
        (directory / name).write_text(text)
    _nrnivmodl(directory, program.source)


def _nrnivmodl(directory, source):
    nrnivmodl = Path(sys.executable).with_name("nrnivmodl")
    result = subprocess.run([str(nrnivmodl)], cwd=directory, capture_output=True, text=True)
    if result.returncode != 0:
        errors = [line for line in (result.stdout + result.stderr).splitlines()
                  if line.startswith("Error")] or [result.stderr.strip()[-500:]]
        raise NestmlError(f"{source}: nrnivmodl failed on the generated NMODL: {errors[0]}")


def cell_type(program, directory, mechanism):
    """The PyNN cell type of ``program`` on pyNN.neuron, loading the compiled mechanisms."""
    from pyNN.neuron.simulator import load_mechanisms, state
    load_mechanisms(str(directory))
    return type(program.name, (celltype.NestmlCellType,), {
        **celltype.common_attributes(program, state.dt), "model": _cell_class(program, mechanism)})


def _cell_class(program, mechanism):
    """A class building one cell: placeholder section, the model's process and its ports."""
    from neuron import h

    scales = {v.name: v.unit.pynn_to_nestml for v in program.state}
    current = prog.current_port(program)

    class Cell:
        def __init__(self, **parameters):
            from pyNN.neuron.simulator import state
            self.section = h.Section()
            self.process = getattr(h, mechanism)(self.section(0.5))
            setattr(self.process, prog.SUBSTEPS, prog.substeps(state.dt, program.max_substep))
            for name, value in parameters.items():
                setattr(self.process, name, value)
            self.source, self.source_section = self.process, self.section
            self.rec = h.NetCon(self.source, None)
            for port in program.spike_ports:
                process = getattr(h, f"{mechanism}_port")(self.section(0.5))
                process.scale = port.weight_unit.pynn_to_nestml
                h.setpointer(getattr(self.process, f"_ref_{port.name}"), "buffer", process)
                setattr(self, port.name, process)
            self.spike_times = h.Vector(0)
            self.traces = defaultdict(list)
            self.recording_time = 0
            self.initial_values = {}
            self.recordable = {v.name: getattr(self.process, f"_ref_{v.name}")
                               for v in program.state}
            # pyNN.neuron calls memb_init before the mechanisms' INITIAL blocks, which would
            # overwrite these values with the model's defaults; apply them after instead
            self._initializer = h.FInitializeHandler(1, self._apply_initial_values)

        def current_clamp(self):
            """A new electrode driving the model's current port (what pyNN.neuron's current
            sources use instead of an IClamp, see trisim.backends.neuron). Models without a
            current port have no electrode (celltype.current_input tells them apart)."""
            clamp = getattr(h, f"{mechanism}_current")(self.section(0.5))
            clamp.scale = current.unit.pynn_to_nestml
            h.setpointer(getattr(self.process, f"_ref_{current.name}"), "port", clamp)
            return clamp

        def memb_init(self):
            pass  # see _apply_initial_values

        def _apply_initial_values(self):
            # PyNN hands initial values over in PyNN units
            for name, value in self.initial_values.items():
                setattr(self.process, name, value * scales[name])

    for variable in program.parameters:
        setattr(Cell, variable.name, _process_property(variable.name))
    if current is None:
        del Cell.current_clamp
    return Cell


def _process_property(name):
    """A parameter of the cell's process; setting it recomputes the model's internals (its
    propagators), as NEST does, so a value set between runs takes full effect."""
    def set_value(cell, value):
        setattr(cell.process, name, value)
        cell.process.nml_internals()
    return property(lambda cell: getattr(cell.process, name), set_value)


# -- synapses --------------------------------------------------------------------------------
def synapse_arguments(synapse):
    """The NET_RECEIVE arguments of a synapse: its variables, the last event time (if the
    event code reads it), the kind."""
    from .synapse import LAST_EVENT
    return synapse.connection_variables + [LAST_EVENT] * synapse.timed + [SYNAPSE_KIND]


def synapse_source(synapse, mechanism):
    """The NMODL text of ``synapse`` as mechanism ``mechanism``."""
    from . import synapse as syn
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
        loop_kind=looped[SYNAPSE_KIND], locals=[n for n in dict.fromkeys(names)
                                                  if n not in arguments],
        initial=[(v.name, nmodl(v.expression)) for v in synapse.state
                 if v.name != synapse.weight] + [(syn.LAST_EVENT, "0")] * synapse.timed,
        on_pre="\n".join(_statements(on_pre, 8, emit)),
        events={kind: "\n".join(_statements(body, 20, emit)) for kind, body in events.items()})


def build_synapse(synapse, directory, mechanism):
    """Write the synapse's NMODL into ``directory`` and compile it with nrnivmodl."""
    directory = Path(directory)
    (directory / f"{mechanism}.mod").write_text(synapse_source(synapse, mechanism))
    _nrnivmodl(directory, synapse.source)


def synapse_type(synapse, directory, mechanism):
    """The PyNN synapse type of ``synapse`` on pyNN.neuron (connected by the backend's
    Projection, see trisim.backends.neuron)."""
    from pyNN.neuron.simulator import load_mechanisms
    from pyNN.neuron.standardmodels.synapses import BaseSynapse
    from pyNN.standardmodels import StandardSynapseType

    load_mechanisms(str(directory))
    arguments = synapse_arguments(synapse)

    class NestmlSynapse(synapsetype.NestmlSynapseType, BaseSynapse, StandardSynapseType):
        model = mechanism
        postsynaptic_variable = None
        relay_mechanism = mechanism
        # PyNN name -> index in a NetCon's weight vector
        relay_fields = {("weight" if name == synapse.weight else name): index
                        for index, name in enumerate(synapse.connection_variables)}
        relay_kind_index = len(arguments) - 1

        def _get_minimum_delay(self):
            from pyNN.neuron.simulator import state
            return state.dt

        def modulator_sources(self):
            """[(event kind, gids, delay in ms)]: the third-factor cells whose spikes reach
            every relay of a projection, by port, one time step after they are emitted."""
            from pyNN.neuron.simulator import state
            return [(2 + synapse.mod_ports.index(port),
                     [int(gid) for gid in population.all_cells], state.dt)
                    for port, population in self.modulators.items()]

    return type(synapse.name, (NestmlSynapse,),
                synapsetype.common_attributes(synapse, "NEURON"))
