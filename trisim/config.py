"""Configuration files: YAML validated against each model's declared parameters.

A config has two sections. ``simulation`` is common to every model (time step, duration, seed,
scale, recording); ``parameters`` belongs to the model, which declares each key with its type,
default and unit as a pydantic model (see :func:`quantity`). Dimensional values are written with
their unit (``"9.99 nS"``) and converted once, here, to the unit the model declares.

Everything a user gives is checked here, before any simulator is imported: the config's shape,
each value's type, unit and range, and the relations between values (the duration is a whole
number of time steps, delays are at least one step). A failed check is a
:class:`~trisim.errors.ConfigError` naming the key, the value and what is allowed.

Ranges come from the declarations: pydantic's bounds (``Field(ge=...)``), :data:`Probability`,
:data:`Delay`, and for a :func:`quantity` the physical sign of its dimension unless it declares
bounds itself (a conductance, a time, a rate or a length is not negative; a capacitance is
positive). Every number must be finite.
"""

import functools
import math
import re
from pathlib import Path
from typing import Annotated, Literal

import quantities as pq
import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter,
                      ValidationError, model_validator)

from .errors import ConfigError

# a number (inf and nan included, for the finiteness check to name them) and a unit
_QUANTITY = re.compile(r"^\s*([-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|nan))\s*(\S.*)?$",
                       re.IGNORECASE)

#: Seeds every backend accepts: NEST's ``rng_seed`` takes 1 to 2**32 - 1 (Brian2 and numpy
#: take 0 to 2**32 - 1). One range for all, so that a seed names the same run on each.
SEED_RANGE = (1, 2**32 - 1)
#: NEST counts time in ticks of 0.001 ms (its default ``tics_per_ms``): a time step must be a
#: whole number of them.
NEST_TIC_MS = 0.001
#: The longest duration, in time steps: a count of steps is exact in a double up to 2**53,
#: and NEST's clock, a 64-bit count of ticks, ends near 2**62 ticks.
MAX_STEPS = 2**53
MAX_TICS = 2**62


def parse_quantity(text, unit):
    """Return the magnitude of ``text`` (e.g. ``"0.05 nS"``) in ``unit`` (e.g. ``"uS"``).

    Raises
    ------
    ValueError
        If ``text`` has no unit, an unknown unit, or one of another dimension.
    """
    if isinstance(text, pq.Quantity):
        value = text
    else:
        match = _QUANTITY.match(str(text))
        if match is None or match.group(2) is None:
            raise ValueError(f"{text!r} needs a number and a unit, e.g. '1.0 {unit}'")
        try:
            value = pq.Quantity(float(match.group(1)), match.group(2).strip())
        except LookupError:
            raise ValueError(f"unknown unit {match.group(2).strip()!r} in {text!r}") from None
    try:
        return float(value.rescale(unit).magnitude)
    except ValueError:
        raise ValueError(f"{text!r} is not convertible to {unit}") from None


# Physical sign by dimension (also per unit area, as in "mS/cm**2"): (bound, reason).
_SIGNS = (
    (pq.s, {"ge": 0}, "a time is not negative"),
    (pq.S, {"ge": 0}, "a conductance is not negative"),
    (pq.F, {"gt": 0}, "a capacitance is positive"),
    (pq.Hz, {"ge": 0}, "a rate is not negative"),
    (pq.m, {"ge": 0}, "a length is not negative"),
    (pq.m ** 2, {"gt": 0}, "an area is positive"),
)


@functools.cache
def _physical_sign(unit):
    """The bound and its reason that ``unit``'s dimension implies, or ``({}, None)``; cached
    because quantities' simplification is slow and config classes name few distinct units."""
    dimensionality = pq.Quantity(1.0, unit).simplified.dimensionality
    for dimensionalities, bound, reason in _sign_dimensionalities():
        if dimensionality in dimensionalities:
            return bound, reason
    return {}, None


@functools.cache
def _sign_dimensionalities():
    """``_SIGNS`` with each reference's dimensionality, plain and per unit area."""
    return [([pq.Quantity(1.0, candidate).simplified.dimensionality
              for candidate in (reference, reference / pq.m ** 2)], bound, reason)
            for reference, bound, reason in _SIGNS]


