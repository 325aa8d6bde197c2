"""NEURON target: a NESTML neuron as a generated NMODL POINT_PROCESS, compiled with nrnivmodl.

The point process holds the model's variables and runs the model's step
(:mod:`trisim.codegen.program`) once per NEURON time step; its section is a placeholder.
Spikes leave through ``net_event`` (a WATCH on a flag the step sets) and arrive through one
small port process per spike port, which adds each weight (converted from PyNN's unit to the
port's NESTML unit) to the model's buffer for the next step. PyNN's current sources drive the
model's current port through a generated electrode process with IClamp's interface
(``<mechanism>_current``), which adds its current to the port before each step. Fixed time
step only: the step is explicit, as in NEST. The NMODL text is printed by
:mod:`trisim.codegen.printers.neuron`; this module compiles it and builds the PyNN types.
"""

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from ..errors import NestmlError
from . import celltype, synapsetype
from . import program as prog
from .printers import neuron as nmodl


def build(program, directory, mechanism):
    """Write the NMODL files into ``directory`` and compile them with nrnivmodl."""
    directory = Path(directory)
    for name, text in nmodl.cell_sources(program, mechanism).items():
        (directory / name).write_text(text)
    _nrnivmodl(directory, program.source)


def _nrnivmodl(directory, source):
    nrnivmodl = Path(sys.executable).with_name("nrnivmodl")
    result = subprocess.run([str(nrnivmodl)], cwd=directory, capture_output=True, text=True)
    if result.returncode != 0:
        # the first error nocmodl or the C++ compiler names, else the last line printed
        lines = [line.strip() for line in (result.stdout + result.stderr).splitlines()
                 if line.strip()]
        first = next((line for line in lines if re.match(r"Error|\S+:\d+:(\d+:)? error", line)),
                     lines[-1] if lines else f"exit status {result.returncode}")
        raise NestmlError(f"{source}: nrnivmodl failed on the generated NMODL: {first}")


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
def build_synapse(synapse, directory, mechanism):
    """Write the synapse's NMODL into ``directory`` and compile it with nrnivmodl."""
    directory = Path(directory)
    (directory / f"{mechanism}.mod").write_text(nmodl.synapse_source(synapse, mechanism))
    _nrnivmodl(directory, synapse.source)


def synapse_type(synapse, directory, mechanism):
    """The PyNN synapse type of ``synapse`` on pyNN.neuron (connected by the backend's
    Projection, see trisim.backends.neuron)."""
    from pyNN.neuron.simulator import load_mechanisms
    from pyNN.neuron.standardmodels.synapses import BaseSynapse
    from pyNN.standardmodels import StandardSynapseType

    load_mechanisms(str(directory))
    arguments = nmodl.synapse_arguments(synapse)

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
