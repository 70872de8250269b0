"""The BiGym adapter on the real BiGym (slow tier; skipped, saying so, without BiGym)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from dexmg_bench.envs import BIGYM_TASKS
from dexmg_bench.geometry import quat_to_mat

pytest.importorskip("bigym", reason="BiGym is not installed (see the README's BiGym section)")
pytestmark = pytest.mark.slow

IDS = [t.ids()[0] for t in BIGYM_TASKS]


@pytest.mark.parametrize("env_id", IDS, ids=IDS)
def test_check_env_and_same_seed_same_observations(env_id):
    """check_env passes; a fresh env with the same seed gives the same observations and steps."""
    runs = []
    for i in range(2):
        env = gym.make(env_id, disable_env_checker=True).unwrapped
        if i == 0:
            check_env(env, skip_render_check=True)
        np.random.seed(i)  # the caller's global state must not matter ...
        before = np.random.get_state()[1].copy()
        obs, info = env.reset(seed=123)
        np.testing.assert_array_equal(np.random.get_state()[1], before)  # ... nor be changed
        assert info["success"] is False
        action = env.target_pose_to_action(env.eef_poses(), -np.ones(2))  # hold (pose mode)
        runs.append([obs] + [env.step(action)[0] for _ in range(5)])
        env.close()
    for o1, o2 in zip(*runs, strict=True):
        for k in o1:
            np.testing.assert_array_equal(o1[k], o2[k], err_msg=k)


@pytest.mark.parametrize("task", ["FlipCup", "DishwasherLoadPlates"])
def test_seeds_change_the_scene(task):
    """The randomised tasks really draw their scene from our seed."""
    env = gym.make(f"DexMG/BiGym-{task}-v0", disable_env_checker=True).unwrapped
    first = {k: v for k, v in env.reset(seed=1)[0].items() if k.endswith("_pos")}
    second = env.reset(seed=2)[0]
    assert any(not np.allclose(v, second[k]) for k, v in first.items())
    env.close()


def test_poses_signals_and_render_on_real_bigym():
    """Gripper sites sit either side of the robot, objects are on the counter, render works."""
    env = gym.make(
        "DexMG/BiGym-FlipCup-v0", disable_env_checker=True, render_mode="rgb_array", render_size=64
    ).unwrapped
    obs, info = env.reset(seed=0)
    eef = env.eef_poses()
    assert eef.shape == (2, 4, 4)
    assert eef[0, 1, 3] < 0 < eef[1, 1, 3]  # right arm at -y, left at +y (robot faces +x)
    np.testing.assert_allclose(
        eef[:, :3, :3] @ eef[:, :3, :3].transpose(0, 2, 1), np.tile(np.eye(3), (2, 1, 1)), atol=1e-6
    )
    mug = env.object_poses()["mug"]
    np.testing.assert_allclose(obs["mug_pos"], mug[:3, 3])
    np.testing.assert_allclose(quat_to_mat(obs["mug_quat"]), mug[:3, :3], atol=1e-9)
    for i, arm in enumerate(("right", "left")):
        np.testing.assert_allclose(obs[f"{arm}_eef_pos"], eef[i, :3, 3])
        np.testing.assert_allclose(quat_to_mat(obs[f"{arm}_eef_quat"]), eef[i, :3, :3], atol=1e-9)
    assert 0.6 < mug[0, 3] < 1.0 and mug[2, 2] < -0.8  # upside down at reset
    assert set(info["subtask_signals"]["right"]) == {"grasp", "flip"}
    frame = env.render()
    assert frame.shape == (64, 64, 3) and frame.std() > 0
    env.close()


def test_contact_terms_agree_with_bigym():
    """Our vectorised contact checks give BiGym's own answers, both False and True.

    A plate is moved onto a bottom-rack site of the dishwasher (as BiGym's unload task spawns
    them) and the physics is stepped, so ``plate0_in_rack`` becomes true.
    """
    env = gym.make(
        "DexMG/BiGym-DishwasherLoadPlates-v0", disable_env_checker=True, action_mode="joint"
    ).unwrapped
    env.reset(seed=0)
    raw, backend = env.raw, env._backend
    tray = raw.dishwasher.tray_bottom

    def bigym_terms() -> dict[str, bool]:
        out = {
            f"plate{i}_in_rack": p.is_colliding(tray.colliders) for i, p in enumerate(raw.plates)
        }
        held = {}
        for side, gripper in raw.robot.grippers.items():
            arm = side.value.lower()
            held[arm] = [gripper.is_holding_object(p) for p in raw.plates]
            out[f"{arm}_holds_plate"] = any(held[arm])
        # The subtask terms, from BiGym's per-plate checks.
        for i in range(len(raw.plates)):
            out[f"plate{i}_loaded"] = out[f"plate{i}_in_rack"] and not any(
                h[i] for h in held.values()
            )
        out["right_holds_plate0"] = held["right"][0]
        out["left_holds_plate1"] = held["left"][1]
        return out

    assert backend.terms(raw, "DishwasherLoadPlates") == bigym_terms()
    site = tray.site_sets[0][0]
    raw.plates[0].body.set_quaternion(np.array([0.5, 0.5, 0.5, 0.5]), True)
    raw.plates[0].body.set_position(site.get_position() + np.array([0, -0.01, 0.05]), True)
    action = np.clip(np.zeros(env.action_space.shape), env.action_space.low, env.action_space.high)
    for _ in range(10):
        env.step(action)
    ours = backend.terms(raw, "DishwasherLoadPlates")
    assert ours == bigym_terms()
    assert ours["plate0_in_rack"] is True and ours["plate0_loaded"] is True
    env.close()


def test_cabinet_terms_agree_with_bigym():
    """Closed-part terms read from qpos equal BiGym's own normalised states, open and closed."""
    env = gym.make("DexMG/BiGym-CupboardsCloseAll-v0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    raw, backend = env.raw, env._backend
    parts = backend._cabinet_parts(raw)

    def bigym_terms() -> dict[str, bool]:
        return {
            f"{n}_closed": bool(np.allclose(c.get_state()[i], 0, atol=0.1))
            for n, (c, i, _) in parts.items()
        }

    def ours() -> dict[str, bool]:
        """Per-part terms (compared with BiGym's); the two aggregates are checked as such."""
        terms = backend.terms(raw, "CupboardsCloseAll")
        drawers = all(terms[f"drawer{i}_closed"] for i in range(3))
        assert terms.pop("drawers_closed") == drawers
        doors = terms["base_door_left_closed"] and terms["base_door_right_closed"]
        assert terms.pop("base_doors_closed") == doors
        return terms

    terms = ours()
    assert terms == bigym_terms() and not any(terms.values())  # all open at reset
    drawers, door_left = raw.all_cabinets[0], raw.all_cabinets[1]
    drawers.set_state(np.zeros(3))
    door_left.set_state(np.zeros(1))
    terms = ours()
    assert terms == bigym_terms()
    assert terms["drawer0_closed"] and terms["base_door_left_closed"]
    assert not terms["wall_door_left_closed"]
    assert backend.terms(raw, "CupboardsCloseAll")["drawers_closed"]
    env.close()


def test_ik_reaches_reachable_targets_and_holds():
    """Pose mode on the real H1: the IK layer puts the pinch sites on reachable targets.

    From the reset posture each hand goes 8 cm along each axis (both at once, mirrored in y) and
    back; after 30 steps (1.5 s) every position is within 5 mm. Orientation is a soft goal (a
    5-joint arm): within 0.05 rad, except 8 cm down, where keeping the gripper level would need
    a sixth joint and the IK trades 0.17 rad of pitch for position (measured; bound 0.2).
    Holding the current pose does not sag (the servo-sag offset cancels gravity): < 2 mm.
    """
    from dexmg_bench.sim.bigym_ik import pose_errors

    env = gym.make("DexMG/BiGym-CupboardsCloseAll-v0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    start = env.eef_poses()
    hold = env.target_pose_to_action(start, -np.ones(2))
    for _ in range(20):
        env.step(hold)
    assert np.linalg.norm(env.eef_poses()[:, :3, 3] - start[:, :3, 3], axis=1).max() < 2e-3
    for offset in ([0.08, 0, 0], [0, 0.08, 0], [0, 0, 0.08], [0, 0, -0.08], [0, 0, 0]):
        target = start.copy()
        target[:, :3, 3] += np.array(offset) * [[1, 1, 1], [1, -1, 1]]
        action = env.target_pose_to_action(target, -np.ones(2))
        for _ in range(30):
            _, _, _, _, info = env.step(action)
        dpos, drot = pose_errors(env.eef_poses(), target)
        assert np.linalg.norm(dpos, axis=1).max() < 5e-3, (offset, dpos)
        bound = 0.2 if offset[2] < 0 else 0.05
        assert np.linalg.norm(drot, axis=1).max() < bound, (offset, drot)
        assert info["ik_error"].max() < 5e-3
    env.close()


def test_state_round_trip_on_real_bigym():
    """set_state(get_state()) and the same pose actions reproduce the observations exactly."""
    env = gym.make("DexMG/BiGym-FlipCup-v0", disable_env_checker=True).unwrapped
    env.reset(seed=4)
    target = env.eef_poses()
    target[:, 0, 3] += 0.05
    actions = [env.target_pose_to_action(target, np.array([1.0, -1.0]))] * 8
    for a in actions[:3]:
        env.step(a)
    state = env.get_state()
    first = [env.step(a)[0] for a in actions]
    env.set_state(state)
    second = [env.step(a)[0] for a in actions]
    for o1, o2 in zip(first, second, strict=True):
        for k in o1:
            np.testing.assert_array_equal(o1[k], o2[k], err_msg=k)
    env.close()


CUPBOARDS_SOURCE = "datasets/source/bigym-cupboards-close-all.hdf5"


def test_cupboards_expert_succeeds_and_segments():
    """The scripted expert closes all seven parts (seeds 0, 1); its demo splits into the subtasks.

    Its 50-seed rate is in the ``dexmg_bench/envs/bigym_tasks.py`` card.
    """
    from dexmg_bench.datasets.record import run_expert
    from dexmg_bench.envs import make_task_env

    env = make_task_env("BiGym-CupboardsCloseAll")
    for seed in (0, 1):
        demo, info = run_expert(env, seed, horizon=620)
        assert info["success"], seed
        for arm in ("right", "left"):
            ends = demo.boundaries[arm]
            assert len(ends) == 3 and np.all(np.diff(ends) > 20), (arm, ends)
    env.close()


def test_shipped_cupboards_source_demos_replay():
    """The scripted source demos replay to success from their first stored state."""
    from pathlib import Path

    from dexmg_bench.datasets.record import replay_demo
    from dexmg_bench.datasets.source import read_source_file
    from dexmg_bench.envs import make_task_env

    src = read_source_file(Path(__file__).resolve().parents[2] / CUPBOARDS_SOURCE)
    assert src.origin == "scripted" and src.env_id == "DexMG/BiGym-CupboardsCloseAll-v0"
    env = make_task_env(src.task)
    for demo in src.demos[:2]:
        assert replay_demo(env, demo)
    env.close()


def test_head_camera_renders():
    """``render_camera="head"`` finds the robot's namespaced camera (``h1/head``)."""
    env = gym.make(
        "DexMG/BiGym-CupboardsCloseAll-v0",
        disable_env_checker=True,
        render_mode="rgb_array",
        render_size=48,
        render_camera="head",
    ).unwrapped
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (48, 48, 3) and frame.std() > 0
    env.close()


def test_dishwasher_base_crouches_below_standing_reach():
    """DishwasherLoadPlates gets BiGym's crouching base (``pelvis_z``; the rack is too low).

    Standing, the H1's pinch sites get no lower than 0.65 m; both hands go 0.5 m down (to 0.59 m)
    and 0.25 m back over 50 steps, and after 20 more they are within 5 mm, the pelvis crouched.
    """
    env = gym.make("DexMG/BiGym-DishwasherLoadPlates-v0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    assert env.raw.action_space.shape == (16,)  # base x, y, z, yaw; arms 10; grippers 2
    from dexmg_bench.geometry import interpolate_poses

    start = env.eef_poses()
    goal = start.copy()
    goal[:, 0, 3] -= 0.25
    goal[:, 2, 3] -= 0.5
    paths = [interpolate_poses(start[i], goal[i], 50) for i in range(2)]
    for k in range(70):
        target = np.stack([p[min(k, 49)] for p in paths])
        env.step(env.target_pose_to_action(target, -np.ones(2)))
    assert np.abs(env.eef_poses()[:, :3, 3] - goal[:, :3, 3]).max() < 5e-3
    assert goal[0, 2, 3] < 0.6 and env._backend.base_command(env.raw)[2] < 0.7  # pelvis z
    env.close()


def test_cupboards_action_space_keeps_the_standing_base():
    """Only DishwasherLoadPlates crouches: the other tasks keep BiGym's default base (x, y, yaw)."""
    env = gym.make(
        "DexMG/BiGym-CupboardsCloseAll-v0", disable_env_checker=True, action_mode="joint"
    ).unwrapped
    assert env.raw.action_space.shape == (15,)
    assert env.action_layout["base"] == [0, 3]
    env.close()


def test_dishwasher_expert_succeeds_and_segments():
    """The scripted expert loads both plates (seeds 0, 2); its demo splits into the 4 subtasks.

    Its 50-seed rate is in the ``dexmg_bench/envs/bigym_tasks.py`` card.
    """
    from dexmg_bench.datasets.record import run_expert
    from dexmg_bench.envs import make_task_env

    env = make_task_env("BiGym-DishwasherLoadPlates")
    for seed in (0, 2):
        demo, info = run_expert(env, seed, horizon=560)
        assert info["success"], seed
        for arm in ("right", "left"):
            ends = demo.boundaries[arm]
            assert len(ends) == 4 and np.all(np.diff(ends) > 20), (arm, ends)
        np.testing.assert_array_equal(demo.boundaries["right"], demo.boundaries["left"])
    env.close()


def test_flip_cup_expert_succeeds_and_segments():
    """The scripted expert turns the mug upright by its handle (seeds 0, 1); 2 subtasks per arm.

    Its 50-seed rate is in the ``dexmg_bench/envs/bigym_tasks.py`` card.
    """
    from dexmg_bench.datasets.record import run_expert
    from dexmg_bench.envs import make_task_env

    env = make_task_env("BiGym-FlipCup")
    assert env.raw.action_space.shape == (16,)  # the crouching base
    for seed in (0, 1):
        demo, info = run_expert(env, seed, horizon=550)
        assert info["success"], seed
        for arm in ("right", "left"):
            ends = demo.boundaries[arm]
            assert len(ends) == 2 and np.all(np.diff(ends) > 20), (arm, ends)
    env.close()


DISHWASHER_SOURCE = "datasets/source/bigym-dishwasher-load-plates.hdf5"
FLIP_CUP_SOURCE = "datasets/source/bigym-flip-cup.hdf5"


@pytest.mark.parametrize("source", [DISHWASHER_SOURCE, FLIP_CUP_SOURCE])
def test_shipped_source_demos_replay(source):
    """The scripted source demos replay to success from their first stored state."""
    from pathlib import Path

    from dexmg_bench.datasets.record import replay_demo
    from dexmg_bench.datasets.source import read_source_file
    from dexmg_bench.envs import make_task_env

    src = read_source_file(Path(__file__).resolve().parents[2] / source)
    assert src.origin == "scripted" and len(src.demos) == 5
    env = make_task_env(src.task)
    for demo in src.demos[:2]:
        assert replay_demo(env, demo)
    env.close()


# A successful attempt of ``dexmg generate --seed 0`` per task (attempt k is a pure function of
# the seed and k; these were kept in the runs the task cards report).
GENERATED = {"BiGym-DishwasherLoadPlates": 0, "BiGym-FlipCup": 3}


@pytest.mark.parametrize("task", sorted(GENERATED))
def test_generated_episode_replays(task):
    """A DexMimicGen attempt (shipped spec and demos) succeeds and replays from its first state."""
    from dexmg_bench.datasets.record import replay_demo
    from dexmg_bench.generators.job import GenerateConfig, build_generator

    generator = build_generator(GenerateConfig(task=task, seed=0))
    attempt = generator.attempt(0, GENERATED[task])
    assert attempt.success, attempt.failure
    assert replay_demo(generator.env, attempt.demo)
    generator.env.close()


@pytest.mark.parametrize(
    "source",
    [
        "datasets/source/bigym-flip-cup.hdf5",
        "datasets/source/bigym-dishwasher-load-plates.hdf5",
        "datasets/source/bigym-cupboards-close-all.hdf5",
    ],
)
def test_one_call_readout_equals_pos_quat_and_terms(source):
    """The step's one-call readout gives ``pos_quat`` and ``terms`` exactly, every step.

    On a scripted source demo, so with grasps, placed plates and closed doors, not only at rest.
    """
    from pathlib import Path

    from dexmg_bench.datasets.source import read_source_file
    from dexmg_bench.envs import make_task_env

    src = read_source_file(Path(__file__).resolve().parents[2] / source)
    env = make_task_env(src.task)
    raw, backend, task = env.raw, env._backend, env.config.task
    demo = src.demos[0]
    env.reset(seed=demo.seed)
    env.set_state(demo.states[0])
    seen: dict[str, int] = {}
    for action in demo.actions:
        env.step(action)
        extras, terms = backend.readout(raw, task)
        assert terms == backend.terms(raw, task)
        expected = backend.pos_quat(raw, task)
        assert list(extras) == list(expected)
        for name, (pos, quat) in expected.items():
            np.testing.assert_array_equal(extras[name][0], pos, err_msg=name)
            np.testing.assert_array_equal(extras[name][1], quat, err_msg=name)
        for k, v in terms.items():
            seen[k] = seen.get(k, 0) + v
    from dexmg_bench.envs.bigym_tasks import SUBTASKS

    used = {t for arm in SUBTASKS[task].values() for t in arm.values()}
    assert all(seen[t] for t in used), seen  # every signal's term was true somewhere
    env.close()


@pytest.mark.parametrize(
    "source",
    [
        "datasets/source/bigym-flip-cup.hdf5",
        "datasets/source/bigym-dishwasher-load-plates.hdf5",
        "datasets/source/bigym-cupboards-close-all.hdf5",
    ],
)
def test_backend_step_equals_bigym_step(source):
    """The adapter's cheaper step returns BiGym's own five step values, bit for bit, every step.

    Along a scripted source demo (grippers closing on objects, plates racked, doors shut): each
    joint action the adapter sent is stepped once through ``raw.step`` and once, from the same
    state, through ``backend.step``; observations (dtypes too), reward, flags, info and the
    resulting simulator state must all be equal.
    """
    from pathlib import Path

    from dexmg_bench.datasets.source import read_source_file
    from dexmg_bench.envs import make_task_env

    src = read_source_file(Path(__file__).resolve().parents[2] / source)
    env = make_task_env(src.task)
    raw, backend = env.raw, env._backend
    demo = src.demos[0]
    env.reset(seed=demo.seed)
    env.set_state(demo.states[0])
    sent: list[np.ndarray] = []
    step = raw.step

    def spy(a, **kw):
        sent.append(np.array(a))
        return step(a, **kw)

    raw.step = spy
    for action in demo.actions:
        env.step(action)
    del raw.step
    env.reset(seed=demo.seed)
    env.set_state(demo.states[0])
    grippers = set()
    for a in sent:
        before = env.get_state()
        expected = raw.step(a)
        after = env.get_state()
        env.set_state(before)
        got = backend.step(raw, a)
        np.testing.assert_array_equal(env.get_state(), after)
        assert got[0].keys() == expected[0].keys()
        for k, v in expected[0].items():
            assert got[0][k].dtype == v.dtype, k
            np.testing.assert_array_equal(got[0][k], v, err_msg=k)
        assert got[1:4] == expected[1:4]
        assert [type(x) for x in got[1:4]] == [type(x) for x in expected[1:4]]
        assert got[4] == expected[4]
        grippers.add(tuple(expected[0]["proprioception_grippers"].tolist()))
    assert len(grippers) > 2  # the grippers opened and closed on the way
    assert expected[4]["task_success"] == 1.0  # the demo ends in success, so that path ran too
    env.close()
