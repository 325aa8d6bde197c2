"""Child runs of trisim's commands: each failure named in one error, batches, and Ctrl-C."""

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from trisim.errors import BackendError, ConfigError, NestmlError, SimulationError
from trisim.runners.process import Job, run_command, run_jobs


def python(code):
    return [sys.executable, "-c", code]


def test_a_run_that_succeeds_returns_its_output():
    assert run_command(python("print('ok')"), "probe").stdout == "ok\n"


def test_a_failed_run_names_its_exit_status_and_last_line():
    script = ("import sys; print('first', file=sys.stderr); print('last', file=sys.stderr); "
              "sys.exit(3)")
    with pytest.raises(SimulationError, match=r"^probe: the run failed \(exit status 3\): last$"):
        run_command(python(script), "probe")


def test_a_killed_run_names_the_signal():
    script = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    with pytest.raises(SimulationError, match=r"killed by SIGKILL, as when the system runs out "
                                              r"of memory\): no message$"):
        run_command(python(script), "probe")


def test_a_run_past_its_cpu_limit_is_stopped_and_says_so():
    started = time.monotonic()
    script = "import sys; print('a warning', file=sys.stderr, flush=True)\nwhile True: pass"
    with pytest.raises(SimulationError, match=r"^probe: the run failed \(stopped after its 1 s "
                                              r"of CPU time\)$"):
        run_command(python(script), "probe", cpu_limit_s=1)
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("error", [BackendError, NestmlError])
def test_a_run_refusing_its_input_raises_the_error_asked_for(error):
    with pytest.raises(error, match=r"^probe: the run failed \(exit status 2\)"):
        run_command(python("raise SystemExit(2)"), "probe", error)


def test_jobs_return_results_in_order_and_never_run_more_than_asked_at_once(tmp_path):
    # each job notes how many jobs were running when it started
    script = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        running = Path({str(tmp_path)!r})
        me = running / f"{{os.getpid()}}.running"
        me.touch()
        print(len(list(running.glob("*.running"))))
        time.sleep(0.3)
        me.unlink()
        print(sys.argv[1])
    """)
    finished = []
    results = run_jobs([Job(f"job {i}", [*python(script), str(i)]) for i in range(5)],
                       parallel=2, on_finished=lambda job, result: finished.append(job.what))
    assert [r.stdout.split()[1] for r in results] == ["0", "1", "2", "3", "4"]
    assert max(int(r.stdout.split()[0]) for r in results) <= 2
    assert sorted(finished) == [f"job {i}" for i in range(5)]


def test_after_a_failure_no_job_starts_and_the_running_ones_finish(tmp_path):
    def touching(name, code=0, sleep=0.0):
        return Job(name, python(f"import time, pathlib; time.sleep({sleep}); "
                                f"pathlib.Path({str(tmp_path / name)!r}).touch(); "
                                f"raise SystemExit({code})"))

    jobs = [touching("fails", 1), touching("running", sleep=1.0), touching("never")]
    with pytest.raises(SimulationError, match="^fails: the run failed"):
        run_jobs(jobs, parallel=2)
    assert (tmp_path / "running").exists() and not (tmp_path / "never").exists()


@pytest.mark.parametrize("parallel", [0, -1, 1.5, True])
def test_a_bad_number_of_parallel_jobs_is_refused(parallel):
    with pytest.raises(ConfigError, match="jobs: .*must be a positive integer"):
        run_jobs([], parallel)


INTERRUPTED_BATCH = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from trisim.errors import Interrupted
    from trisim.runners import process
    process.GRACE_S = 2.0
    out = Path(sys.argv[1])

    def job(name, seconds, ignore_sigint=False):
        ignore = "signal.signal(signal.SIGINT, signal.SIG_IGN); " if ignore_sigint else ""
        code = (f"import signal, time, pathlib; {ignore}"
                f"pathlib.Path({str(out / name)!r} + '.started').touch(); "
                f"time.sleep({seconds}); pathlib.Path({str(out / name)!r}).touch()")
        return process.Job(name, [sys.executable, "-c", code])

    jobs = [job("quick", 0), job("stubborn", 60, ignore_sigint=True), job("slow", 60),
            job("never", 0)]
    with process.handling_interrupts():
        try:
            process.run_jobs(jobs, parallel=2)
        except Interrupted as exc:
            print(json.dumps({"message": str(exc), "finished": exc.finished}))
""")


def test_an_interrupted_batch_stops_its_children_starts_no_more_and_names_what_finished(
        tmp_path):
    batch = subprocess.Popen([sys.executable, "-c", INTERRUPTED_BATCH, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ((tmp_path / "quick").exists() and (tmp_path / "slow.started").exists()
               and (tmp_path / "stubborn.started").exists()):
        assert time.monotonic() < deadline and batch.poll() is None
        time.sleep(0.05)
    batch.send_signal(signal.SIGINT)  # to the batch alone: it must pass it on
    started = time.monotonic()
    stdout, _ = batch.communicate(timeout=30)
    assert time.monotonic() - started < 10  # the stubborn child was killed after 2 s
    result = json.loads(stdout)
    assert result["finished"] == ["quick"]
    assert result["message"] == ("interrupted; 1 of 4 runs had finished and are kept for "
                                 "reuse: quick")
    assert not (tmp_path / "slow").exists() and not (tmp_path / "stubborn").exists()
    assert not (tmp_path / "never.started").exists()
    listing = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert listing.stdout.strip() == ""  # no child left running
