"""Segmenting source demos into per-arm subtask segments."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fake_demo import FakeDemo, fake_demo

from dexmg_bench.generators.segment import (
    align_coordination,
    build_library,
    load_annotations,
    segment_demo,
    signal_ends,
)
from dexmg_bench.generators.spec import ARMS, SubtaskSpec, TaskSpec

T = 30


def _demo(ons: dict[str, dict[str, int]]) -> FakeDemo:
    return fake_demo(ons, T)


def _spec(offset: tuple[int, int] = (0, 0), right_last_coord: bool = False) -> TaskSpec:
    """Right: r0 -> r1 (coordination with left l1); left: l0 -> l1 -> l2 (or l0 -> l1)."""

    def s(name: str, **kw: object) -> SubtaskSpec:
        return SubtaskSpec(name=name, object_ref=str(kw.pop("obj", "a")), **kw)  # type: ignore[arg-type]

    coord = {"kind": "coordination", "partner": None, "offset_range": offset}
    right = (s("r0", offset_range=offset), s("r1", **{**coord, "partner": "l1"}, obj="b"))
    left = [s("l0"), s("l1", **{**coord, "partner": "r1"}, obj="b")]
    if right_last_coord:
        left.append(s("l2"))
    return TaskSpec(task="Fake", subtasks={"right": right, "left": tuple(left)})


def test_signal_ends_and_segment_contents(rng) -> None:
    """Ends follow the signals; segments slice the arm's targets/hands and the start object pose."""
    demo = _demo({"right": {"r0": 9}, "left": {"l0": 4}})
    spec = _spec()
    assert {a: e.tolist() for a, e in signal_ends(demo, spec).items()} == {
        "right": [10, T],
        "left": [5, T],
    }
    segs = segment_demo(demo, spec, rng, source=3)
    r1 = segs["right"][1]
    assert (r1.start, r1.end, r1.source, r1.name, r1.object_ref) == (10, T, 3, "r1", "b")
    np.testing.assert_array_equal(r1.targets[:, 0, 3], np.arange(10, T))
    np.testing.assert_array_equal(segs["left"][0].targets[:, 1, 3], np.ones(5))
    np.testing.assert_array_equal(segs["left"][0].hand[:, 0], -np.arange(5))
    np.testing.assert_array_equal(r1.object_pose[:3, 3], [10, 10, 10])
    assert not r1.targets.flags.writeable


def test_missing_signal_is_a_clear_error(rng) -> None:
    """A subtask whose signal never turns on is reported with its arm and name."""
    demo = _demo({"right": {"r0": T + 5}, "left": {"l0": 4}})
    with pytest.raises(ValueError, match="arm 'right', subtask 'r0'"):
        segment_demo(demo, _spec(), rng)


def test_coordination_partners_aligned_within_tolerance(rng) -> None:
    """Close coordination ends move to the later one; far ones raise naming the pair."""
    spec = _spec(right_last_coord=True)
    ends = {"right": np.array([10, T]), "left": np.array([5, 20, T])}
    # right r1 is its arm's last subtask: it is cut to end with left l1.
    assert align_coordination(ends, spec, T)["right"].tolist() == [10, 20]
    both_last = _spec()
    out = align_coordination({"right": np.array([10, T]), "left": np.array([5, T])}, both_last, T)
    assert out["right"][-1] == out["left"][-1] == T
    inner = TaskSpec(
        task="Fake",
        subtasks={
            "right": (*spec.subtasks["right"], SubtaskSpec(name="r2", object_ref="a")),
            "left": spec.subtasks["left"],
        },
    )
    close = {"right": np.array([10, 22, T]), "left": np.array([5, 20, T])}
    assert align_coordination(close, inner, T, tolerance=3)["left"].tolist() == [5, 22, T]
    with pytest.raises(ValueError, match="coordination pair right 'r1' / left 'l1'"):
        align_coordination(close, inner, T, tolerance=1)


def test_offsets_shift_ends_and_keep_pairs_aligned() -> None:
    """Offsets move ends within their range; coordination partners share one draw."""
    spec = _spec(offset=(-3, 3), right_last_coord=True)
    demo = _demo({"right": {"r0": 9, "r1": 19}, "left": {"l0": 4, "l1": 19}})
    seen = set()
    for seed in range(30):
        segs = segment_demo(demo, spec, np.random.default_rng(seed))
        r0_end = segs["right"][0].end
        assert 7 <= r0_end <= 13
        seen.add(r0_end)
        assert segs["right"][1].end == segs["left"][1].end
        assert 17 <= segs["left"][1].end <= 23
        assert segs["left"][2].start == segs["left"][1].end and segs["left"][2].end == T
    assert len(seen) > 3


def test_annotations_file_round_trip(tmp_path: Path, rng) -> None:
    """Manual boundaries from JSON replace the signals."""
    path = tmp_path / "ann.json"
    path.write_text(json.dumps({"demo_0": {"right": [12, T], "left": [6, T]}}))
    ann = load_annotations(path)
    assert ann == {"demo_0": {"right": (12, T), "left": (6, T)}}
    lib = build_library([_demo({})], _spec(), rng, annotations=ann)
    assert lib["right"][0][0].end == 12 and lib["left"][1][0].start == 6
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"demo_0": {"right": [12, T]}}))
    with pytest.raises(ValueError, match="must map exactly"):
        load_annotations(bad)


def test_build_library_layout(rng) -> None:
    """``library[arm][subtask][demo]`` with the demo index recorded."""
    demos = [_demo({"right": {"r0": 9 + k}, "left": {"l0": 4}}) for k in range(3)]
    lib = build_library(demos, _spec(), rng)
    for arm in ARMS:
        assert all(len(row) == 3 for row in lib[arm])
    assert [s.source for s in lib["right"][0]] == [0, 1, 2]
    assert [s.end for s in lib["right"][0]] == [10, 11, 12]


def test_sequential_wait_moves_into_the_previous_subtask():
    """A post-subtask starts where its pre-subtask ends, not earlier (no doubled waiting)."""
    from dexmg_bench.generators.segment import defer_sequential
    from dexmg_bench.generators.spec import spec_from_dict

    spec = spec_from_dict(
        {
            "task": "PieceAssembly",
            "right": [{"name": "grasp", "object_ref": "a"}, {"name": "insert", "object_ref": "b"}],
            "left": [
                {"name": "grasp", "object_ref": "c"},
                {"name": "stack", "object_ref": "a", "kind": "sequential", "after": "insert"},
            ],
        }
    )
    ends = {"right": np.array([40, 150]), "left": np.array([60, 237])}
    out = defer_sequential(ends, spec)
    np.testing.assert_array_equal(out["left"], [150, 237])
    np.testing.assert_array_equal(out["right"], [40, 150])
    late = {"right": np.array([40, 50]), "left": np.array([60, 237])}  # pre ends first: unchanged
    np.testing.assert_array_equal(defer_sequential(late, spec)["left"], [60, 237])
