"""Child runs of trisim's commands: success, failure, a killed run, each named in one error."""

import sys

import pytest

from trisim.errors import BackendError, NestmlError
from trisim.runners.process import run_command


def test_a_run_that_succeeds_returns_its_output():
    assert run_command([sys.executable, "-c", "print('ok')"], "probe").stdout == "ok\n"


def test_a_failed_run_names_its_exit_status_and_last_line():
    script = ("import sys; print('first', file=sys.stderr); print('last', file=sys.stderr); "
              "sys.exit(3)")
    with pytest.raises(BackendError, match=r"^probe: the run failed \(exit status 3\): last$"):
        run_command([sys.executable, "-c", script], "probe")


def test_a_killed_run_names_the_signal():
    script = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    with pytest.raises(BackendError, match=r"killed by SIGKILL, as when the system runs out "
                                           r"of memory\): no message$"):
        run_command([sys.executable, "-c", script], "probe")


def test_a_failed_run_raises_the_error_asked_for():
    with pytest.raises(NestmlError, match=r"^probe: the run failed \(exit status 2\)"):
        run_command([sys.executable, "-c", "raise SystemExit(2)"], "probe", NestmlError)
