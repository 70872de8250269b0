"""Splitting source demos into per-arm, object-centric segments (pure numpy).

Each arm's subtask ``i`` covers steps ``[start_i, end_i)`` of a demo. Ends come from the
termination signals named in the spec (a subtask ends on the first step its signal is on after
the previous subtask ended; an arm's last subtask ends with the demo) or from a manual annotation
file. Coordination partners are then forced to end on the same step, and each end is shifted by
a step offset drawn from the subtask's ``offset_range`` (one draw per coordination pair, so
partners stay aligned). A segment starts where the previous one ended (``end_{-1} = 0``), moved
on by a draw from its ``start_offset_range``: those head steps are transit, replaced by the
interpolation from the current pose when the segment is executed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from dexmg_bench.generators.spec import ARMS, TaskSpec, other_arm

DEFAULT_TOLERANCE = 5


class DemoLike(Protocol):
    """What segmentation reads from a demo (``dexmg_bench.datasets.source.SourceDemo`` fits)."""

    # Read-only (properties), so that frozen dataclasses such as ``SourceDemo`` fit.
    @property
    def target_pose(self) -> np.ndarray:
        """World end-effector targets ``(T, n_arms, 4, 4)``."""
        ...

    @property
    def hand(self) -> np.ndarray:
        """Hand commands ``(T, n_arms, H)``."""
        ...

    @property
    def object_pose(self) -> Mapping[str, np.ndarray]:
        """Object poses by name ``(T, 4, 4)``."""
        ...

    @property
    def signals(self) -> Mapping[str, Mapping[str, np.ndarray]]:
        """Per arm, per signal, whether it holds at each step ``(T,)``."""
        ...


@dataclass(frozen=True, kw_only=True)
class Segment:
    """One arm's part of one source demo for one subtask.

    Attributes:
        arm: ``"right"`` or ``"left"``.
        index: The subtask's position in the arm's sequence.
        name: The subtask name.
        object_ref: The reference object.
        source: Index of the source demo it was cut from.
        start: First step (inclusive) in the demo.
        end: Last step (exclusive) in the demo.
        targets: World end-effector targets ``(end - start, 4, 4)``.
        hand: Hand commands ``(end - start, H)``.
        object_pose: The reference object's world pose at ``start`` ``(4, 4)``.
    """

    arm: str
    index: int
    name: str
    object_ref: str
    source: int
    start: int
    end: int
    targets: np.ndarray
    hand: np.ndarray
    object_pose: np.ndarray

    def __post_init__(self) -> None:
        if self.arm not in ARMS:
            raise ValueError(f"arm must be one of {ARMS}, got {self.arm!r}")
        if not 0 <= self.start < self.end:
            raise ValueError(f"need 0 <= start < end, got start={self.start} end={self.end}")
        n = self.end - self.start
        if self.targets.shape != (n, 4, 4):
            raise ValueError(f"targets must have shape ({n}, 4, 4), got {self.targets.shape}")
        if self.hand.ndim != 2 or self.hand.shape[0] != n:
            raise ValueError(f"hand must have shape ({n}, H), got {self.hand.shape}")
        if self.object_pose.shape != (4, 4):
            raise ValueError(f"object_pose must have shape (4, 4), got {self.object_pose.shape}")

    def __len__(self) -> int:
        return self.end - self.start


# library[arm][subtask_index][demo_index]
SegmentLibrary = Mapping[str, Sequence[Sequence[Segment]]]


def signal_ends(demo: DemoLike, spec: TaskSpec) -> dict[str, np.ndarray]:
    """Subtask end steps per arm from the termination signals named by the spec."""
    num_steps = int(demo.target_pose.shape[0])
    out = {}
    for arm in ARMS:
        ends, start = [], 0
        for sub in spec.subtasks[arm][:-1]:
            sig = demo.signals.get(arm, {}).get(sub.signal_name)
            if sig is None:
                raise ValueError(f"arm {arm!r}: the demo has no signal {sub.signal_name!r}")
            on = np.flatnonzero(np.asarray(sig, bool)[start:])
            if on.size == 0:
                raise ValueError(
                    f"arm {arm!r}, subtask {sub.name!r}: signal {sub.signal_name!r} never turns "
                    f"on after step {start}"
                )
            start += int(on[0]) + 1
            ends.append(start)
        ends.append(num_steps)
        out[arm] = np.asarray(ends, dtype=np.int64)
    return out


def _check_ends(ends: Mapping[str, np.ndarray], spec: TaskSpec, num_steps: int) -> None:
    for arm in ARMS:
        e = np.asarray(ends[arm])
        names = [s.name for s in spec.subtasks[arm]]
        if e.shape != (len(names),):
            raise ValueError(f"arm {arm!r}: needs {len(names)} subtask ends {names}, got {e}")
        bounds = np.concatenate([[0], e])
        bad = np.flatnonzero(np.diff(bounds) <= 0)
        if bad.size:
            raise ValueError(f"arm {arm!r}, subtask {names[bad[0]]!r} is empty (ends {e.tolist()})")
        if e[-1] > num_steps:
            raise ValueError(f"arm {arm!r}: end {int(e[-1])} is past the demo's {num_steps} steps")


def _pairs(spec: TaskSpec) -> list[tuple[int, int]]:
    """Coordination pairs as (right index, left index)."""
    right, left = ARMS
    return [
        (i, spec.index(left, str(sub.partner)))
        for i, sub in enumerate(spec.subtasks[right])
        if sub.kind == "coordination"
    ]


def align_coordination(
    ends: Mapping[str, np.ndarray],
    spec: TaskSpec,
    num_steps: int,
    tolerance: int = DEFAULT_TOLERANCE,
) -> dict[str, np.ndarray]:
    """Make coordination partners end on the same step.

    If exactly one of the pair is its arm's last subtask (whose end is only the demo's end), it
    is cut to end with its partner. Otherwise the ends must agree within ``tolerance`` steps and
    both move to the later one.

    Raises:
        ValueError: if the ends disagree by more than ``tolerance`` or alignment empties a subtask.
    """
    out = {arm: np.array(ends[arm], dtype=np.int64) for arm in ARMS}
    right, left = ARMS
    for i, j in _pairs(spec):
        last_r = i == len(spec.subtasks[right]) - 1
        last_l = j == len(spec.subtasks[left]) - 1
        er, el = int(out[right][i]), int(out[left][j])
        if last_r != last_l:
            common = el if last_r else er
        elif abs(er - el) > tolerance:
            raise ValueError(
                f"coordination pair right {spec.subtasks[right][i].name!r} / left "
                f"{spec.subtasks[left][j].name!r} ends at steps {er} and {el}, more than "
                f"{tolerance} apart; fix the source boundaries or raise the tolerance"
            )
        else:
            common = max(er, el)
        out[right][i] = out[left][j] = common
    _check_ends(out, spec, num_steps)
    return out


def _draw_offsets(spec: TaskSpec, field: str, rng: np.random.Generator) -> dict[str, list[int]]:
    """Per arm, one draw per subtask from its ``field`` range; coordination partners share one.

    Draws go right arm first, then left, in subtask order; a coordination pair uses the right
    arm's draw. A fixed range draws nothing, so specs without ranges leave the random stream as
    it was.
    """
    right, left = ARMS
    right_of_left = {j: i for i, j in _pairs(spec)}
    out: dict[str, list[int]] = {}
    for arm in ARMS:
        out[arm] = []
        for i, sub in enumerate(spec.subtasks[arm]):
            lo, hi = getattr(sub, field)
            if arm == left and sub.kind == "coordination":
                out[arm].append(out[right][right_of_left[i]])
            else:
                out[arm].append(int(rng.integers(lo, hi + 1)) if lo != hi else lo)
    return out


def apply_offsets(
    ends: Mapping[str, np.ndarray], spec: TaskSpec, num_steps: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Shift each end by a draw from its ``offset_range``, keeping every subtask non-empty.

    Ends are clipped to ``[previous end + 1, num_steps - later subtasks]``; coordination
    partners share one draw.

    Raises:
        ValueError: if clipping pulls a coordination pair apart (narrow its ``offset_range``).
    """
    right, left = ARMS
    offsets = _draw_offsets(spec, "offset_range", rng)
    out = {}
    for arm in ARMS:
        subs = spec.subtasks[arm]
        new = np.array(ends[arm], dtype=np.int64)
        prev = 0
        for i in range(len(subs)):
            upper = num_steps - (len(subs) - 1 - i)
            new[i] = min(max(int(new[i]) + offsets[arm][i], prev + 1), upper)
            prev = int(new[i])
        out[arm] = new
    for i, j in _pairs(spec):
        if out[right][i] != out[left][j]:
            raise ValueError(
                f"offsets of coordination pair right {spec.subtasks[right][i].name!r} / left "
                f"{spec.subtasks[left][j].name!r} were clipped apart ({out[right][i]} vs "
                f"{out[left][j]}); narrow its offset_range"
            )
    return out


