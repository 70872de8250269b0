"""Scripted expert for Can Sorting: right side grasp, lift, handover to the left hand, drop in bin.

Both hands hold the upright can from the side, fingers pointing forward and wrapping around it,
thumbs up (``robots/gr1.py`` hand frame): the right hand high on the can, the left hand below it,
so the two grasps do not overlap during the handover.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dexmg_bench.envs.experts.base import Expert, Move, Phase
from dexmg_bench.envs.tasks.can_sorting import (
    CAN_HALF_HEIGHT,
    CAN_RADIUS,
    CanSortingEnv,
)
from dexmg_bench.geometry import axis_angle_to_mat, make_pose

# Hand rotations (world) for a side grasp of an upright can: fingers forward (+x), palms facing
# the can (right palm +y, left palm -y), thumbs up; tilted so the fingers point a little down.
_TILT = axis_angle_to_mat(np.array([0.0, 0.3, 0.0]))
R_RIGHT = _TILT @ np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
R_LEFT = _TILT @ np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
# Can centre in each hand's grip-site frame when grasped (m). The right hand holds the upper half
# (can centre 5 cm below its grip site), leaving the middle and lower half to the left hand: a
# left grasp at the can's bottom end had only two fingers on it and let the can slip out.
RIGHT_GRASP = np.array([0.05, -0.08, 0.05])
LEFT_GRASP = np.array([0.0, -0.08, 0.045])
LEFT_LOW = 0.035  # the left hand takes the can this far from its centre, along its axis
HANDOVER = np.array([-0.12, 0.0, 1.10])  # can centre during the handover (world)
# The can's lowest point above the bin's base when released (m): lowered into the bin, not
# dropped over the rim, a tilted can tips over inside the bin instead of over a wall.
DROP_CLEARANCE = 0.015
UPRIGHT_GAIN = 1.0  # fraction of the can's tilt the left hand turns out before the release
OPEN = np.array([-1.0, -1.0, -1.0, -1.0, -1.0, -1.0])  # thumb swung out: nothing in the way
CLOSED = np.array([1.0, 1.0, 1.0, 1.0, 1.0, -0.5])  # thumb bent, not swung across the palm
# The right hand's grasp leaves its thumb up and out: bending it pressed on the can's top edge
# and tipped a standing can back toward the wrist (5 of 50 D0 resets).
GRIP_R = np.array([1.0, 1.0, 1.0, 1.0, -1.0, -1.0])


def _hand_pose(can: np.ndarray, rot: np.ndarray, grasp: np.ndarray) -> np.ndarray:
    """Grip-site pose that holds the can centre at ``grasp`` in the hand frame."""
    return make_pose(can - rot @ grasp, rot)


def _tilt_to_vertical(axis: np.ndarray, gain: float) -> np.ndarray:
    """The rotation (about a horizontal axis) that turns ``gain`` of ``axis``'s tilt away."""
    up = np.array([0.0, 0.0, 1.0])
    turn = np.cross(axis, up)
    sin = float(np.linalg.norm(turn))
    if sin < 1e-9:
        return np.eye(3)
    angle = float(np.arctan2(sin, float(axis @ up)))
    return axis_angle_to_mat(turn / sin * angle * gain)


def _shift(pose: np.ndarray, d: tuple[float, float, float]) -> np.ndarray:
    out = pose.copy()
    out[:3, 3] += d
    return out


