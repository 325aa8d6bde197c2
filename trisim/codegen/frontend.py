"""The shared front end: NESTML's own parser, checks, transformers and ODE-toolbox analysis.

:func:`analyse` runs NESTML's pipeline up to, not including, code generation, and returns the
model AST with the namespace NESTML's generators render templates from (propagators, update
expressions, numeric right-hand sides, spike updates). Every target starts from this; only
printing differs. NESTML keeps global state (symbol tables, its logger), so models are analysed
one at a time in the calling process.
"""

import contextlib
import copy
import io
import logging
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import NestmlError


@dataclass
class Analysis:
    """A parsed, checked and analysed NESTML model."""

    path: Path
    model: object  # pynestml ASTModel, after transformation
    namespace: dict  # what NESTML's generators pass to their templates
    is_synapse: bool

    @property
    def name(self):
        return self.model.get_name()


def _first_error(path):
    from pynestml.utils.logger import Logger, LoggingLevel
    for _, _, level, _, position, message in Logger.get_log().values():
        if level == LoggingLevel.ERROR:
            where = f":{position.start_line}" if position is not None else ""
            return NestmlError(f"{path}{where}: {message}")
    return None


def fail_at(path, node, message):
    """A :class:`NestmlError` at the source line of AST ``node``."""
    position = node.get_source_position() if node is not None else None
    where = f":{position.start_line}" if position is not None else ""
    return NestmlError(f"{path}{where}: {message}")


@contextlib.contextmanager
def _quiet_logger(name):
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


# each kernel's ODEs, by everything ODE-toolbox derives them from; kept for the process
_KERNEL_ODES = {}


@contextlib.contextmanager
def kernels_converted_once():
    """Within this context ODE-toolbox turns each kernel (a function of time) into ODEs once.

    NESTML's analysis runs ODE-toolbox twice for a model with both an exact and a numeric
    solver, and ODE-toolbox reads its input twice per run: four conversions of every kernel,
    each solving for its ODE's coefficients with ``sympy.simplify`` (most of the front end's
    time), and NESTML's NEST target runs the whole analysis again. The conversion is only
    reachable as ``Shape.from_function``, so it is replaced here for the duration; each caller
    gets its own copy of the remembered shape.
    """
    from odetoolbox.config import Config
    from odetoolbox.shapes import Shape

    convert = Shape.__dict__["from_function"]

    def from_function(cls, symbol, definition, max_t=100, max_order=4,
                      all_variable_symbols=None):
        key = (symbol, str(definition), max_t, max_order,
               tuple(str(s) for s in all_variable_symbols or ()),
               repr(sorted(Config.config.items())))
        if key not in _KERNEL_ODES:
            _KERNEL_ODES[key] = convert.__func__(cls, symbol, definition, max_t, max_order,
                                                 all_variable_symbols)
        return copy.deepcopy(_KERNEL_ODES[key])

    Shape.from_function = classmethod(from_function)
    try:
        yield
    finally:
        Shape.from_function = convert


