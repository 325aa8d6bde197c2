"""Configuration files: YAML validated against each model's declared parameters.

A config has two sections. ``simulation`` is common to every model (time step, duration, seed,
scale, recording); ``parameters`` belongs to the model, which declares each key with its type,
default and unit as a pydantic model (see :func:`quantity`). Dimensional values are written with
their unit (``"9.99 nS"``) and converted once, here, to the unit the model declares; a missing
unit, a wrong dimension or an unknown key is a :class:`~trisim.errors.ConfigError` naming the key.
"""

import re
from pathlib import Path
from typing import Annotated

import quantities as pq
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from .errors import ConfigError

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.*)?$")


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


def quantity(unit):
    """A pydantic field type: a value written with a unit, stored as a float in ``unit``."""
    return Annotated[float, BeforeValidator(lambda text: parse_quantity(text, unit)),
                     Field(json_schema_extra={"unit": unit})]


class Strict(BaseModel):
    """Base of every config section: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=False)


class Simulation(Strict):
    """Settings every model shares."""

    dt: quantity("ms") = 0.1
    duration: quantity("ms") = 1000.0
    seed: int = 1
    scale: float = Field(1.0, gt=0)
    record_traces: int = Field(3, ge=0, description="cells per population with v and g recorded")
    threads: int = Field(1, ge=1, description="threads per process (NEST only)")


def unit_of(model_class, name):
    """The unit declared for field ``name`` of ``model_class``, or None if dimensionless."""
    extra = model_class.model_fields[name].json_schema_extra or {}
    return extra.get("unit")


class Config:
    """A validated configuration: ``simulation`` and the model's ``parameters``."""

    def __init__(self, simulation, parameters, source):
        self.simulation = simulation
        self.parameters = parameters
        self.source = source

    def as_dict(self):
        """Plain values with their units, enough to reproduce the run."""
        def with_units(section):
            return {name: (f"{value} {unit_of(type(section), name)}"
                           if unit_of(type(section), name) else value)
                    for name, value in section.model_dump().items()}
        return {"simulation": with_units(self.simulation),
                "parameters": with_units(self.parameters)}


def _describe(error, source):
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return ConfigError(f"{source}: {location}: {message}")


def read_document(path):
    """The mapping of a config file, its top-level keys checked (values are not validated)."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: malformed YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: a config is a mapping with 'simulation' and 'parameters'")
    unknown = set(document) - {"model", "description", "simulation", "parameters"}
    if unknown:
        raise ConfigError(f"{path}: {sorted(unknown)[0]}: unknown key")
    return document


def load(path, parameters_class, overrides=()):
    """Read and validate a config file, then apply ``overrides`` (``"key=value"`` strings).

    An override's key is a name from ``simulation`` or ``parameters`` (the two never share a
    name); its value is read as YAML, so ``n_exc=400`` is an int and ``w_e=0.05 nS`` a quantity.
    """
    path = Path(path)
    document = read_document(path)
    try:
        simulation = Simulation(**(document.get("simulation") or {}))
        parameters = parameters_class(**(document.get("parameters") or {}))
    except ValidationError as exc:
        raise _describe(exc, path) from None
    config = Config(simulation, parameters, path)
    for override in overrides:
        apply_override(config, override)
    return config


def apply_override(config, override):
    """Set one ``key=value`` on ``config``, validated like the file's own values."""
    key, separator, text = override.partition("=")
    key = key.strip()
    if not separator or not key:
        raise ConfigError(f"--set {override!r}: expected key=value")
    sections = [s for s in (config.simulation, config.parameters) if key in type(s).model_fields]
    if not sections:
        raise ConfigError(f"--set {key}: unknown key")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    try:
        setattr(sections[0], key, value)
    except ValidationError as exc:
        raise _describe(exc, "--set") from None