def signal_onsets(demo: DemoLike, spec: TaskSpec, ends: Mapping[str, np.ndarray]) -> dict:
    """Per arm, the step each subtask's signal first turns on inside its segment (else its end).

    Without boundary offsets this is the end of all but an arm's last subtask; the last
    subtask's signal usually turns on before the demo ends (e.g. a release, then a retreat).
    """
    out = {}
    for arm in ARMS:
        onsets, start = [], 0
        for sub, end in zip(spec.subtasks[arm], ends[arm], strict=True):
            sig = np.asarray(demo.signals.get(arm, {}).get(sub.signal_name, ()), bool)[start:end]
            on = np.flatnonzero(sig)
            onsets.append(start + int(on[0]) + 1 if on.size else int(end))
            start = int(end)
        out[arm] = np.asarray(onsets, dtype=np.int64)
    return out


def defer_sequential(
    ends: Mapping[str, np.ndarray], spec: TaskSpec, onsets: Mapping[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Start each sequential subtask no earlier than its pre-subtask's signal fires in the demo.

    In a source demo the post-subtask arm usually waits (e.g. holds its piece up) until the
    other arm's pre-subtask is done. Left in the post-subtask's segment, that wait would be
    replayed *after* the ordering constraint has already made the arm wait, doubling it; moved
    into the previous subtask of the same arm, it is replayed while the other arm works.
    ``onsets`` (from ``signal_onsets``) says when each pre-subtask is done; default its end.
    """
    onsets = ends if onsets is None else onsets
    out = {arm: np.array(ends[arm], dtype=np.int64) for arm in ARMS}
    for arm in ARMS:
        for i, sub in enumerate(spec.subtasks[arm]):
            if sub.kind != "sequential" or i == 0:
                continue
            other = other_arm(arm)
            pre_end = int(onsets[other][spec.index(other, str(sub.after))])
            if out[arm][i - 1] < pre_end < out[arm][i]:
                out[arm][i - 1] = pre_end
    return out


def segment_starts(
    ends: Mapping[str, np.ndarray],
    spec: TaskSpec,
    rng: np.random.Generator,
    onsets: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Per arm, the first step of each subtask's segment.

    A segment starts where the arm's previous subtask ends (0 for the first), moved on by a
    draw from its ``start_offset_range`` (one draw per coordination pair), because the head of a
    segment is often transit from where the previous subtask left the hand (a rest pose, the
    place where a lid was picked up): transformed with the subtask's object it lands far from
    where the hand is now, so the interpolation from the current pose bridges it instead.

    A sequential *first* subtask also starts no earlier than its pre-subtask is done in the demo
    (``onsets``, default ``ends``): ``defer_sequential`` moves the source's wait of a later
    sequential subtask into the arm's previous subtask, but a first subtask has none, so its
    wait is dropped (the ordering constraint holds the arm in place instead of replaying it).
    Starts are clipped so that every segment keeps at least its last step.
    """
    onsets = ends if onsets is None else onsets
    offsets = _draw_offsets(spec, "start_offset_range", rng)
    out = {}
    for arm in ARMS:
        subs = spec.subtasks[arm]
        arm_ends = np.asarray(ends[arm], dtype=np.int64)
        starts = np.concatenate([[0], arm_ends[:-1]]).astype(np.int64)
        for i, sub in enumerate(subs):
            begin = int(starts[i]) + offsets[arm][i]
            if sub.kind == "sequential" and i == 0:
                other = other_arm(arm)
                pre_done = int(onsets[other][spec.index(other, str(sub.after))])
                if pre_done < arm_ends[0]:
                    begin = max(begin, pre_done)
            starts[i] = min(begin, int(arm_ends[i]) - 1)
        out[arm] = starts
    return out


def segment_demo(
    demo: DemoLike,
    spec: TaskSpec,
    rng: np.random.Generator,
    *,
    source: int = 0,
    ends: Mapping[str, Sequence[int]] | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> dict[str, tuple[Segment, ...]]:
    """Cut one demo into per-arm segments.

    Args:
        demo: The source demo.
        spec: The task spec (subtask order, signals, reference objects, offsets).
        rng: Draws the boundary offsets.
        source: The demo's index, recorded in each segment.
        ends: Manual subtask ends per arm (exclusive steps); default from the signals.
        tolerance: Allowed disagreement of coordination partners' ends, in steps.

    Returns:
        ``{arm: (segment per subtask, ...)}``.
    """
    num_steps = int(demo.target_pose.shape[0])
    raw = signal_ends(demo, spec) if ends is None else {a: np.asarray(ends[a]) for a in ARMS}
    try:
        _check_ends(raw, spec, num_steps)
        aligned = apply_offsets(
            align_coordination(raw, spec, num_steps, tolerance), spec, num_steps, rng
        )
        onsets = signal_onsets(demo, spec, aligned)
        final = defer_sequential(aligned, spec, onsets)
        starts = segment_starts(final, spec, rng, onsets)
    except ValueError as err:
        raise ValueError(f"demo {source}: {err}") from None
    out = {}
    for a, arm in enumerate(ARMS):
        segs = []
        for i, sub in enumerate(spec.subtasks[arm]):
            start, end = int(starts[arm][i]), int(final[arm][i])
            if sub.object_ref not in demo.object_pose:
                raise ValueError(f"demo {source}: no pose of object {sub.object_ref!r}")
            segs.append(
                Segment(
                    arm=arm,
                    index=i,
                    name=sub.name,
                    object_ref=sub.object_ref,
                    source=source,
                    start=start,
                    end=end,
                    targets=_frozen(demo.target_pose[start:end, a]),
                    hand=_frozen(demo.hand[start:end, a]),
                    object_pose=_frozen(demo.object_pose[sub.object_ref][start]),
                )
            )
        out[arm] = tuple(segs)
    return out


def _frozen(x: np.ndarray) -> np.ndarray:
    arr = np.array(x, dtype=np.float64)
    arr.flags.writeable = False
    return arr


def build_library(
    demos: Sequence[DemoLike],
    spec: TaskSpec,
    rng: np.random.Generator,
    *,
    annotations: Mapping[str, Mapping[str, Sequence[int]]] | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> dict[str, tuple[tuple[Segment, ...], ...]]:
    """Segment every demo; ``library[arm][subtask][demo]`` (annotations keyed ``demo_<k>``)."""
    if not demos:
        raise ValueError("need at least one source demo")
    per_demo = []
    for k, demo in enumerate(demos):
        ends = None
        if annotations is not None:
            if f"demo_{k}" not in annotations:
                raise ValueError(f"annotations lack 'demo_{k}'")
            ends = annotations[f"demo_{k}"]
        per_demo.append(segment_demo(demo, spec, rng, source=k, ends=ends, tolerance=tolerance))
    return {
        arm: tuple(tuple(d[arm][i] for d in per_demo) for i in range(len(spec.subtasks[arm])))
        for arm in ARMS
    }


def load_annotations(path: str | Path) -> dict[str, dict[str, tuple[int, ...]]]:
    """Read manual boundaries ``{"demo_0": {"right": [120, 208], "left": [...]}, ...}``.

    Each list holds the end step (exclusive) of every subtask of that arm, in order.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: invalid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object keyed by demo name")
    out = {}
    for demo, arms in data.items():
        if not isinstance(arms, dict) or set(arms) != set(ARMS):
            raise ValueError(f"{path}: {demo!r} must map exactly {ARMS} to lists of end steps")
        for arm, ends in arms.items():
            if not isinstance(ends, list) or not all(
                isinstance(e, int) and not isinstance(e, bool) for e in ends
            ):
                raise ValueError(f"{path}: {demo!r} arm {arm!r}: ends must be integers, got {ends}")
        out[demo] = {arm: tuple(arms[arm]) for arm in ARMS}
    return out
