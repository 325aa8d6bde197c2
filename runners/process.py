"""Child processes of the multi-run commands: start them, wait for them, stop them cleanly.

Commands that run several simulations (validate, sweep, a model's experiments) start each as
``python -m trisim.cli run ...`` in a fresh interpreter, because NEST and NEURON keep global
state. Every child started here is registered, so that an interruption reaches all of them:
after Ctrl-C or SIGTERM (:func:`handling_interrupts`) no child starts, the running ones get
SIGINT (each then removes its half-written files and exits), and any still running
:data:`GRACE_S` seconds later is killed (the next run in its directory removes what it left).
Runs that finished are kept: their files are complete, and the next call reuses them.
"""

import contextlib
import resource
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

from trisim.errors import (EXIT_BAD_INPUT, BackendError, ConfigError, Interrupted,
                           SimulationError)

#: Seconds an interrupted child has to stop by itself before it is killed.
GRACE_S = 5.0
_POLL_S = 0.05

_live = {}  # running children (Popen) -> what they run; read by the signal handler
_stopping = threading.Event()  # set by an interruption: start nothing more
_finished = []  # what, of each child of this process that succeeded, in order


@dataclass(frozen=True)
class Job:
    """One command to run in a child process; ``what`` names it in messages (e.g. ``nest seed
    3``); ``cpu_limit_s``, if given, is the CPU time after which the system stops it."""

    what: str
    command: tuple
    cpu_limit_s: float = None

    def __init__(self, what, command, cpu_limit_s=None):
        object.__setattr__(self, "what", what)
        object.__setattr__(self, "command", tuple(str(part) for part in command))
        object.__setattr__(self, "cpu_limit_s", cpu_limit_s)


def run_command(command, what, error=BackendError, cpu_limit_s=None):
    """Run ``command`` in a child process and return its :class:`subprocess.CompletedProcess`
    (stdout and stderr as text). With ``cpu_limit_s``, the child is stopped once it has used
    that much CPU time (load does not change it, as a wall-clock limit would).

    Raises
    ------
    error
        If the child rejected its input (exit status 2): a
        :class:`~trisim.errors.BackendError` unless told otherwise.
    SimulationError
        If it failed otherwise: naming ``what``, the exit status or the signal that ended it
        (a process the system killed for want of memory ends by SIGKILL with nothing on
        stderr; one past its CPU limit, by SIGXCPU), and its last line on stderr.
    Interrupted
        If this process was interrupted (see :func:`handling_interrupts`).
    """
    return run_jobs([Job(what, command, cpu_limit_s)], error=error)[0]


def run_jobs(jobs, parallel=1, on_finished=None, error=BackendError):
    """Run each :class:`Job`'s command in a child process, at most ``parallel`` at a time.

    ``on_finished(job, result)``, if given, is called as each job succeeds. The first failure
    stops the batch: no job starts after it, the running ones finish (and are kept), and it is
    raised as by :func:`run_command`. Returns the results in the order of ``jobs``.

    Raises
    ------
    Interrupted
        On Ctrl-C or SIGTERM: no job starts, the running ones are stopped (SIGINT, then
        SIGKILL after :data:`GRACE_S` s); it names the jobs that finished, out of all.
    """
    jobs = list(jobs)
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        raise ConfigError(f"jobs: {parallel!r}; must be a positive integer")
    results = [None] * len(jobs)
    waiting = list(enumerate(jobs))
    running = {}  # index -> (job, child)
    finished, failure = [], None

    def collect(index):
        job, child = running.pop(index)
        result = _collect(child, job)
        if result.returncode == 0:
            results[index] = result
            finished.append(job.what)
            if on_finished is not None:
                on_finished(job, result)
        return job, result

    try:
        while waiting or running:
            while waiting and failure is None and len(running) < parallel:
                index, job = waiting.pop(0)
                running[index] = (job, _start(job))
            if not running:
                break
            for index in [i for i, (_, child) in running.items() if child.poll() is not None]:
                job, result = collect(index)
                if result.returncode != 0 and failure is None:
                    failure = (job, result)
            time.sleep(_POLL_S)
    except KeyboardInterrupt as exc:
        stop_children()
        for index in list(running):
            collect(index)
        raise Interrupted(finished, len(jobs), getattr(exc, "signal_name", "SIGINT")) from None
    if failure is not None:
        raise _failure(*failure, error)
    return results


