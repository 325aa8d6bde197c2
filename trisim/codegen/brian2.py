"""Brian2 target: a NESTML neuron as a NeuronGroup whose step is generated Brian2 code.

The code is printed by :mod:`trisim.codegen.printers.brian2` and stored in the compile
cache; this module makes the PyNN types that run it. The model's step
(:mod:`trisim.codegen.program`) runs as a ``run_regularly`` operation at the end of each time
step. Model variables hold numbers in the units the .nestml file declares, as on NEST and
NEURON; PyNN's unit conversion happens where values enter (translations). Storing them in SI
units instead, and converting every step, changed timers such as ``refr_t`` by one rounding
error and so spike times by a step. A spike sets a flag that Brian2's threshold sees at the
start of the next step, so it is stamped at the end of the step that produced it, as on NEST;
the step clears the flag before it computes.
A model with a current port (:func:`trisim.codegen.program.current_port`) also has
``i_inj``, which pyNN.brian2's current sources set at the start of each step; the step adds
it, converted to the port's unit, to the port.
"""

import json
import re

import numpy as np
from pyNN.standardmodels import StandardSynapseType

from . import celltype, synapsetype
from . import program as prog
from .printers import brian2 as code

CODE_FILE = "brian2_code.json"


def build(program, directory, native_name):
    """Print the model's Brian2 equations and step code into ``directory``."""
    (directory / CODE_FILE).write_text(json.dumps(code.cell_code(program), indent=1))


def _quantity(scale, si_powers):
    import brian2
    value = scale
    for name, power in zip(("kilogram", "metre", "second", "amp"), si_powers):
        value = value * getattr(brian2, name) ** power
    return value


def _functions():
    """Brian2 functions the step code uses that Brian2 lacks, for numpy, Cython and C++."""
    from brian2 import Function
    from brian2.core.functions import DEFAULT_FUNCTIONS  # noqa: F401  (registers targets)

    def make(name, python, arguments, body, arg_types, header="", cpp=None):
        """``body`` returns the value of C function ``name(arguments)``; inline and
        noexcept, so that the C compiler can fold it into the step's loop (a plain cdef
        function is a call, with an exception check, per use: most of the step's time).
        ``cpp`` is the same function in C++ (``arguments`` and the expression it returns),
        for Brian2's C++ standalone device."""
        function = Function(python, arg_units=[1] * len(arg_types), return_unit=1,
                            arg_types=arg_types, return_type="float", stateless=True)
        cython = (f"{header}cdef inline double {name}({arguments}) noexcept nogil:\n"
                  f"    return {body}")
        function.implementations.add_implementation("cython", cython, name=name)
        cpp_arguments, cpp_body = cpp
        function.implementations.add_implementation(
            "cpp", f"static inline double {name}({cpp_arguments}) {{ return {cpp_body}; }}",
            name=name)
        return function

    return {
        "nml_where": make("nml_where", lambda c, a, b: np.where(c, a, b),
                          "bint c, double a, double b", "a if c else b",
                          ["boolean", "any", "any"],
                          cpp=("bool c, double a, double b", "c ? a : b")),
        "nml_fmin": make("nml_fmin", np.minimum, "double a, double b", "a if a < b else b",
                        ["any", "any"], cpp=("double a, double b", "a < b ? a : b")),
        "nml_fmax": make("nml_fmax", np.maximum, "double a, double b", "a if a > b else b",
                        ["any", "any"], cpp=("double a, double b", "a > b ? a : b")),
        "nml_div": make("nml_div", lambda a, b: np.true_divide(a, b), "double a, double b",
                        "a / b", ["any", "any"],
                        header="cimport cython\n@cython.cdivision(True)\n",
                        cpp=("double a, double b", "a / b")),
        "nml_exp_minus_1": make("nml_exp_minus_1", np.expm1, "double x", "expm1(x)", ["float"],
                          header="from libc.math cimport expm1\n",
                          cpp=("double x", "expm1(x)")),
        prog.TERNARY: make(prog.TERNARY, lambda c, a, b: np.where(c, a, b),
                           "double c, double a, double b", "a if c != 0 else b",
                           ["any", "any", "any"],
                           cpp=("double c, double a, double b", "c != 0 ? a : b")),
        prog.TRUNCATE: make(prog.TRUNCATE, np.trunc, "double x", "trunc(x)", ["any"],
                            header="from libc.math cimport trunc\n",
                            cpp=("double x", "trunc(x)")),
        prog.REMAINDER: make(prog.REMAINDER, np.fmod, "double a, double b", "fmod(a, b)",
                             ["any", "any"], header="from libc.math cimport fmod\n",
                             cpp=("double a, double b", "fmod(a, b)")),
        prog.STEPS: make(prog.STEPS, _steps, "double t, double step",
                         "floor((floor(t * 1000 + 0.5) + floor(step * 1000 + 0.5) - 1) "
                         "/ floor(step * 1000 + 0.5))", ["any", "any"],
                         header="from libc.math cimport floor\ncimport cython\n"
                                "@cython.cdivision(True)\n",
                         cpp=("double t, double step",
                              "floor((floor(t * 1000 + 0.5) + floor(step * 1000 + 0.5) - 1) "
                              "/ floor(step * 1000 + 0.5))")),
    }


