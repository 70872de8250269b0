"""Scripted expert for Pouring: left hand pours the ball into the bowl, right hand moves the bowl.

The left hand holds the upright cup from the side (fingers forward, palm facing -y, thumb up),
carries it over the bowl and rolls it about the forward (x) axis so its mouth tips toward the
bowl; the tipped cup is placed from the grasp measured after lifting, so the mouth lands over
the bowl whatever the grasp offset. The right hand first parks back and out of the cup's way;
once the ball is in the bowl it takes the bowl's post handle (the Can Sorting side grasp, its
approach overlapping the left hand's retreat) and sets the bowl down on the pad. 333 steps.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dexmg_bench.envs.experts.base import Expert, Move, Phase
from dexmg_bench.envs.tasks.pouring import (
    BOWL_HEIGHT,
    CUP_HEIGHT,
    HANDLE_OFFSET,
    PAD_HALF,
    PouringEnv,
)
from dexmg_bench.geometry import axis_angle_to_mat, make_pose

# Side-grasp hand rotations (world), as in Can Sorting: fingers forward (+x) tilted a little
# down, thumbs up; the right palm faces +y, the left palm -y.
_TILT = axis_angle_to_mat(np.array([0.0, 0.3, 0.0]))
R_RIGHT = _TILT @ np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
R_LEFT = _TILT @ np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
# Grasped axis point in each hand's grip-site frame (m).
RIGHT_GRASP = np.array([0.02, -0.08, 0.04])  # the bowl's post handle (radius 2 cm)
# The cup (radius 3.6 cm), deep in the hand. On its feet the cup sits about 2 mm shallower; at
# -0.06 the expert then fails 5 of 50 D0 resets, mostly the cup slipping while tipped; 5 mm deeper
# it fails 1 of 50.
LEFT_GRASP = np.array([0.0, -0.055, 0.045])
CUP_GRASP_Z = 0.05  # grasp height on the cup above its base
HANDLE_GRASP_Z = 0.08  # grasp height on the post above the bowl's base
POUR_ANGLE = np.deg2rad(130.0)  # cup roll about +x: the mouth tips toward -y and down
MOUTH_ABOVE_RIM = 0.10  # the tipped cup's mouth this far above the bowl's rim
MOUTH_Y = 0.02  # and this far on the cup's side of the bowl's axis: the ball rolls out toward -y
PARK = (-0.08, -0.12, 0.0)  # the right hand's move out of the pouring hand's way
OPEN = np.array([-1.0, -1.0, -1.0, -1.0, -1.0, -1.0])  # thumb swung out: nothing in the way
CLOSED = np.array([1.0, 1.0, 1.0, 1.0, 1.0, -0.5])  # thumb bent, not swung across the palm


def _hand_pose(point: np.ndarray, rot: np.ndarray, grasp: np.ndarray) -> np.ndarray:
    """Grip-site pose that holds ``point`` at ``grasp`` in the hand frame."""
    return make_pose(point - rot @ grasp, rot)


def _shift(pose: np.ndarray, d: tuple[float, float, float]) -> np.ndarray:
    out = pose.copy()
    out[:3, 3] += d
    return out


def _ramp(a: np.ndarray, b: np.ndarray, k: int, n: int) -> np.ndarray:
    return a + (b - a) * k / n


class PouringExpert(Expert):
    """Left: grasp the cup, pour over the bowl, retreat. Right: then carry the bowl to the pad."""

    action_noise = 0.002  # absolute actions: 2 mm / 0.36 degrees

    def plan(self) -> Iterator[Phase]:
        """Cup grasp, lift, carry, tip, untip, retreat; then the bowl: grasp, carry, release."""
        env = self.env
        assert isinstance(env, PouringEnv)
        noise = self.rng.normal(0.0, 0.003, size=(2, 3))
        idle = Move(None, OPEN, 1)
        # The right hand first steps back and out: the cup passes where it rests (D2 pours there).
        park = _shift(env.eef_poses()[0], PARK)
        cup = env.object_poses()["cup"][:3, 3] + (0.0, 0.0, CUP_GRASP_Z)
        grasp = _hand_pose(cup + noise[0], R_LEFT, LEFT_GRASP)
        out = _shift(grasp, (0, 0.06, 0))
        yield {"left": Move(_shift(out, (0, 0, 0.10)), OPEN, 25), "right": Move(park, OPEN, 25)}
        yield {"left": Move(out, OPEN, 12), "right": idle}
        yield {"left": Move(grasp, OPEN, 12), "right": idle}
        yield {"left": Move(None, CLOSED, 20), "right": idle}
        yield {"left": Move(_shift(grasp, (0, 0, 0.15)), CLOSED, 20), "right": idle}
        # The cup as it sits in the hand now; place the tipped cup by its mouth.
        hand_T_cup = np.linalg.inv(env.eef_poses()[1]) @ env.object_poses()["cup"]
        bowl = env.object_poses()["bowl"][:3, 3]
        rim = bowl[2] + BOWL_HEIGHT + MOUTH_ABOVE_RIM

        def cup_at(angle: float) -> np.ndarray:
            rot = axis_angle_to_mat(np.array([angle, 0.0, 0.0]))
            mouth = np.array([bowl[0], bowl[1] + MOUTH_Y, rim]) + noise[1] * (1, 1, 0)
            world_T_cup = make_pose(mouth - rot @ np.array([0.0, 0.0, CUP_HEIGHT]), rot)
            return world_T_cup @ np.linalg.inv(hand_T_cup)

        # Upright over the bowl's +y rim, the cup's base clear of it, before tipping.
        above = cup_at(0.0)
        above[:3, 3] += (0.0, 0.04, CUP_HEIGHT - MOUTH_ABOVE_RIM + 0.07)
        yield {"left": Move(above, CLOSED, 35), "right": idle}
        yield {"left": Move(cup_at(0.5 * POUR_ANGLE), CLOSED, 18), "right": idle}
        yield {"left": Move(cup_at(POUR_ANGLE), CLOSED, 22), "right": idle}
        yield {"left": Move(None, CLOSED, 10), "right": idle}
        # Up while still tipped, then back over the table's left: a cup slipping from the hand
        # now falls beside the bowl, not into it. Meanwhile the right hand heads for the bowl's
        # post handle (from above and outside, Can Sorting's side grasp).
        bowl_pose = env.object_poses()["bowl"]
        post = bowl_pose[:3, 3] + (0.0, -HANDLE_OFFSET, 0.0) + (0.0, 0.0, HANDLE_GRASP_Z)
        take = _hand_pose(post + noise[0] * (1, 1, 0), R_RIGHT, RIGHT_GRASP)
        side = _shift(take, (0, -0.06, 0))
        hold = Move(None, CLOSED, 1)
        yield {
            "left": Move(_shift(cup_at(POUR_ANGLE), (0, 0, 0.10)), CLOSED, 12),
            "right": Move(_shift(side, (0, 0, 0.08)), OPEN, 25),
        }
        yield {
            "left": Move(_shift(above, (0.0, 0.18, 0.04)), CLOSED, 18),
            "right": Move(side, OPEN, 12),
        }
        yield {"right": Move(take, OPEN, 12), "left": hold}
        yield {"right": Move(None, CLOSED, 15), "left": hold}
        yield {"right": Move(_shift(take, (0, 0, 0.06)), CLOSED, 15), "left": hold}
        # Carry the bowl over the pad, measured from where it hangs in the hand now.
        bowl_now = env.object_poses()["bowl"][:3, 3]
        pad = env.object_poses()["pad"][:3, 3]
        eef = env.eef_poses()[0]
        over = eef.copy()
        over[:2, 3] += pad[:2] - bowl_now[:2]
        yield {"right": Move(over, CLOSED, 25), "left": hold}
        down = over.copy()
        down[2, 3] += pad[2] + 2 * PAD_HALF[2] + 0.005 - bowl_now[2]
        yield {"right": Move(down, CLOSED, 15), "left": hold}
        for k in range(1, 6):  # open gradually: a sudden release jerks the bowl
            yield {"right": Move(None, _ramp(CLOSED, OPEN, k, 5), 3), "left": hold}
        yield {"right": Move(_shift(down, (0, -0.06, 0.0)), OPEN, 10), "left": hold}
        yield {"right": Move(_shift(down, (0, -0.06, 0.08)), OPEN, 8), "left": hold}


__all__ = ["PouringExpert"]
