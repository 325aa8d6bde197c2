"""The one exception hierarchy of trisim, and the exit status each error gives.

Library code raises these; only the command line turns them into one line on stderr and an
exit status (:func:`exit_status`): 2 for bad input (every :class:`TrisimError` unless it says
otherwise), 1 for a simulation that failed (:class:`SimulationError`), 130 when interrupted.
Each subclasses the builtin it refines, so callers may also catch the builtin.
"""

import signal

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


class TrisimError(Exception):
    """Base class of every error trisim reports to its user; by default, bad input."""

    exit_status = EXIT_BAD_INPUT


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
    """A model asks a simulator for something it cannot do (bad input for that backend)."""


class SimulationError(TrisimError, RuntimeError):
    """A simulator failed while building or running a model whose input was accepted.

    The message names the run and the cause; the simulator's own exception is its
    ``__cause__`` (shown by ``trisim --debug``).
    """

    exit_status = EXIT_FAILED


class Interrupted(KeyboardInterrupt):
    """Work stopped by Ctrl-C (SIGINT) or SIGTERM before it was done.

    A :class:`KeyboardInterrupt`, so that ``except Exception`` does not swallow it.
    ``finished`` names the runs that had completed (their results are kept and reused by the
    next call), out of ``total``. A command whose units of work are not runs, or whose results
    are kept elsewhere, says so with ``unit`` and ``kept``.
    """

    def __init__(self, finished=(), total=None, signal_name="SIGINT", unit="runs",
                 kept="kept for reuse"):
        super().__init__()
        self.finished = list(finished)
        self.total = total
        self.signal_name = signal_name
        self.unit = unit
        self.kept = kept

    @property
    def exit_status(self):
        """128 + the signal's number, as a shell reports a command a signal stopped."""
        return 128 + signal.Signals[self.signal_name].value

    def __str__(self):
        text = "interrupted"
        if self.signal_name != "SIGINT":
            text += f" ({self.signal_name})"
        done = ", ".join(self.finished)
        if self.total:
            text += f"; {len(self.finished)} of {self.total} {self.unit} had finished"
            text += f" and are {self.kept}: {done}" if done else ""
        elif done:
            text += f"; finished {self.unit} are {self.kept}: {done}"
        return text


def exit_status(exc):
    """The exit status the command line gives for ``exc`` (None: not an error of trisim's)."""
    if isinstance(exc, Interrupted):
        return exc.exit_status
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return getattr(exc, "exit_status", None) if isinstance(exc, TrisimError) else None


class NotPortableError(TrisimError, AttributeError):
    """A PyNN call that one simulator's module offers and another's has no equivalent for."""


class NotPortableImportError(TrisimError, ImportError):
    """A script imports a simulator's own interface (``import nest``), which the other
    simulators lack; an ``ImportError``, so a script's own fallback for a missing simulator
    (``except ImportError``) runs instead."""


class ScriptError(TrisimError, RuntimeError):
    """A PyNN script run by trisim failed; the message names the script's line."""


def unknown_name(kind, name, valid):
    """Return an :class:`UnknownNameError` naming ``name`` and listing the ``valid`` choices."""
    return UnknownNameError(f"unknown {kind} {name!r}; valid: {', '.join(sorted(valid))}")


class NestmlError(TrisimError, ValueError):
    """A .nestml file does not parse, fails NESTML's checks, or uses a construct a target cannot
    express; the message starts with ``file:line``."""
