"""Scripted expert for BiGym DishwasherLoadPlates: both plates from the drainer into the rack.

The plates stand in the drainer with their faces towards world y; BiGym's success wants them
that way in the rack too, so a plate is carried without turning it: the gripper takes its rim
with the fingers closing along world y, approaching in the plate's plane from above and behind
(pitched 45 degrees down), and the plate hangs from that grip. The bottom rack is below the
standing H1's reach: the adapter gives this task BiGym's crouching base (``pelvis_z``), and the
pose-mode IK crouches when a hand target is low.

Order (20 Hz): the right hand loads ``plate0`` (pick, carry, place), then the left hand loads
``plate1``; one arm works while the other hand rides along with the base. Placing, the idle hand
is held behind the robot, so the base stands back from the rack: crouched, the H1's knees stick
out forwards and push the (free-sliding) rack into the dishwasher when it stands close. Targets
follow the objects' poses at each phase start: the rack slot is read from the rack's pose, and
the plate is lowered into it in steps, each correcting the hand by the plate's measured offset
from the slot (the plate swings in the grip).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dexmg_bench.envs.base import ARMS
from dexmg_bench.envs.experts.base import Expert, Move
from dexmg_bench.geometry import make_pose, rot_y

OPEN, CLOSED = -1.0, 1.0
PLATE_RADIUS = 0.114
GRASP_PITCH = np.deg2rad(45)  # the approach: 45 degrees below horizontal, in the plate's plane
GRASP_DEPTH = 0.025  # the pinch site this far inside the rim
PRE_GRASP = 0.08  # approach start, out from the rim
LIFT = 0.15
# Plate centres in the rack, offsets from the rack body (world axes; the rack only slides in x):
# BiGym's front-row bottom-rack sites 6 and 2 (of the four its unload task uses), 7 mm to -y
# (released there, a plate leans on the -y tine at about 15 degrees; released mid-slot, 11 of 20
# seeds leaned past BiGym's 20), plus the 2.2 cm a plate centre stands above its site.
SLOTS = (np.array([-0.117, 0.026, 0.074]), np.array([-0.117, 0.146, 0.074]))
# Where the idle hand rides, from the working hand's target (y mirrored for the left hand).
IDLE = np.array([-0.1, 0.3, 0.2])
# Placing, the idle hand is 0.65 m behind, so the base stands back (at 0.5 m, the knees pushed
# the rack 3-30 cm in on some seeds, knocking the plates over).
IDLE_PLACING = np.array([-0.65, 0.3, 0.3])
DESCENT = ((0.2, 10), (0.08, 20), (0.04, 12), (0.0, 15))  # plate height over its slot, steps


class DishwasherLoadPlatesExpert(Expert):
    """Right hand loads plate0, then the left hand plate1; see the module docstring."""

    action_noise = 0.001  # absolute actions: 2 mm / 0.18 degrees (the rack slots are 3 cm)

    def plan(self) -> Iterator[dict[str, Move]]:
        """See the module docstring."""
        env = self.env
        yield {arm: Move(None, OPEN, 5) for arm in ARMS}  # the plates settle in the drainer
        grip_rot = rot_y(GRASP_PITCH) @ env.eef_poses()[0, :3, :3]
        for i, arm in enumerate(ARMS):
            yield from self._load(i, arm, grip_rot)

    def _load(self, i: int, arm: str, rot: np.ndarray) -> Iterator[dict[str, Move]]:
        """Pick plate ``i`` with ``arm``, carry it over its slot, lower it in, let go."""
        env = self.env
        other = ARMS[1 - i]
        side = 1.0 if arm == "right" else -1.0  # the idle hand is on the working hand's +y side
        idle_offset = IDLE * [1.0, side, 1.0]
        name = f"plate{i}"

        def phase(target: np.ndarray | None, steps: int, hand: float, offset=idle_offset):
            if target is None:
                return {arm: Move(None, hand, steps), other: Move(None, OPEN, steps)}
            idle = target.copy()
            idle[:3, 3] += offset
            idle[:3, :3] = env.eef_poses()[1 - i, :3, :3]  # no orientation pull from the idle hand
            return {arm: Move(target, hand, steps), other: Move(idle, OPEN, steps)}

        plate = env.object_poses()[name]
        centre, normal = plate[:3, 3], plate[:3, 2]
        up = np.array([0.0, 0.0, 1.0]) - normal[2] * normal
        up /= np.linalg.norm(up)
        back = np.cross(normal, up)
        back *= -np.sign(back[0])  # in the plate's plane, horizontal, towards the robot (-x)
        out = np.cos(GRASP_PITCH) * back + np.sin(GRASP_PITCH) * up  # from the centre to the grip
        grasp = make_pose(centre + out * (PLATE_RADIUS - GRASP_DEPTH), rot)
        yield phase(make_pose(centre + out * (PLATE_RADIUS + PRE_GRASP), rot), 30, OPEN)
        yield phase(None, 5, OPEN)
        yield phase(grasp, 15, OPEN)
        yield phase(None, 3, OPEN)
        yield phase(None, 8, CLOSED)
        lifted = grasp.copy()
        lifted[2, 3] += LIFT
        yield phase(lifted, 15, CLOSED)
        yield phase(None, 3, CLOSED)
        # The plate's centre in the hand's frame, as it hangs now.
        hand_T_plate = np.linalg.inv(env.eef_poses()[i]) @ env.object_poses()[name]
        slot = env.object_poses()["rack"][:3, 3] + SLOTS[i]
        over = make_pose(slot + [0.0, 0.0, 0.2] - rot @ hand_T_plate[:3, 3], rot)
        transit = make_pose([-0.1, slot[1] - 0.1, 1.0], rot)
        yield phase(transit, 30, CLOSED)
        yield phase(None, 5, CLOSED)
        placing = IDLE_PLACING * [1.0, side, 1.0]
        yield phase(over, 30, CLOSED, placing)
        yield phase(None, 5, CLOSED)
        for height, steps in DESCENT:
            # Re-aim from where the plate is now, against the rack's pose now.
            slot = env.object_poses()["rack"][:3, 3] + SLOTS[i]
            want = slot + [0.0, 0.0, height]
            target = self._commanded[i].copy()
            target[:3, 3] += want - env.object_poses()[name][:3, 3]
            yield phase(target, steps, CLOSED, placing)
            yield phase(None, 3, CLOSED)
        yield phase(None, 8, OPEN)
        yield phase(None, 5, OPEN)
        rise = self._commanded[i].copy()
        rise[2, 3] += 0.2
        yield phase(rise, 20, OPEN)
        yield phase(None, 3, OPEN)


__all__ = ["DishwasherLoadPlatesExpert"]
