"""Segment starts: a sequential first subtask, and ``start_offset_range`` (skipped transit)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fake_demo import FakeDemo, fake_demo

from dexmg_bench.generators.segment import build_library, segment_demo
from dexmg_bench.generators.spec import SpecError, spec_from_dict

T = 40


def _demo(ons: dict[str, dict[str, int]]) -> FakeDemo:
    return fake_demo(ons, T)


def _sequential_first_spec():
    """Left's first subtask waits for right's first (as a post-subtask)."""
    return spec_from_dict(
        {
            "task": "Fake",
            "right": [{"name": "r0", "object_ref": "a"}, {"name": "r1", "object_ref": "b"}],
            "left": [
                {"name": "l0", "object_ref": "a", "kind": "sequential", "after": "r0"},
                {"name": "l1", "object_ref": "b"},
            ],
        }
    )


def test_sequential_first_subtask_starts_when_its_pre_subtask_is_done(rng) -> None:
    """The source's wait at the head of a sequential *first* subtask is not replayed.

    Left ``l0`` waits for right ``r0``, whose signal turns on at step 12 (done after step 12):
    the left segment starts at step 13, not 0, like a later sequential subtask would (its wait
    moves into the previous subtask; a first subtask has none, so the wait is dropped: the
    ordering constraint makes the arm hold in place instead).
    """
    demo = _demo({"right": {"r0": 12}, "left": {"l0": 20}})
    seg = segment_demo(demo, _sequential_first_spec(), rng)
    assert (seg["left"][0].start, seg["left"][0].end) == (13, 21)
    np.testing.assert_array_equal(seg["left"][0].targets[:, 0, 3], np.arange(13, 21))
    np.testing.assert_array_equal(seg["left"][0].object_pose[:3, 3], [13, 13, 13])
    assert (seg["left"][1].start, seg["right"][0].start) == (21, 0)
    late = _demo({"right": {"r0": 25}, "left": {"l0": 20}})  # pre-subtask done after l0: unchanged
    assert segment_demo(late, _sequential_first_spec(), rng)["left"][0].start == 0


def _offset_spec(right: list, left: list):
    return spec_from_dict({"task": "Fake", "right": right, "left": left})


def test_start_offset_drops_the_transit_head(rng) -> None:
    """``start_offset_range`` moves a segment's first step; the previous subtask keeps its end."""
    spec = _offset_spec(
        [
            {"name": "r0", "object_ref": "a", "start_offset_range": [5, 5]},
            {"name": "r1", "object_ref": "b", "start_offset_range": [3, 3]},
        ],
        [{"name": "l0", "object_ref": "a"}, {"name": "l1", "object_ref": "b"}],
    )
    seg = segment_demo(_demo({"right": {"r0": 12}, "left": {"l0": 9}}), spec, rng)
    r0, r1 = seg["right"]
    assert (r0.start, r0.end, r1.start, r1.end) == (5, 13, 16, T)
    np.testing.assert_array_equal(r1.targets[:, 0, 3], np.arange(16, T))
    np.testing.assert_array_equal(r1.hand[:, 0], np.arange(16, T))
    np.testing.assert_array_equal(r1.object_pose[:3, 3], [16, 16, 16])  # the pose at the start
    assert [(s.start, s.end) for s in seg["left"]] == [(0, 10), (10, T)]


def test_start_offset_keeps_every_segment_non_empty(rng) -> None:
    """An offset past the end leaves the segment's last step (the subtask still ends there)."""
    spec = _offset_spec(
        [
            {"name": "r0", "object_ref": "a", "start_offset_range": [50, 50]},
            {"name": "r1", "object_ref": "b"},
        ],
        [{"name": "l0", "object_ref": "a"}, {"name": "l1", "object_ref": "b"}],
    )
    r0 = segment_demo(_demo({"right": {"r0": 12}, "left": {"l0": 9}}), spec, rng)["right"][0]
    assert (r0.start, r0.end) == (12, 13)


