"""Scripted expert for Transport: lid and trash in parallel, then a handover over the gap.

Phases run in lock step. The right arm lifts the lid by its bar and sets it down beside the start
bin while the left arm drops the trash cube into the trash bin. The right arm then picks the hammer
by its handle and holds it over the gap, head toward the left arm; the left arm grasps the head
from above, the right arm opens and backs off, and the left arm lowers the hammer into the target
bin. Every target is computed when its phase starts, from the objects' poses at that moment.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from dexmg_bench.envs.base import ARMS
from dexmg_bench.envs.experts.base import Expert, Move, Phase, topdown_rotation
from dexmg_bench.envs.tasks.transport import (
    BIN_HEIGHT,
    HANDLE_HALF,
    HEAD_X,
    LID_ASIDE_DX,
    LID_HANDLE_HALF,
    LID_PLATE_HALF_Z,
    PAYLOAD_CENTER_X,
    TABLE_TOP_Z,
    WALL,
)
from dexmg_bench.geometry import make_pose, rot_z

# World position of the hammer's origin while it is handed over (between the two tables).
HANDOVER_POINT = np.array([-0.12, -0.02, 1.0])
# The finger pads' centre is 4 mm above the grip site: aim the site this far below a grasp centre.
PAD_DROP = 0.005
RIGHT_GRASP_X = -0.015  # right grasp on the handle, in the hammer frame (the head is at +x)
# Per arm, the horizontal direction the fingers should close along when there is a choice: it
# keeps the last wrist joint well inside its limits (found by reaching tests on this layout).
PREFERRED_CLOSING = {"right": np.array([-0.5, 0.87, 0.0]), "left": np.array([0.5, 0.87, 0.0])}


def _yaw(pose: np.ndarray) -> float:
    return float(np.arctan2(pose[1, 0], pose[0, 0]))


def _wrap(angle: float) -> float:
    return float((angle + np.pi) % (2 * np.pi) - np.pi)


def _shifted(pose: np.ndarray, delta: Sequence[float]) -> np.ndarray:
    out = pose.copy()
    out[:3, 3] += np.asarray(delta, dtype=float)
    return out


def _down(arm: str, axes: Sequence[np.ndarray]) -> np.ndarray:
    """Top-down rotation closing along whichever of ``axes`` (or its negation) suits ``arm``."""
    pref = PREFERRED_CLOSING[arm]
    flat = [np.array([a[0], a[1], 0.0]) / np.linalg.norm(a[:2]) for a in axes]
    signed = [s * a for a in flat for s in (1.0, -1.0)]
    best = max(signed, key=lambda a: float(np.dot(a, pref)))
    return topdown_rotation(best)


def _carry(eef: np.ndarray, obj: np.ndarray, obj_pos: np.ndarray, dyaw: float) -> np.ndarray:
    """End-effector target turning a held object by ``dyaw`` about z, its origin to ``obj_pos``."""
    turn = rot_z(dyaw)
    return make_pose(obj_pos - turn @ (obj[:3, 3] - eef[:3, 3]), turn @ eef[:3, :3])


class TransportExpert(Expert):
    """Right arm: lid, then hammer to the handover. Left arm: trash, then hammer into the bin."""

    def plan(self) -> Iterator[Phase]:
        """Phases: lid and trash in parallel, hammer pick, handover, hammer placement."""
        yield from self._clear_bins()
        yield from self._pick_payload()
        yield from self._handover_and_place()

    def _corrected(self, arm: int, target: np.ndarray) -> np.ndarray:
        """``target`` shifted by the arm's horizontal tracking error at the hover point.

        Near its base a Panda under OSC settles up to 2 cm short of a target; the expert measures
        that offset while hovering and over-commands the descent by it (at most 3 cm).
        """
        error = self._commanded[arm][:3, 3] - self.env.eef_poses()[arm][:3, 3]
        error[2] = 0.0
        norm = np.linalg.norm(error)
        if norm > 0.03:
            error *= 0.03 / norm
        return _shifted(target, error)

    def _descend(self, grasps: dict[str, np.ndarray], hands: dict[str, float]) -> Iterator[Phase]:
        """From hovering over ``grasps`` down onto them, correcting the tracking error twice."""
        for height, steps in ((0.03, 12), (0.0, 10)):
            yield {arm: Move(None, hands[arm], 6) for arm in ARMS}
            phase = {arm: Move(None, hands[arm], steps) for arm in ARMS}
            for arm, grasp in grasps.items():
                target = self._corrected(ARMS.index(arm), _shifted(grasp, (0, 0, height)))
                phase[arm] = Move(target, hands[arm], steps)
            yield phase

    def _clear_bins(self) -> Iterator[Phase]:
        env = self.env
        noise = self.rng.normal(0.0, 0.003, size=(2, 3))
        poses = env.object_poses()
        lid, trash = poses["lid"], poses["trash"]
        bar = lid @ np.array([0.0, 0.0, LID_PLATE_HALF_Z + LID_HANDLE_HALF[2] + 0.004, 1.0])
        lid_grasp = make_pose(bar[:3] + noise[0], _down("right", [lid[:3, 0]]))
        trash_grasp = make_pose(
            trash[:3, 3] + np.array([0.0, 0.0, 0.003]) + noise[1],
            # Of the cube's two face axes, close along the one nearer the bin's long side (x).
            _down("left", [max((trash[:3, 0], trash[:3, 1]), key=lambda a: abs(a[0]))]),
        )
        yield {
            "right": Move(_shifted(lid_grasp, (0, 0, 0.10)), -1, 35),
            "left": Move(_shifted(trash_grasp, (0, 0, 0.10)), -1, 35),
        }
        yield from self._descend(
            {"right": lid_grasp, "left": trash_grasp}, {"right": -1, "left": -1}
        )
        yield {"right": Move(None, 1, 10), "left": Move(None, 1, 10)}
        yield {
            "right": Move(_shifted(lid_grasp, (0, 0, 0.08)), 1, 20),
            "left": Move(_shifted(trash_grasp, (0, 0, 0.12)), 1, 20),
        }

        # Over the lid's spot beside the start bin, and over the trash bin.
        poses, eef = env.object_poses(), env.eef_poses()
        lid_spot = poses["start_bin"][:3, 3] + np.array([LID_ASIDE_DX, 0.0, 0.0])
        lid_rest_z = TABLE_TOP_Z + LID_PLATE_HALF_Z
        lid_high = lid_spot + np.array([0.0, 0.0, poses["lid"][2, 3] - lid_spot[2]])
        right = _carry(eef[0], poses["lid"], lid_high, 0.0)
        drop = poses["trash_bin"][:3, 3] + np.array([0.0, 0.0, BIN_HEIGHT + 0.04])
        left = _carry(eef[1], poses["trash"], drop, 0.0)
        yield {"right": Move(right, 1, 35), "left": Move(left, 1, 35)}
        poses, eef = env.object_poses(), env.eef_poses()
        lid_low = lid_spot + np.array([0.0, 0.0, lid_rest_z + 0.006 - lid_spot[2]])
        right = _carry(eef[0], poses["lid"], lid_low, 0.0)
        yield {"right": Move(right, 1, 20), "left": Move(None, -1, 20)}
        yield {"right": Move(None, 1, 8), "left": Move(None, -1, 8)}
        yield {"right": Move(None, -1, 8), "left": Move(None, -1, 8)}
        eef = env.eef_poses()
        wait = make_pose(
            HANDOVER_POINT + np.array([0.0, HEAD_X + 0.12, 0.12]),
            _down("left", [np.array([1.0, 0.0, 0.0])]),
        )
        yield {"right": Move(_shifted(eef[0], (0, 0, 0.10)), -1, 15), "left": Move(wait, -1, 30)}

    def _pick_payload(self) -> Iterator[Phase]:
        env = self.env
        payload = env.object_poses()["payload"]
        # Closing along the hammer's y axis (signed): at the handover it then closes along -x.
        grasp = make_pose(
            (payload @ np.array([RIGHT_GRASP_X, 0.0, 0.003, 1.0]))[:3]
            + self.rng.normal(0.0, 0.003, size=3),
            topdown_rotation(payload[:3, 1]),
        )
        hold = Move(None, -1, 1)
        yield {"right": Move(_shifted(grasp, (0, 0, 0.10)), -1, 30), "left": hold}
        yield from self._descend({"right": grasp}, {"right": -1, "left": -1})
        yield {"right": Move(None, 1, 10), "left": hold}
        yield {"right": Move(_shifted(grasp, (0, 0, 0.14)), 1, 25), "left": hold}
        payload, eef = env.object_poses()["payload"], env.eef_poses()
        dyaw = _wrap(np.pi / 2 - _yaw(payload))
        yield {"right": Move(_carry(eef[0], payload, HANDOVER_POINT, dyaw), 1, 40), "left": hold}
        yield {"right": Move(None, 1, 8), "left": hold}

    def _handover_and_place(self) -> Iterator[Phase]:
        env = self.env
        payload = env.object_poses()["payload"]
        head = payload @ np.array([HEAD_X, 0.0, -PAD_DROP, 1.0])
        grasp = make_pose(
            head[:3] + self.rng.normal(0.0, 0.003, size=3), _down("left", [payload[:3, 1]])
        )
        yield {"right": Move(None, 1, 25), "left": Move(_shifted(grasp, (0, 0, 0.08)), -1, 25)}
        yield from self._descend({"left": grasp}, {"right": 1, "left": -1})
        yield {"right": Move(None, 1, 6), "left": Move(None, -1, 6)}
        yield {"right": Move(None, 1, 12), "left": Move(None, 1, 12)}
        yield {"right": Move(None, -1, 8), "left": Move(None, 1, 8)}
        eef = env.eef_poses()
        yield {
            "right": Move(_shifted(eef[0], (0.0, -0.10, 0.08)), -1, 15),
            "left": Move(_shifted(eef[1], (0.0, 0.0, 0.03)), 1, 15),
        }

        # Into the target bin, lying along x; of the two ways round, the one easier on the wrist.
        poses, eef = env.object_poses(), env.eef_poses()
        payload = poses["payload"]
        turns = [_wrap(yaw - _yaw(payload)) for yaw in (0.0, np.pi)]
        pref = PREFERRED_CLOSING["left"]
        dyaw = max(turns, key=lambda t: float(np.dot(rot_z(t) @ eef[1, :3, 0], pref)))
        final_yaw = _yaw(payload) + dyaw
        centre = poses["target_bin"][:3, 3] - PAYLOAD_CENTER_X * np.array(
            [np.cos(final_yaw), np.sin(final_yaw), 0.0]
        )
        place = centre + np.array([0.0, 0.0, WALL + HANDLE_HALF[2] + 0.025])
        above = _carry(eef[1], payload, place + np.array([0.0, 0.0, 0.08]), dyaw)
        away = make_pose(np.array([-0.2, -0.35, 1.05]), eef[0, :3, :3])
        yield {"right": Move(away, -1, 40), "left": Move(above, 1, 40)}
        yield {"right": Move(None, -1, 20), "left": Move(_shifted(above, (0, 0, -0.08)), 1, 20)}
        yield {"right": Move(None, -1, 10), "left": Move(None, -1, 10)}
        eef = env.eef_poses()
        yield {"right": Move(None, -1, 15), "left": Move(_shifted(eef[1], (0, 0, 0.10)), -1, 15)}


__all__ = ["TransportExpert"]