def quantity(unit, *, why=None, **bounds):
    """A pydantic field type: a value written with a unit, stored as a float in ``unit``.

    ``bounds`` (``gt``, ``ge``, ``lt``, ``le``, in ``unit``) limit it; without them the sign of
    its dimension does (see the module's documentation). ``why`` says what the bounds mean,
    for error messages.
    """
    if not bounds:
        bounds, why = _physical_sign(unit)
    extra = {"unit": unit, **({"why": why} if why else {})}
    return Annotated[float, BeforeValidator(lambda text: parse_quantity(text, unit)),
                     Field(json_schema_extra=extra, **bounds)]


def comma_separated(value):
    """``"a,b"`` as ``["a", "b"]``: how ``--option`` gives (and ``trisim experiment MODEL``
    shows) a list; a list is kept as it is."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


#: A probability (a connection or release probability): 0 to 1.
Probability = Annotated[float, Field(ge=0, le=1, json_schema_extra={"why": "a probability"})]

#: A synaptic delay in ms, at least one time step ``dt`` (checked against the config's).
Delay = Annotated[float, BeforeValidator(lambda text: parse_quantity(text, "ms")),
                  Field(gt=0, json_schema_extra={"unit": "ms", "delay": True})]


class Strict(BaseModel):
    """Base of every config section: unknown keys are errors, values are checked on assignment,
    numbers must be finite."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=False,
                              allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_truth_values_as_numbers(cls, values):
        # pydantic's lax mode reads true/false as 1/0: 'p_e: true' would be a probability of 1
        for name, value in (values.items() if isinstance(values, dict) else ()):
            field = cls.model_fields.get(name)
            if isinstance(value, bool) and field is not None and field.annotation is not bool:
                raise ValueError(f"{name}: {str(value).lower()} is not a number")
        return values


class Simulation(Strict):
    """Settings every model shares."""

    dt: quantity("ms", gt=0) = 0.1
    duration: quantity("ms", gt=0, why="a whole number of time steps dt") = 1000.0
    seed: int = Field(1, ge=SEED_RANGE[0], le=SEED_RANGE[1], json_schema_extra={
        "why": "NEST's rng_seed accepts no other; trisim uses one range on every backend"})
    scale: float = Field(1.0, gt=0, json_schema_extra={"why": "population sizes relative "
                                                              "to the published"})
    record_traces: int = Field(3, ge=0, description="cells per population with v and g recorded")
    threads: int = Field(1, ge=1, description="threads per process (NEST only)")
    device: Literal["runtime", "cpp_standalone"] = Field("runtime", description=(
        "how Brian2 runs the network: runtime (its compiled code objects, called from "
        "Python) or cpp_standalone (one C++ program, built and run in one piece; Brian2 only)"))


def unit_of(model_class, name):
    """The unit declared for field ``name`` of ``model_class``, or None if dimensionless."""
    return _extra(model_class, name).get("unit")


def _extra(model_class, name):
    return model_class.model_fields[name].json_schema_extra or {}


class Config:
    """A validated configuration: ``simulation`` and the model's ``parameters``.

    ``model`` is what the file's ``model`` key names (None if it has none).
    """

    def __init__(self, simulation, parameters, source, model=None):
        self.simulation = simulation
        self.parameters = parameters
        self.source = source
        self.model = model

    def as_dict(self):
        """Plain values with their units, enough to reproduce the run."""
        def with_units(section):
            return {name: (f"{value} {unit_of(type(section), name)}"
                           if unit_of(type(section), name) else value)
                    for name, value in section.model_dump().items()}
        return {"simulation": with_units(self.simulation),
                "parameters": with_units(self.parameters)}


def _bounds_text(field_info, unit):
    """``field_info``'s bounds as an interval, e.g. ``[0, 1]`` or ``(0, inf) ms``."""
    low, high, low_open, high_open = "-inf", "inf", True, True
    for constraint in field_info.metadata:
        for name in ("gt", "ge", "lt", "le"):
            value = getattr(constraint, name, None)
            if value is None:
                continue
            text = f"{value:g}" if isinstance(value, float) else str(value)
            if name in ("gt", "ge"):
                low, low_open = text, name == "gt"
            else:
                high, high_open = text, name == "lt"
    interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    return f"{interval} {unit}" if unit else interval


