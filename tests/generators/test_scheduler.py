"""The pure per-arm action-queue scheduler, driven by a fake sim that echoes its targets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dexmg_bench.generators.scheduler import Scheduler, Tick
from dexmg_bench.generators.segment import Segment
from dexmg_bench.generators.spec import ARMS, SubtaskSpec, TaskSpec
from dexmg_bench.geometry import make_pose, pose_inv, rot_z

OBJECT_SRC = make_pose([0.0, 0.0, 0.0], np.eye(3))


class FakeSim:
    """Fixed (or test-moved) object poses; the EEF reaches each commanded target at once."""

    def __init__(self, objects: dict[str, np.ndarray] | None = None) -> None:
        self.eef = make_pose(np.array([[0.0, -0.3, 1.0], [0.0, 0.3, 1.0]]), np.eye(3))
        self.objects = objects if objects is not None else {"obj": OBJECT_SRC.copy()}

    def eef_poses(self) -> np.ndarray:
        """Current EEF poses."""
        return self.eef.copy()

    def object_poses(self) -> dict[str, np.ndarray]:
        """Current object poses."""
        return {k: v.copy() for k, v in self.objects.items()}

    def apply(self, tick: Tick) -> None:
        """Echo the commanded targets as the new EEF poses."""
        self.eef = tick.targets.copy()


def sub(name: str, **kw: object) -> SubtaskSpec:
    """A subtask on object ``obj`` with no interpolation unless asked."""
    kw = {"object_ref": "obj", "interpolation_steps": 0, "action_noise": 0.1, **kw}
    return SubtaskSpec(name=name, **kw)  # type: ignore[arg-type]


def segment(
    arm: str, index: int, name: str, length: int, *, source: int = 0, y: float = 0.0
) -> Segment:
    """A straight-line segment along +x; hand values encode (source, index, step)."""
    pos = np.stack([[0.01 * k + source, y, 1.0 + index] for k in range(length)])
    hand = (100 * source + 10 * index + np.arange(length, dtype=float))[:, None]
    return Segment(
        arm=arm,
        index=index,
        name=name,
        object_ref="obj",
        source=source,
        start=0,
        end=length,
        targets=make_pose(pos, np.eye(3)),
        hand=hand,
        object_pose=OBJECT_SRC,
    )


def setup(
    right: Sequence[tuple[SubtaskSpec, int]],
    left: Sequence[tuple[SubtaskSpec, int]],
    num_demos: int = 1,
    **spec_kw: object,
) -> tuple[TaskSpec, dict]:
    """A spec and a library from per-arm (subtask, segment length) lists."""
    plan = {"right": right, "left": left}
    spec = TaskSpec(
        task="Fake",
        subtasks={arm: tuple(s for s, _ in plan[arm]) for arm in ARMS},
        **spec_kw,  # type: ignore[arg-type]
    )
    y = {"right": -0.3, "left": 0.3}
    library = {
        arm: tuple(
            tuple(segment(arm, i, s.name, n, source=d, y=y[arm]) for d in range(num_demos))
            for i, (s, n) in enumerate(plan[arm])
        )
        for arm in ARMS
    }
    return spec, library


def run(sched: Scheduler, sim: FakeSim, move: dict[int, np.ndarray] | None = None) -> list[Tick]:
    """All ticks; ``move[t]`` sets the object pose before tick ``t``."""
    ticks: list[Tick] = []
    while True:
        if move and len(ticks) in move:
            sim.objects["obj"] = move[len(ticks)]
        tick = sched.step(sim)
        if tick is None:
            return ticks
        sim.apply(tick)
        ticks.append(tick)
        assert len(ticks) < 10_000


def last_tick(ticks: list[Tick], arm: str, name: str) -> int:
    """The tick on which ``arm`` emitted the last planned action of subtask ``name``."""
    return max(
        t.step
        for t in ticks
        if t.status(arm).name == name and t.status(arm).phase in ("fixed", "interp", "segment")
    )


def first_tick(ticks: list[Tick], arm: str, name: str) -> int:
    """The tick on which ``arm`` emitted the first planned action of subtask ``name``."""
    return min(
        t.step
        for t in ticks
        if t.status(arm).name == name and t.status(arm).phase in ("fixed", "interp", "segment")
    )


def test_parallel_arms_finish_at_different_times(rng) -> None:
    """Independent queues: the short arm finishes first and holds; the long one ends the episode."""
    spec, lib = setup([(sub("a"), 10)], [(sub("b"), 20)])
    ticks = run(Scheduler(spec, lib, rng), FakeSim())
    assert len(ticks) == 20
    assert last_tick(ticks, "right", "a") == 9
    assert last_tick(ticks, "left", "b") == 19
    for t in ticks[10:]:
        assert t.status("right").phase == "done" and t.status("right").subtask is None
        assert t.noise[0] == 0.0 and t.noise[1] == 0.1
        np.testing.assert_array_equal(t.targets[0], ticks[9].targets[0])
        np.testing.assert_array_equal(t.hands[0], ticks[9].hands[0])


def test_parallel_subtasks_chain_without_gaps(rng) -> None:
    """An arm starts its next subtask on the tick after the previous one ends."""
    spec, lib = setup([(sub("a"), 4), (sub("c"), 3)], [(sub("b"), 2)])
    ticks = run(Scheduler(spec, lib, rng), FakeSim())
    assert last_tick(ticks, "right", "a") == 3 and first_tick(ticks, "right", "c") == 4
    assert len(ticks) == 7


def test_coordination_pair_ends_on_same_tick(rng) -> None:
    """Different lengths and start times; the early arm waits, the pair's last actions coincide."""
    coord_r = sub("lift", kind="coordination", partner="lift", interpolation_steps=3)
    coord_l = sub("lift", kind="coordination", partner="lift", interpolation_steps=3)
    spec, lib = setup([(sub("g1"), 5), (coord_r, 12)], [(sub("g2"), 15), (coord_l, 8)])
    ticks = run(Scheduler(spec, lib, rng), FakeSim())
    assert last_tick(ticks, "right", "lift") == last_tick(ticks, "left", "lift")
    assert last_tick(ticks, "right", "lift") == len(ticks) - 1
    # Right starts at tick 5 with a 14-step path; left's will have 10 (3 + 8 - 1), so right moves
    # alone for 4 ticks (5-8), holds with 10 left until left starts at 15, then both move.
    assert [ticks[t].status("right").phase for t in (5, 8, 9, 14)] == [
        "interp",
        "segment",
        "wait_sync",
        "wait_sync",
    ]
    assert ticks[9].status("right").remaining == 10
    np.testing.assert_array_equal(ticks[14].targets[0], ticks[8].targets[0])
    assert first_tick(ticks, "right", "lift") == 5
    assert first_tick(ticks, "left", "lift") == 15
    assert len(ticks) == 25
    for t in ticks[15:]:
        assert t.status("right").remaining == t.status("left").remaining


