"""Runs of trisim's own commands in fresh interpreters, as the multi-run commands start them."""

import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

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
    raise error(_failure_message(what, result))


@dataclass(frozen=True)
class Job:
    """One command to run in a fresh interpreter, and what to call it in messages."""

    what: str
    command: list


def run_jobs(jobs, parallel=1, on_finished=None, error=BackendError):
    """Run ``jobs``, at most ``parallel`` at a time; return their CompletedProcess in job order.

    ``on_finished(job, result)`` is called as each finishes. At the first failure no more are
    started, the running ones finish, and ``error`` is raised as by :func:`run_command`; on
    Ctrl-C the running children are ended and KeyboardInterrupt propagates.
    """
    jobs = list(jobs)
    results = [None] * len(jobs)
    running = {}  # Popen -> (index, stdout file, stderr file)
    waiting = list(range(len(jobs)))
    failure = None
    try:
        while waiting or running:
            while waiting and len(running) < parallel and failure is None:
                index = waiting.pop(0)
                # files, not pipes: a child that prints much would block on a full pipe
                out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
                child = subprocess.Popen(jobs[index].command, stdout=out, stderr=err, text=True)
                running[child] = (index, out, err)
            if not running:
                break
            finished = _wait_any(running)
            index, out, err = running.pop(finished)
            out.seek(0), err.seek(0)
            result = subprocess.CompletedProcess(jobs[index].command, finished.returncode,
                                                 out.read(), err.read())
            out.close(), err.close()
            results[index] = result
            if result.returncode != 0:
                failure = failure or (jobs[index], result)
            elif on_finished is not None:
                on_finished(jobs[index], result)
    except BaseException:
        for child in running:
            child.terminate()
        for child in running:
            child.wait()
        raise
    if failure is not None:
        job, result = failure
        raise error(_failure_message(job.what, result))
    return results


def _wait_any(running):
    """The first of the running children to end."""
    while True:
        for child in running:
            if child.poll() is not None:
                return child
        time.sleep(0.05)


def _failure_message(what, result):
    if result.returncode < 0:
        name = signal.Signals(-result.returncode).name
        status = f"killed by {name}" + (", as when the system runs out of memory"
                                        if name == "SIGKILL" else "")
    else:
        status = f"exit status {result.returncode}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return f"{what}: the run failed ({status}): {lines[-1] if lines else 'no message'}"
