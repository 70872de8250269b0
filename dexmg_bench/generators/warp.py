"""Uniform time warps of source demos, for timing variety in generated data (pure numpy).

DexMimicGen replays each source segment at the speed it was recorded, so a generated episode's
length is fixed by the source segments it picked. Human source demos vary in speed; scripted
ones do not (every shipped scripted source demo of a task has the same length), so without a
warp all episodes generated from them have nearly the same length. ``--time-warp w`` plays each
source demo, per attempt, at a speed drawn from ``[1 - w, 1 + w]`` times its own: the whole demo
is resampled (poses by slerp, hand commands linearly, signals and object poses at the nearest
recorded step) before it is cut into segments, so both arms of a coordination subtask, which
share a source demo, keep their relative timing. Slower replays take more steps and can run
past the task's horizon (a failed attempt), so keep ``w`` small where the source demos nearly
fill it. This goes beyond the paper; it is off (0) by default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dexmg_bench.generators.segment import DemoLike
from dexmg_bench.geometry import resample_linear, resample_poses

MAX_TIME_WARP = 0.5


@dataclass(frozen=True)
class WarpedDemo:
    """The fields segmentation reads (``segment.DemoLike``), on a warped clock."""

    target_pose: np.ndarray  # (T', n_arms, 4, 4)
    hand: np.ndarray  # (T', n_arms, H)
    object_pose: Mapping[str, np.ndarray]  # name -> (T', 4, 4)
    signals: Mapping[str, Mapping[str, np.ndarray]]  # arm -> signal -> (T',) bool


def check_time_warp(amount: float) -> float:
    """Validate a warp amount: speeds are drawn from ``[1 - amount, 1 + amount]``."""
    if isinstance(amount, bool) or not 0.0 <= float(amount) <= MAX_TIME_WARP:
        raise ValueError(f"`time_warp` must be in [0, {MAX_TIME_WARP}]. Got {amount!r}.")
    return float(amount)


def warp_demo(demo: DemoLike, speed: float) -> WarpedDemo:
    """``demo`` played at ``speed`` times its recorded speed (2.0: half as many steps).

    The first and last recorded steps are kept exactly; the number of steps is
    ``round((T - 1) / speed) + 1``.
    """
    if not speed > 0:
        raise ValueError(f"`speed` must be > 0. Got {speed!r}.")
    num = int(demo.target_pose.shape[0])
    steps = max(int(round((num - 1) / speed)) + 1, 2) if num > 1 else 1
    times = np.linspace(0.0, num - 1, steps)
    nearest = np.rint(times).astype(np.int64)
    return WarpedDemo(
        target_pose=resample_poses(demo.target_pose, times),
        hand=resample_linear(demo.hand, times),
        object_pose={k: np.asarray(v)[nearest] for k, v in demo.object_pose.items()},
        signals={
            arm: {k: np.asarray(v)[nearest] for k, v in sig.items()}
            for arm, sig in demo.signals.items()
        },
    )


def warp_demos(
    demos: Sequence[DemoLike], amount: float, rng: np.random.Generator
) -> list[DemoLike]:
    """Each demo at its own speed from ``U[1 - amount, 1 + amount]``; unchanged when 0."""
    if amount == 0:
        return list(demos)
    speeds = rng.uniform(1.0 - amount, 1.0 + amount, size=len(demos))
    return [warp_demo(d, float(s)) for d, s in zip(demos, speeds, strict=True)]
