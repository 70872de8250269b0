"""Scripted expert for BiGym FlipCup: turn the upside-down mug upright by its handle.

The mug (9.2 cm across, wider than the Robotiq 2F-85's 8.5 cm opening) is taken by its handle:
the right hand comes at the handle's outer bar horizontally, straight towards the mug's axis,
with the fingers closing across the bar. Then the hand turns 180 degrees about that approach
axis, which turns the mug over about a horizontal line through the handle, without moving it
much. The H1's wrist alone turns only +-90 degrees and, standing, its hand cannot point
horizontally at counter height; the adapter gives this task BiGym's crouching base
(``pelvis_z``), and with it the pose-mode IK reaches every step of the turn (the base crouches
from about 0.85 to 0.5 m as the turn goes on).

Phases (50 Hz): approach 12 cm out from the handle, move in, close, lift 3 cm (the turning mug
sweeps 1.6 cm below its handle's height), turn in six 30-degree steps, lower, open, back off.
The left hand has nothing to do: its target is wherever it is at each step, so it rides along
with the base and never pulls it (a fixed world target would hold the crouching base back).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dexmg_bench.envs.base import ARMS
from dexmg_bench.envs.experts.base import Expert, Move
from dexmg_bench.geometry import axis_angle_to_mat, make_pose

OPEN, CLOSED = -1.0, 1.0
HANDLE = np.array([0.078, 0.0, 0.052])  # the handle's outer bar, mug frame (axis z, handle +x)
BACK_OFF = 0.12  # approach start, out from the handle
LIFT = 0.03
TURN_STEPS = (30,) * 6  # six 30-degree steps


class FlipCupExpert(Expert):
    """Right hand turns the mug over by its handle; the left hand rides along."""

    action_noise = 0.001  # absolute actions: 2 mm / 0.18 degrees

    def plan(self) -> Iterator[dict[str, Move]]:
        """See the module docstring."""
        mug = self.env.object_poses()["mug"]
        handle = mug[:3, :3] @ HANDLE + mug[:3, 3]
        approach = -mug[:3, 0]  # horizontal (the mug is upside down), towards the mug's axis
        closing = mug[:3, 1]
        grasp_rot = np.stack([np.cross(closing, approach), closing, approach], axis=1)

        def right(target: np.ndarray | None, hand: float, steps: int) -> dict[str, Move]:
            return {"right": Move(target, hand, steps), "left": Move(None, OPEN, steps)}

        out = make_pose(handle - approach * BACK_OFF, grasp_rot)
        yield right(out, OPEN, 100)
        yield right(None, OPEN, 10)
        yield right(make_pose(handle, grasp_rot), OPEN, 40)
        yield right(None, OPEN, 5)
        yield right(None, CLOSED, 20)
        lifted = handle + [0.0, 0.0, LIFT]
        yield right(make_pose(lifted, grasp_rot), CLOSED, 20)
        angle = 0.0
        for steps in TURN_STEPS:
            angle += np.pi / len(TURN_STEPS)
            turned = axis_angle_to_mat(approach * angle) @ grasp_rot
            yield right(make_pose(lifted, turned), CLOSED, steps)
        yield right(make_pose(handle + [0.0, 0.0, 0.005], turned), CLOSED, 20)
        yield right(None, CLOSED, 5)
        yield right(None, OPEN, 15)
        yield right(None, OPEN, 5)
        back = make_pose(handle - approach * BACK_OFF + [0.0, 0.0, 0.05], turned)
        yield right(back, OPEN, 30)
        yield right(None, OPEN, 10)

    def act(self) -> np.ndarray:
        """The planned action, with the left hand's target replaced by where it is now."""
        env = self.env
        action = super().act()
        targets = env.action_to_target_pose(action)
        targets[ARMS.index("left")] = env.eef_poses()[ARMS.index("left")]
        hands = np.array([action[slice(*env.action_layout[arm]["hand"])][0] for arm in ARMS])
        return env.target_pose_to_action(targets, hands)


__all__ = ["FlipCupExpert"]
