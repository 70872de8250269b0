"""Scripted expert for Piece Assembly: pick both pieces, seat piece 1 in the base, then piece 2.

Phases (both arms in lock step): approach, descend, close and lift (parallel); the right arm carries
piece 1 over the socket while the left holds piece 2 up beside the base; the right aims twice,
presses piece 1 home and lets go; it retreats while the left brings piece 2 over piece 1, which is
aimed, pressed home and released in the same way. About 240 steps.

Two choices keep the Panda arms out of trouble: grasps far from an arm's mount tip the gripper
outwards (a vertical gripper cannot reach the table's far corners without locking its elbow), and
of the two gripper yaws of every goal (the pieces are symmetric under a half turn) the nearer one
is used unless it would drive the last wrist joint towards its stop.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dexmg_bench.envs.base import ARMS
from dexmg_bench.envs.experts.base import Expert, Move, Phase, topdown_rotation
from dexmg_bench.envs.robots import panda_gripper as panda
from dexmg_bench.envs.tasks.piece_assembly import (
    PIECE1_SEATED_DZ,
    PIECE2_SEATED_DZ,
    PieceAssemblyEnv,
)
from dexmg_bench.geometry import axis_angle_to_mat, make_pose, pose_inv, rot_z

GRASP_DZ = {"piece1": -0.003, "piece2": -0.004}  # grip site below the piece's block centre
PRE_GRASP = 0.10  # approach height above the grasp
LIFT = 0.10  # lift after closing
TILT_FROM, TILT_FULL, MAX_TILT = 0.70, 0.80, 0.30  # grasp tilt (rad) by mount distance (m)
WRIST_SAFE = 2.2  # rad: the last wrist joint is kept within this
MAX_REACH = 0.62  # horizontal distance from the arm's mount that a lift ends within
HOVER = 0.06  # piece height above its seat before aiming
AIM = 0.032  # piece height above its seat when aimed: the peg tip 8 mm above the socket
PUSH = 0.004  # piece target below its seat, so it is pressed home
WAIT_OFFSET = np.array([0.0, 0.18, 0.13])  # piece 2 while waiting, from the base (world axes)
RIGHT_RETREAT = np.array([0.0, -0.12, 0.12])
LEFT_RETREAT = np.array([0.0, 0.06, 0.10])


def _up(dz: float) -> np.ndarray:
    return make_pose(np.array([0.0, 0.0, dz]), np.eye(3))


def _lift(grasp: np.ndarray, arm: str) -> np.ndarray:
    """Straight up from ``grasp``, pulled in towards the arm's mount if that is far away.

    At the table's far corners the arm is nearly stretched; lifting straight up from there can
    lock the elbow straight, a singularity the pose controller does not leave.
    """
    out = _up(LIFT) @ grasp
    mount = np.array([panda.BASE_X, panda.BASE_Y[arm]])
    reach = out[:2, 3] - mount
    dist = np.linalg.norm(reach)
    if dist > MAX_REACH:
        out[:2, 3] = mount + reach * MAX_REACH / dist
    return out


def _tilt_outward(pos: np.ndarray, arm: str) -> np.ndarray:
    """Rotation that tips the approach axis away from the arm's mount for far grasps.

    A vertical gripper reaches about 0.76 m (horizontally) from the mount at table height; tipping
    it outwards brings the wrist back in.
    """
    mount = np.array([panda.BASE_X, panda.BASE_Y[arm], 0.0])
    radial = pos - mount
    radial[2] = 0.0
    dist = np.linalg.norm(radial)
    angle = MAX_TILT * np.clip((dist - TILT_FROM) / (TILT_FULL - TILT_FROM), 0.0, 1.0)
    axis = np.cross([0.0, 0.0, 1.0], radial / dist)
    return axis_angle_to_mat(-angle * axis)


def _shift(pose: np.ndarray, offset: np.ndarray) -> np.ndarray:
    out = pose.copy()
    out[:3, 3] += offset
    return out


def _yaw(rot: np.ndarray) -> float:
    """Heading (rad) of a rotation's (or pose's) x axis in the world xy plane."""
    return float(np.arctan2(rot[1, 0], rot[0, 0]))


def _wrap(angle: float) -> float:
    return float((angle + np.pi) % (2 * np.pi) - np.pi)


class PieceAssemblyExpert(Expert):
    """Right arm: piece 1 into the base. Left arm: piece 2 into piece 1, after the right is done."""

    def plan(self) -> Iterator[Phase]:
        """Phases: approach, descend, close, lift; right seats piece 1; left seats piece 2."""
        env = self.env
        assert isinstance(env, PieceAssemblyEnv)
        noise = self.rng.normal(0.0, 0.003, size=(2, 3))
        poses, eef = env.object_poses(), env.eef_poses()
        grasps = []
        for i, name in enumerate(("piece1", "piece2")):
            piece = poses[name]
            pos = piece[:3, 3] + np.array([0.0, 0.0, GRASP_DZ[name]]) + noise[i]
            axes = (piece[:3, 1], -piece[:3, 1])  # the fingers close along the piece's y axis
            turns = [_wrap(np.arctan2(a[1], a[0]) - _yaw(eef[i])) for a in axes]
            axis = axes[self._wrist_choice(i, pos, turns)]
            grasps.append(make_pose(pos, _tilt_outward(pos, ARMS[i]) @ topdown_rotation(axis)))
        g1, g2 = grasps
        yield {
            "right": Move(_up(PRE_GRASP) @ g1, -1, 30),
            "left": Move(_up(PRE_GRASP) @ g2, -1, 30),
        }
        yield {"right": Move(g1, -1, 15), "left": Move(g2, -1, 15)}
        yield {"right": Move(None, 1, 10), "left": Move(None, 1, 10)}
        yield {"right": Move(_lift(g1, "right"), 1, 15), "left": Move(_lift(g2, "left"), 1, 15)}

        # Right: piece 1 over the socket. Left: piece 2 to a waiting point beside the base.
        poses = env.object_poses()
        base = poses["base"]
        p1_goal = _up(HOVER) @ self._seat(0, base, poses["piece1"], PIECE1_SEATED_DZ)
        p2_wait = _shift(self._seat(1, base, poses["piece2"], 0.0), WAIT_OFFSET)
        yield {
            "right": Move(self._carry("piece1", 0, p1_goal), 1, 35),
            "left": Move(self._carry("piece2", 1, p2_wait), 1, 35),
        }
        yield from self._insert("right", "piece1", "base", PIECE1_SEATED_DZ)

        # Right retreats while the left brings piece 2 over piece 1.
        poses = env.object_poses()
        p2_seat = self._seat(1, poses["piece1"], poses["piece2"], PIECE2_SEATED_DZ)
        p2_goal = _up(HOVER + 0.03) @ p2_seat
        retreat = _shift(env.eef_poses()[0], RIGHT_RETREAT)
        yield {
            "right": Move(retreat, -1, 30),
            "left": Move(self._carry("piece2", 1, p2_goal), 1, 30),
        }
        yield from self._insert("left", "piece2", "piece1", PIECE2_SEATED_DZ)
        retreat = _shift(env.eef_poses()[1], LEFT_RETREAT)
        yield {"right": Move(None, -1, 15), "left": Move(retreat, -1, 15)}

    def _insert(self, arm: str, piece: str, lower: str, dz: float) -> Iterator[Phase]:
        """Aim the held piece over its seat twice, lower it in, let go; the other arm holds still.

        Each aim is computed from the poses when it starts; the second one removes what the
        controller's lag left of the first.
        """
        i = 0 if arm == "right" else 1
        # The other arm holds still: the left keeps piece 2 closed in hand, the right stays open.
        other, other_hand = ("left", 1) if arm == "right" else ("right", -1)
        for height, steps in ((AIM, 12), (AIM, 8), (-PUSH, 15)):
            poses = self.env.object_poses()
            goal = _up(height) @ self._seat(i, poses[lower], poses[piece], dz)
            yield {
                arm: Move(self._carry(piece, i, goal), 1, steps),
                other: Move(None, other_hand, steps),
            }
        yield {arm: Move(None, -1, 8), other: Move(None, other_hand, 8)}

    def _wrist_choice(self, arm_index: int, target: np.ndarray, turns: list[float]) -> int:
        """Index of the smallest gripper yaw turn (rad) that keeps the last wrist joint in range.

        Pieces and the gripper are symmetric under a half turn, so each goal has two gripper yaws.
        Top-down, the last joint turns against the gripper's yaw and with the first joint, which
        points at the target; a turn whose predicted last joint would pass ``WRIST_SAFE`` (the
        stop is at +-2.9 rad) is only taken when no turn avoids that, then the most central one.
        """
        q = self.env.physics.data.qpos[self.env.osc.qpos_idx[arm_index]]
        arm = ARMS[arm_index]
        q1_goal = np.arctan2(target[1] - panda.BASE_Y[arm], target[0] - panda.BASE_X)
        q7 = np.abs([q[6] + (q1_goal - q[0]) - turn for turn in turns])
        safe = [k for k in range(len(turns)) if q7[k] < WRIST_SAFE]
        if not safe:
            return int(np.argmin(q7))
        return min(safe, key=lambda k: abs(turns[k]))

    def _seat(self, arm_index: int, lower: np.ndarray, held: np.ndarray, dz: float) -> np.ndarray:
        """Upright pose of a held piece seated ``dz`` above ``lower``, its yaw aligned with it.

        Of the two aligned yaws (the pieces are symmetric under a half turn), the nearer one is
        used unless it would take the holding wrist out of its safe range.
        """
        yaws = (_yaw(lower), _yaw(lower) + np.pi)
        turns = [_wrap(y - _yaw(held)) for y in yaws]
        yaw = yaws[self._wrist_choice(arm_index, lower[:3, 3], turns)]
        return make_pose(lower[:3, 3] + np.array([0.0, 0.0, dz]), rot_z(yaw))

    def _carry(self, piece: str, arm_index: int, goal: np.ndarray) -> np.ndarray:
        """End-effector target that puts the held ``piece`` at ``goal`` (grasp offset kept)."""
        poses, eef = self.env.object_poses(), self.env.eef_poses()
        return goal @ pose_inv(poses[piece]) @ eef[arm_index]


__all__ = ["PieceAssemblyExpert"]
