"""``DexMGEnv``'s helpers that need no controller, as plain functions.

Resolving a variant's config, checking actions, the observation layout and the grasp test do not
depend on the robot, so they are functions of their inputs rather than methods, and read alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import gymnasium as gym
import numpy as np

from dexmg_bench.envs.config import TaskConfig
from dexmg_bench.geometry import mat_to_quat


def resolve_config(
    env: Any, variant: str, render_mode: str | None, overrides: dict[str, Any]
) -> TaskConfig:
    """The variant's config with ``overrides`` applied; bad names say what is valid."""
    if variant not in env.variants:
        raise ValueError(
            f"unknown variant {variant!r} for {type(env).__name__}; "
            f"valid variants: {sorted(env.variants)}"
        )
    fields = {f.name for f in dataclasses.fields(env.config_cls)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(
            f"unknown option(s) {unknown} for {env.config_cls.__name__}; valid: {sorted(fields)}"
        )
    if render_mode not in (None, "rgb_array"):
        raise ValueError(f"render_mode must be None or 'rgb_array'. Got {render_mode!r}.")
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    return dataclasses.replace(env.variants[variant], **overrides)


def check_action(action: Any, space: gym.spaces.Box, layout: dict) -> np.ndarray:
    """The action as float64, clipped to the box; a wrong shape or NaN raises, naming the layout."""
    a = np.asarray(action, dtype=np.float64)
    if a.shape != space.shape:
        raise ValueError(
            f"expected an action of shape {space.shape} (layout {layout}), got shape {a.shape}"
        )
    if not np.all(np.isfinite(a)):
        raise ValueError(f"action contains NaN or inf: {a}")
    return np.clip(a, -1.0, 1.0)


def _box(*shape: int) -> gym.spaces.Box:
    return gym.spaces.Box(-np.inf, np.inf, shape=shape, dtype=np.float64)


def arm_spaces(hand_joints: dict[str, Iterable[str]]) -> dict[str, gym.spaces.Space]:
    """Per arm: joint positions and velocities (7), end-effector pose, hand joint positions."""
    spaces: dict[str, gym.spaces.Space] = {}
    for arm, joints in hand_joints.items():
        spaces[f"{arm}_joint_pos"] = _box(7)
        spaces[f"{arm}_joint_vel"] = _box(7)
        spaces[f"{arm}_eef_pos"] = _box(3)
        spaces[f"{arm}_eef_quat"] = _box(4)
        spaces[f"{arm}_gripper_qpos"] = _box(len(tuple(joints)))
    return spaces


def object_spaces(names: Iterable[str]) -> dict[str, gym.spaces.Space]:
    """Per object: world position and wxyz quaternion."""
    spaces: dict[str, gym.spaces.Space] = {}
    for name in names:
        spaces[f"{name}_pos"] = _box(3)
        spaces[f"{name}_quat"] = _box(4)
    return spaces


def camera_spaces(config: TaskConfig) -> dict[str, gym.spaces.Space]:
    """One uint8 image per camera when ``obs_mode="rgb"``, else nothing."""
    if config.obs_mode != "rgb":
        return {}
    s = config.image_size
    return {
        f"{cam}_image": gym.spaces.Box(0, 255, shape=(s, s, 3), dtype=np.uint8)
        for cam in config.cameras
    }


def arm_observation(
    data: Any,
    eef: np.ndarray,
    *,
    arm_qpos: dict[str, Any],
    arm_dof: dict[str, Any],
    finger_qpos: np.ndarray,
) -> dict[str, np.ndarray]:
    """The ``arm_spaces`` entries from MuJoCo data and the end-effector poses (``ARMS`` order)."""
    obs: dict[str, np.ndarray] = {}
    for i, arm in enumerate(arm_qpos):
        obs[f"{arm}_joint_pos"] = data.qpos[arm_qpos[arm]].copy()
        obs[f"{arm}_joint_vel"] = data.qvel[arm_dof[arm]].copy()
        obs[f"{arm}_eef_pos"] = eef[i, :3, 3].copy()
        obs[f"{arm}_eef_quat"] = mat_to_quat(eef[i, :3, :3])
        obs[f"{arm}_gripper_qpos"] = data.qpos[finger_qpos[i]].copy()
    return obs


def object_observation(poses: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The ``object_spaces`` entries from world poses (4, 4)."""
    obs: dict[str, np.ndarray] = {}
    for name, pose in poses.items():
        obs[f"{name}_pos"] = pose[:3, 3].copy()
        obs[f"{name}_quat"] = mat_to_quat(pose[:3, :3])
    return obs


def camera_observation(physics: Any, config: TaskConfig) -> dict[str, np.ndarray]:
    """The ``camera_spaces`` entries, rendered now."""
    if config.obs_mode != "rgb":
        return {}
    s = config.image_size
    return {f"{cam}_image": physics.render(cam, s, s) for cam in config.cameras}


def both_sides_touch(physics: Any, sides: tuple[Any, Any], geoms: Any) -> bool:
    """Robosuite's grasp test: each of the two opposing contact groups touches the object."""
    first, second = sides
    return physics.contact_between(first, geoms) and physics.contact_between(second, geoms)