def _describe(error, source, sections, key=None):
    """One line for the first error of a pydantic ``error`` (of field ``key``, if the error
    does not name it)."""
    first = dict(error.errors()[0])
    if key is not None and not first["loc"]:
        first["loc"] = (key,)
    location = ".".join(str(part) for part in first["loc"])
    prefix = f"{source}: " if source else ""
    if not location:  # a relation the model's own validator checks
        return ConfigError(f"{prefix}{first['msg'].removeprefix('Value error, ')}")
    message = first["msg"].removeprefix("Value error, ")
    kind = first["type"]
    if kind == "extra_forbidden":
        return ConfigError(f"{prefix}{location}: unknown key")
    shown = first.get("input")
    shown = repr(shown) if isinstance(shown, str) else shown
    if kind == "finite_number":
        return ConfigError(f"{prefix}{location}: {shown} is not a finite number")
    if kind == "literal_error":  # one of named choices
        return ConfigError(f"{prefix}{location}: {shown} is not one of "
                           f"{first['ctx']['expected']}")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        section = next(s for s in sections if first["loc"][0] in s.model_fields)
        field_info = section.model_fields[first["loc"][0]]
        extra = field_info.json_schema_extra or {}
        why = f" ({extra['why']})" if extra.get("why") else ""
        return ConfigError(f"{prefix}{location}: {shown} is outside "
                           f"{_bounds_text(field_info, extra.get('unit'))}{why}")
    return ConfigError(f"{prefix}{location}: {message}")


def _section(document, name, path):
    """The mapping of section ``name`` (empty if absent), or a ConfigError on another shape."""
    section = document.get(name)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: {name}: expected a mapping of keys to values, got "
                          f"{type(section).__name__} {section!r}")
    bad = [key for key in section if not isinstance(key, str)]
    if bad:
        raise ConfigError(f"{path}: {name}: key {bad[0]!r} is not a name")
    return section


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last
    silently, so one of two values a user wrote would be ignored)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_document(path):
    """The mapping of a config file, its top-level keys and their shapes checked (values are
    not validated)."""
    path = Path(path)
    try:
        document = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: malformed YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: a config is a mapping with 'simulation' and 'parameters'")
    unknown = sorted(str(key) for key in set(document) - {"model", "description", "simulation",
                                                          "parameters"})
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown key")
    for key in ("model", "description"):
        if key in document and not isinstance(document[key], str):
            raise ConfigError(f"{path}: {key}: expected text, got {document[key]!r}")
    for name in ("simulation", "parameters"):
        _section(document, name, path)
    return document


def load(path, parameters_class, overrides=()):
    """Read a config file, replace its values by ``overrides`` (``"key=value"`` strings),
    validate each section once, then check the relations between values
    (:func:`check_relations`).

    An override's key is a name from ``simulation`` or ``parameters`` (the two never share a
    name); its value is read as YAML, so ``n_exc=400`` is an int and ``w_e=0.05 nS`` a quantity.
    Give every override here rather than through :func:`apply_override` afterwards, so that
    relations (a model's validators included) are checked on the final values only.
    """
    path = Path(path)
    document = read_document(path)
    values = {"simulation": dict(_section(document, "simulation", path)),
              "parameters": dict(_section(document, "parameters", path))}
    classes = {"simulation": Simulation, "parameters": parameters_class}
    overridden = set()
    for override in overrides:
        key, value = _parse_override(override)
        section = next((name for name, cls in classes.items() if key in cls.model_fields), None)
        if section is None:
            raise ConfigError(f"--set {key}: unknown key")
        if key in overridden:  # the value it replaces is checked alone (user input all the same)
            _check_value(classes[section], key, values[section][key])
        values[section][key] = value
        overridden.add(key)
    built = {}
    for name, cls in classes.items():
        try:
            built[name] = cls(**values[name])
        except ValidationError as exc:
            key = exc.errors()[0]["loc"][:1]
            # a model's own relation (no key) names the file only if no override took part
            given = key[0] in overridden if key else bool(overridden & set(cls.model_fields))
            source = None if given else path
            raise _describe(exc, source, [cls]) from None
    config = Config(built["simulation"], built["parameters"], path, document.get("model"))
    check_relations(config)
    return config


