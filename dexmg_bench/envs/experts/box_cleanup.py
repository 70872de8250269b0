"""Scripted expert for Box Cleanup: hook both lid handles, lift, carry over the box, set down.

Phases (both arms in lock step): each open hand comes down outside its handle, moves in until the
handle lies across its fingers 14 cm below the wrist, and curls its fingers under it (a hook
grasp: the lid hangs on the fingers, so a weak finger servo still holds it). Both lift, carry the
lid over the box and lower it onto the rim along one rigid motion (both targets come from the
same lid transform, which keeps the hands' relative pose, as a coordination subtask needs); the
hands then open and back away outwards. About 280 steps.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dexmg_bench.envs.base import ARMS
from dexmg_bench.envs.experts.base import Expert, Move, Phase, offset_pose, pose_yaw
from dexmg_bench.envs.robots import panda_inspire as inspire
from dexmg_bench.envs.tasks.box_cleanup import (
    BOX_HEIGHT,
    SKIRT_HEIGHT,
    BoxCleanupEnv,
    handle_pose,
)
from dexmg_bench.geometry import make_pose, pose_inv, rot_z

OUT = 0.05  # approach offset outside the handle, along the palm normal
ABOVE = 0.06  # approach height above the grasp
HIGH = 0.10  # extra height of the first waypoint
LIFT = 0.15  # lid lift before carrying
CLEAR = 0.05  # lid plate above the rim while carried over the box
PUSH = 0.004  # lid target below its seat, so it settles on the rim
RETREAT_OUT, RETREAT_UP = 0.06, 0.08


class BoxCleanupExpert(Expert):
    """Both hands hook their handle, lift the lid together and put it on the box."""

    def plan(self) -> Iterator[Phase]:
        """Phases: approach outside, move in, curl, lift, carry, lower, open, retreat."""
        env = self.env
        assert isinstance(env, BoxCleanupEnv)
        noise = self.rng.normal(0.0, 0.003, size=(2, 3))
        lid = env.object_poses()["lid"]
        grasps = {}
        for i, arm in enumerate(ARMS):
            bar = handle_pose(lid, arm)
            rot = rot_z(pose_yaw(lid)) @ inspire.PALM_INWARD[arm]
            pos = bar[:3, 3] - rot @ inspire.HOOK_BAR[arm] + noise[i]
            grasps[arm] = make_pose(pos, rot)
        out = np.array([0.0, 0.0, -OUT])  # grip-site z is the palm normal
        open_, closed = inspire.OPEN, inspire.CLOSED
        # High first: the right hand passes over the box, whose rim is above the lid's handles.
        high = np.array([0.0, 0.0, ABOVE + HIGH])
        yield {a: Move(offset_pose(grasps[a], out, high), open_, 40) for a in ARMS}
        yield {
            a: Move(offset_pose(grasps[a], out, np.array([0, 0, ABOVE])), open_, 20) for a in ARMS
        }
        yield {a: Move(offset_pose(grasps[a], out), open_, 20) for a in ARMS}
        yield {a: Move(grasps[a], open_, 20) for a in ARMS}
        yield {a: Move(None, closed, 20) for a in ARMS}
        up = np.array([0.0, 0.0, LIFT])
        yield {a: Move(offset_pose(grasps[a], np.zeros(3), up), closed, 30) for a in ARMS}

        # Carry the lid over the box and set it down: one rigid motion for both hands.
        poses = env.object_poses()
        box, lid = poses["box"], poses["lid"]
        turn = (pose_yaw(box) - pose_yaw(lid) + np.pi / 4) % (np.pi / 2) - np.pi / 4
        seat = make_pose(
            box[:3, 3] + np.array([0.0, 0.0, BOX_HEIGHT - SKIRT_HEIGHT]),
            rot_z(pose_yaw(lid) + turn),
        )
        hover = offset_pose(seat, np.zeros(3), np.array([0.0, 0.0, CLEAR]))
        yield {a: Move(self._carry(i, hover), closed, 45) for i, a in enumerate(ARMS)}
        poses = env.object_poses()
        seat = offset_pose(seat, np.zeros(3), np.array([0.0, 0.0, -PUSH]))
        yield {a: Move(self._carry(i, seat), closed, 25) for i, a in enumerate(ARMS)}
        yield {a: Move(None, open_, 15) for a in ARMS}
        eef = env.eef_poses()
        away = np.array([0.0, 0.0, -RETREAT_OUT])
        yield {
            a: Move(offset_pose(eef[i], away, np.array([0, 0, RETREAT_UP])), open_, 25)
            for i, a in enumerate(ARMS)
        }

    def _carry(self, arm_index: int, lid_goal: np.ndarray) -> np.ndarray:
        """End-effector target that puts the held lid at ``lid_goal`` (grasp offset kept)."""
        lid, eef = self.env.object_poses()["lid"], self.env.eef_poses()
        return lid_goal @ pose_inv(lid) @ eef[arm_index]


__all__ = ["BoxCleanupExpert"]
