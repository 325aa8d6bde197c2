"""Silence what simulators and build tools print, down to the file descriptor.

NEST prints a banner on import, and NESTML's cmake/make write straight to the process's
stdout; a command whose stdout is data (``trisim cell`` prints JSON) must keep it clean.
"""

import contextlib
import os
import sys
import tempfile
import warnings

# Notices simulators give on every run, about their installation rather than the model:
# pyNN.nest cannot find nest-config (needed only to compile NEST extensions, which trisim
# does through NESTML's own toolchain), and NEST's deprecation notices for the functions
# pyNN.nest calls (SetStatus, GetStatus, set_verbosity).
_NOTICES = ("pyNN.nest.simulator", "nest.lib.hl_api_helper")
_silenced = False


def silence_simulators():
    """Keep simulators' start-up banner and notices about their own installation from the
    user's terminal (the command line does this unless given ``--debug``).

    Sets ``PYNEST_QUIET`` (NEST's banner; inherited by child runs) and ignores the warnings
    of :data:`_NOTICES`; warnings about the model or the run are left alone.
    """
    global _silenced
    _silenced = True
    os.environ.setdefault("PYNEST_QUIET", "1")
    for module in _NOTICES:
        warnings.filterwarnings("ignore", category=UserWarning, module=module.replace(".", r"\."))


@contextlib.contextmanager
def importing_simulator():
    """Around a simulator's import, once :func:`silence_simulators` was called: what it prints
    on stdout (NEURON's ``numprocs=1``) is dropped, and Brian2's console log keeps to warnings
    (it reports at INFO level which integration method it chose for PyNN's own cells)."""
    if not _silenced:
        yield
        return
    with quiet_stdout():
        yield
    brian2 = sys.modules.get("brian2")
    if brian2 is not None:
        brian2.BrianLogger.log_level_warn()


@contextlib.contextmanager
def quiet_stdout():
    """Send everything written to file descriptor 1 inside the block to a scratch file.

    Yields a function returning what was written (for error messages).
    """
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as scratch:
        os.dup2(scratch.fileno(), 1)
        try:
            yield lambda: (sys.stdout.flush(), scratch.seek(0), scratch.read())[2].decode(
                errors="replace")
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
