"""Source-demo selection: random and nearest-object picks, one rng argument."""

from __future__ import annotations

import numpy as np
import pytest

from dexmg_bench.generators.segment import Segment
from dexmg_bench.generators.select import (
    choose_index,
    object_pose_distances,
    select_shared_source,
    select_source,
)
from dexmg_bench.generators.spec import SubtaskSpec, TaskSpec
from dexmg_bench.geometry import make_pose, rot_z


def _segments(arm: str, xs: list[float], yaws: list[float] | None = None) -> tuple[Segment, ...]:
    yaws = yaws or [0.0] * len(xs)
    return tuple(
        Segment(
            arm=arm,
            index=0,
            name="s",
            object_ref="obj",
            source=k,
            start=0,
            end=1,
            targets=np.eye(4)[None],
            hand=np.zeros((1, 1)),
            object_pose=make_pose([x, 0.0, 0.0], rot_z(yaw)),
        )
        for k, (x, yaw) in enumerate(zip(xs, yaws, strict=True))
    )


def test_nearest_picks_the_closest() -> None:
    """With k = 1 the demo whose object started closest to the current pose is chosen."""
    segs = _segments("right", [0.0, 0.5, 0.21, 0.9])
    now = {"obj": make_pose([0.2, 0.0, 0.0], np.eye(3))}
    for seed in range(5):
        pick = select_source(segs, now, "nearest", 1, np.random.default_rng(seed))
        assert pick == 2


def test_nearest_weighs_rotation() -> None:
    """The rotation angle counts, scaled by ``rot_weight``."""
    segs = _segments("right", [0.0, 0.1], yaws=[1.0, 0.0])
    now = {"obj": make_pose([0.0, 0.0, 0.0], np.eye(3))}
    rng = np.random.default_rng(0)
    assert select_source(segs, now, "nearest", 1, rng, rot_weight=1.0) == 1
    assert select_source(segs, now, "nearest", 1, rng, rot_weight=0.0) == 0
    d = object_pose_distances(np.stack([s.object_pose for s in segs]), now["obj"])
    np.testing.assert_allclose(d, [1.0, 0.1])


def test_nearest_k_picks_among_k_closest() -> None:
    """With k = 2 only the two closest demos are ever chosen, both of them sometimes."""
    rng = np.random.default_rng(0)
    picks = {choose_index([0.3, 0.1, 0.9, 0.2], 4, "nearest", 2, rng) for _ in range(50)}
    assert picks == {1, 3}


def test_random_is_uniform_and_seeded() -> None:
    """Random picks cover all demos and repeat for the same seed."""
    a = [choose_index(None, 4, "random", 1, np.random.default_rng(s)) for s in range(40)]
    b = [choose_index(None, 4, "random", 1, np.random.default_rng(s)) for s in range(40)]
    assert a == b and set(a) == {0, 1, 2, 3}


def test_choose_index_errors() -> None:
    """Bad strategies and missing distances are refused."""
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="strategy"):
        choose_index(None, 2, "closest", 1, rng)
    with pytest.raises(ValueError, match="needs distances"):
        choose_index(None, 2, "nearest", 1, rng)


def test_shared_source_sums_both_arms_nearest() -> None:
    """``same`` selection with nearest first subtasks minimizes the summed distance."""
    near = {"selection": "nearest", "nearest_k": 1}
    spec = TaskSpec(
        task="Fake",
        subtasks={
            "right": (SubtaskSpec(name="s", object_ref="obj", **near),),  # type: ignore[arg-type]
            "left": (SubtaskSpec(name="s", object_ref="obj", **near),),  # type: ignore[arg-type]
        },
    )
    lib = {
        "right": (_segments("right", [0.0, 0.3, 0.6]),),
        "left": (_segments("left", [0.6, 0.1, 0.0]),),
    }
    now = {"obj": make_pose([0.0, 0.0, 0.0], np.eye(3))}
    assert select_shared_source(spec, lib, now, np.random.default_rng(0)) == 1
