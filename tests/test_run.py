"""trisim run's own machinery: points where a run hands control back to Python."""

import json
import subprocess
import sys
import textwrap

import pytest

from trisim.runners.run import interruption_points

SPIKES = textwrap.dedent("""
    import json, sys
    from trisim import backends
    from trisim.runners import run
    if sys.argv[2] == "one piece":
        run.interruption_points = lambda dt, wall_s=0.5: (lambda t: t + 1e9)
    model, cfg = run.resolve_config("coba_stp", None, ["record_traces=0"], 5, 0.05, 300)
    block, _ = run.simulate(model, backends.load(sys.argv[1]), cfg)
    spikes = sorted((int(t.annotations["source_index"]), t.annotations["source_population"],
                     [round(float(x), 6) for x in t.magnitude])
                    for t in block.segments[0].spiketrains)
    print(json.dumps(spikes))
""")


@pytest.mark.parametrize("backend", ["nest", "neuron"])
def test_interruption_points_leave_the_spikes_unchanged(backend):
    runs = [subprocess.run([sys.executable, "-c", SPIKES, backend, mode], capture_output=True,
                           text=True, timeout=600) for mode in ("one piece", "points")]
    for result in runs:
        assert result.returncode == 0, result.stderr[-2000:]
    one, pieces = (json.loads(result.stdout.strip().splitlines()[-1]) for result in runs)
    assert sum(len(times) for _, _, times in one) > 50 and one == pieces


def test_interruption_points_are_whole_steps_and_grow_with_a_fast_run():
    checkpoint = interruption_points(0.1, wall_s=3600)
    times = [0.0]
    for _ in range(6):
        times.append(checkpoint(times[-1]))
    steps = [round((later - earlier) / 0.1, 9) for earlier, later in zip(times, times[1:])]
    assert all(step == int(step) for step in steps)
    assert steps[0] == 10 and steps[1:] == [40, 160, 640, 2560, 10240]