def _start(job):
    """Start ``job``'s child, its output going to scratch files (no pipe to fill up)."""
    if _stopping.is_set():
        raise Interrupted(_finished)
    stdout, stderr = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    try:
        child = subprocess.Popen(job.command, stdout=stdout, stderr=stderr)
    except OSError as exc:
        stdout.close(), stderr.close()
        raise SimulationError(f"{job.what}: cannot start {job.command[0]}: "
                              f"{exc.strerror or exc}") from None
    if job.cpu_limit_s is not None:  # SIGXCPU at the limit; SIGKILL if that is ignored
        limit = max(1, round(job.cpu_limit_s))
        resource.prlimit(child.pid, resource.RLIMIT_CPU, (limit, limit + 1))
    child.scratch = (stdout, stderr)
    _live[child] = job.what
    return child


def _collect(child, job):
    """Wait for ``child``; its result, with what it wrote."""
    child.wait()
    _live.pop(child, None)
    texts = []
    for scratch in child.scratch:
        scratch.seek(0)
        texts.append(scratch.read().decode(errors="replace"))
        scratch.close()
    if child.returncode == 0:
        _finished.append(job.what)
    return subprocess.CompletedProcess(list(job.command), child.returncode, *texts)


def _failure(job, result, error):
    """The exception for ``job``'s failed ``result``."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else "no message"
    if result.returncode < 0:
        name = signal.Signals(-result.returncode).name
        status = f"killed by {name}" + (", as when the system runs out of memory"
                                        if name == "SIGKILL" else "")
        if name == "SIGXCPU":  # what it printed before it was stopped does not say why
            status, last = f"stopped after its {job.cpu_limit_s:g} s of CPU time", None
    else:
        status = f"exit status {result.returncode}"
    message = f"{job.what}: the run failed ({status})" + (f": {last}" if last else "")
    if _stopping.is_set():
        return Interrupted(_finished)
    return error(message) if result.returncode == EXIT_BAD_INPUT else SimulationError(message)


def stop_children(grace=None):
    """Start no more children; SIGINT the running ones and kill those alive after ``grace`` s
    (default :data:`GRACE_S`)."""
    grace = GRACE_S if grace is None else grace
    _stopping.set()
    children = list(_live)
    for child in children:
        _send(child, signal.SIGINT)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _send(child, signal.SIGKILL)
            child.wait()


def _send(child, signum):
    try:
        child.send_signal(signum)
    except ProcessLookupError:
        pass


@contextlib.contextmanager
def handling_interrupts():
    """Inside the block, SIGINT (Ctrl-C) and SIGTERM stop this process cleanly.

    The first of them sets the stop flag, passes SIGINT on to every running child and raises
    :class:`~trisim.errors.Interrupted` in the main thread, so that ``finally`` clauses remove
    half-written files; further ones are ignored until the block ends, so that this clean-up
    is not cut short (children that do not stop are killed after :data:`GRACE_S` s). The
    command line runs every command in this block. Outside the main thread it changes nothing
    (Python delivers signals to the main thread only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        for name in handled:
            signal.signal(name, signal.SIG_IGN)
        _stopping.set()
        for child in list(_live):
            _send(child, signal.SIGINT)
        raise Interrupted(_finished, signal_name=signal.Signals(signum).name)

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {name: signal.signal(name, interrupt) for name in handled}
    _stopping.clear()
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(name, handler)


def cpu_seconds():
    """CPU time (user + system) of this process and its finished children (compilers), in
    seconds: what a child process reports as the cost of one of its phases."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def print_result_as_json(compute):
    """The body of a child process's ``main``: print ``compute()``'s result as one JSON line
    on stdout, which the parent reads, with the simulators' banners kept off it; a
    :class:`~trisim.errors.TrisimError` is one line on stderr and exit status 2."""
    import json
    import sys
    from trisim.errors import TrisimError
    from trisim.quiet import quiet_stdout
    try:
        with quiet_stdout():
            result = compute()
    except TrisimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(result))
    return 0
