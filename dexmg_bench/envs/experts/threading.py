"""Scripted expert for Threading: grasp both objects, meet in the air, push the needle through."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dexmg_bench.envs.experts.base import Expert, Move, Phase, topdown_rotation
from dexmg_bench.envs.tasks.threading import NEEDLE_TIP, RING_CENTER
from dexmg_bench.geometry import make_pose, pose_inv

MEET_POINT = np.array([0.0, -0.05, 1.05])  # world position of the ring centre when threading
STAND_GRASP_HEIGHT = 0.13  # grasp point on the post, above the stand's base
PRE_THREAD = 0.06  # tip distance before the ring, along its axis
POST_THREAD = 0.004  # tip distance past the ring centre at the end


class ThreadingExpert(Expert):
    """Right arm: stand. Left arm: needle. Coordinated meeting and threading."""

    def plan(self) -> Iterator[Phase]:
        """Phases: approach, descend, close, lift, meet, aim, thread, hold."""
        env = self.env
        noise = self.rng.normal(0.0, 0.003, size=(2, 3))
        poses, eef = env.object_poses(), env.eef_poses()
        stand, needle = poses["stand"], poses["needle"]
        stand_grasp = make_pose(
            stand[:3, 3] + np.array([0, 0, STAND_GRASP_HEIGHT]) + noise[0],
            topdown_rotation(stand[:3, 0], eef[0]),
        )
        needle_grasp = make_pose(
            needle[:3, 3] + np.array([0, 0, -0.003]) + noise[1],
            topdown_rotation(needle[:3, 1], eef[1]),
        )
        up = make_pose(np.array([0, 0, 0.10]), np.eye(3))
        yield {"right": Move(up @ stand_grasp, -1, 35), "left": Move(up @ needle_grasp, -1, 35)}
        yield {"right": Move(stand_grasp, -1, 20), "left": Move(needle_grasp, -1, 20)}
        yield {"right": Move(None, 1, 12), "left": Move(None, 1, 12)}
        lift = make_pose(np.array([0, 0, 0.15]), np.eye(3))
        yield {"right": Move(lift @ stand_grasp, 1, 25), "left": Move(lift @ needle_grasp, 1, 25)}

        # Coordination: bring the ring (axis along world y) and the needle (pointing -y) together.
        desired_stand = make_pose(MEET_POINT - np.asarray(RING_CENTER), np.eye(3))
        desired_needle = self._needle_pose(MEET_POINT, np.array([0.0, 1.0, 0.0]), PRE_THREAD)
        yield self._hold_objects(desired_stand, desired_needle, steps=50)
        yield {"right": Move(None, 1, 10), "left": Move(None, 1, 10)}

        # Re-aim from what the objects really are now, then thread along the ring's axis.
        for distance, steps in ((PRE_THREAD, 15), (0.025, 12), (-POST_THREAD, 20)):
            poses = env.object_poses()
            ring = poses["stand"] @ np.append(RING_CENTER, 1.0)
            axis = poses["stand"][:3, 1]
            if np.dot(axis, poses["needle"][:3, 3] - ring[:3]) < 0:
                axis = -axis
            phase = self._hold_objects(None, self._needle_pose(ring[:3], axis, distance), steps)
            yield phase
        yield {"right": Move(None, 1, 10), "left": Move(None, 1, 10)}

    def _needle_pose(self, ring: np.ndarray, axis: np.ndarray, distance: float) -> np.ndarray:
        """Needle pose with its shaft along ``-axis`` and its tip ``distance`` before the ring."""
        x = -np.array([axis[0], axis[1], 0.0]) / np.linalg.norm(axis[:2])
        rot = np.stack([x, np.cross([0.0, 0.0, 1.0], x), [0.0, 0.0, 1.0]], axis=1)
        tip = ring + distance * np.array([axis[0], axis[1], 0.0]) / np.linalg.norm(axis[:2])
        return make_pose(tip - rot @ np.asarray(NEEDLE_TIP), rot)

    def _hold_objects(self, stand: np.ndarray | None, needle: np.ndarray, steps: int) -> Phase:
        """End-effector targets that put the held objects at the given poses."""
        poses, eef = self.env.object_poses(), self.env.eef_poses()
        right = None if stand is None else stand @ pose_inv(poses["stand"]) @ eef[0]
        left = needle @ pose_inv(poses["needle"]) @ eef[1]
        return {"right": Move(right, 1, steps), "left": Move(left, 1, steps)}


__all__ = ["ThreadingExpert"]
