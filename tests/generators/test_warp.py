"""Time warps of source demos (``--time-warp``): pure, so no simulator here but the last test."""

from __future__ import annotations

import numpy as np
import pytest

from dexmg_bench.generators.job import GenerateConfig
from dexmg_bench.generators.warp import check_time_warp, warp_demo, warp_demos
from dexmg_bench.geometry import make_pose, resample_poses, rot_z, rotation_angle_between
from tests.generators.fake_demo import fake_demo

ONS = {"right": {"grasp": 40, "lift": 80}, "left": {"grasp": 60}}


def test_speed_one_is_the_demo_itself():
    """Speed 1 changes nothing."""
    demo = fake_demo(ONS, 101)
    warped = warp_demo(demo, 1.0)
    np.testing.assert_array_equal(warped.target_pose, demo.target_pose)
    np.testing.assert_array_equal(warped.hand, demo.hand)
    for arm, sig in demo.signals.items():
        for name, on in sig.items():
            np.testing.assert_array_equal(warped.signals[arm][name], on)


@pytest.mark.parametrize("speed", [0.75, 1.3, 2.0])
def test_warped_clock_moves_everything_together(speed):
    """Length, end points, and every signal onset move to ``onset / speed`` (nearest step)."""
    demo = fake_demo(ONS, 101)
    warped = warp_demo(demo, speed)
    n = round(100 / speed) + 1
    assert warped.target_pose.shape == (n, 2, 4, 4) and warped.hand.shape == (n, 2, 1)
    np.testing.assert_array_equal(warped.target_pose[0], demo.target_pose[0])
    np.testing.assert_array_equal(warped.target_pose[-1], demo.target_pose[-1])
    # The fake's x position and hand encode the step index: both read the warped clock.
    clock = np.linspace(0, 100, n)
    np.testing.assert_allclose(warped.target_pose[:, 0, 0, 3], clock, atol=1e-12)
    np.testing.assert_allclose(warped.hand[:, 0, 0], clock, atol=1e-12)
    np.testing.assert_allclose(warped.object_pose["a"][:, 0, 3], np.rint(clock))
    for arm, sig in ONS.items():
        for name, on in sig.items():
            first = int(np.argmax(warped.signals[arm][name]))
            assert abs(first - on / speed) <= 1, (arm, name, first, on / speed)


def test_warped_rotations_follow_the_recorded_path():
    """Between two recorded steps the rotation is their slerp (constant angular speed)."""
    poses = make_pose(np.zeros((3, 3)), rot_z(np.array([0.0, 0.4, 0.8])))
    mid = resample_poses(poses, np.array([0.5, 1.25, 2.0]))
    assert rotation_angle_between(mid[0, :3, :3], poses[0, :3, :3]) == pytest.approx(0.2)
    assert rotation_angle_between(mid[1, :3, :3], poses[1, :3, :3]) == pytest.approx(0.1)
    np.testing.assert_array_equal(mid[2], poses[2])  # integer times: the stored poses, exactly
    with pytest.raises(ValueError, match="within"):
        resample_poses(poses, np.array([2.5]))


def test_no_warp_draws_nothing_and_returns_the_demos():
    """Amount 0 is the paper's generator: no draw, so seeded runs stay bit for bit the same."""
    demos = [fake_demo(ONS, 50), fake_demo(ONS, 60)]
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert warp_demos(demos, 0.0, rng) == demos
    assert rng.bit_generator.state == state


def test_each_demo_gets_its_own_seeded_speed():
    """Speeds are per demo, within the range, and a pure function of the rng."""
    demos = [fake_demo(ONS, 101) for _ in range(6)]
    lengths = [len(d.target_pose) for d in warp_demos(demos, 0.3, np.random.default_rng(1))]
    again = [len(d.target_pose) for d in warp_demos(demos, 0.3, np.random.default_rng(1))]
    assert lengths == again
    assert len(set(lengths)) > 1
    assert all(round(100 / 1.3) + 1 <= n <= round(100 / 0.7) + 1 for n in lengths)


@pytest.mark.parametrize("bad", [-0.1, 0.6, True, float("nan")])
def test_bad_warp_amounts_are_refused(bad):
    """Out of [0, 0.5], booleans and NaN are refused with the field's name."""
    with pytest.raises(ValueError, match="time_warp"):
        check_time_warp(bad)
    with pytest.raises(ValueError, match="time_warp"):
        GenerateConfig(task="Threading", time_warp=bad)


def test_time_warp_is_for_dexmimicgen_only():
    """Demo-Noise replays sources as they are; a warp there is an error, not ignored."""
    with pytest.raises(ValueError, match="DexMimicGen generator only"):
        GenerateConfig(task="Threading", generator="demo-noise", time_warp=0.2)


def test_warped_threading_episodes_vary_in_length_and_replay(tmp_path):
    """Real generation with --time-warp 0.3: lengths differ, episodes replay, the id is tagged.

    Without a warp every Threading episode generated from the shipped scripted demos has the same
    length (the demos all have 210 steps).
    """
    from dexmg_bench.datasets.record import replay_demo
    from dexmg_bench.datasets.source import read_source_file
    from dexmg_bench.envs import make_task_env
    from dexmg_bench.generators.run import generate

    config = GenerateConfig(task="Threading", n=3, time_warp=0.3)
    stats = generate(config, tmp_path / "job", progress=False)
    assert stats["complete"]
    demos = read_source_file(tmp_path / "job" / stats["output"]).demos
    assert len({len(d.actions) for d in demos}) > 1, [len(d.actions) for d in demos]
    env = make_task_env("Threading")
    assert all(replay_demo(env, d) for d in demos)
    from dexmg_bench.datasets.minari_io import write_generated_job

    ds = write_generated_job(tmp_path / "job")  # never under the unwarped set's id
    assert ds.spec.dataset_id == "dexmg/threading-time-warp-n3-v0"
    assert ds.storage.metadata["dexmg"]["generator_config"]["time_warp"] == 0.3