def test_coordination_shorter_first_arm_waits_for_partner(rng) -> None:
    """A first arm with fewer steps than its partner will have holds; the partner catches up."""
    coord_r = sub("lift", kind="coordination", partner="lift")
    coord_l = sub("lift", kind="coordination", partner="lift")
    spec, lib = setup([(sub("g1"), 5), (coord_r, 4)], [(sub("g2"), 10), (coord_l, 9)])
    ticks = run(Scheduler(spec, lib, rng), FakeSim())
    assert all(ticks[t].status("right").phase == "wait_sync" for t in range(5, 15))
    assert first_tick(ticks, "left", "lift") == 10
    assert first_tick(ticks, "right", "lift") == 15  # left has 4 steps left after tick 14
    assert last_tick(ticks, "right", "lift") == last_tick(ticks, "left", "lift") == 18


def test_coordination_shares_transform_fixed_by_first_arm(rng) -> None:
    """Both arms use the object pose seen when the first arm starts, not the later one."""
    coord = sub("lift", kind="coordination", partner="lift")
    spec, lib = setup([(sub("g1"), 2), (coord, 6)], [(sub("g2"), 8), (coord, 6)])
    moved_early = make_pose([0.2, 0.1, 0.0], rot_z(0.5))
    moved_late = make_pose([-0.3, 0.0, 0.0], rot_z(-1.0))
    ticks = run(
        Scheduler(spec, lib, rng), FakeSim(), move={0: np.eye(4), 2: moved_early, 5: moved_late}
    )
    transform = moved_early @ pose_inv(OBJECT_SRC)
    for arm in ARMS:
        seg = lib[arm][1][0]
        got = np.stack([t.targets[ARMS.index(arm)] for t in ticks if t.status(arm).name == "lift"])
        np.testing.assert_allclose(got[-len(seg) :], transform @ seg.targets, atol=1e-12)


def test_ordering_constraint_delays_post_subtask(rng) -> None:
    """The post-subtask starts on the tick after the other arm's pre-subtask's last action."""
    post = sub("insert2", kind="sequential", after="insert1")
    spec, lib = setup([(sub("grasp1"), 5), (sub("insert1"), 20)], [(sub("grasp2"), 3), (post, 4)])
    ticks = run(Scheduler(spec, lib, rng), FakeSim())
    assert last_tick(ticks, "left", "grasp2") == 2
    assert last_tick(ticks, "right", "insert1") == 24
    assert first_tick(ticks, "left", "insert2") == 25
    for t in ticks[3:25]:
        assert t.status("left").phase == "wait_order" and t.status("left").name == "insert2"
        assert t.noise[1] == 0.0
        np.testing.assert_array_equal(t.targets[1], ticks[2].targets[1])
    assert len(ticks) == 29


