"""Pose targets: a policy output that names where each hand should be, not how far to move.

The Panda tasks' actions are deltas from the current end-effector pose (robosuite ``OSC_POSE``).
A policy that predicts deltas has to learn its own corrections: an error of a few millimetres
stays in every later pose, and a handful of demos holds no state to learn a way back from. The
same command written as the world target it aims at (``target = eef + delta``) does not
accumulate: off the demo's path, the delta toward the demo's next target steers back by itself.

A delta action and its target convert into each other from the observed end-effector pose
alone, with the env's step scale (``DexMGEnv.delta_pose_scale``), so this is numpy on
observations: training converts the dataset's actions once, rollout converts each output back.
Orientation targets are written as ``rot6d`` (continuous, unlike a rotation vector near pi).

Target layout: per arm in ``arms`` order its position (3) and ``rot6d`` (6), then every action
dimension that is not a pose delta (the hands), in its original order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import numpy as np

from dexmg_bench.geometry import (
    axis_angle_to_mat,
    mat_to_axis_angle,
    mat_to_rot6d,
    quat_to_mat,
    rot6d_to_mat,
)

POSE_DIM = 9  # position (3) + rot6d (6) per arm


@dataclass(frozen=True, kw_only=True)
class PoseFrame:
    """Where each arm's delta pose sits in an action, and the step scale it is multiplied by.

    Attributes:
        arms: arm names; ``<arm>_eef_pos`` and ``<arm>_eef_quat`` are the observation keys of
            the pose each delta starts from.
        offsets: per arm, the index of ``dpos[0]`` in the action (``drot`` follows at +3).
        action_dim: width of the env's action.
        max_dpos, max_drot: metres and radians per step at ``|a| = 1``.
    """

    arms: tuple[str, ...]
    offsets: tuple[int, ...]
    action_dim: int
    max_dpos: float
    max_drot: float

    def __post_init__(self) -> None:
        if len(self.arms) != len(self.offsets) or not self.arms:
            raise ValueError(f"one offset per arm is needed. Got {self.arms} and {self.offsets}.")
        if any(o < 0 or o + 6 > self.action_dim for o in self.offsets):
            raise ValueError(
                f"`offsets` {self.offsets} must leave 6 pose values inside {self.action_dim}."
            )
        if not (self.max_dpos > 0 and self.max_drot > 0):
            raise ValueError(f"step scales must be > 0. Got {self.max_dpos}, {self.max_drot}.")

    @cached_property
    def rest(self) -> np.ndarray:
        """Indices of the action dimensions that are not pose deltas (the hands).

        Cached: the policy converts an action with it at every rollout step.
        """
        pose = {o + k for o in self.offsets for k in range(6)}
        return np.array([i for i in range(self.action_dim) if i not in pose], dtype=int)

    @property
    def target_dim(self) -> int:
        """Width of a target vector."""
        return POSE_DIM * len(self.arms) + len(self.rest)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (stored in checkpoints)."""
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PoseFrame:
        """Inverse of ``to_json``."""
        return cls(**{**d, "arms": tuple(d["arms"]), "offsets": tuple(d["offsets"])})


def pose_frame(env: Any) -> PoseFrame:
    """The frame of a DexMG env whose arm actions are deltas; an error where they are not."""
    base = getattr(env, "unwrapped", env)
    scale = getattr(base, "delta_pose_scale", None)
    if scale is None:
        raise ValueError(
            f"{base.spec.id if base.spec else type(base).__name__}: its pose actions are not "
            "deltas (absolute already), so pose targets do not apply."
        )
    arms = tuple(base.action_layout)
    return PoseFrame(
        arms=arms,
        offsets=tuple(int(base.action_layout[a]["dpos"][0]) for a in arms),
        action_dim=int(base.action_space.shape[0]),
        max_dpos=float(scale[0]),
        max_drot=float(scale[1]),
    )


def _eef(obs: dict[str, np.ndarray], arm: str) -> tuple[np.ndarray, np.ndarray]:
    pos = np.asarray(obs[f"{arm}_eef_pos"], dtype=np.float64)
    return pos, quat_to_mat(np.asarray(obs[f"{arm}_eef_quat"], dtype=np.float64))


def to_targets(frame: PoseFrame, obs: dict[str, np.ndarray], actions: np.ndarray) -> np.ndarray:
    """Targets ``(..., target_dim)`` of delta actions ``(..., action_dim)`` taken at ``obs``.

    ``obs`` holds each arm's end-effector pose at the same steps as ``actions`` (an episode's
    observations without the last, or one step's).
    """
    a = np.clip(np.asarray(actions, dtype=np.float64), -1.0, 1.0)
    parts = []
    for arm, o in zip(frame.arms, frame.offsets, strict=True):
        pos, rot = _eef(obs, arm)
        parts.append(pos + a[..., o : o + 3] * frame.max_dpos)
        turn = axis_angle_to_mat(a[..., o + 3 : o + 6] * frame.max_drot)
        parts.append(mat_to_rot6d(turn @ rot))
    parts.append(a[..., frame.rest])
    return np.concatenate(parts, axis=-1)


def to_actions(frame: PoseFrame, obs: dict[str, np.ndarray], targets: np.ndarray) -> np.ndarray:
    """The delta actions ``(..., action_dim)`` at ``obs`` that aim at ``targets``, clipped."""
    t = np.asarray(targets, dtype=np.float64)
    out = np.zeros((*t.shape[:-1], frame.action_dim))
    for k, (arm, o) in enumerate(zip(frame.arms, frame.offsets, strict=True)):
        pos, rot = _eef(obs, arm)
        part = t[..., POSE_DIM * k : POSE_DIM * (k + 1)]
        out[..., o : o + 3] = (part[..., :3] - pos) / frame.max_dpos
        turn = rot6d_to_mat(part[..., 3:]) @ np.swapaxes(rot, -1, -2)
        out[..., o + 3 : o + 6] = mat_to_axis_angle(turn) / frame.max_drot
    out[..., frame.rest] = t[..., POSE_DIM * len(frame.arms) :]
    return np.clip(out, -1.0, 1.0)
