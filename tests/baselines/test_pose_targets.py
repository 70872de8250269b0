"""Pose targets: delta actions and the world targets they command convert exactly, both ways."""

from __future__ import annotations

import numpy as np
import pytest

from dexmg_bench.baselines.pose_targets import PoseFrame, pose_frame, to_actions, to_targets
from dexmg_bench.geometry import axis_angle_to_quat

FRAME = PoseFrame(
    arms=("right", "left"), offsets=(0, 7), action_dim=14, max_dpos=0.05, max_drot=0.5
)


def _obs(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    out = {}
    for arm in FRAME.arms:
        out[f"{arm}_eef_pos"] = rng.uniform(-0.5, 0.5, (n, 3))
        axes = rng.standard_normal((n, 3))
        angles = rng.uniform(0, np.pi, (n, 1))
        out[f"{arm}_eef_quat"] = axis_angle_to_quat(
            axes / np.linalg.norm(axes, axis=-1)[:, None] * angles
        )
    return out


def _actions(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(-1, 1, (n, FRAME.action_dim))


def test_actions_round_trip_through_their_targets():
    """``to_actions(to_targets(a))`` is ``a`` at the same observation (hands kept as they are)."""
    rng = np.random.default_rng(0)
    obs, a = _obs(rng, 200), _actions(rng, 200)
    targets = to_targets(FRAME, obs, a)
    assert targets.shape == (200, FRAME.target_dim) == (200, 2 * 9 + 2)
    np.testing.assert_allclose(to_actions(FRAME, obs, targets), a, atol=1e-10)
    np.testing.assert_array_equal(targets[:, -2:], a[:, [6, 13]])
    one = {k: v[3] for k, v in obs.items()}  # a single step converts the same way
    np.testing.assert_allclose(to_actions(FRAME, one, targets[3]), a[3], atol=1e-10)


def test_a_target_steers_back_a_hand_that_is_off_it():
    """A hand 1 cm off where the target was set gets the delta that undoes the 1 cm."""
    rng = np.random.default_rng(1)
    obs, a = _obs(rng, 5), 0.2 * _actions(rng, 5)
    targets = to_targets(FRAME, obs, a)
    moved = {**obs, "right_eef_pos": obs["right_eef_pos"] + [0.01, 0.0, 0.0]}
    back = to_actions(FRAME, moved, targets)
    np.testing.assert_allclose(back[:, 0], a[:, 0] - 0.01 / FRAME.max_dpos, atol=1e-10)
    np.testing.assert_allclose(back[:, 1:], a[:, 1:], atol=1e-10)


def test_targets_out_of_one_step_reach_are_clipped_to_the_action_box():
    """A target a metre away asks for the largest step, not for an action outside the box."""
    rng = np.random.default_rng(2)
    obs, a = _obs(rng, 4), _actions(rng, 4)
    targets = to_targets(FRAME, obs, a)
    targets[:, 0] += 1.0  # a metre away
    back = to_actions(FRAME, obs, targets)
    assert np.all(back[:, 0] == 1.0) and np.all(np.abs(back) <= 1.0)


def test_the_frame_is_validated_and_round_trips_json():
    """A frame that cannot describe an action is refused; checkpoints store it as JSON."""
    assert PoseFrame.from_json(FRAME.to_json()) == FRAME
    with pytest.raises(ValueError, match="one offset per arm"):
        PoseFrame(arms=("right",), offsets=(0, 7), action_dim=14, max_dpos=0.05, max_drot=0.5)
    with pytest.raises(ValueError, match="inside 14"):
        PoseFrame(arms=("right",), offsets=(10,), action_dim=14, max_dpos=0.05, max_drot=0.5)
    with pytest.raises(ValueError, match="> 0"):
        PoseFrame(arms=("right",), offsets=(0,), action_dim=14, max_dpos=0.0, max_drot=0.5)


@pytest.mark.parametrize(
    ("task", "delta"), [("Threading", True), ("BoxCleanup", True), ("Coffee", False)]
)
def test_env_frames_follow_the_action_layout(task, delta):
    """Panda tasks give their layout and step scale; the GR-1's absolute poses are refused."""
    from dexmg_bench.envs import make_task_env

    env = make_task_env(task)
    try:
        if not delta:
            with pytest.raises(ValueError, match="not deltas"):
                pose_frame(env)
            return
        frame = pose_frame(env)
        assert frame.action_dim == env.action_space.shape[0]
        for arm, offset in zip(frame.arms, frame.offsets, strict=True):
            assert env.action_layout[arm]["dpos"] == [offset, offset + 3]
            assert env.action_layout[arm]["drot"] == [offset + 3, offset + 6]
        assert (frame.max_dpos, frame.max_drot) == env.delta_pose_scale
    finally:
        env.close()


def test_tracking_a_demos_targets_from_its_first_state_replays_it():
    """A shipped demo's targets, tracked from its first state, repeat the demo.

    Turned back into deltas from the live observations they make the same episode: success, and
    the same end-effector path to a fraction of a millimetre.
    """
    from dexmg_bench.datasets.source import read_source_file, shipped_source_file
    from dexmg_bench.envs import make_task_env

    demo = read_source_file(shipped_source_file("Threading")).demos[0]
    env = make_task_env("Threading")
    try:
        frame = pose_frame(env)
        first, _ = env.reset(options={"initial_state": demo.states[0]})
        seen = [first]
        for action in demo.actions:  # the demo's own observations, by replaying it
            seen.append(env.step(action)[0])
        steps = {k: np.stack([o[k] for o in seen[:-1]]) for k in first}
        targets = to_targets(frame, steps, demo.actions)

        obs, _ = env.reset(options={"initial_state": demo.states[0]})
        success, worst = False, 0.0
        for t, target in enumerate(targets):
            obs, _, _, _, info = env.step(to_actions(frame, obs, target))
            success = success or bool(info["success"])
            for arm in frame.arms:
                off = np.abs(obs[f"{arm}_eef_pos"] - seen[t + 1][f"{arm}_eef_pos"]).max()
                worst = max(worst, float(off))
        assert success
        assert worst < 1e-4
    finally:
        env.close()
