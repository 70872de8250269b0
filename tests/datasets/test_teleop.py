"""Teleoperation: device sessions drive envs, record boundaries, and feed the generator."""

from __future__ import annotations

import numpy as np
import pytest

from dexmg_bench.cli import main
from dexmg_bench.datasets.record import replay_demo
from dexmg_bench.datasets.source import read_source_file, shipped_source_file
from dexmg_bench.datasets.teleop import InputSequence, device_to_action, inputs_from_demo
from dexmg_bench.envs import make_task_env


def _seq(**kw) -> InputSequence:
    base = {
        "task": "Threading",
        "variant": "D0",
        "seed": 0,
        "dpos": np.zeros((4, 2, 3)),
        "drot": np.zeros((4, 2, 3)),
        "grasp": np.zeros((4, 2)),
    }
    return InputSequence(**{**base, **kw})


def test_input_sequence_round_trip_and_validation(tmp_path):
    """Arrays and marks come back exactly; out-of-range inputs and bad marks are refused."""
    rng = np.random.default_rng(0)
    seq = _seq(dpos=rng.uniform(-1, 1, (4, 2, 3)), grasp=rng.uniform(0, 1, (4, 2)),
               marks={"right": (2,), "left": ()})  # fmt: skip
    seq.save(tmp_path / "s.npz")
    back = InputSequence.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(back.dpos, seq.dpos)
    np.testing.assert_array_equal(back.grasp, seq.grasp)
    assert back.marks == {"right": (2,), "left": ()}
    with pytest.raises(ValueError, match="dpos must lie"):
        _seq(dpos=np.full((4, 2, 3), 2.0))
    with pytest.raises(ValueError, match="grasp must lie"):
        _seq(grasp=np.full((4, 2), 1.5))
    with pytest.raises(ValueError, match="marks of 'right'"):
        _seq(marks={"right": (3, 2)})
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a teleop input file"):
        InputSequence.load(tmp_path / "x.npz")


def test_device_input_maps_to_the_same_delta_action():
    """Full-scale device deltas become full-scale actions; grasp 1 closes the hand."""
    env = make_task_env("Threading")
    env.reset(seed=0)
    dpos = np.array([[1.0, -0.5, 0.0], [0.0, 0.0, 0.25]])
    drot = np.array([[0.0, 0.0, 0.3], [0.1, 0.0, 0.0]])
    action = device_to_action(env, dpos, drot, np.array([1.0, 0.0])).reshape(2, -1)
    np.testing.assert_allclose(action[:, :3], dpos, atol=1e-12)
    np.testing.assert_allclose(action[:, 3:6], drot, atol=1e-12)
    np.testing.assert_array_equal(action[:, 6], [1.0, -1.0])
    env.close()


@pytest.mark.parametrize("task", ["Threading", "BoxCleanup"])
def test_replayed_session_records_marked_boundaries_and_feeds_the_generator(task, tmp_path):
    """Acceptance: a replayed session gives marked boundaries, replays, and is a valid source."""
    src = read_source_file(shipped_source_file(task))
    env = make_task_env(task, src.variant)
    seq = inputs_from_demo(src.demos[0], env, task=task, variant=src.variant)
    seq.save(tmp_path / "session.npz")
    out = tmp_path / "teleop"
    main(["teleop", "--task", task, "--variant", src.variant, "--device", "replay",
          "--inputs", str(tmp_path / "session.npz"), "--out", str(out)])  # fmt: skip
    files = list(out.glob("*.hdf5"))
    rec = read_source_file(files[0])
    assert rec.origin == "replayed" and len(rec.demos) == 1
    demo = rec.demos[0]
    for arm, marks in seq.marks.items():
        assert demo.boundaries[arm].tolist() == [*marks, demo.num_steps]
    # The session kept what the env returned, equal to observations recomputed from its states.
    from dexmg_bench.datasets.minari_io import observe

    assert demo.observations is not None and demo.state_success is not None
    recomputed, success = observe(env, demo.states)
    np.testing.assert_array_equal(demo.state_success, success)
    for key, value in recomputed.items():
        np.testing.assert_array_equal(demo.observations[key], value, err_msg=key)
    env.reset(seed=demo.seed)
    assert replay_demo(env, demo)
    env.close()

    from dexmg_bench.generators.job import GenerateConfig, check_inputs

    config = GenerateConfig(task=task, variant=src.variant, n=1, source=str(files[0]))
    assert check_inputs(config).origin == "replayed"


