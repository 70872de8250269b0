"""Scripted expert for Tray Lift: pinch each cube onto the tray, then hook both handles and lift.

Phases (both arms in lock step). The cube grasp is a pinch of the thumb against the index and
middle fingers: the hand, thumb swung in front of the palm, is tilted 37 degrees about its
finger-curl axis so that the thumb tip and the finger tips meet horizontally at the cube's
mid-height when the fingers and the thumb bend are half closed (``PINCH``); closing further makes
the finger tips rise over the cube and knock it over. Each hand lifts its cube, carries it over
its corner of the tray, lowers and releases it, backs off, then hooks its fingers under its handle
(the Box Cleanup grasp) and both lift the tray 15 cm along the same motion. The cubes go onto
the tray one hand at a time (placed together, the two forearms collide over the tray): the
right hand first, while the left holds its cube up. 482 steps.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dexmg_bench.envs.base import ARMS
from dexmg_bench.envs.experts.base import (
    Expert,
    Move,
    Phase,
    offset_pose,
    pose_yaw,
    rise,
    wrap_angle,
)
from dexmg_bench.envs.robots import panda_inspire as inspire
from dexmg_bench.envs.tasks.tray_lift import (
    CUBE_HALF,
    CUBES,
    TRAY_FLOOR,
    TrayLiftEnv,
    handle_pose,
)
from dexmg_bench.geometry import make_pose, pose_inv, rot_x, rot_z

TILT = float(np.arctan2(0.6, 0.8))  # rad: makes the pinch's closing axis horizontal
PINCH_TILT = {"right": rot_x(-TILT), "left": rot_x(TILT)}
# The cube centre in the grip-site frame at the pinch (where thumb and finger tips meet).
PINCH_AT = {"right": np.array([-0.016, -0.125, 0.065]), "left": np.array([0.016, -0.125, 0.065])}
# Ring and pinky stay curled out of the way (straight, they hang below the cube).
PRE_PINCH = np.array([1.0, 1.0, -1.0, -1.0, -1.0, 1.0])  # thumb swung in, index/middle straight
PINCH = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 1.0])  # index, middle and thumb bend half closed
ABOVE = 0.08  # approach height over a grasp
CUBE_LIFT = 0.10
# Cube targets from the tray centre (world x, y; the right arm's y is negated): staggered in x so
# that the two wrists, each inboard of its cube, do not meet over the tray.
CUBE_SLOT = (0.045, 0.055)
CUBE_HOVER = 0.09  # cube bottom above the tray floor before lowering
CUBE_DROP = 0.008  # cube bottom above the tray floor when released
RISE, AWAY = 0.10, 0.12  # hand moves after releasing a cube
HOOK_OUT, HOOK_ABOVE, HOOK_HIGH = 0.05, 0.06, 0.06
TRAY_LIFT = 0.15
# Fingers half curled under the handle, thumb out: curling fully yanks each handle up ~5 cm, and
# with the tray yawed the two yanks pitch it past 30 degrees.
HOOK = np.array([0.2, 0.2, 0.2, 0.2, -1.0, -1.0])


class TrayLiftExpert(Expert):
    """Each hand puts its cube on the tray; both hook their handle and lift the tray together."""

    def plan(self) -> Iterator[Phase]:
        """Phases: pinch cubes, place them on the tray, hook the handles, lift."""
        env = self.env
        assert isinstance(env, TrayLiftEnv)
        noise = self.rng.normal(0.0, 0.002, size=(2, 3))
        poses = env.object_poses()
        grasps = {}
        for i, (arm, cube) in enumerate(zip(ARMS, CUBES, strict=True)):
            c = poses[cube]
            rot = (
                rot_z(wrap_angle(pose_yaw(c), np.pi / 2))
                @ PINCH_TILT[arm]
                @ inspire.PALM_INWARD[arm]
            )
            pos = c[:3, 3] - rot @ PINCH_AT[arm] + noise[i]
            grasps[arm] = make_pose(pos, rot)
        yield {
            a: Move(offset_pose(grasps[a], np.zeros(3), rise(ABOVE)), PRE_PINCH, 45) for a in ARMS
        }
        yield {a: Move(grasps[a], PRE_PINCH, 20) for a in ARMS}
        yield {a: Move(None, PINCH, 20) for a in ARMS}
        yield {
            a: Move(offset_pose(grasps[a], np.zeros(3), rise(CUBE_LIFT)), PINCH, 25) for a in ARMS
        }

        # One hand at a time (their forearms would meet over the tray): carry the cube over its
        # corner of the tray, lower it, let go and back off outwards; the other hand waits.
        for i, (arm, cube) in enumerate(zip(ARMS, CUBES, strict=True)):
            other = ARMS[1 - i]
            wait = inspire.OPEN if other == "right" else PINCH
            poses = env.object_poses()
            tray = poses["tray"]
            side = -1.0 if arm == "right" else 1.0
            slot = poses[cube].copy()
            slot[:3, 3] = tray[:3, 3] + np.array([-side * CUBE_SLOT[0], side * CUBE_SLOT[1], 0.0])
            slot[2, 3] = tray[2, 3] + TRAY_FLOOR + CUBE_HALF
            hover = self._carry(i, cube, offset_pose(slot, np.zeros(3), rise(CUBE_HOVER)))
            yield {arm: Move(hover, PINCH, 45), other: Move(None, wait, 45)}
            yield {arm: Move(None, PINCH, 8), other: Move(None, wait, 8)}
            drop = self._carry(i, cube, offset_pose(slot, np.zeros(3), rise(CUBE_DROP)))
            yield {arm: Move(drop, PINCH, 15), other: Move(None, wait, 15)}
            # Release with ring and pinky still curled (straight fingers would hit the tray), rise
            # straight up, then clear the way outwards.
            yield {arm: Move(None, PRE_PINCH, 10), other: Move(None, wait, 10)}
            up = offset_pose(env.eef_poses()[i], np.zeros(3), rise(RISE))
            yield {arm: Move(up, PRE_PINCH, 15), other: Move(None, wait, 15)}
            away = offset_pose(up, np.zeros(3), np.array([0.0, side * AWAY, 0.0]))
            yield {arm: Move(away, inspire.OPEN, 20), other: Move(None, wait, 20)}

        # Hook the handles from outside and lift the tray (one rigid motion for both hands).
        tray = env.object_poses()["tray"]
        hooks = {}
        for arm in ARMS:
            bar = handle_pose(tray, arm)
            rot = rot_z(wrap_angle(pose_yaw(tray), np.pi)) @ inspire.PALM_INWARD[arm]
            hooks[arm] = make_pose(bar[:3, 3] - rot @ inspire.HOOK_BAR[arm], rot)
        out = np.array([0.0, 0.0, -HOOK_OUT])  # grip-site z is the palm normal
        high = rise(HOOK_ABOVE + HOOK_HIGH)
        yield {a: Move(offset_pose(hooks[a], out, high), inspire.OPEN, 30) for a in ARMS}
        yield {
            a: Move(offset_pose(hooks[a], out, rise(HOOK_ABOVE)), inspire.OPEN, 15) for a in ARMS
        }
        yield {a: Move(offset_pose(hooks[a], out), inspire.OPEN, 15) for a in ARMS}
        yield {a: Move(hooks[a], inspire.OPEN, 15) for a in ARMS}
        yield {a: Move(None, HOOK, 20) for a in ARMS}
        lift = rise(TRAY_LIFT)
        yield {a: Move(offset_pose(hooks[a], np.zeros(3), lift), HOOK, 40) for a in ARMS}
        yield {a: Move(None, HOOK, 10) for a in ARMS}

    def _carry(self, arm_index: int, obj: str, goal: np.ndarray) -> np.ndarray:
        """End-effector target that puts the held ``obj`` at ``goal`` (grasp offset kept)."""
        pose, eef = self.env.object_poses()[obj], self.env.eef_poses()
        return goal @ pose_inv(pose) @ eef[arm_index]


__all__ = ["TrayLiftExpert"]
