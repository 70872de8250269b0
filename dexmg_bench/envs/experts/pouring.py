"""Scripted expert for Pouring: left hand pours the ball into the bowl, right hand moves the bowl.

The left hand holds the upright cup from the side (fingers forward, palm facing -y, thumb up),
carries it over the bowl and rolls it about the forward (x) axis so its mouth tips toward the
bowl; the tipped cup is placed from the grasp measured after lifting, so the mouth lands over
the bowl whatever the grasp offset. The right hand first parks back and out of the cup's way;
once the ball is in the bowl it takes the bowl's post handle (the Can Sorting side grasp, its
approach overlapping the left hand's retreat) and sets the bowl down on the pad. 333 steps.

Where the pad lies between the bowl and the cup (D2) the right hand sets the bowl on the pad
first and the left hand pours into it there (308 steps); D0 and D1 take the order above.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator

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
    """Left: grasp the cup, pour over the bowl, retreat. Right: then carry the bowl to the pad.

    Where the pad lies between the bowl and the cup (D2), a pour over the bowl's start is at the
    edge of the left hand's reach, where the right hand rests; there the right hand carries the
    bowl to the pad first, and the left hand then grasps the cup and pours into the bowl where
    it stands (``_plan_bowl_first``).
    """

    action_noise = 0.002  # absolute actions: 2 mm / 0.36 degrees

    def plan(self) -> Iterator[Phase]:
        """Cup grasp, lift, carry, tip, untip, retreat; then the bowl: grasp, carry, release."""
        env = self.env
        assert isinstance(env, PouringEnv)
        noise = self.rng.normal(0.0, 0.003, size=(2, 3))
        poses = env.object_poses()
        if poses["pad"][1, 3] > poses["bowl"][1, 3]:
            yield from self._plan_bowl_first(noise)
            return
        idle = Move(None, OPEN, 1)
        # The right hand first steps back and out: the cup passes where it rests.
        park = _shift(env.eef_poses()[0], PARK)
        grasp = _cup_grasp(env, noise)
        out = _shift(grasp, (0, 0.06, 0))
        yield {"left": Move(_shift(out, (0, 0, 0.10)), OPEN, 25), "right": Move(park, OPEN, 25)}
        yield {"left": Move(out, OPEN, 12), "right": idle}
        yield {"left": Move(grasp, OPEN, 12), "right": idle}
        yield {"left": Move(None, CLOSED, 20), "right": idle}
        yield {"left": Move(_shift(grasp, (0, 0, 0.15)), CLOSED, 20), "right": idle}
        cup_at, above = yield from _pour(env, noise, idle)
        # Up while still tipped, then back over the table's left: a cup slipping from the hand
        # now falls beside the bowl, not into it. Meanwhile the right hand heads for the bowl's
        # post handle (from above and outside, Can Sorting's side grasp).
        take = _bowl_grasp(env, noise)
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
        yield from _place_bowl(env, hold)

    def _plan_bowl_first(self, noise: np.ndarray) -> Iterator[Phase]:
        """The bowl onto the pad, the right hand parked, then the cup grasp and pour.

        The left hand waits open around the cup while the right hand moves the bowl, and closes
        just before the pour, as in D0: a cup held 100 steps longer creeps toward the fingertips
        and slips out once tipped.
        """
        env = self.env
        assert isinstance(env, PouringEnv)
        rest = env.eef_poses()[0]
        grasp = _cup_grasp(env, noise)
        out = _shift(grasp, (0, 0.06, 0))
        take = _bowl_grasp(env, noise)
        side = _shift(take, (0, -0.06, 0))
        idle = Move(None, OPEN, 1)
        yield {
            "left": Move(_shift(out, (0, 0, 0.10)), OPEN, 25),
            "right": Move(_shift(side, (0, 0, 0.08)), OPEN, 25),
        }
        yield {"left": Move(out, OPEN, 12), "right": Move(side, OPEN, 12)}
        yield {"left": Move(grasp, OPEN, 12), "right": Move(take, OPEN, 12)}
        yield {"right": Move(None, CLOSED, 15), "left": idle}
        yield {"right": Move(_shift(take, (0, 0, 0.06)), CLOSED, 15), "left": idle}
        yield from _place_bowl(env, idle)
        # Out of the cup's way, as in the pour-first order, while the left hand closes.
        yield {"right": Move(_shift(rest, PARK), OPEN, 20), "left": Move(None, CLOSED, 20)}
        yield {"left": Move(_shift(grasp, (0, 0, 0.15)), CLOSED, 20), "right": idle}
        cup_at, above = yield from _pour(env, noise, idle)
        yield {"left": Move(_shift(cup_at(POUR_ANGLE), (0, 0, 0.10)), CLOSED, 12), "right": idle}
        yield {"left": Move(_shift(above, (0.0, 0.18, 0.04)), CLOSED, 18), "right": idle}


def _pour(
    env: PouringEnv, noise: np.ndarray, right: Move
) -> Generator[Phase, None, tuple[Callable[[float], np.ndarray], np.ndarray]]:
    """The held cup upright over the bowl's +y rim (its base clear of it), tipped, held.

    Returns the tipped-cup poses and the upright pose above the rim, where the retreat starts.
    """
    cup_at = _pour_poses(env, noise)
    above = cup_at(0.0)
    above[:3, 3] += (0.0, 0.04, CUP_HEIGHT - MOUTH_ABOVE_RIM + 0.07)
    yield {"left": Move(above, CLOSED, 35), "right": right}
    yield {"left": Move(cup_at(0.5 * POUR_ANGLE), CLOSED, 18), "right": right}
    yield {"left": Move(cup_at(POUR_ANGLE), CLOSED, 22), "right": right}
    yield {"left": Move(None, CLOSED, 10), "right": right}
    return cup_at, above


def _cup_grasp(env: PouringEnv, noise: np.ndarray) -> np.ndarray:
    """The left hand's side grasp of the standing cup."""
    cup = env.object_poses()["cup"][:3, 3] + (0.0, 0.0, CUP_GRASP_Z)
    return _hand_pose(cup + noise[0], R_LEFT, LEFT_GRASP)


