"""What a low-dim policy sees and predicts: continuous orientation features, task keys, scaling."""

from __future__ import annotations

import numpy as np
import pytest

from dexmg_bench.baselines.data import (
    action_scale,
    default_obs_keys,
    flatten_obs,
    rot6d,
)
from dexmg_bench.geometry import axis_angle_to_mat, mat_to_quat


def _down_gripper_quats(angles: np.ndarray) -> np.ndarray:
    """A gripper pointing down (pi about x), tilting about x through ``angles``: w near 0."""
    return np.stack([mat_to_quat(axis_angle_to_mat(np.array([np.pi + a, 0, 0]))) for a in angles])


def test_env_quaternions_of_a_downward_gripper_jump_and_rot6d_does_not():
    """The envs' w >= 0 quaternions flip sign as a downward gripper tilts; rot6d stays smooth."""
    angles = np.linspace(-0.2, 0.2, 41)
    quats = _down_gripper_quats(angles)
    assert np.abs(np.diff(quats, axis=0)).max() > 1.0  # a sign flip: two far apart vectors
    feats = rot6d(quats)
    assert np.abs(np.diff(feats, axis=0)).max() < 0.02  # 0.01 rad per step, bounded change


def test_rot6d_is_sign_invariant_and_determines_the_rotation(rng):
    """rot6d(q) == rot6d(-q), and its two columns are orthonormal with the rotation's third."""
    q = rng.normal(size=(100, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    f = rot6d(q)
    np.testing.assert_allclose(f, rot6d(-q), atol=1e-12)
    a, b = f[:, :3], f[:, 3:]
    np.testing.assert_allclose(np.sum(a * b, axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-12)


def test_flatten_obs_rot6d_widths_and_raw_mode():
    """Each quaternion key becomes 6 features in rot6d mode and stays 4 in quat mode."""
    obs = {"a_pos": np.zeros((5, 3)), "a_quat": np.tile([1.0, 0, 0, 0], (5, 1))}
    keys = ("a_pos", "a_quat")
    assert flatten_obs(obs, keys, "rot6d").shape == (5, 9)
    assert flatten_obs(obs, keys, "quat").shape == (5, 7)
    one = {k: v[0] for k, v in obs.items()}
    np.testing.assert_array_equal(
        flatten_obs(one, keys, "rot6d"), flatten_obs(obs, keys, "rot6d")[0]
    )
    with pytest.raises(ValueError, match="features"):
        flatten_obs(obs, keys, "euler")


def test_default_keys_keep_task_scalars_and_drop_robot_joints():
    """Can Sorting's colour and Coffee's lid angle reach the policy; joints and images do not."""
    keys = [
        "can_pos", "can_quat", "can_red", "lid_angle", "overview_image",
        "right_eef_pos", "right_eef_quat", "right_gripper_qpos", "right_joint_pos",
        "right_joint_vel", "left_eef_pos", "left_hand_qpos", "torso_joint_pos",
    ]  # fmt: skip
    chosen = default_obs_keys(keys)
    assert {"can_red", "lid_angle", "can_pos", "can_quat"} <= set(chosen)
    assert {"right_eef_pos", "right_eef_quat", "right_gripper_qpos", "left_hand_qpos"} <= set(
        chosen
    )
    assert not {"torso_joint_pos", "right_joint_pos", "right_joint_vel", "overview_image"} & set(
        chosen
    )
    assert "can_pos" not in default_obs_keys(keys, object_names=["bin"])


def test_registry_observations_give_every_task_scalar_to_the_policy():
    """Over the whole registry: every non-robot, non-image observation key is a policy input."""
    import gymnasium as gym

    from dexmg_bench.envs import TASKS

    for task in TASKS:
        if task.name.startswith("BiGym"):
            continue
        env = gym.make(task.env_id("D0"), disable_env_checker=True)
        keys = list(env.observation_space.spaces)
        env.close()
        chosen = set(default_obs_keys(keys))
        task_keys = {k for k in keys if not k.startswith(("right_", "left_", "torso_"))}
        assert task_keys <= chosen, (task.name, task_keys - chosen)
        assert "torso_joint_pos" not in chosen


def test_action_scale_maps_the_data_range_to_unit_box(rng):
    """Every dimension spans [-1, 1] after scaling; constant dimensions map to 0 and back."""
    a = np.column_stack([rng.uniform(0.2, 0.3, 50), rng.uniform(-1, 1, 50), np.full(50, -1.0)])
    centre, half = action_scale(a)
    z = (a - centre) / half
    np.testing.assert_allclose(z.min(0)[:2], -1.0, atol=1e-6)
    np.testing.assert_allclose(z.max(0)[:2], 1.0, atol=1e-6)
    np.testing.assert_allclose(z[:, 2], 0.0)
    np.testing.assert_allclose(z * half + centre, a, atol=1e-6)


def test_sampler_windows_stay_in_their_episode_and_repeat_its_ends(rng):
    """Each window is its episode's steps t-pad..t+L-1-pad, clipped to the episode, normalised."""
    from dexmg_bench.baselines.data import Demos, SequenceSampler

    lengths = (3, 7, 5)
    obs = tuple(np.arange(n, dtype=np.float32)[:, None] + 100 * e for e, n in enumerate(lengths))
    act = tuple(2 * o for o in obs)
    d = Demos(
        obs=obs, actions=act, obs_keys=("x",), obs_mean=np.zeros(1, np.float32),
        obs_std=np.ones(1, np.float32), action_centre=np.ones(1, np.float32),
        action_half_range=np.full(1, 2.0, np.float32), env_id="",
    )  # fmt: skip
    for pad in (0, 2):
        sampler = SequenceSampler(d, seq_len=4, pad_before=pad)
        assert len(sampler) == sum(lengths)
        o, a, img = sampler.batch(rng, 200)
        assert o.shape == (200, 4, 1) and img is None
        for window, actions in zip(o[..., 0], a[..., 0], strict=True):
            e = int(window[0] // 100)
            steps = window - 100 * e
            assert 0 <= steps.min() and steps.max() < lengths[e]  # never another episode's steps
            assert np.all(np.diff(steps) >= 0) and np.all(np.diff(steps) <= 1)
            np.testing.assert_allclose(actions, (2 * window - 1) / 2)  # (a - centre) / half