def shared(equations, names):
    """``equations`` (Brian2 Equations) with the parameters among ``names`` stored once (shared
    by every cell or connection)."""
    from brian2 import Equations
    from brian2.equations.equations import PARAMETER, SingleEquation
    return Equations([
        SingleEquation(eq.type, eq.varname, eq.dim, eq.var_type, eq.expr,
                       (*eq.flags, "shared"))
        if eq.type == PARAMETER and eq.varname in names and "shared" not in eq.flags else eq
        for eq in equations.values()])


def _internals_stored_once(equations, internals):
    """Names of the ``internals`` ([name, expression] in the order computed) that are
    computed from values stored once only, and so can be stored once too: the step then
    reads them as constants (Brian2 computes what it can from them once per step). An
    internal drawn at random (``random_normal(...)``) is drawn for each cell."""
    from brian2.core.functions import DEFAULT_FUNCTIONS
    from brian2.utils.stringtools import get_identifiers
    once = {name for name, eq in equations.items() if "shared" in eq.flags}
    for name, expression in internals:
        identifiers = get_identifiers(expression)
        drawn = any(not DEFAULT_FUNCTIONS[function].stateless
                    for function in identifiers & DEFAULT_FUNCTIONS.keys())
        if not drawn and all(identifier in once or identifier not in equations
                             for identifier in identifiers):
            once.add(name)
    return once


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
    step = code.repeat_substeps(generated["step"], count)
    namespace = {name: _quantity(scale, powers)
                 for name, (scale, powers) in generated["units"].items()}
    # the step in ms as the exact number PyNN was given (dt / ms is not exact in floats)
    namespace[prog.TIME_STEP] = simulator.state.dt
    namespace[prog.SUBSTEP] = simulator.state.dt / count
    namespace.update(_functions())

    internals = [line.split(" = ", 1) for line in generated["internals"].splitlines()]

    class Group(brian2.NeuronGroup):
        def __init__(self, n, equations, **parameters):
            equations = brian2.Equations(equations) if isinstance(equations, str) else equations
            equations = shared(equations, _internals_stored_once(equations, internals))
            super().__init__(n, model=equations, threshold=f"{code.SPIKE_FLAG} > 0.5",
                             namespace=namespace, clock=simulator.state.network.clock,
                             name=f"{native_name}*")
            # The step is the model's whole update, and it clears the spike flag itself:
            # Brian2's state updater (no equations to integrate) and a resetter would be two
            # more objects called at every step, each compiled on a first start.
            self.state_updater.active = False
            for name, value in parameters.items():
                setattr(self, name, value)
            # before pyNN.brian2's monitors, which record in the same slot
            self.run_regularly(f"{code.SPIKE_FLAG} = 0\n{step}", when="end", order=-1,
                               name=f"{self.name}_step")
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
            if not internals:
                return
            if self.internals_code is None or any(  # (values made per cell since)
                    self.variables.get(name, variable) is not variable
                    for name, variable in self.internals_code.variables.items()):
                from brian2.codegen.codeobject import create_runner_codeobj
                from brian2.devices.device import get_device
                # Brian2 computes values stored once before the others (in the order given)
                lines = sorted(internals, key=lambda line: not self.variables[line[0]].scalar)
                self.internals_code = create_runner_codeobj(
                    self, "\n".join(" = ".join(line) for line in lines), "stateupdate",
                    run_namespace=run_namespace,
                    codeobj_class=get_device().code_object_class(
                        fallback_pref="codegen.string_expression_target"))
            self.internals_code()

        def computed_from(self, name):
            """The internals computed from ``name``, directly or through other internals."""
            from brian2.utils.stringtools import get_identifiers
            found = {name}
            for internal, expression in internals:
                if found & get_identifiers(expression):
                    found.add(internal)
            return found - {name}

        def initialize(self):
            for name, values in self.initial_values.items():
                setattr(self, name, values)

    attributes = celltype.common_attributes(program, simulator.state.dt)
    attributes.update(
        state_variable_translations=build_translations(*[(v.name, v.name, v.unit.pynn_to_nestml)
                                                         for v in program.state]),
        eqs=equations, brian2_model=Group,
        post_synaptic_variables={p.name: p.name for p in program.spike_ports},
        # pyNN.brian2 adds every weight times nA (see printers.brian2._port_unit)
        conductance_based=False, voltage_based_synapses=False,
    )
    return type(program.name, (celltype.NestmlCellType,), attributes)


