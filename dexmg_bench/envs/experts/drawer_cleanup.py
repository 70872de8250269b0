"""Scripted expert for Drawer Cleanup: hook and pull the drawer, pinch the cube in, push it shut.

Phases. The right hand, palm towards the cabinet, comes down in front of the drawer's bar handle,
moves in until the bar lies across its fingers 14 cm below the wrist (the Box Cleanup hook) and
curls them behind it; meanwhile the left hand pinches the cube (the Tray Lift pinch: thumb against
index and middle finger, hand tilted 37 degrees) and lifts it. The right hand pulls the drawer
open along its slide axis and holds it there. The left hand carries the cube over the drawer's
exposed floor, lowers it, lets go and rises until it is above the drawer front. The right hand
then pushes the drawer shut, opens its fingers and stays at the bar. The cube goes up 17 cm
before the carry, so that it and the fingers under it pass over the drawer front; afterwards
the left hand moves aside (+y), out of the way of the right forearm, which sweeps forward as
it pushes. 419 steps.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dexmg_bench.envs.experts.base import Expert, Move, offset_pose, pose_yaw, rise, wrap_angle
from dexmg_bench.envs.experts.tray_lift import PINCH, PINCH_AT, PINCH_TILT, PRE_PINCH
from dexmg_bench.envs.robots import panda_inspire as inspire
from dexmg_bench.envs.tasks.drawer_cleanup import (
    CUBE_HALF,
    DrawerCleanupEnv,
    handle_pose,
    slot_pose,
)
from dexmg_bench.geometry import make_pose, pose_inv, rot_z

OUT = 0.05  # approach offset behind the palm (towards the arms) before moving onto the bar
ABOVE, HIGH = 0.06, 0.08  # approach heights above the hook pose
HOOK = np.array([0.2, 0.2, 0.2, 0.2, -1.0, -1.0])  # fingers curled behind the bar, thumb out
PULL = 0.155  # drawer travel when opening (its joint stops at 0.16)
PUSH_PAST = 0.03  # push target beyond the closed position, so the drawer reaches its stop
CUBE_LIFT = 0.17
CUBE_HOVER = 0.17  # cube bottom above the drawer floor before lowering
CUBE_DROP = 0.003  # cube bottom above the drawer floor when released
SLOT = (0.08, -0.02)  # cube target on the drawer floor: behind the front plate, y (drawer axes)
RISE = 0.22  # left hand rise after releasing: clear of the drawer front
ASIDE = 0.20  # then the left hand moves this far towards +y


class DrawerCleanupExpert(Expert):
    """The right hand opens and closes the drawer; the left hand puts the cube in between."""

    def plan(self) -> Iterator[dict[str, Move]]:
        """Phases: hook + pinch, pull open, place the cube, rise, push shut, retreat."""
        env = self.env
        assert isinstance(env, DrawerCleanupEnv)
        noise = self.rng.normal(0.0, 0.002, size=(2, 3))
        poses = env.object_poses()
        drawer, cube = poses["drawer"], poses["cube"]

        rot = rot_z(pose_yaw(drawer) - np.pi / 2) @ inspire.PALM_INWARD["right"]  # palm towards +x
        bar = handle_pose(drawer)[:3, 3]
        hook = make_pose(bar - rot @ inspire.HOOK_BAR["right"] + noise[0], rot)
        turn = rot_z(wrap_angle(pose_yaw(cube), np.pi / 2))
        pinch_rot = turn @ PINCH_TILT["left"] @ inspire.PALM_INWARD["left"]
        pinch = make_pose(cube[:3, 3] - pinch_rot @ PINCH_AT["left"] + noise[1], pinch_rot)
        back = np.array([0.0, 0.0, -OUT])  # grip-site z is the palm normal
        open_ = inspire.OPEN

        yield {
            "right": Move(offset_pose(hook, back, rise(ABOVE + HIGH)), open_, 40),
            "left": Move(offset_pose(pinch, np.zeros(3), rise(0.08)), PRE_PINCH, 45),
        }
        yield {
            "right": Move(offset_pose(hook, back, rise(ABOVE)), open_, 20),
            "left": Move(pinch, PRE_PINCH, 20),
        }
        yield {"right": Move(offset_pose(hook, back), open_, 20), "left": Move(None, PINCH, 20)}
        yield {
            "right": Move(hook, open_, 20),
            "left": Move(offset_pose(pinch, np.zeros(3), rise(CUBE_LIFT)), PINCH, 25),
        }
        yield {"right": Move(None, HOOK, 15), "left": Move(None, PINCH, 15)}

        # Pull the drawer open along its slide axis (the drawer's -x).
        pull = drawer[:3, :3] @ np.array([-PULL, 0.0, 0.0])
        yield {
            "right": Move(offset_pose(hook, np.zeros(3), pull), HOOK, 50),
            "left": Move(None, PINCH, 50),
        }
        yield {"right": Move(None, HOOK, 5), "left": Move(None, PINCH, 5)}

        # The left hand carries the cube over the drawer floor, lowers it, lets go and rises clear
        # of the drawer front; the right hand holds the drawer open meanwhile.
        poses = env.object_poses()
        slot = slot_pose(poses["drawer"], SLOT[0])
        slot[:3, 3] += poses["drawer"][:3, :3] @ np.array([0.0, SLOT[1], 0.0])
        goal = poses["cube"].copy()
        goal[:3, 3] = slot[:3, 3] + np.array([0.0, 0.0, CUBE_HALF])
        hover = self._carry("cube", offset_pose(goal, np.zeros(3), rise(CUBE_HOVER)))
        yield {"right": Move(None, HOOK, 60), "left": Move(hover, PINCH, 60)}
        yield {"right": Move(None, HOOK, 8), "left": Move(None, PINCH, 8)}
        drop = self._carry("cube", offset_pose(goal, np.zeros(3), rise(CUBE_DROP)))
        yield {"right": Move(None, HOOK, 30), "left": Move(drop, PINCH, 30)}
        yield {"right": Move(None, HOOK, 10), "left": Move(None, PRE_PINCH, 10)}
        up = offset_pose(env.eef_poses()[1], np.zeros(3), rise(RISE))
        yield {"right": Move(None, HOOK, 30), "left": Move(up, PRE_PINCH, 30)}
        # ... and out of the right arm's way (its forearm and wrist sweep forward as it pushes).
        aside = offset_pose(up, np.zeros(3), np.array([0.0, ASIDE, 0.0]))
        yield {"right": Move(None, HOOK, 25), "left": Move(aside, open_, 25)}

        # Push the drawer shut, still hooked (the bar lies across the fingers' front; straight,
        # the fingers bend back and the drawer stopped 2 cm short). The push target comes from
        # where the drawer is now. Then the fingers open.
        drawer = env.object_poses()["drawer"]
        closed = handle_pose(drawer)[:3, 3] + drawer[:3, :3] @ np.array(
            [PUSH_PAST - env.drawer_slide(), 0.0, 0.0]
        )
        shut = make_pose(closed - rot @ inspire.HOOK_BAR["right"], rot)
        yield {"right": Move(shut, HOOK, 60), "left": Move(None, open_, 60)}
        yield {"right": Move(None, HOOK, 15), "left": Move(None, open_, 15)}
        # The hand stays at the bar: backing away, even straight up and with the fingers open, drew
        # the drawer 2-5 cm open again in 4 of 4 tries (a finger snags on the bar).
        yield {"right": Move(None, open_, 10), "left": Move(None, open_, 10)}

    def _carry(self, obj: str, goal: np.ndarray) -> np.ndarray:
        """Left end-effector target that puts the held ``obj`` at ``goal`` (grasp offset kept)."""
        pose, eef = self.env.object_poses()[obj], self.env.eef_poses()
        return goal @ pose_inv(pose) @ eef[1]


__all__ = ["DrawerCleanupExpert"]
