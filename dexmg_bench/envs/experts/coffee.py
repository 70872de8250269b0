"""Scripted expert for Coffee: left hand puts the pod into the holder; right hand shuts the lid.

The left hand holds the upright pod from the side, fingers pointing forward and wrapping around
its upper half, thumb up (the Can Sorting grasp, mirrored and raised so the fingers stay above
the holder's funnel); it carries the pod over the holder, lowers it in until its bottom is 4 mm
above the floor (correcting for how the pod sits in the hand, from the pod's measured pose) and
opens gradually. The right hand waits outside the open lid, then pushes the lid's outer face
past vertical; gravity closes it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dexmg_bench.envs.experts.base import Expert, Move, Phase
from dexmg_bench.envs.tasks.coffee import (
    BASE_PLATE,
    HINGE_Y,
    HINGE_Z,
    HOLDER_DEPTH,
    POD_HALF_HEIGHT,
    CoffeeEnv,
)
from dexmg_bench.geometry import make_pose

# Left hand: fingers forward (+x), palm facing -y (towards the pod on its right), thumb up. Level,
# not tilted like Can Sorting's: the pod hangs from the fingers as upright as the hand is.
R_LEFT = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
LEFT_GRASP = np.array([-0.03, -0.08, 0.044])  # pod centre in the left grip-site frame (m)
INSERT_CLEARANCE = 0.004  # pod bottom above the holder's floor when released (m)
OPEN = np.array([-1.0, -1.0, -1.0, -1.0, -1.0, -1.0])
CLOSED = np.array([1.0, 1.0, 1.0, 1.0, 1.0, -0.5])
PUSH = np.array([0.0, 0.0, 0.0, 0.0, -1.0, -1.0])  # right hand pushing: half-curled, thumb out
# Right hand pushing the lid over (machine frame): palm facing +y (the open lid's outer face),
# fingers along +x across the lid's width, thumb up.
R_PUSH_LOCAL = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
_PUSH_Z = HINGE_Z + 0.07
WAIT = np.array([-0.06, HINGE_Y - 0.14, _PUSH_Z + 0.03])  # palm while the left hand works
START = np.array([-0.06, HINGE_Y - 0.09, _PUSH_Z])  # palm just outside the open lid
SWEEP = np.array([-0.06, HINGE_Y + 0.03, _PUSH_Z])  # lid pushed past vertical: it falls shut


def _shift(pose: np.ndarray, d: tuple[float, float, float]) -> np.ndarray:
    out = pose.copy()
    out[:3, 3] += d
    return out


class CoffeeExpert(Expert):
    """Left: grasp the pod and drop it into the holder. Right: close the lid afterwards."""

    action_noise = 0.002  # absolute actions: 2 mm / 0.36 degrees

    def plan(self) -> Iterator[Phase]:
        """Phases: reach, grasp, lift, carry over the holder, release; then sweep the lid shut."""
        env = self.env
        assert isinstance(env, CoffeeEnv)
        noise = self.rng.normal(0.0, 0.003, size=3)
        machine = env.object_poses()["machine"]

        def local(p: np.ndarray, rot: np.ndarray = R_PUSH_LOCAL) -> np.ndarray:
            return machine @ make_pose(p, rot)

        pod = env.object_poses()["pod"][:3, 3]
        grasp = make_pose(pod + noise - R_LEFT @ LEFT_GRASP, R_LEFT)
        out = _shift(grasp, (0, 0.06, 0))
        wait = local(WAIT)
        yield {"left": Move(_shift(out, (0, 0, 0.10)), OPEN, 30), "right": Move(wait, PUSH, 30)}
        yield {"left": Move(out, OPEN, 15), "right": Move(None, PUSH, 15)}
        yield {"left": Move(grasp, OPEN, 15), "right": Move(None, PUSH, 15)}
        for k in range(1, 5):  # close gradually: a sudden grasp flicks the light pod away
            hand = OPEN + (CLOSED - OPEN) * k / 4
            yield {"left": Move(None, hand, 4), "right": Move(None, PUSH, 4)}
        yield {"left": Move(None, CLOSED, 10), "right": Move(None, PUSH, 10)}
        yield {"left": Move(_shift(grasp, (0, 0, 0.10)), CLOSED, 20), "right": Move(None, PUSH, 20)}
        # Carry the pod over the holder, measured from where it sits in the hand now.
        pod = env.object_poses()["pod"][:3, 3]
        eef = env.eef_poses()[1]
        floor = machine[:3, 3] + machine[:3, 2] * (BASE_PLATE + INSERT_CLEARANCE)
        above = floor + machine[:3, 2] * (HOLDER_DEPTH + 0.03)
        over = eef.copy()
        over[:3, 3] += above - pod + machine[:3, 2] * POD_HALF_HEIGHT
        yield {"left": Move(_shift(over, (0, 0, 0.04)), CLOSED, 30), "right": Move(None, PUSH, 30)}
        for goal, steps in ((above, 12), (above, 8), (floor, 15)):
            # The pod sits a little tilted and shifted in the hand: put its bottom where it goes.
            pod_pose = env.object_poses()["pod"]
            bottom = pod_pose[:3, 3] - pod_pose[:3, 2] * POD_HALF_HEIGHT
            over = env.eef_poses()[1].copy()
            over[:3, 3] += goal - bottom
            yield {"left": Move(over, CLOSED, steps), "right": Move(None, PUSH, steps)}
        for k in range(1, 5):  # open gradually: a sudden release pops the pod out
            hand = CLOSED + (OPEN - CLOSED) * k / 4
            yield {"left": Move(None, hand, 3), "right": Move(None, PUSH, 3)}
        back = _shift(env.eef_poses()[1], (-0.03, 0.10, 0.04))
        yield {"left": Move(back, OPEN, 20), "right": Move(local(START), PUSH, 20)}
        yield {"left": Move(None, OPEN, 30), "right": Move(local(SWEEP), PUSH, 30)}
        yield {"left": Move(None, OPEN, 20), "right": Move(wait, PUSH, 20)}
        yield {"left": Move(None, OPEN, 10), "right": Move(None, PUSH, 10)}


__all__ = ["CoffeeExpert"]