# -- synapses --------------------------------------------------------------------------------
def assigned(code):
    """Names that Brian2 abstract ``code`` (or None) assigns to."""
    return set(re.findall(r"^\s*(\w+)\s*[-+*/]?=(?!=)", code or "", re.MULTILINE))


def build_synapse(synapse, directory, native_name):
    """Print the synapse's Brian2 variables and event code into ``directory``."""
    (directory / CODE_FILE).write_text(json.dumps(code.synapse_code(synapse), indent=1))


def synapse_type(synapse, directory, native_name):
    """The PyNN synapse type of ``synapse`` on pyNN.brian2."""
    import brian2
    generated = json.loads((directory / CODE_FILE).read_text())
    # Brian2 warns that event code which adds to a postsynaptic variable and draws random
    # numbers "may depend on the order of execution"; Cython runs synapses one at a time, in
    # order, which is the semantics of NESTML's event code.
    brian2.BrianLogger.suppress_name("brian2.codegen.generators.base")
    native = generated["native"]  # model name -> Brian2 name (the weight: "weight")
    return type(synapse.name, (NestmlSynapse,), {
        **synapsetype.common_attributes(synapse, "Brian2", lambda variable: native[variable.name],
                                        delay_unit=brian2.ms),
        "generated": generated, "brian2_variables": tuple(generated["variables"])})