def test_ordering_constraint_released_by_the_env_signal(rng) -> None:
    """An env signal of the pre-subtask releases the post-subtask before the segment ends."""
    post = sub("insert2", kind="sequential", after="insert1")
    spec, lib = setup([(sub("grasp1"), 5), (sub("insert1"), 20)], [(sub("grasp2"), 3), (post, 4)])
    scheduler, sim, ticks = Scheduler(spec, lib, rng), FakeSim(), []
    while (tick := scheduler.step(sim, {"right": {"insert1": len(ticks) >= 10}})) is not None:
        sim.apply(tick)
        ticks.append(tick)
    assert first_tick(ticks, "left", "insert2") == 10
    assert last_tick(ticks, "right", "insert1") == 24


def test_ordering_constraint_already_met_does_not_wait(rng) -> None:
    """A post-subtask whose pre-subtask is long done starts immediately."""
    post = sub("b2", kind="sequential", after="a1")
    spec, lib = setup([(sub("a1"), 2)], [(sub("b1"), 6), (post, 2)])
    ticks = run(Scheduler(spec, lib, rng), FakeSim())
    assert first_tick(ticks, "left", "b2") == 6


def _coordination_run(scheme: str, rng) -> tuple[list[Tick], dict, np.ndarray]:
    coord = sub("hand", kind="coordination", partner="hand", scheme=scheme, interpolation_steps=3)
    spec, lib = setup([(coord, 5)], [(coord, 5)])
    moved = make_pose([0.3, -0.2, 0.05], rot_z(0.7))
    ticks = run(Scheduler(spec, lib, rng), FakeSim({"obj": moved}))
    return ticks, lib, moved


def test_transform_moves_with_object_replay_does_not(rng) -> None:
    """``transform`` follows the moved object; ``replay`` commands the source poses verbatim."""
    ticks, lib, moved = _coordination_run("transform", rng)
    ticks_replay, _, _ = _coordination_run("replay", rng)
    for a, arm in enumerate(ARMS):
        src = lib[arm][0][0].targets
        got = np.stack([t.targets[a] for t in ticks if t.status(arm).phase == "segment"])
        rep = np.stack([t.targets[a] for t in ticks_replay if t.status(arm).phase == "segment"])
        np.testing.assert_allclose(got, moved @ pose_inv(OBJECT_SRC) @ src, atol=1e-12)
        np.testing.assert_array_equal(rep, src)
        # Interpolation still starts from the current pose in both schemes.
        assert ticks_replay[0].status(arm).phase == "interp"


def test_hands_replayed_and_held_during_interpolation(rng) -> None:
    """Hand commands come from the source; the last commanded value is held while bridging."""
    spec, lib = setup([(sub("a"), 3), (sub("b", interpolation_steps=4), 3)], [(sub("c"), 1)])
    ticks = run(Scheduler(spec, lib, rng), FakeSim())
    right = [float(t.hands[0, 0]) for t in ticks]
    assert right == [0.0, 1.0, 2.0, 2.0, 2.0, 2.0, 10.0, 11.0, 12.0]
    phases = [t.status("right").phase for t in ticks]
    assert phases[3:6] == ["interp"] * 3


def test_per_arm_selection_coordination_shares_source() -> None:
    """Per-arm random picks may differ per arm, but a coordination pair uses one demo."""
    coord = sub("lift", kind="coordination", partner="lift")
    differ = False
    for seed in range(20):
        spec, lib = setup(
            [(sub("g1"), 2), (coord, 3)],
            [(sub("g2"), 4), (coord, 3)],
            num_demos=5,
            source_selection="per_arm",
        )
        ticks = run(Scheduler(spec, lib, np.random.default_rng(seed)), FakeSim())
        src = {arm: {t.status(arm).name: t.status(arm).source for t in ticks} for arm in ARMS}
        assert src["right"]["lift"] == src["left"]["lift"]
        differ |= src["right"]["g1"] != src["left"]["g2"]
    assert differ


def test_same_selection_uses_one_demo_everywhere() -> None:
    """With ``source_selection = "same"`` every subtask of both arms comes from one demo."""
    for seed in range(5):
        spec, lib = setup([(sub("g1"), 2), (sub("x"), 3)], [(sub("g2"), 4)], num_demos=5)
        ticks = run(Scheduler(spec, lib, np.random.default_rng(seed)), FakeSim())
        sources = {t.status(a).source for t in ticks for a in ARMS} - {None}
        assert len(sources) == 1


def test_same_seed_same_ticks() -> None:
    """Determinism: the same rng seed gives identical ticks."""

    def go(seed: int) -> list[Tick]:
        coord = sub("lift", kind="coordination", partner="lift", interpolation_steps=2)
        spec, lib = setup(
            [(sub("g1"), 3), (coord, 4)],
            [(sub("g2"), 5), (coord, 6)],
            num_demos=4,
            source_selection="per_arm",
        )
        return run(Scheduler(spec, lib, np.random.default_rng(seed)), FakeSim())

    a, b = go(3), go(3)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.targets, y.targets)
        np.testing.assert_array_equal(x.hands, y.hands)
        assert x.arms == y.arms
