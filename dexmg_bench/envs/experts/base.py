"""The waypoint follower shared by every scripted expert.

An expert is a generator of *phases*. A phase gives each arm a ``Move`` (a world-frame target pose,
a hand command and a duration). Both arms run a phase in lock step; the commanded pose moves from
the previous target to the new one (linear position, slerp rotation), and each step's action is the
delta that takes the current end-effector pose to the commanded one. Targets are computed when the
phase starts, from the objects' poses at that moment, so grasp offsets are compensated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from dexmg_bench.envs.base import ARMS, BimanualEnv
from dexmg_bench.geometry import interpolate_poses


@dataclass(frozen=True)
class Move:
    """One arm's part of a phase: go to ``target`` (4x4, world) in ``steps`` with ``hand`` set."""

    target: np.ndarray | None
    hand: float | np.ndarray
    steps: int


Phase = dict[str, Move]


def topdown_rotation(finger_axis: np.ndarray, current: np.ndarray | None = None) -> np.ndarray:
    """End-effector rotation pointing straight down with the fingers closing along ``finger_axis``.

    The Panda grip site's x axis is the closing direction and its z axis the approach direction.
    The gripper is symmetric, so of ``finger_axis`` and its negation the one nearer ``current``
    (a rotation matrix) is used, which keeps the wrist from spinning half a turn.
    """
    x = np.array([finger_axis[0], finger_axis[1], 0.0])
    x /= np.linalg.norm(x)
    if current is not None and np.dot(x, current[:3, 0]) < 0:
        x = -x
    z = np.array([0.0, 0.0, -1.0])
    return np.stack([x, np.cross(z, x), z], axis=1)


class Expert:
    """Follow the phases of ``plan`` with optional Gaussian action noise."""

    action_noise: float = 0.02

    def __init__(self, env: BimanualEnv, rng: np.random.Generator):
        self.env = env
        self.rng = rng
        self._phases = self.plan()
        self._queue: list[np.ndarray] = []
        self._commanded = env.eef_poses()
        self.done = False

    def plan(self) -> Iterator[Phase]:
        """The task's phases; each is computed when the previous one has been executed."""
        raise NotImplementedError

    def act(self) -> np.ndarray:
        """Next action; after the last phase the arms hold their final targets."""
        if not self._queue and not self.done:
            phase = next(self._phases, None)
            if phase is None:
                self.done = True
            else:
                self._queue = self._expand(phase)
        if self._queue:
            self._last = self._queue.pop(0)
        target, hand = self._last
        action = self.env.target_pose_to_action(target, hand)
        if self.action_noise > 0:
            noise = self.rng.normal(0.0, self.action_noise, size=action.shape)
            for arm in ARMS:  # the hand command stays clean: noise there only chatters fingers
                lo, hi = self.env.action_layout[arm]["hand"]
                noise[lo:hi] = 0.0
            action = np.clip(action + noise, -1.0, 1.0)
        return action

    def _expand(self, phase: Phase) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per step: targets (n_arms, 4, 4) and hand commands (n_arms, hand_dim)."""
        n = max(phase[a].steps for a in ARMS)
        paths, hands = [], []
        for i, arm in enumerate(ARMS):
            move = phase[arm]
            start = self._commanded[i]
            goal = start if move.target is None else move.target
            path = interpolate_poses(start, goal, max(move.steps, 1))
            if len(path) < n:
                path = np.concatenate([path, np.repeat(path[-1:], n - len(path), axis=0)])
            paths.append(path)
            hands.append(np.broadcast_to(np.asarray(move.hand, float), (self.env.hand_dim,)))
            self._commanded[i] = goal
        hand = np.stack(hands)
        return [(np.stack([p[k] for p in paths]), hand) for k in range(n)]


def pose_yaw(pose: np.ndarray) -> float:
    """Heading of a 4x4 pose's x axis about world z."""
    return float(np.arctan2(pose[1, 0], pose[0, 0]))


def wrap_angle(angle: float, period: float) -> float:
    """``angle`` shifted by multiples of ``period`` into [-period/2, period/2)."""
    return float((angle + period / 2) % period - period / 2)


def offset_pose(pose: np.ndarray, local: np.ndarray, world: np.ndarray | None = None) -> np.ndarray:
    """``pose`` moved by ``local`` (in its own axes) and then by ``world`` (world axes)."""
    out = pose.copy()
    out[:3, 3] += pose[:3, :3] @ local
    if world is not None:
        out[:3, 3] += world
    return out


def rise(dz: float) -> np.ndarray:
    """A world-frame offset straight up."""
    return np.array([0.0, 0.0, dz])