class NestmlSynapse(synapsetype.NestmlSynapseType, StandardSynapseType):
    """A NESTML synapse on pyNN.brian2: Brian2 Synapses running the printed event code
    (:func:`trisim.codegen.printers.brian2.synapse_code`) of the subclass's ``generated``."""

    generated = None  # the printed code, as stored in the compile cache
    initial_conditions = {}  # set from the model's expressions after connecting
    _weight_scale = 1.0
    delay_variable = code.SYNAPSE_DELAY

    def __init__(self, modulators=None, **parameters):
        self.modulations = []  # the Brian2 Synapses that bring the modulators' spikes
        super().__init__(modulators, **parameters)

    def get_schema(self):
        """PyNN's schema, with the state variables, which Projection.get reads."""
        return {**super().get_schema(), **{v.name: float for v in self.program.state
                                           if v.name != self.program.weight}}

    @property
    def eqs(self):
        """The Synapses' variables, one per connection (a projection stores values that are
        the same for every connection once: see :attr:`fixed`)."""
        return "\n".join(f"{name} : 1" for name in self.generated["variables"])

    @property
    def fixed(self):
        """Brian2 names of the parameters that no event changes (the weight among them, if
        so): a projection may store such a value once."""
        written = assigned(self.generated["on_pre"]) | assigned(self.generated["on_post"])
        for event in self.generated["on_mod"].values():  # modulators write name_post
            written |= {name.removesuffix("_post") for name in assigned(event)}
        fixed = [name for name in self.generated["fixed"] if name != code.SYNAPSE_DELAY]
        return fixed + ["weight"] * ("weight" not in written)

    @property
    def pre(self):
        return self.generated["on_pre"].replace("%(weight_scale)s", repr(self._weight_scale))

    @property
    def post(self):
        if self.generated["on_post"] is None:
            return None
        return self.generated["on_post"].replace("%(weight_scale)s", repr(self._weight_scale))

    def _get_minimum_delay(self):
        from pyNN.brian2.simulator import state
        return state.dt

    def _set_target_type(self, weight_units):
        import brian2
        # weights stay numbers in PyNN's unit (uS, nA or mV); a spike adds them in SI
        self._weight_scale = float(weight_units / brian2.get_unit(weight_units.dim))

    def connected(self, synapses, delay_advance, delays=None):
        """Finish ``synapses`` (one Brian2 Synapses object) after all were connected.

        ``delay_advance`` (ms) is how much earlier than its delay the receptor takes a
        spike (see trisim.backends.brian2.Projection); ``delays`` as for
        :meth:`delays_set`.
        """
        import brian2
        from pyNN.brian2.simulator import state
        if synapses.namespace is None:
            synapses.namespace = {}
        synapses.namespace.update(_functions())
        self.delays_set(synapses, delay_advance, delays)  # (the last event time starts at 0)
        for name, value in self.generated["initial"].items():
            setattr(synapses, name, value)
        if self.generated["on_post"] is not None:
            synapses.post.order = synapses.pre.order - 1
        for port, population in self.modulators.items():
            # the third-factor cells' spikes reach every connection, one step after
            # they are emitted (as NEST's volume transmitter takes them)
            modulation = brian2.Synapses(
                population.brian2_group, synapses, on_pre=self.generated["on_mod"][port],
                namespace=dict(_functions()), clock=state.network.clock,
                delay=state.dt * brian2.ms, name=f"{synapses.name}_{port}*")
            modulation.connect()
            modulation.pre.order = synapses.pre.order - 2
            state.network.add(modulation)
            self.modulations.append(modulation)

    def delays_set(self, synapses, delay_advance, delays=None):
        """Derive from the delays of ``synapses`` (as delivered) the synapse's own copy
        of them and the delay of its postsynaptic events: at creation, and again when
        Projection.set changes the delays. ``delays`` (ms, one or one per connection) are
        those delays when the caller knows them: Brian2's standalone device cannot read
        them back before its run."""
        import brian2
        if delays is None:
            delay = synapses.delay[:] / brian2.ms  # D, as delivered
        else:
            delay = np.asarray(delays, dtype=float)
        if synapses.variables[code.SYNAPSE_DELAY].scalar:  # all equal (the Projection checks)
            delay = np.ravel(delay)[0]
        setattr(synapses, code.SYNAPSE_DELAY, delay)
        if self.generated["on_post"] is not None:
            # a postsynaptic spike is an event after the full delay d = D + advance,
            # measured from presynaptic arrival: at t_post + D + d, before arrivals
            synapses.post.delay = (2 * delay + delay_advance) * brian2.ms
