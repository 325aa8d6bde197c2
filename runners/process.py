"""Runs of trisim's own commands in fresh interpreters, as the multi-run commands start them."""

import signal
import subprocess

from trisim.errors import BackendError


def run_command(command, what, error=BackendError):
    """Run ``command`` and return its :class:`subprocess.CompletedProcess`.

    Raises
    ------
    error
        If it fails (a :class:`~trisim.errors.BackendError` unless told otherwise): naming ``what``, the exit status or the signal that ended it (a process
        the system killed for want of memory ends by SIGKILL with nothing on stderr), and
        its last line on stderr.
    """
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode == 0:
        return result
    if result.returncode < 0:
        name = signal.Signals(-result.returncode).name
        status = f"killed by {name}" + (", as when the system runs out of memory"
                                        if name == "SIGKILL" else "")
    else:
        status = f"exit status {result.returncode}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    raise error(f"{what}: the run failed ({status}): "
                       f"{lines[-1] if lines else 'no message'}")
