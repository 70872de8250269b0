"""Per-arm action queues dequeued in lock step (DexMimicGen Sec. IV), with no simulator inside.

Each call to ``Scheduler.step(sim)`` is one tick: one target pose and hand command per arm.

Tick semantics, in order:

1. **Pull.** Every arm whose queue is empty and that has subtasks left tries to start its next
   subtask. A ``sequential`` subtask starts only once the other arm has *completed* its ``after``
   subtask (its last action was emitted on an earlier tick) or the env reports that subtask's
   termination signal (``step(sim, signals)``), whichever comes first. Starting means: pick a source
   demo, transform its segment by ``world_T_obj_now @ inv(world_T_obj_src)`` of the subtask's
   reference object (identity for ``replay``), and queue ``plan_subtask`` from the current EEF
   pose. For a ``coordination`` subtask the first arm of the pair to start fixes the source demo
   and the transform; its partner reuses both when it starts, whenever that is.
2. **Emit.** From the queue lengths at the start of the tick: an arm in a parallel or sequential
   subtask dequeues one action. An arm in a coordination subtask dequeues only while it has more
   remaining steps than its partner (the paper's "each arm waits for the other until both have
   the same number of remaining steps"). A partner that has not started the pair yet counts with
   the length its path will have (``partner_steps``: fixed, interpolation and segment steps of
   the pair's source), so the first arm runs the head of its segment (e.g. backing off after a
   release, as it did in the source demo while the other arm finished) and then holds where it
   was in the source when its partner started. When the counts are equal both dequeue, so the
   pair's last actions share a tick.
   Holding, waiting for an ``after`` subtask and being done repeat the arm's last target and hand.
3. **Complete.** An arm that emitted its subtask's last action has completed it (visible to the
   other arm's ordering check from the next tick on).

``step`` returns ``None`` once both arms have completed their last subtask. Hand commands are the
source segment's, replayed; during fixed and interpolation steps the last commanded hand is held.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from dexmg_bench.generators.protocol import SimInterface
from dexmg_bench.generators.segment import SegmentLibrary
from dexmg_bench.generators.select import ROT_WEIGHT, select_shared_source, select_source
from dexmg_bench.generators.spec import ARMS, SubtaskSpec, TaskSpec, other_arm
from dexmg_bench.generators.transform import plan_subtask, prefix_length, segment_transform

PHASES = ("fixed", "interp", "segment", "wait_order", "wait_sync", "done")


def _known(value: np.ndarray | None) -> np.ndarray:
    """An arm's last command, which every tick has set before it is read."""
    assert value is not None
    return value


@dataclass(frozen=True, kw_only=True)
class ArmStatus:
    """What one arm did on one tick.

    Attributes:
        subtask: Index of the subtask it is in or waiting to start; ``None`` once done.
        name: That subtask's name; ``None`` once done.
        phase: One of ``PHASES``: ``fixed``/``interp``/``segment`` (a planned action),
            ``wait_order`` (an ``after`` subtask is not complete), ``wait_sync`` (holding for its
            coordination partner) or ``done``.
        source: The source demo of the current subtask (``None`` if not started).
        remaining: Queued steps of the current subtask left after this tick.
    """

    subtask: int | None
    name: str | None
    phase: str
    source: int | None
    remaining: int


@dataclass(frozen=True, kw_only=True)
class Tick:
    """The commands of one lock-step tick (all arrays in ``ARMS`` order).

    Attributes:
        step: Tick index from 0.
        targets: World end-effector targets ``(n_arms, 4, 4)``.
        hands: Hand commands ``(n_arms, H)``.
        noise: Action-noise scale per arm ``(n_arms,)``: the subtask's ``action_noise`` on
            planned actions, 0 while holding.
        arms: Per-arm status.
    """

    step: int
    targets: np.ndarray
    hands: np.ndarray
    noise: np.ndarray
    arms: tuple[ArmStatus, ...]

    def status(self, arm: str) -> ArmStatus:
        """The status of ``arm``."""
        return self.arms[ARMS.index(arm)]


class _Arm:
    """Mutable per-arm bookkeeping (internal)."""

    def __init__(self) -> None:
        self.next = 0  # index of the next subtask to start
        self.current: int | None = None  # subtask whose queue is live
        self.completed = 0  # subtasks whose last action has been emitted
        self.poses = np.zeros((0, 4, 4))
        self.hands = np.zeros((0, 0))
        self.phases: list[str] = []
        self.pos = 0
        self.source: int | None = None
        self.last_target: np.ndarray | None = None
        self.last_hand: np.ndarray | None = None

    @property
    def remaining(self) -> int:
        return len(self.phases) - self.pos if self.current is not None else 0