def test_start_offset_draws_once_per_coordination_pair() -> None:
    """Partners share one draw; the draws stay inside the range."""
    coord = {"kind": "coordination", "object_ref": "b", "start_offset_range": [0, 6]}
    spec = _offset_spec(
        [{"name": "r0", "object_ref": "a"}, {"name": "r1", "partner": "l1", **coord}],
        [{"name": "l0", "object_ref": "a"}, {"name": "l1", "partner": "r1", **coord}],
    )
    demo = _demo({"right": {"r0": 12}, "left": {"l0": 10}})
    starts = set()
    for seed in range(20):
        seg = segment_demo(demo, spec, np.random.default_rng(seed))
        shift_r, shift_l = seg["right"][1].start - 13, seg["left"][1].start - 11
        assert shift_r == shift_l and 0 <= shift_r <= 6
        starts.add(shift_r)
    assert len(starts) > 1


def test_default_start_offsets_draw_nothing() -> None:
    """Fixed offsets draw no random numbers, so other specs' attempts are unchanged."""
    spec = _sequential_first_spec()
    demos = [_demo({"right": {"r0": 12}, "left": {"l0": 20}})] * 2
    rng = np.random.default_rng(3)
    build_library(demos, spec, rng)
    assert rng.random() == np.random.default_rng(3).random()


@pytest.mark.parametrize(
    ("value", "message"),
    [([-1, 2], "0 <= lo <= hi"), ([3, 1], "0 <= lo <= hi"), ([1], "0 <= lo <= hi")],
)
def test_start_offset_range_is_validated(value: list, message: str) -> None:
    """Negative, reversed or short ranges are refused on load."""
    with pytest.raises(SpecError, match=message):
        _offset_spec(
            [{"name": "r0", "object_ref": "a", "start_offset_range": value}],
            [{"name": "l0", "object_ref": "a"}],
        )


def test_coordination_partners_must_agree_on_start_offsets() -> None:
    """Partners share one draw, so their ranges must be the same."""
    coord = {"kind": "coordination", "object_ref": "b"}
    with pytest.raises(SpecError, match="start_offset_range"):
        _offset_spec(
            [{"name": "r1", "partner": "l1", "start_offset_range": [2, 2], **coord}],
            [{"name": "l1", "partner": "r1", **coord}],
        )


def test_end_offsets_of_a_pair_are_not_taken_from_an_earlier_left_subtask() -> None:
    """Left's own draws never stand in for the pair's shared one (they once overwrote it).

    Right's coordination subtask is its first, left's is its second: left's first subtask
    draws its own end offset, and the pair must still end on the same step.
    """
    rng_kw = {"offset_range": [0, 6]}
    coord = {"kind": "coordination", "object_ref": "b", **rng_kw}
    spec = _offset_spec(
        [{"name": "rc", "partner": "lc", **coord}, {"name": "r1", "object_ref": "a"}],
        [
            {"name": "l0", "object_ref": "a", **rng_kw},
            {"name": "lc", "partner": "rc", **coord},
            {"name": "l2", "object_ref": "a"},
        ],
    )
    demo = _demo({"right": {"rc": 15}, "left": {"l0": 5, "lc": 15}})
    for seed in range(20):
        seg = segment_demo(demo, spec, np.random.default_rng(seed))
        assert seg["right"][0].end == seg["left"][1].end


def test_start_offset_range_round_trips_through_json() -> None:
    """The field is written by ``to_json`` and read back (dataset metadata)."""
    spec = _offset_spec(
        [{"name": "r0", "object_ref": "a", "start_offset_range": [4, 9]}],
        [{"name": "l0", "object_ref": "a"}],
    )
    assert spec.subtasks["right"][0].start_offset_range == (4, 9)
    assert spec_from_dict(json.loads(spec.to_json())) == spec
