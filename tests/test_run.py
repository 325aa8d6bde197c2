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


BRIAN2_CTRL_C = textwrap.dedent("""
    import os, signal
    # Python's own Ctrl-C, also when started with SIGINT ignored (as a shell's background job
    # is): Brian2 wraps the handler it finds on import and would call SIG_IGN
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import brian2
    from trisim import backends
    from trisim.errors import SimulationError
    from trisim.runners import run
    model, cfg = run.resolve_config("coba_stp", None, ["record_traces=0"], 5, 0.02, 50)
    backend = backends.load("brian2")
    build = model.module.build

    def press_ctrl_c(t):
        if t >= 10 * brian2.ms:
            os.kill(os.getpid(), signal.SIGINT)

    def build_and_press_ctrl_c(sim, *args):  # Ctrl-C 10 ms into the run, inside Brian2's loop
        populations = build(sim, *args)
        sim.simulator.state.network.add(brian2.NetworkOperation(press_ctrl_c, dt=10 * brian2.ms))
        return populations

    model.module.build = build_and_press_ctrl_c
    try:
        run.simulate(model, backend, cfg)
    except KeyboardInterrupt:
        print("interrupted at", backend.get_current_time())
    except SimulationError as exc:
        print("refused:", exc)
    else:
        print("ran to the end")
""")


def test_ctrl_c_interrupts_a_brian2_run_rather_than_ending_it_early():
    # Brian2's own Ctrl-C handling makes run() return after the current step, as if done
    result = subprocess.run([sys.executable, "-c", BRIAN2_CTRL_C], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1].startswith("interrupted at"), result.stdout


CALLBACKS_TO_THE_END = textwrap.dedent("""
    import sys
    from trisim import backends
    sim = backends.load(sys.argv[1])
    sim.setup(timestep=0.1, min_delay=0.1)
    sim.Population(2, sim.IF_cond_exp())
    seen = []

    def every_100_ms(t):
        seen.append(round(t, 6))
        return t + 100.0

    print(sim.run(2000.0, [every_100_ms]), len(seen), seen[-1])
""")


@pytest.mark.parametrize("backend", ["neuron", "nest"])
def test_a_run_with_callbacks_ends_at_its_duration(backend):
    # NEURON's time after 2000 ms at dt 0.1 is 1999.9999999987: PyNN's own callback loop,
    # which waits for it to come within 1e-9 ms of 2000, never ended
    result = subprocess.run([sys.executable, "-c", CALLBACKS_TO_THE_END, backend],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    reached, calls, last = result.stdout.split()[-3:]
    assert abs(float(reached) - 2000.0) < 0.05 and int(calls) == 21 and float(last) == 2000.0


PIECES_TO_THE_END = textwrap.dedent("""
    import sys
    from trisim import backends
    sim = backends.load(sys.argv[1])
    sim.setup(timestep=0.01, min_delay=0.01)
    cell = sim.Population(1, sim.IF_cond_exp(i_offset=1.0))
    cell.record("v")
    steps = [10]

    def growing_pieces(t):  # as interruption points grow on a fast run, up to 20 ms
        steps[0] = min(4 * steps[0], 2000)
        return (round(t / 0.01) + steps[0]) * 0.01

    reached = sim.run(2000.0, [growing_pieces] if sys.argv[2] == "pieces" else None)
    v = cell.get_data().segments[0].analogsignals[0]
    print(reached, len(v), float(v[-1, 0]))
""")


@pytest.mark.parametrize("backend", ["neuron", "nest"])
def test_a_run_in_pieces_takes_every_step_of_a_run_in_one_piece(backend):
    # NEURON's time at dt 0.01 drifts above the grid (1999.990000020445 after these pieces),
    # and its psolve, which takes int((tstop - t) / dt) steps, then took none towards 2000 ms:
    # trisim's loop spun until a piece's length overflowed
    runs = [subprocess.run([sys.executable, "-c", PIECES_TO_THE_END, backend, mode],
                           capture_output=True, text=True, timeout=300)
            for mode in ("one piece", "pieces")]
    for result in runs:
        assert result.returncode == 0, result.stderr[-2000:]
    one, pieces = (result.stdout.split()[-3:] for result in runs)
    assert abs(float(pieces[0]) - 2000.0) < 0.005
    assert pieces[1:] == one[1:]
