"""NEST target: NESTML's own NEST code generator, built against the nest-simulator wheel.

The wheel's ``nest-config`` describes the machine the wheel was built on, so NESTML's build
gets a small replacement (:func:`nest_config`) that points at the wheel's headers and the
compiler flags the wheel was built with (the old C++ ABI flag is essential, and NDEBUG as the
kernel has it: NEST's headers' asserts otherwise run in every NESTML cell's update loop). The model is
generated under a name that includes its cache key, so two versions of a model can be
installed in one NEST process.
"""

import hashlib
import os
import re
import stat
from copy import deepcopy
from pathlib import Path

import numpy as np

from ..errors import NestmlError
from ..quiet import quiet_stdout
from . import cache, celltype, frontend, synapsetype
from .printers import nest as code

_installed = {}  # module file -> the NEST models it added, per process
_modulated_models = []  # copies of synapse models with a volume transmitter, per process


def nest_config():
    """A directory with ``bin/nest-config`` answering for the installed NEST wheel.

    The kernel's symbols need no ``--libs``: NEST loads its kernel with RTLD_GLOBAL.
    """
    import nest
    from importlib import metadata
    include = Path(nest.__file__).parent / "include" / "nest"
    mpi_includes = _mpi_includes()
    # one script per NEST installation: environments with and without MPI (make setup-mpi)
    # share the model cache, and a build must never read another installation's headers
    installation = hashlib.sha256(f"{include}\0{mpi_includes}".encode()).hexdigest()[:16]
    prefix = cache.root().parent / "nest-config" / installation
    script = prefix / "bin" / "nest-config"
    text = code.nest_config(prefix=prefix, version=metadata.version("nest-simulator"),
                            include=include, mpi_includes=mpi_includes,
                            ndebug=nest.build_info["ndebug"])
    if not script.is_file() or script.read_text() != text:
        script.parent.mkdir(parents=True, exist_ok=True)
        temporary = script.with_suffix(f".tmp{os.getpid()}")
        temporary.write_text(text)
        temporary.chmod(temporary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        temporary.replace(script)
    return prefix


def build_variant():
    """"mpi" for a NEST built with MPI (``make setup-mpi``): its headers differ from the wheel's,
    so its modules are built and cached apart."""
    import nest
    return "mpi" if nest.build_info.get("have_mpi") else ""


def _mpi_includes():
    """The MPI include flags a NEST built with MPI needs (its headers include mpi.h)."""
    import shutil
    import subprocess
    if not build_variant() or not shutil.which("mpicxx"):
        return ""
    flags = subprocess.run(["mpicxx", "--showme:compile"], capture_output=True, text=True)
    return " " + flags.stdout.strip() if flags.returncode == 0 else ""


def _module(native_name):
    return f"{native_name}module"  # NESTML wants module names ending in "module"


def build(program, directory, native_name):
    """Generate and compile the NEST module of ``program`` into ``directory``."""
    _generate([(program.source, Path(program.source).read_text(), native_name)], directory,
              native_name)


def build_synapse(synapse, directory, native_name):
    """Generate and compile the NEST module of a synapse program into ``directory``.

    The model is NESTML's own, with every transmitted weight multiplied by a per-connection
    parameter (:data:`trisim.codegen.printers.nest.WEIGHT_SCALE`): the model keeps weights
    in PyNN's units (uS, nA), NEST takes nS and pA, and conductances onto NEST's built-in
    cells as negative numbers when inhibitory; the backend sets the factor per connection.
    """
    if synapse.post_port:
        return  # built with its postsynaptic neuron (build_paired)
    from .synapse import WEIGHT_VARIABLE
    source = Path(synapse.source).read_text()
    # NEST's Connection weight is the model's w; the delay is the Connection's own
    _generate([(synapse.source, code.scaled_emission(source, synapse.source), native_name)],
              directory, native_name, {"weight_variable": {native_name: WEIGHT_VARIABLE}})


# NESTML's NEST target compiles a synapse with a postsynaptic port together with the neuron
# it connects onto: the synapse reads the neuron's spike history (as NEST's own STDP synapses
# do). trisim keeps every synapse variable in the synapse ("strictly synaptic"), so each
# connection keeps its own traces and parameters, as on the other targets.
PAIRS_POST_SYNAPSES = True


def build_paired(program, paired, directory, native_name):
    """Generate and compile a neuron together with the postsynaptic-port synapses ``paired``
    ([(path, synapse program, native synapse name)])."""
    from .synapse import WEIGHT_VARIABLE
    sources = [(program.source, Path(program.source).read_text(), native_name)]
    pairs = {}
    options = {"neuron_synapse_pairs": [{"neuron": native_name, "synapses": pairs}],
               "strictly_synaptic_vars": {}, "weight_variable": {}}
    for path, synapse, synapse_name in paired:
        if len(synapse.mod_ports) > 1:
            raise NestmlError(f"{path}: on NEST, a synapse has at most one third-factor port "
                              f"(its volume transmitter); this one has "
                              f"{', '.join(synapse.mod_ports)}")
        sources.append((path, code.scaled_emission(Path(path).read_text(), path), synapse_name))
        pairs[synapse_name] = {"post_ports": [synapse.post_port]}
        if synapse.mod_ports:
            pairs[synapse_name]["vt_ports"] = list(synapse.mod_ports)
        options["strictly_synaptic_vars"][synapse_name] = [v.nestml_name for v in synapse.state]
        options["weight_variable"][synapse_name] = WEIGHT_VARIABLE
    _generate(sources, directory, native_name, options)


def _generate(sources, directory, module_name, options=None):
    """Build one NEST module from [(path, NESTML text, name to give the model)]."""
    from pynestml.frontend.pynestml_frontend import generate_nest_target
    models = directory / "models"
    models.mkdir()
    for _, source, native_name in sources:
        (models / f"{native_name}.nestml").write_text(code.renamed_model(source, native_name))
    path = ", ".join(str(p) for p, _, _ in sources)
    # NESTML's NEST target analyses the model again (ODE-toolbox would convert each kernel to
    # ODEs four more times); the conversions of the front end's analysis are reused
    with quiet_stdout() as printed, frontend.kernels_converted_once():
        try:
            generate_nest_target(str(models), target_path=str(directory / "build"),
                                 install_path=str(directory), module_name=_module(module_name),
                                 logging_level="ERROR",
                                 codegen_opts={"nest_path": str(nest_config()),
                                               **(options or {})})
        except Exception as exc:
            raise NestmlError(f"{path}: NESTML's NEST build failed: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                              ) from exc
        if not (directory / f"{_module(module_name)}.so").is_file():
            errors = [line for line in printed().splitlines() if "rror" in line][:1]
            raise NestmlError(f"{path}: NESTML's NEST build produced no module "
                              f"({errors[0] if errors else 'no error message'})")


def cell_type(program, directory, native_name, paired=()):
    """The PyNN cell type of ``program`` on pyNN.nest, installing its module once.

    With ``paired`` synapses, the cell is NESTML's neuron built with them, and the cell type
    names, per paired synapse, the NEST synapse model that connects onto it.
    """
    import nest
    _install(directory, native_name)
    paired_synapses = {}
    if paired:
        models = [m for m in nest.node_models if m.startswith(f"{native_name}__with_")]
        for _, _, synapse_name in paired:
            paired_synapses[synapse_name] = f"{synapse_name}__with_{native_name}"
        native_name = models[0]
    receptors = nest.GetDefaults(native_name).get("receptor_types") or {}
    attributes = celltype.common_attributes(program, nest.resolution,
                                            lambda variable: variable.nestml_name)
    attributes.update(
        nest_name={"on_grid": native_name, "off_grid": native_name},
        # one NEST port routed by sign (excitatory/inhibitory qualifiers) or numbered ports
        standard_receptor_type=not receptors,
        sign_routed_ports=({p.name: _qualifier(program, p.name) for p in program.spike_ports}
                           if not receptors else {}),
        nest_receptor_ids={name.lower(): number for name, number in receptors.items()},
        variable_map={v.name: v.nestml_name for v in program.state},
        scale_factors={v.name: 1.0 for v in program.state},  # recorded in NESTML units
        initial_value_scale={v.name: v.unit.pynn_to_nestml for v in program.state},
        # NEST takes NESTML booleans and integers only as bool and int
        value_types={v.name: {"boolean": bool, "integer": int}[v.type]
                     for v in program.parameters + program.state if v.type != "real"},
        # by port: pyNN.nest multiplies weights by 1000 (uS -> nS, nA -> pA); the backend
        # corrects the ports whose weights are in other units (pyNN.nest's receptor_scale
        # is one number per cell type)
        port_weight_scales={p.name: p.weight_unit.pynn_to_nestml / 1000.0
                            for p in program.spike_ports},
        get_receptor_type=lambda self, name: self.nest_receptor_ids[name.lower()],
        paired_synapses=paired_synapses,
    )
    for variable in program.parameters:  # NEST checks the Python type of these
        if variable.type != "real":
            attributes["translations"][variable.name] = _typed_translation(variable)
    return type(program.name, (celltype.NestmlCellType,), attributes)


def _typed_translation(variable):
    """A PyNN translation handing NEST a boolean or integer parameter as Python bool or int
    (PyNN evaluates values to numpy scalars, which NEST refuses for these types)."""
    kind = {"boolean": bool, "integer": int}[variable.type]

    def as_python(values):
        if np.ndim(values) == 0:
            return kind(values)
        return np.array([kind(v) for v in np.ravel(values)], dtype=object).reshape(
            np.shape(values))

    def forward(**parameters):
        value = deepcopy(parameters[variable.name])
        value.apply(as_python)
        return value

    return {"translated_name": variable.nestml_name, "forward_transform": forward,
            "reverse_transform": variable.nestml_name, "type": "computed"}


def _qualifier(program, port):
    """'inhibitory' if NEST expects negative weights on ``port``, else 'excitatory'."""
    source = Path(program.source).read_text()
    match = re.search(rf"^\s*{re.escape(port)}\s*<-\s*(\w+)\s+spike", source, re.MULTILINE)
    return "inhibitory" if match and match.group(1) == "inhibitory" else "excitatory"


def synapse_type(synapse, directory, native_name):
    """The PyNN synapse type of ``synapse`` on pyNN.nest, installing its module once."""
    import nest
    from pyNN.nest.synapses import NESTSynapseMixin
    from pyNN.standardmodels import StandardSynapseType

    if not synapse.post_port:
        _install(directory, native_name)

    class NestmlSynapse(synapsetype.NestmlSynapseType, StandardSynapseType, NESTSynapseMixin):
        nest_name = native_name
        # the weight stays in PyNN's unit (see build_synapse); the backend sets this factor
        weight_scale_parameter = code.WEIGHT_SCALE

        def _get_minimum_delay(self):
            return nest.resolution

        def _get_nest_synapse_model(self):
            """pyNN.nest's model for a new projection; with third-factor cells, a copy of
            it (with the projection's defaults) whose volume transmitter receives their
            spikes one time step after they are emitted."""
            model = super()._get_nest_synapse_model()
            if not self.modulators:
                return model
            (port, population), = self.modulators.items()
            copy = f"{model}_{port}_{len(_modulated_models)}"
            transmitter = nest.Create("volume_transmitter")
            nest.Connect(population.node_collection, transmitter,
                         syn_spec={"delay": nest.resolution})
            nest.CopyModel(model, copy, {"volume_transmitter": transmitter})
            _modulated_models.append(copy)
            return copy

    return type(synapse.name, (NestmlSynapse,), {
        **synapsetype.common_attributes(synapse, "NEST", lambda variable: variable.nestml_name),
        "native_name": native_name})  # the key of post cell types' paired_synapses


def _install(directory, native_name):
    import nest
    module = str(directory / f"{_module(native_name)}.so")
    loaded = set(nest.node_models) | set(nest.synapse_models)
    # a kernel reset (a new setup in the same process) unloads the module's models
    if module not in _installed or not _installed[module] <= loaded:
        if nest.network_size > 0:
            raise NestmlError(f"{native_name}: NEST loads NESTML models only into an empty "
                              "network; create NESTML cell and synapse types before the first "
                              "Population")
        nest.Install(module)
        _installed[module] = (set(nest.node_models) | set(nest.synapse_models)) - loaded