def analyse(path):
    """Parse, check and analyse the one model in the NESTML file ``path``.

    Raises
    ------
    NestmlError
        If the file is missing, does not parse or fails NESTML's checks, with ``file:line``.
    """
    path = Path(path)
    if not path.is_file():
        raise NestmlError(f"{path}: no such NESTML file")
    # NESTML prints progress and writes reports, and ODE-toolbox warns (through logging and
    # warnings) about unit spellings; keep the user's terminal to trisim's messages
    with contextlib.redirect_stdout(io.StringIO()), tempfile.TemporaryDirectory() as scratch, \
            warnings.catch_warnings(), _quiet_logger("odetoolbox"), kernels_converted_once():
        warnings.simplefilter("ignore")
        try:
            return _analyse(path, scratch)
        except NestmlError:
            raise
        except Exception as exc:  # NESTML's or ODE-toolbox's own failure on this model
            error = _first_error(path)
            if error is not None:
                raise error from exc
            raise NestmlError(f"{path}: NESTML's analysis failed ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc


def check(path):
    """Parse the NESTML file ``path`` and run NESTML's checks on its model, without the
    analysis (ODE-toolbox) that :func:`analyse` adds.

    Raises
    ------
    NestmlError
        If the file does not parse, holds other than one model or fails NESTML's checks.
    """
    from pynestml.utils.logger import Logger
    with contextlib.redirect_stdout(io.StringIO()), tempfile.TemporaryDirectory() as scratch:
        _checked_model(Path(path), scratch)
    Logger.init_logger(Logger.logging_level)


def _checked_model(path, scratch):
    """The one model in ``path``, parsed and checked by NESTML."""
    from pynestml.cocos.co_cos_manager import CoCosManager
    from pynestml.frontend.pynestml_frontend import configure_front_end, get_parsed_models

    configure_front_end(str(path), "python_standalone", target_path=str(Path(scratch) / "out"),
                        logging_level="ERROR")
    models = get_parsed_models()
    error = _first_error(path)
    if error or not models:
        raise error or NestmlError(f"{path}: no model found")
    if len(models) != 1:
        raise NestmlError(f"{path}: holds {len(models)} models; trisim takes one per file")
    CoCosManager.check_cocos(models[0])
    error = _first_error(path)
    if error:
        raise error
    return models[0]


def _analyse(path, scratch):
    from pynestml.codegeneration.python_standalone_code_generator import (
        PythonStandaloneCodeGenerator)
    from pynestml.frontend.pynestml_frontend import transform_models, transformers_from_target_name
    from pynestml.utils.logger import Logger

    model = _checked_model(path, scratch)
    is_synapse = model.get_name().endswith("_synapse")
    transformers, _ = transformers_from_target_name("python_standalone", options={})
    models, metadata = transform_models(transformers, [model])
    generator = PythonStandaloneCodeGenerator({})
    if is_synapse:
        generator.analyse_transform_synapses(models, metadata)
        namespace = _synapse_namespace(generator, models[0], metadata)
    else:
        generator.analyse_transform_neurons(models, metadata)
        namespace = generator._get_neuron_model_namespace(models[0], metadata)
    error = _first_error(path)
    if error:
        raise error
    Logger.init_logger(Logger.logging_level)
    return Analysis(path=path, model=models[0], namespace=namespace, is_synapse=is_synapse)


def nest_name(name):
    """What NESTML's NEST target calls the variable the front end calls ``name``.

    The front end runs NESTML's python_standalone transformers, which append "_" to names
    that are Python keywords (``lambda`` becomes ``lambda_``); the NEST target appends "_" to
    C++ keywords instead. Both lists are NESTML's own.
    """
    python, cpp = _forbidden_names()
    original = name[:-1] if name.endswith("_") and name[:-1] in python else name
    return original + "_" if original in cpp else original


def _forbidden_names():
    """(Python, C++) names NESTML renames, read from its transformers for those targets."""
    global _FORBIDDEN
    if _FORBIDDEN is None:
        from pynestml.frontend.pynestml_frontend import transformers_from_target_name
        from pynestml.transformers.illegal_variable_name_transformer import (
            IllegalVariableNameTransformer)

        def names(target):
            transformers, _ = transformers_from_target_name(target, options={})
            return {name for t in transformers if isinstance(t, IllegalVariableNameTransformer)
                    for name in t.get_option("forbidden_names")}
        _FORBIDDEN = (names("python_standalone"), names("NEST"))
    return _FORBIDDEN


_FORBIDDEN = None


def cpp_keywords():
    """The C++ keywords, as NESTML's NEST target lists them."""
    return _forbidden_names()[1]


def _synapse_namespace(generator, synapse, metadata):
    """The solver part of NESTML's synapse namespace, for synapses with any number of ports.

    NESTML's own synapse namespace asserts a single presynaptic port unless the synapse is
    generated together with its postsynaptic neuron; trisim reads the same ODE-toolbox results
    (update expressions parsed in the scope of the equations block, as NESTML does) directly.
    """
    from pynestml.symbol_table.symbol_table import SymbolTable  # noqa: F401  (NESTML's order)
    from pynestml.utils.model_parser import ModelParser
    from pynestml.utils.ode_toolbox_utils import ODEToolboxUtils
    from pynestml.visitors.ast_symbol_table_visitor import ASTSymbolTableVisitor

    namespace = generator._get_model_namespace(synapse, metadata)
    solvers = metadata.get(synapse.get_name(), {})
    for kind in ("analytic", "numeric"):
        solver = solvers.get(f"{kind}_solver")
        if not solver:
            continue
        expressions = {}
        for variable in solver["state_variables"]:
            text = ODEToolboxUtils._rewrite_piecewise_into_ternary(
                solver["update_expressions"][variable])
            expression = ModelParser.parse_expression(text)
            expression.update_scope(synapse.get_equations_blocks()[0].get_scope())
            expression.accept(ASTSymbolTableVisitor())
            expressions[variable] = expression
        if kind == "analytic":
            namespace["analytic_state_variables"] = solver["state_variables"]
            namespace["update_expressions"] = expressions
        else:
            namespace["numeric_state_variables"] = solver["state_variables"]
            namespace["numeric_update_expressions"] = expressions
    namespace["spike_updates"] = solvers.get("spike_updates", {})
    return namespace
