"""NESTML models on every backend: one front end, one module per target.

``cell_type(path, backend)`` turns a .nestml neuron into a PyNN cell type for the named
backend, ``synapse_type(path, backend)`` a .nestml synapse into a PyNN synapse type. The front end (:mod:`.frontend`: NESTML's parser, checks and ODE-toolbox analysis) and
the target-neutral step program (:mod:`.program`) are shared; :mod:`.nest` hands the model to
NESTML's own NEST target, :mod:`.neuron` prints NMODL and :mod:`.brian2` prints Brian2 code.
Built models are cached (:mod:`.cache`).
"""

import importlib
import re
from pathlib import Path

from ..backends import simulator
from ..errors import NestmlError
from . import cache

_MODEL_NAME = re.compile(r"^\s*model\s+(\w+)\s*:", re.MULTILINE)


def model_name(path, source):
    match = _MODEL_NAME.search(source)
    if match is None:
        raise NestmlError(f"{path}:1: no 'model NAME:' declaration found")
    return match.group(1)


def built(path, backend, kind="neuron", paired=()):
    """The cache directory of the .nestml ``kind`` ("neuron" or "synapse") ``path`` built for
    ``backend``, and the model's name there.

    ``paired``: (path, synapse program, native name) of synapses a neuron is built with, on a
    target that compiles postsynaptic-port synapses together with their neuron (NEST).
    """
    described = simulator(backend)  # its target module and distribution
    path = Path(path)
    source, name = _source(path, kind)
    target = importlib.import_module(described.codegen)
    variant = getattr(target, "build_variant", lambda: "")()
    cache_key = cache.key("\0".join([source] + [native for _, _, native in paired]), backend,
                          described.distribution, variant)

    def build(directory):
        from . import frontend, program, synapse
        analysis = frontend.analyse(path)
        if kind == "synapse":
            analysed = synapse.build(analysis)
            synapse.save(analysed, directory / "synapse.json")
            target.build_synapse(analysed, directory, _native_name(name, cache_key))
        else:
            analysed = program.build(analysis)
            program.save(analysed, directory / "program.json")
            if paired:
                target.build_paired(analysed, paired, directory, _native_name(name, cache_key))
            else:
                target.build(analysed, directory, _native_name(name, cache_key))

    return cache.entry(backend, name, cache_key, build), _native_name(name, cache_key)


def _source(path, kind):
    """The text of the NESTML file ``path`` and the name of its model, which must be a ``kind``
    ("neuron" or "synapse")."""
    try:
        source = path.read_text()
    except OSError as exc:
        raise NestmlError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise NestmlError(f"{path}: not a text file") from None
    name = model_name(path, source)
    # NESTML tells synapses from neurons by this suffix
    if name.endswith("_synapse") != (kind == "synapse"):
        other = "synapse_type()" if kind == "neuron" else "cell_type()"
        raise NestmlError(f"{path}:1: {name} is a {'neuron' if kind == 'synapse' else 'synapse'} "
                          f"model; use {other}")
    return source, name


def check(path, kind="neuron"):
    """Check the NESTML ``kind`` ("neuron" or "synapse") in file ``path`` with no simulator:
    the file is readable text declaring one such model, which parses and passes NESTML's checks.

    Commands call this before starting a simulator, so that a bad file gives one line and no
    simulator start-up. A text that passed once is remembered in the compile cache (parsing
    costs about 2 s) and not parsed again.

    Raises
    ------
    NestmlError
        Naming the file, and its line where NESTML gives one.
    """
    path = Path(path)
    source, name = _source(path, kind)
    checked = cache.root() / "checked" / cache.key(source, "check", "NESTML")
    if not checked.is_file():
        from . import frontend
        frontend.check(path)
        checked.parent.mkdir(parents=True, exist_ok=True)
        checked.touch()
    return name


def _native_name(name, cache_key):
    # the key in the name lets two versions of one model live in one process; NESTML tells a
    # synapse by the end of its name
    if name.endswith("_synapse"):
        return f"{name[:-len('_synapse')]}_{cache_key[:8]}_synapse"
    return f"{name}_{cache_key[:8]}"


def cell_type(path, backend, synapses=()):
    """A PyNN cell type, for ``backend``, of the NESTML neuron in ``path``.

    Parameters, initial values, recordables and receptor types (one per spike port) keep the
    names of the .nestml file; values are in PyNN's units (ms, mV, nA, uS, nF). ``synapses``
    are NESTML synapse files that will connect onto this cell; those with a postsynaptic port
    are compiled together with it where the target needs that (NEST).
    """
    from . import program
    target = importlib.import_module(simulator(backend).codegen)
    paired = []
    if getattr(target, "PAIRS_POST_SYNAPSES", False):
        for synapse_path in synapses:
            synapse, synapse_directory, native = _synapse_program(synapse_path, backend)
            if synapse.post_port:
                paired.append((str(synapse_path), synapse, native))
    directory, native_name = built(path, backend, paired=tuple(paired))
    arguments = (_from(path, program.load(directory / "program.json")), directory, native_name)
    if paired:
        return target.cell_type(*arguments, paired=paired)
    return target.cell_type(*arguments)


def _synapse_program(path, backend):
    from . import synapse
    directory, native_name = built(path, backend, kind="synapse")
    return _from(path, synapse.load(directory / "synapse.json")), directory, native_name


def _from(path, analysed):
    """``analysed`` naming ``path`` as its source: the cache is keyed by the text, so an entry
    may have been built from the same text in another file (another checkout), and messages
    must name the user's file."""
    analysed.source = str(path)
    return analysed


def synapse_type(path, backend):
    """A PyNN synapse type, for ``backend``, of the NESTML synapse in ``path``.

    Parameters keep the names of the .nestml file; ``weight`` is the model's ``w``, a number
    in PyNN's weight unit (uS or nA, as the receptor takes), and so is every weight-like
    parameter the model compares with it. Plastic weights are read with
    ``Projection.get("weight", ...)`` during and after a run.
    """
    target = importlib.import_module(simulator(backend).codegen)
    return target.synapse_type(*_synapse_program(path, backend))
