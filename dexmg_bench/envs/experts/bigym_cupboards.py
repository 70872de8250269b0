"""Scripted expert for BiGym CupboardsCloseAll: two base doors, three drawers, two wall doors.

Waypoints are in the frames of the moving parts at reset (a door's body origin sits on its hinge
axis; the open leaves point to world -x, towards the robot), driven through the adapter's pose
mode, whose IK walks the floating base when a hand target is out of the arms' reach.

Phases (20 Hz). 1. The right hand goes round the free edge of the left base door (world -y) to
its outer face and pushes it shut along an arc about the hinge (the base walks to -y and turns
to follow); the left hand waits in front of the chest. 2. Mirrored: the left hand shuts the right
base door. 3. Both hands come down in front of the top drawer and push it in; the base walks
forward with them and the legs push the two lower drawers shut. 4. Both hands go up to the outer
faces of the wall-cabinet doors and push them shut together, pressing until the episode ends
(the wall doors have almost no damping: released, they bounce 15 degrees open again).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dexmg_bench.envs.experts.base import Expert, Move
from dexmg_bench.geometry import make_pose, rot_y

OPEN, CLOSED = -1.0, 1.0
BASE_DOOR_Z = 0.72  # pushing height on the base doors (their top edge is at 0.82)
BASE_DOOR_RADIUS, BASE_DOOR_OFF = 0.43, 0.06  # contact: distance along the leaf, off its face
WALL_Z_ABOVE_HINGE = -0.29  # wall doors are pushed 29 cm below their hinge centre
WALL_RADIUS, WALL_OFF = 0.24, 0.07
WALL_PITCH = np.deg2rad(40)
WALL_ARC = (0, 25, 50, 75, 90, 96)  # door angles (deg from open) the hands push through ...
WALL_STEPS = (18, 12, 12, 12, 12, 30)  # ... in these many steps each (the last one presses)
DRAWER_Z = 0.76  # on the top drawer's front (its top edge is at 0.81)
DRAWER_Y = 0.2
DRAWER_PUSH = 0.03  # past the closed position, so the drawer reaches its stop
DRAWER_TRAVEL = 0.38  # BiGym's drawer slide range; every reset opens them fully


def level(env_eef: np.ndarray) -> np.ndarray:
    """The reset orientation of the pinch sites: fingers forward (+x), level."""
    return env_eef[0, :3, :3].copy()


def arc_point(hinge: np.ndarray, sign: float, phi: float, radius: float, off: float) -> np.ndarray:
    """A point off the outer face of a door leaf turned ``phi`` from open (-x) towards closed.

    ``sign`` is +1 for a door whose free edge swings to +y as it closes (hinge at -y), -1 for
    the mirror image. The outer face is the one that faces away from the closing direction.
    """
    u = np.array([-np.cos(phi), sign * np.sin(phi)])
    n = np.array([-np.sin(phi), -sign * np.cos(phi)])
    return hinge[:2] + radius * u + off * n


class CupboardsCloseAllExpert(Expert):
    """Base doors one arm at a time, then the drawers, then both wall doors together."""

    action_noise = 0.002  # absolute actions: 4 mm / 0.36 degrees

    def plan(self) -> Iterator[dict[str, Move]]:
        """See the module docstring."""
        env = self.env
        poses = env.object_poses()
        rot = level(env.eef_poses())

        def at(p: np.ndarray | list[float]) -> np.ndarray:
            return make_pose(np.asarray(p, float), rot)

        def mirror(p: np.ndarray | list[float]) -> np.ndarray:
            return np.asarray(p, float) * [1.0, -1.0, 1.0]

        idle = np.array([0.05, -0.35, 1.0])  # a hand waiting near the chest, world -y side
        # 1-2: base doors, right arm (world -y door) then left arm (mirror).
        # The base walks at most 0.4 m/s: the second door is 1.1 m away, so it gets more time.
        for arm, other, door, sign, walk in (
            ("right", "left", "base_door_left", 1.0, 20),
            ("left", "right", "base_door_right", -1.0, 45),
        ):
            hinge = poses[door][:3, 3]
            flip = (lambda p: np.asarray(p, float)) if sign > 0 else mirror
            side = np.sign(hinge[1])  # -1 for the world -y door
            out_y = hinge[1] + side * 0.09
            wait = at(flip(idle))  # the idle hand goes where the base is heading
            yield {
                arm: Move(at([0.0, hinge[1] * 0.65, 0.9]), OPEN, walk),
                other: Move(wait, OPEN, walk),
            }
            # Round the free edge: out beside the leaf first, and wait there for the base.
            out = at([-0.05, out_y, BASE_DOOR_Z])
            yield {arm: Move(out, OPEN, 22), other: Move(None, OPEN, 22)}
            yield {arm: Move(None, OPEN, 8), other: Move(None, OPEN, 8)}
            start = arc_point(hinge, sign, 0.0, BASE_DOOR_RADIUS, BASE_DOOR_OFF)
            yield {arm: Move(at([*start, BASE_DOOR_Z]), OPEN, 15), other: Move(None, OPEN, 15)}
            for phi in np.deg2rad([25, 50, 75, 95]):
                p = arc_point(hinge, sign, phi, BASE_DOOR_RADIUS, BASE_DOOR_OFF)
                yield {arm: Move(at([*p, BASE_DOOR_Z]), OPEN, 13), other: Move(None, OPEN, 13)}
            back = arc_point(hinge, sign, np.deg2rad(95), BASE_DOOR_RADIUS, BASE_DOOR_OFF + 0.1)
            yield {arm: Move(at([*back, BASE_DOOR_Z + 0.1]), OPEN, 12), other: Move(None, OPEN, 12)}

        # 3: drawers. Front of the top drawer now, and where it is when closed.
        top = poses["drawer2"][:3, 3]
        drawer = self._drawer_front(top)
        closed_x = drawer + DRAWER_TRAVEL + DRAWER_PUSH
        for x, steps in ((drawer - 0.1, 25), (drawer - 0.03, 8), (closed_x, 45), (closed_x, 8)):
            yield {
                "right": Move(at([x, -DRAWER_Y, DRAWER_Z]), OPEN, steps),
                "left": Move(at([x, DRAWER_Y, DRAWER_Z]), OPEN, steps),
            }

        # 4: wall doors together, right arm on the world -y one; press until the end.
        hinge_r = poses["wall_door_left"][:3, 3]
        hinge_l = poses["wall_door_right"][:3, 3]
        z = hinge_r[2] + WALL_Z_ABOVE_HINGE
        # Reaching up, the hands point 40 degrees upwards: held level, the IK walks the base
        # under the wall cabinet, where the forearms catch the door edges.
        up = rot_y(-WALL_PITCH) @ rot

        def at_up(p: np.ndarray | list[float]) -> np.ndarray:
            return make_pose(np.asarray(p, float), up)

        # First back away (the base walks back from the chest: under the wall cabinet the arms
        # cannot reach its doors), then up to the outer faces of the doors.
        for p, steps in (([0.0, -0.25, 1.0], 25), ([0.45, -0.40, z - 0.08], 28)):
            yield {
                "right": Move(at_up(p), OPEN, steps),
                "left": Move(at_up(mirror(p)), OPEN, steps),
            }
        yield {"right": Move(None, CLOSED, 6), "left": Move(None, CLOSED, 6)}
        for phi, steps in zip(np.deg2rad(WALL_ARC), WALL_STEPS, strict=True):
            pr = arc_point(hinge_r, 1.0, phi, WALL_RADIUS, WALL_OFF)
            pl = arc_point(hinge_l, -1.0, phi, WALL_RADIUS, WALL_OFF)
            yield {
                "right": Move(at_up([*pr, z]), CLOSED, steps),
                "left": Move(at_up([*pl, z]), CLOSED, steps),
            }

    @staticmethod
    def _drawer_front(body: np.ndarray) -> float:
        """World x of a drawer's front face from its body origin (BiGym's 600 mm base cabinet)."""
        return float(body[0] - DRAWER_FRONT_BEHIND_BODY)


DRAWER_FRONT_BEHIND_BODY = 0.241  # the drawer's front face is 24.1 cm in front of its origin


__all__ = ["CupboardsCloseAllExpert"]