def _check_value(cls, key, value):
    """Validate ``value`` as field ``key`` of ``cls`` on its own (no relations)."""
    info = cls.model_fields[key]
    annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    adapter = TypeAdapter(annotation, config=ConfigDict(allow_inf_nan=False))
    try:
        adapter.validate_python(value)
    except ValidationError as exc:
        raise _describe(exc, None, [cls], key) from None


def _parse_override(override):
    """``"key=value"`` -> (key, value read as YAML, or the text if it is not YAML)."""
    key, separator, text = override.partition("=")
    key = key.strip()
    if not separator or not key:
        raise ConfigError(f"--set {override!r}: expected key=value")
    try:
        return key, yaml.safe_load(text)
    except yaml.YAMLError:
        return key, text


def apply_override(config, override):
    """Set one ``key=value`` on ``config``, validated like the file's own values (the relations
    between values are not checked again: give overrides to :func:`load` for that)."""
    key, value = _parse_override(override)
    sections = [s for s in (config.simulation, config.parameters) if key in type(s).model_fields]
    if not sections:
        raise ConfigError(f"--set {key}: unknown key")
    try:
        setattr(sections[0], key, value)
    except ValidationError as exc:
        raise _describe(exc, None, [type(sections[0])]) from None


def _whole_steps(value, dt):
    """Whether ``value`` is a whole number of steps ``dt`` (to floating-point rounding)."""
    steps = value / dt
    return abs(steps - round(steps)) <= 1e-9 * max(1.0, abs(steps))


def check_time_grid(dt, duration, dt_key="dt", duration_key="duration"):
    """Check a time step and a duration in ms: both finite and positive, the step a whole
    number of NEST's ticks, the duration a whole number of steps (the keys name them)."""
    for key, value in ((dt_key, dt), (duration_key, duration)):
        if not math.isfinite(value) or value <= 0:
            raise ConfigError(f"{key}: {value:g} ms is outside (0, inf) ms")
    if not _whole_steps(dt, NEST_TIC_MS):
        raise ConfigError(f"{dt_key}: {dt:g} ms is not a whole number of NEST's time ticks "
                          f"({NEST_TIC_MS:g} ms)")
    longest = min(MAX_STEPS * dt, MAX_TICS * NEST_TIC_MS)
    if duration > longest:
        raise ConfigError(f"{duration_key}: {duration:g} ms is longer than any simulator can "
                          f"count at {dt_key} = {dt:g} ms (at most {longest:.3g} ms)")
    if duration < dt or not _whole_steps(duration, dt):
        below = math.floor(duration / dt) * dt
        nearest = " or ".join(f"{t:.10g} ms" for t in (below, below + dt) if t > 0)
        raise ConfigError(f"{duration_key}: {duration:g} ms is not a whole number of time "
                          f"steps ({dt_key} = {dt:g} ms); e.g. {nearest}")


def check_relations(config):
    """Check what single values cannot show: the duration is a positive whole number of time
    steps; the time step is a whole number of NEST's ticks; every :data:`Delay` is at least one
    time step (NEST and NEURON deliver a spike one step after it is sent at the soonest, and
    trisim asks the same of every backend so that a config runs alike on all of them).
    """
    simulation = config.simulation
    dt = simulation.dt
    check_time_grid(dt, simulation.duration)
    parameters = config.parameters
    for name in type(parameters).model_fields:
        if _extra(type(parameters), name).get("delay"):
            delay = getattr(parameters, name)
            if delay < dt * (1 - 1e-9):
                raise ConfigError(f"{name}: {delay:g} ms is shorter than the time step "
                                  f"(dt = {dt:g} ms); NEST and NEURON need delays of at least "
                                  "one step, and trisim holds every backend to it")