def _bowl_grasp(env: PouringEnv, noise: np.ndarray) -> np.ndarray:
    """The right hand's side grasp of the bowl's post handle, where the bowl stands now."""
    bowl_pose = env.object_poses()["bowl"]
    post = bowl_pose[:3, 3] + (0.0, -HANDLE_OFFSET, 0.0) + (0.0, 0.0, HANDLE_GRASP_Z)
    return _hand_pose(post + noise[0] * (1, 1, 0), R_RIGHT, RIGHT_GRASP)


def _pour_poses(env: PouringEnv, noise: np.ndarray) -> Callable[[float], np.ndarray]:
    """Left-hand pose that holds the cup rolled by an angle, its mouth over the bowl.

    Measured from how the cup sits in the hand now, so the mouth lands over the bowl whatever
    the grasp offset.
    """
    hand_T_cup = np.linalg.inv(env.eef_poses()[1]) @ env.object_poses()["cup"]
    bowl = env.object_poses()["bowl"][:3, 3]
    rim = bowl[2] + BOWL_HEIGHT + MOUTH_ABOVE_RIM

    def cup_at(angle: float) -> np.ndarray:
        rot = axis_angle_to_mat(np.array([angle, 0.0, 0.0]))
        mouth = np.array([bowl[0], bowl[1] + MOUTH_Y, rim]) + noise[1] * (1, 1, 0)
        world_T_cup = make_pose(mouth - rot @ np.array([0.0, 0.0, CUP_HEIGHT]), rot)
        return world_T_cup @ np.linalg.inv(hand_T_cup)

    return cup_at


def _place_bowl(env: PouringEnv, left: Move) -> Iterator[Phase]:
    """Carry the held bowl over the pad (measured from where it hangs now), set it down, let go."""
    bowl_now = env.object_poses()["bowl"][:3, 3]
    pad = env.object_poses()["pad"][:3, 3]
    eef = env.eef_poses()[0]
    over = eef.copy()
    over[:2, 3] += pad[:2] - bowl_now[:2]
    yield {"right": Move(over, CLOSED, 25), "left": left}
    down = over.copy()
    down[2, 3] += pad[2] + 2 * PAD_HALF[2] + 0.005 - bowl_now[2]
    yield {"right": Move(down, CLOSED, 15), "left": left}
    for k in range(1, 6):  # open gradually: a sudden release jerks the bowl
        yield {"right": Move(None, _ramp(CLOSED, OPEN, k, 5), 3), "left": left}
    yield {"right": Move(_shift(down, (0, -0.06, 0.0)), OPEN, 10), "left": left}
    yield {"right": Move(_shift(down, (0, -0.06, 0.08)), OPEN, 8), "left": left}


__all__ = ["PouringExpert"]