def test_generate_runs_from_a_teleop_source(tmp_path):
    """A replayed teleop file drives a real generation attempt (Threading, one attempt)."""
    src = read_source_file(shipped_source_file("Threading"))
    env = make_task_env("Threading")
    inputs_from_demo(src.demos[1], env, task="Threading", variant="D0").save(tmp_path / "s.npz")
    env.close()
    main(["teleop", "--task", "Threading", "--device", "replay", "--inputs",
          str(tmp_path / "s.npz"), "--out", str(tmp_path / "t")])  # fmt: skip
    from dexmg_bench.generators.job import GenerateConfig
    from dexmg_bench.generators.run import generate

    source = str(next((tmp_path / "t").glob("*.hdf5")))
    config = GenerateConfig(task="Threading", n=1, max_attempts=1, source=source)
    stats = generate(config, tmp_path / "gen", progress=False)
    assert stats["attempts"] == 1


def test_live_devices_fail_with_one_line_saying_what_to_do(monkeypatch, capsys):
    """No display, no SpaceMouse, an unknown device, or replay without a file: one clear line."""
    monkeypatch.delenv("DISPLAY", raising=False)
    for args, expected in [
        (["--device", "keyboard"], "--device replay --inputs FILE"),
        (["--device", "spacemouse"], "no SpaceMouse available"),
        (["--device", "joystick"], "unknown device 'joystick'"),
        (["--device", "replay"], "needs --inputs FILE"),
    ]:
        with pytest.raises(SystemExit) as exc:
            main(["teleop", "--task", "Threading", *args])
        message = str(exc.value)
        assert expected in message and "\n" not in message


def test_failed_session_kept_with_keep_failures_reads_back_and_is_refused_as_source(tmp_path):
    """A cut-short session is still a readable file; the generator refuses it before simulating."""
    src = read_source_file(shipped_source_file("Threading"))
    env = make_task_env("Threading")
    full = inputs_from_demo(src.demos[0], env, task="Threading", variant="D0")
    env.close()
    cut = InputSequence(task="Threading", variant="D0", seed=full.seed, dpos=full.dpos[:30],
                        drot=full.drot[:30], grasp=full.grasp[:30], marks={})  # fmt: skip
    cut.save(tmp_path / "cut.npz")
    out = tmp_path / "t"
    main(["teleop", "--task", "Threading", "--device", "replay", "--inputs",
          str(tmp_path / "cut.npz"), "--out", str(out), "--keep-failures"])  # fmt: skip
    path = next(out.glob("*.hdf5"))
    demo = read_source_file(path).demos[0]
    assert not demo.success and demo.num_steps == 30
    assert demo.boundaries["right"].tolist() == [30]  # no marks, no signals: the episode end

    from dexmg_bench.generators.job import GenerateConfig, check_inputs

    with pytest.raises(ValueError, match="boundar"):
        check_inputs(GenerateConfig(task="Threading", n=1, source=str(path)))


def test_device_drives_the_absolute_pose_humanoid(tmp_path):
    """On the GR-1 (absolute pose actions) device steps move the active hand the commanded way."""
    from dexmg_bench.datasets.teleop import DEFAULT_STEP, TeleopRecorder

    env = make_task_env("CanSorting")
    rec = TeleopRecorder(env, seed=0)
    before = env.eef_poses()[:, :3, 3].copy()
    for _ in range(10):
        rec.step(np.array([[0.0, 0.0, 0.4], [0.0, 0.0, 0.0]]), np.zeros((2, 3)), np.zeros(2))
    moved = env.eef_poses()[:, :3, 3] - before
    assert rec.steps == 10 and np.all(np.abs(rec.recorder.actions) <= 1.0)
    commanded = 10 * 0.4 * DEFAULT_STEP[0]  # 0.2 m; the servos lag (about 0.09 m is reached)
    assert 0.25 * commanded < moved[0, 2] <= commanded
    assert np.abs(moved[0, :2]).max() < 0.5 * moved[0, 2]
    assert np.abs(moved[1]).max() < 0.02
    env.close()
