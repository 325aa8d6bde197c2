"""The one exception hierarchy of trisim.

Library code raises these; only the command line turns them into a one-line message and exit
status 2. Each subclasses the builtin it refines, so callers may also catch the builtin.
"""


class TrisimError(Exception):
    """Base class of every error trisim reports to its user."""


class ConfigError(TrisimError, ValueError):
    """A configuration file or override is malformed, unknown or has the wrong unit or type."""


class UnknownNameError(TrisimError, KeyError):
    """An unknown model, backend or other registered name; the message lists the valid ones."""

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0])


class OutputError(TrisimError, OSError):
    """An output location cannot be written."""


class InputFileError(TrisimError, ValueError):
    """A data file given to an analysis command is missing, unreadable or holds no usable data."""


class BackendError(TrisimError, RuntimeError):
    """A simulator failed while building or running a model."""


class NotPortableError(TrisimError, AttributeError):
    """A PyNN call that one simulator's module offers and another's has no equivalent for."""


class ScriptError(TrisimError, RuntimeError):
    """A PyNN script run by trisim failed; the message names the script's line."""


def unknown_name(kind, name, valid):
    """Return an :class:`UnknownNameError` naming ``name`` and listing the ``valid`` choices."""
    return UnknownNameError(f"unknown {kind} {name!r}; valid: {', '.join(sorted(valid))}")


class NestmlError(TrisimError, ValueError):
    """A .nestml file does not parse, fails NESTML's checks, or uses a construct a target cannot
    express; the message starts with ``file:line``."""