class CanSortingExpert(Expert):
    """Right: grasp and hand over. Left: take over and drop into the can's own bin."""

    action_noise = 0.002  # absolute actions: 2 mm / 0.36 degrees

    def plan(self) -> Iterator[Phase]:
        """Phases: reach above, descend, close, lift to the handover, left takes, drop."""
        env = self.env
        assert isinstance(env, CanSortingEnv)
        noise = self.rng.normal(0.0, 0.003, size=(2, 3))
        can = env.object_poses()["can"][:3, 3]
        grasp = _hand_pose(can + noise[0], R_RIGHT, RIGHT_GRASP)
        wait = _hand_pose(HANDOVER + (0.0, 0.15, 0.0), R_LEFT, LEFT_GRASP)
        # Above the can and out to the side, down beside it, then in: straight down, the palm's
        # thumb base would land on the can's rim.
        out = _shift(grasp, (0, -0.06, 0))
        yield {"right": Move(_shift(out, (0, 0, 0.10)), OPEN, 30), "left": Move(wait, OPEN, 30)}
        yield {"right": Move(out, OPEN, 15), "left": Move(None, OPEN, 15)}
        yield {"right": Move(grasp, OPEN, 15), "left": Move(None, OPEN, 15)}
        yield {"right": Move(None, GRIP_R, 25), "left": Move(None, OPEN, 25)}
        yield {"right": Move(_shift(grasp, (0, 0, 0.08)), GRIP_R, 15), "left": Move(None, OPEN, 15)}
        # Carry the can to the handover point, measured from where it sits in the hand now.
        can = env.object_poses()["can"][:3, 3]
        eef = env.eef_poses()
        carry = eef[0].copy()
        carry[:3, 3] += HANDOVER - can
        yield {"right": Move(carry, GRIP_R, 30), "left": Move(None, OPEN, 30)}
        yield {"right": Move(None, GRIP_R, 5), "left": Move(None, OPEN, 5)}
        # The left hand takes the half of the can the right hand is not holding.
        can_pose = env.object_poses()["can"]
        axis = can_pose[:3, 2]
        right_along = float(axis @ (env.eef_poses()[0][:3, 3] - can_pose[:3, 3]))
        side = -1.0 if right_along > 0 else 1.0
        free = can_pose[:3, 3] + side * LEFT_LOW * axis
        take = _hand_pose(free + noise[1], R_LEFT, LEFT_GRASP)
        yield {"right": Move(None, GRIP_R, 25), "left": Move(take, OPEN, 25)}
        yield {"right": Move(None, GRIP_R, 30), "left": Move(None, CLOSED, 30)}
        for k in range(1, 6):  # the right hand lets go gradually, the left takes the weight
            hand = GRIP_R + (OPEN - GRIP_R) * k / 5
            yield {"right": Move(None, hand, 3), "left": Move(None, CLOSED, 3)}
        # The fingers' servos are slow (kp 2, damping 1: a 0.5 s time constant): let them open
        # before the hand moves, or the half-open fingers drag the can along.
        yield {"right": Move(None, OPEN, 15), "left": Move(None, CLOSED, 15)}
        away = _shift(env.eef_poses()[0], (0.0, -0.12, 0.0))
        yield {"right": Move(away, OPEN, 15), "left": Move(None, CLOSED, 15)}
        # Carry over the can's own bin and let go, turning the hand so that the can hangs upright:
        # the handover leaves it tilted 25-35 degrees in the left hand, and a can released more
        # than ~18 degrees off vertical (atan(radius / half height)) falls over, out of the bin.
        can_pose = env.object_poses()["can"]
        bin_xyz = env.object_poses()["target_bin"][:3, 3]
        eef = env.eef_poses()
        in_hand = np.linalg.inv(eef[1]) @ can_pose
        axis = can_pose[:3, 2] * (1.0 if can_pose[2, 2] >= 0 else -1.0)  # either end up
        upright = _tilt_to_vertical(axis, UPRIGHT_GAIN)
        can_rot = upright @ can_pose[:3, :3]
        cos = abs(can_rot[2, 2])
        reach_down = CAN_HALF_HEIGHT * cos + CAN_RADIUS * np.sqrt(max(0.0, 1.0 - cos**2))
        goal = make_pose(bin_xyz + (0.0, 0.0, DROP_CLEARANCE + reach_down), can_rot)
        over = goal @ np.linalg.inv(in_hand)
        high = over.copy()
        high[2, 3] = max(eef[1][2, 3], over[2, 3])
        yield {"right": Move(None, OPEN, 30), "left": Move(high, CLOSED, 30)}
        yield {"right": Move(None, OPEN, 10), "left": Move(over, CLOSED, 10)}
        for k in range(1, 6):  # open gradually: a sudden release flings the can off the fingers
            hand = CLOSED + (OPEN - CLOSED) * k / 5
            yield {"right": Move(None, OPEN, 3), "left": Move(None, hand, 3)}
        yield {"right": Move(None, OPEN, 20), "left": Move(None, OPEN, 20)}
        # Back the palm off the can (the left palm faces -y) before lifting the hand out.
        back = _shift(over, (0, 0.04, 0))
        yield {"right": Move(None, OPEN, 10), "left": Move(back, OPEN, 10)}
        yield {"right": Move(None, OPEN, 15), "left": Move(_shift(back, (0, 0, 0.08)), OPEN, 15)}


__all__ = ["CanSortingExpert"]