class Scheduler:
    """Turns a spec and a segment library into lock-step per-arm commands (one episode).

    Args:
        spec: The task spec.
        library: ``library[arm][subtask][demo]`` segments (see ``segment.build_library``).
        rng: Source-demo selection draws (the only randomness).
        initial_hands: Hand commands ``(n_arms, H)`` held before an arm's first command; default
            each arm's first selected segment's first hand command.
        rot_weight: Metres per radian in ``"nearest"`` selection distances.
    """

    def __init__(
        self,
        spec: TaskSpec,
        library: SegmentLibrary,
        rng: np.random.Generator,
        *,
        initial_hands: np.ndarray | None = None,
        rot_weight: float = ROT_WEIGHT,
    ) -> None:
        self.spec = spec
        self.library = library
        self.rng = rng
        self.rot_weight = rot_weight
        self._check_library()
        self._initial_hands = None if initial_hands is None else np.asarray(initial_hands, float)
        self._arms = {arm: _Arm() for arm in ARMS}
        self._shared_source: int | None = None
        self._coord: dict[int, tuple[int, np.ndarray]] = {}  # right index -> (demo, transform)
        self._step = 0
        self.finished = False

    def _check_library(self) -> None:
        counts = set()
        for arm in ARMS:
            subs = self.spec.subtasks[arm]
            if len(self.library[arm]) != len(subs):
                raise ValueError(
                    f"library arm {arm!r} has {len(self.library[arm])} subtasks, spec {len(subs)}"
                )
            for i, (sub, segs) in enumerate(zip(subs, self.library[arm], strict=True)):
                if not segs or any(s.name != sub.name or s.index != i for s in segs):
                    raise ValueError(
                        f"library arm {arm!r} subtask {i} does not hold {sub.name!r} segments"
                    )
                counts.add(len(segs))
        if len(counts) != 1:
            raise ValueError(f"every subtask needs a segment from every demo, got counts {counts}")

    # ------------------------------------------------------------------ pulling
    def _pair_key(self, arm: str, index: int, sub: SubtaskSpec) -> int:
        return index if arm == ARMS[0] else self.spec.index(ARMS[0], str(sub.partner))

    def _choose_source(self, arm: str, index: int, sub: SubtaskSpec, objects: Mapping) -> int:
        if self.spec.source_selection == "same":
            if self._shared_source is None:
                self._shared_source = select_shared_source(
                    self.spec, self.library, objects, self.rng, rot_weight=self.rot_weight
                )
            return self._shared_source
        segs = self.library[arm][index]
        return select_source(
            segs, objects, sub.selection, sub.nearest_k, self.rng, rot_weight=self.rot_weight
        )

    def _hold_hand(self, arm: str, fallback: np.ndarray) -> np.ndarray:
        st = self._arms[arm]
        if st.last_hand is not None:
            return st.last_hand
        if self._initial_hands is not None:
            return self._initial_hands[ARMS.index(arm)]
        return fallback

    def _try_pull(
        self, arm: str, eef: np.ndarray, objects: Mapping, signals: Mapping[str, Mapping[str, bool]]
    ) -> None:
        st, other = self._arms[arm], other_arm(arm)
        index = st.next
        sub = self.spec.subtasks[arm][index]
        if sub.kind == "sequential":
            pre_index = self.spec.index(other, str(sub.after))
            pre_signal = self.spec.subtasks[other][pre_index].signal_name
            done = self._arms[other].completed > pre_index
            if not (done or signals.get(other, {}).get(pre_signal, False)):
                return
        key = self._pair_key(arm, index, sub) if sub.kind == "coordination" else None
        if key is not None and key in self._coord:
            source, transform = self._coord[key]
        else:
            source = self._choose_source(arm, index, sub, objects)
            seg = self.library[arm][index][source]
            transform = (
                np.eye(4)
                if sub.replay
                else segment_transform(seg.object_pose, objects[sub.object_ref])
            )
            if key is not None:
                self._coord[key] = (source, transform)
        seg = self.library[arm][index][source]
        path = plan_subtask(
            eef[ARMS.index(arm)], transform @ seg.targets, sub.interpolation_steps, sub.fixed_steps
        )
        pre = len(path) - len(seg)
        hold = self._hold_hand(arm, seg.hand[0])
        st.poses = path
        st.hands = np.concatenate([np.repeat(hold[None], pre, axis=0), seg.hand])
        n_fixed = min(sub.fixed_steps, pre)
        st.phases = ["fixed"] * n_fixed + ["interp"] * (pre - n_fixed) + ["segment"] * len(seg)
        st.pos, st.current, st.source = 0, index, source
        st.next = index + 1

    def partner_steps(self, arm: str, index: int) -> int:
        """Steps the coordination partner of ``arm``'s subtask ``index`` will queue when it starts.

        The pair's source demo is fixed when the first arm starts, and a planned path's length
        does not depend on where the arm is (``transform.plan_subtask``), so this is known
        before the partner starts.
        """
        sub = self.spec.subtasks[arm][index]
        other = other_arm(arm)
        mate_index = self.spec.index(other, str(sub.partner))
        mate = self.spec.subtasks[other][mate_index]
        source, _ = self._coord[self._pair_key(arm, index, sub)]
        seg = self.library[other][mate_index][source]
        return prefix_length(mate.interpolation_steps, mate.fixed_steps) + len(seg)

    # ------------------------------------------------------------------ ticking
    def _emit(self, arm: str, remaining: Mapping[str, int]) -> tuple[ArmStatus, bool, float]:
        """Dequeue or hold one arm's command; returns its status, whether it dequeued, noise."""
        st, other = self._arms[arm], other_arm(arm)
        subs = self.spec.subtasks[arm]
        phase, emit, noise = "done", False, 0.0
        if st.current is not None:
            sub = subs[st.current]
            phase, emit = "wait_sync", True
            if sub.kind == "coordination":
                partner = self.spec.index(other, str(sub.partner))
                started = self._arms[other].current == partner
                if started:
                    emit = remaining[arm] >= remaining[other]
                else:
                    emit = remaining[arm] > self.partner_steps(arm, st.current)
            if emit:
                phase, noise = st.phases[st.pos], float(sub.action_noise)
                st.last_target, st.last_hand = st.poses[st.pos], st.hands[st.pos]
                st.pos += 1
        elif st.next < len(subs):
            phase = "wait_order"
        if st.last_hand is None:  # holding before the arm's first command
            seg = self.library[arm][st.current or 0][st.source or 0]
            st.last_hand = self._hold_hand(arm, seg.hand[0]).copy()
        index = st.current if st.current is not None else st.next
        subtask = index if index < len(subs) else None
        status = ArmStatus(
            subtask=subtask,
            name=None if subtask is None else subs[subtask].name,
            phase=phase,
            source=st.source if st.current is not None else None,
            remaining=st.remaining,
        )
        return status, emit, noise

    def step(
        self, sim: SimInterface, signals: Mapping[str, Mapping[str, bool]] | None = None
    ) -> Tick | None:
        """Advance one tick; ``None`` once both arms are done (see the module docstring).

        Args:
            sim: current end-effector and object poses.
            signals: the env's subtask termination signals now (``{arm: {signal: bool}}``). A
                pre-subtask whose signal is on counts as done for ordering constraints even
                while its arm is still finishing its segment (e.g. retreating after a release).
        """
        if self.finished:
            return None
        pulling = [
            a
            for a in ARMS
            if self._arms[a].current is None and self._arms[a].next < len(self.spec.subtasks[a])
        ]
        if pulling:
            eef = np.asarray(sim.eef_poses(), dtype=np.float64)
            objects = sim.object_poses()
            for arm in ARMS:
                st = self._arms[arm]
                if st.last_target is None:
                    st.last_target = eef[ARMS.index(arm)].copy()
                if arm in pulling:
                    self._try_pull(arm, eef, objects, signals or {})
        remaining = {arm: self._arms[arm].remaining for arm in ARMS}
        emitted = {arm: self._emit(arm, remaining) for arm in ARMS}
        finishing = [a for a in ARMS if emitted[a][1] and self._arms[a].remaining == 0]
        statuses = tuple(emitted[a][0] for a in ARMS)
        # Both are set by now: last_target when an arm is first seen, last_hand by ``_emit``.
        targets = [_known(self._arms[a].last_target) for a in ARMS]
        hands = [_known(self._arms[a].last_hand) for a in ARMS]
        noise = [emitted[a][2] for a in ARMS]
        for arm in finishing:
            st = self._arms[arm]
            st.completed = st.current + 1  # type: ignore[operator]
            st.current = None
        tick = Tick(
            step=self._step,
            targets=np.stack(targets),
            hands=np.stack(hands),
            noise=np.asarray(noise),
            arms=statuses,
        )
        self._step += 1
        self.finished = all(
            self._arms[a].current is None and self._arms[a].next == len(self.spec.subtasks[a])
            for a in ARMS
        )
        return tick
