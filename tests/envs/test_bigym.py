"""The BiGym adapter, driven through a fake with BiGym's API surface (CI has no BiGym)."""

from __future__ import annotations

import importlib.util

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from dexmg_bench.envs import BIGYM_TASKS
from dexmg_bench.envs.bigym import BiGymAdapterEnv, BiGymConfig
from dexmg_bench.sim.bigym_backend import BiGymNotInstalled

FAKE = "fake_bigym"
IDS = [t.ids()[0] for t in BIGYM_TASKS]
TASKS = [t.name.removeprefix("BiGym-") for t in BIGYM_TASKS]
HAS_BIGYM = importlib.util.find_spec("bigym") is not None


def _make(env_id: str, action_mode: str = "joint", **kwargs):
    """BiGym's own joint action unless asked (the pose mode has its own tests below)."""
    return gym.make(
        env_id, disable_env_checker=True, backend=FAKE, action_mode=action_mode, **kwargs
    )


def test_ids_are_listed_and_marked():
    """The three ids are registered, with the paper's tasks, horizons and the bigym marker."""
    assert IDS == [
        "DexMG/BiGym-FlipCup-v0",
        "DexMG/BiGym-DishwasherLoadPlates-v0",
        "DexMG/BiGym-CupboardsCloseAll-v0",
    ]
    assert [gym.spec(i).max_episode_steps for i in IDS] == [550, 560, 620]
    assert all(t.requires == "bigym" and t.action_dim == 14 for t in BIGYM_TASKS)


@pytest.mark.skipif(HAS_BIGYM, reason="BiGym is installed here; the message is for its absence")
@pytest.mark.parametrize("env_id", IDS, ids=IDS)
def test_make_without_bigym_says_what_to_install(env_id):
    """gym.make names the extra, the pinned BiGym commit, and warns off the `mojo` name."""
    with pytest.raises(BiGymNotInstalled, match=r"dexmg-bench\[bigym\]") as err:
        gym.make(env_id)
    assert "bigym@72d305437d5a13800ea633479a1060619fc14e54" in str(err.value)
    assert "never `pip install mojo`" in str(err.value)


@pytest.mark.parametrize("mode", ["pose", "joint"])
@pytest.mark.parametrize("env_id", IDS, ids=IDS)
def test_check_env_passes_on_fake(env_id, mode):
    """Gymnasium's checker passes: needs the seeding fix (the raw env fails it)."""
    env = _make(env_id, action_mode=mode)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_raw_fake_fails_check_env():
    """The fake really reproduces BiGym's seeding defect (so the test above means something)."""
    from fake_bigym import FakeBiGymEnv

    with pytest.raises(AssertionError, match="random number generator"):
        check_env(FakeBiGymEnv("FlipCup", 50, start_seed=0), skip_render_check=True)


@pytest.mark.parametrize("env_id", IDS, ids=IDS)
def test_same_seed_same_observations_and_global_rng_untouched(env_id):
    """Seeds are ours: same seed, same obs in a fresh env; np.random is left as the caller had."""
    runs = []
    for _ in range(2):
        np.random.seed(999)
        env = _make(env_id)
        np.random.seed(7)
        before = np.random.get_state()[1].copy()
        obs, _ = env.reset(seed=123)
        np.testing.assert_array_equal(np.random.get_state()[1], before)
        traj = [obs] + [env.step(np.zeros(15))[0] for _ in range(3)]
        runs.append(traj)
        env.close()
    for o1, o2 in zip(*runs, strict=True):
        for k in o1:
            np.testing.assert_array_equal(o1[k], o2[k], err_msg=k)


def test_unseeded_resets_follow_the_first_seed():
    """After reset(seed=s), later unseeded resets are a function of s (not of global state)."""
    scenes = []
    for global_seed in (1, 2):
        env = _make("DexMG/BiGym-FlipCup-v0")
        env.reset(seed=5)
        np.random.seed(global_seed)
        scenes.append(env.reset()[0]["mug_pos"])
        env.close()
    np.testing.assert_array_equal(*scenes)


def test_different_seeds_move_the_mug():
    """FlipCup's reset is really sampled through the adapter's seed."""
    env = _make("DexMG/BiGym-FlipCup-v0")
    a = env.reset(seed=1)[0]["mug_pos"]
    b = env.reset(seed=2)[0]["mug_pos"]
    assert not np.allclose(a, b)
    env.close()


def test_action_space_is_fixed_despite_bigym_rebuilding_it():
    """BiGym swaps its action_space on a seeded reset; ours stays the same object."""
    env = _make("DexMG/BiGym-FlipCup-v0").unwrapped
    space = env.action_space
    raw_before = env.raw.action_space
    env.reset(seed=3)
    assert env.action_space is space and env.raw.action_space is not raw_before
    assert space.shape == (15,)
    env.close()


def test_bad_actions_raise_and_out_of_bounds_are_clipped():
    """Shape and NaN name what was expected; out-of-box values are clipped before BiGym."""
    env = _make("DexMG/BiGym-FlipCup-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"expected an action of shape \(15,\)"):
        env.step(np.zeros(14))
    bad = np.zeros(15)
    bad[4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        env.step(bad)
    raw = env.unwrapped.raw
    with pytest.raises(ValueError, match="out of the action space bounds"):
        raw.step(np.full(15, 10.0, np.float32))  # the raw env raises
    env.step(np.full(15, 10.0))
    np.testing.assert_array_equal(raw.last_action, env.unwrapped.action_space.high)
    env.close()


@pytest.mark.parametrize(
    ("env_id", "plan"),
    [
        ("DexMG/BiGym-FlipCup-v0", [(1, 3)]),
        ("DexMG/BiGym-DishwasherLoadPlates-v0", [(1, 3), (0, 3)]),
        ("DexMG/BiGym-CupboardsCloseAll-v0", [(1, 15), (0, 6)]),
    ],
    ids=["FlipCup", "DishwasherLoadPlates", "CupboardsCloseAll"],
)
def test_success_and_subtask_signals_follow_the_task(env_id, plan):
    """Signals per arm flip as the toy task progresses; success on the last step of the plan.

    ``plan``: (gripper index, steps held), 13 + index in the action is left (0) or right (1).
    """
    env = _make(env_id)
    _, info = env.reset(seed=0)
    assert info["success"] is False
    names = env.unwrapped.subtask_names
    assert set(info["subtask_signals"]) == {"right", "left"}
    for arm in names:
        assert set(info["subtask_signals"][arm]) == set(names[arm])
        assert not any(info["subtask_signals"][arm].values())
    actions = [np.eye(15)[13 + arm_index] for arm_index, steps in plan for _ in range(steps)]
    for action in actions[:-1]:
        assert env.step(action)[4]["success"] is False
    obs, reward, terminated, truncated, info = env.step(actions[-1])
    assert info["success"] is True and reward == 1.0
    assert not terminated  # DexMG's default: the episode goes on (BiGym's own env stops)
    last = {arm: list(sig.values())[-1] for arm, sig in info["subtask_signals"].items()}
    assert all(last.values()), last
    env.close()


def test_time_limit_truncates():
    """gym.make applies the registry horizon (BiGym has none of its own)."""
    env = gym.make(
        "DexMG/BiGym-FlipCup-v0",
        disable_env_checker=True,
        backend=FAKE,
        max_episode_steps=4,
        action_mode="joint",
    )
    env.reset(seed=0)
    truncated = [env.step(np.zeros(15))[3] for _ in range(4)]
    assert truncated == [False, False, False, True]
    env.close()


def test_generator_facing_poses_and_observations():
    """Gripper-site and object poses are homogeneous transforms and match the observation."""
    env = _make("DexMG/BiGym-DishwasherLoadPlates-v0").unwrapped
    obs, _ = env.reset(seed=0)
    eef = env.eef_poses()
    assert eef.shape == (2, 4, 4)
    np.testing.assert_array_equal(eef[:, 3], np.tile([0, 0, 0, 1.0], (2, 1)))
    poses = env.object_poses()
    assert set(poses) == set(env.object_names) == {"plate0", "plate1", "drainer", "rack"}
    for name, pose in poses.items():
        np.testing.assert_allclose(obs[f"{name}_pos"], pose[:3, 3])
        np.testing.assert_allclose(obs[f"{name}_quat"], [1, 0, 0, 0])
    np.testing.assert_allclose(obs["right_eef_pos"], eef[0, :3, 3])
    action = np.zeros(15)
    action[8] = 1.0  # right arm, first joint
    after = env.step(action)[0]
    assert after["right_eef_pos"][0] > obs["right_eef_pos"][0]
    np.testing.assert_allclose(after["left_eef_pos"], obs["left_eef_pos"])
    env.close()


def test_render_rgb_array_headless():
    """render() gives an image of the configured size (the raw env's render() raises)."""
    env = _make("DexMG/BiGym-FlipCup-v0", render_mode="rgb_array", render_size=32)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (32, 32, 3) and frame.dtype == np.uint8
    with pytest.raises(TypeError):
        env.unwrapped.raw.render()
    env.close()


def test_config_validates_and_is_json():
    """Bad task/frequency/camera raise with the value; the config round-trips through JSON."""
    import json

    with pytest.raises(ValueError, match="'Flip'"):
        BiGymConfig(task="Flip")
    with pytest.raises(ValueError, match="control_freq"):
        BiGymConfig(task="FlipCup", control_freq=30)
    with pytest.raises(ValueError, match="render_camera"):
        BiGymConfig(task="FlipCup", render_camera="nowhere")
    with pytest.raises(ValueError, match="render_mode"):
        BiGymAdapterEnv("FlipCup", render_mode="human", backend=FAKE)
    cfg = BiGymConfig(task="CupboardsCloseAll", backend=FAKE)
    assert cfg.frequency == 20 and json.loads(cfg.to_json())["task"] == "CupboardsCloseAll"
    json.dumps(gym.spec(IDS[0]).kwargs)


def test_dexmg_envs_lists_bigym_ids_as_needing_bigym(capsys):
    """`dexmg envs --json-output`: the three ids are there, marked ``needs: bigym``; others not."""
    import json

    from dexmg_bench.cli.envs_cmd import envs

    envs(json_output=True)
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    needs = {r["id"]: r["needs"] for r in rows}
    assert [i for i, n in needs.items() if n == "bigym"] == IDS
    assert all(n == "-" for i, n in needs.items() if i not in IDS)


# ---------------------------------------------------------------- pose mode (the IK arm layer)


def _pose_env(task: str = "BiGym-CupboardsCloseAll", **kwargs):
    env = _make(f"DexMG/{task}-v0", action_mode="pose", **kwargs).unwrapped
    env.reset(seed=0)
    return env


def test_pose_mode_is_the_default_with_per_arm_layout():
    """The registered env takes DexMG's per-arm pose + gripper action in [-1, 1] (14 values)."""
    env = gym.make(IDS[2], disable_env_checker=True, backend=FAKE).unwrapped
    assert env.config.action_mode == "pose" and env.action_space.shape == (14,)
    assert env.action_layout["right"]["dpos"] == [0, 3]
    assert env.action_layout["left"]["hand"] == [13, 14]
    with pytest.raises(ValueError, match=r"expected an action of shape \(14,\)"):
        env.step(np.zeros(15))
    env.close()


def test_target_pose_round_trip():
    """Target -> action -> target is the identity for targets inside the action's range."""
    from dexmg_bench.geometry import axis_angle_to_mat

    env = _pose_env()
    target = np.tile(np.eye(4), (2, 1, 1))
    target[0, :3, :3] = axis_angle_to_mat([0.3, -1.2, 0.4])
    target[0, :3, 3] = [0.5, -0.2, 1.3]
    target[1, :3, 3] = [0.1, 0.4, 0.6]
    action = env.target_pose_to_action(target, np.array([1.0, -1.0]))
    np.testing.assert_allclose(env.action_to_target_pose(action), target, atol=1e-12)
    assert action[6] == 1.0 and action[13] == -1.0
    env.close()


def test_rotvec_to_mat_equals_axis_angle_to_mat(rng):
    """The pose action's scalar Rodrigues equals the geometry one, small angles and near pi."""
    from dexmg_bench.envs.bigym import _rotvec_to_mat
    from dexmg_bench.geometry import axis_angle_to_mat

    vecs = np.concatenate(
        [
            rng.normal(0, 1, (200, 3)),
            rng.normal(0, 1e-3, (50, 3)),  # the series branch
            np.zeros((1, 3)),
            np.pi * np.eye(3),
        ]
    )
    for v in vecs:
        np.testing.assert_allclose(
            np.array(_rotvec_to_mat(*v.tolist())), axis_angle_to_mat(v), rtol=0, atol=1e-14
        )


def test_ik_reaches_reachable_targets_and_maps_grippers():
    """Arm-reachable targets: the IK gets there with the base still; grippers in BiGym's order."""
    env = _pose_env()
    start = env.eef_poses()
    target = start.copy()
    target[0, :3, 3] += [0.05, -0.03, 0.08]  # right arm
    target[1, :3, 3] += [-0.04, 0.02, -0.06]  # left arm
    _, _, _, _, info = env.step(env.target_pose_to_action(target, np.array([1.0, -1.0])))
    np.testing.assert_allclose(env.eef_poses()[:, :3, 3], target[:, :3, 3], atol=1e-3)
    assert info["ik_error"].max() < 1e-3
    raw = env.raw
    # The arms could do it alone; the costly base takes a small share (the fake's arm joints move
    # the hand only 0.1 m per rad, so it is not zero).
    assert np.abs(raw.base).max() < 0.01
    np.testing.assert_array_equal(raw.last_action[13:], [0.0, 1.0])  # left open, right closed
    np.testing.assert_array_equal(env.hand_command(), [[1.0], [-1.0]])
    env.close()


def test_ik_walks_the_base_when_the_arms_cannot_reach():
    """A target beyond the arm's joint limits moves the base, at most max_base_step per step."""
    env = _pose_env()
    target = env.eef_poses()
    target[:, 0, 3] += 0.5  # both hands 0.5 m forward: the fake arms reach 0.2
    action = env.target_pose_to_action(target, -np.ones(2))
    step = env.config.ik.max_base_step
    xs = []
    for _ in range(40):
        env.step(action)
        xs.append(env.raw.base[0])
        assert np.all(np.abs(env.raw.qpos) <= 2.0 + 1e-9)  # limits respected
    assert np.all(np.diff(xs) <= step + 1e-9)
    np.testing.assert_allclose(env.eef_poses()[:, 0, 3], target[:, 0, 3], atol=1e-3)
    assert xs[-1] > 0.25
    env.close()


def test_state_round_trip_replays_exactly():
    """set_state(get_state()) then the same actions give the same observations."""
    env = _pose_env()
    rng = np.random.default_rng(0)
    actions = [env.target_pose_to_action(env.eef_poses(), -np.ones(2))] * 2
    actions += [np.clip(actions[0] + rng.normal(0, 0.02, 14), -1, 1) for _ in range(3)]
    state = env.get_state()
    first = [env.step(a)[0] for a in actions]
    env.set_state(state)
    second = [env.step(a)[0] for a in actions]
    for o1, o2 in zip(first, second, strict=True):
        for k in o1:
            np.testing.assert_array_equal(o1[k], o2[k], err_msg=k)
    env.close()


def test_joint_mode_has_no_pose_interface():
    """Pose helpers say which mode they need instead of returning nonsense."""
    env = _make(IDS[0]).unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action_mode='pose'"):
        env.target_pose_to_action(env.eef_poses(), np.zeros(2))
    env.close()


# ---------------------------------------------------------------- generator plumbing

CUPBOARDS_SPEC = "generators/bigym_cupboards_close_all.toml"


def test_declared_objects_and_subtasks_match_the_env():
    """The class-level declaration (what the generator checks specs against) is the env's."""
    for env_id in IDS:
        env = _make(env_id).unwrapped
        task = env_id.removeprefix("DexMG/").removesuffix("-v0")
        assert BiGymAdapterEnv.declared(task) == (env.object_names, env.subtask_names)
        assert env.expert_name == task
        env.close()


def test_variantless_ids_and_cupboards_spec():
    """BiGym tasks are D0 only; the shipped CupboardsCloseAll spec validates against the env."""
    from pathlib import Path

    from dexmg_bench.envs import task_entry
    from dexmg_bench.generators.spec import load_spec, validate_against

    entry = task_entry("BiGym-CupboardsCloseAll")
    assert entry.env_id() == entry.env_id("D0") == "DexMG/BiGym-CupboardsCloseAll-v0"
    with pytest.raises(ValueError, match="no variants"):
        entry.env_id("D1")
    assert task_entry("Threading").env_id("D1") == "DexMG/Threading-D1-v0"
    spec = load_spec(Path(__file__).resolve().parents[2] / CUPBOARDS_SPEC)
    assert spec.task == "BiGym-CupboardsCloseAll"
    validate_against(spec, *BiGymAdapterEnv.declared(spec.task))


def test_cupboards_expert_runs_on_the_fake():
    """make_expert finds the BiGym expert by task; its actions are valid 14-D pose actions."""
    from dexmg_bench.envs.experts import make_expert

    env = _pose_env()
    expert = make_expert(env, np.random.default_rng(0))
    assert type(expert).__name__ == "CupboardsCloseAllExpert"
    for _ in range(30):
        action = expert.act()
        assert action.shape == (14,) and np.all(np.abs(action) <= 1.0)
        env.step(action)
    env.close()


def test_terminate_on_success_is_optional():
    """With terminate_on_success the episode ends on the first successful step, as BiGym's does."""
    env = _make(IDS[0], terminate_on_success=True)
    env.reset(seed=0)
    terminated = [env.step(np.eye(15)[14])[2] for _ in range(3)]  # right gripper held: mug flips
    assert terminated == [False, False, True]
    env.close()


def test_shipped_files_are_found_by_task_name():
    """`dexmg generate --task BiGym-CupboardsCloseAll` finds its spec and scripted demos."""
    from dexmg_bench.datasets.source import kebab, shipped_source_file
    from dexmg_bench.generators.spec import spec_path

    assert kebab("BiGym-CupboardsCloseAll") == "bigym-cupboards-close-all"
    assert kebab("PieceAssembly") == "piece-assembly"
    assert spec_path("BiGym-CupboardsCloseAll").name == "bigym_cupboards_close_all.toml"
    assert spec_path("BiGym-CupboardsCloseAll").is_file()
    assert shipped_source_file("BiGym-CupboardsCloseAll").name == "bigym-cupboards-close-all.hdf5"


def test_writing_unrecorded_bigym_episodes_says_what_to_do():
    """Episodes without recorded observations cannot be written: the error says why and what to do.

    BiGym's adapter observes only through its own step, not from a restored state.
    """
    from dexmg_bench.datasets.minari_io import observe

    env = _make(IDS[0], action_mode="pose").unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError, match="cannot observe a restored state"):
        observe(env, np.stack([env.get_state()]))
    env.close()


def test_recorded_bigym_episodes_write_to_minari(monkeypatch):
    """A BiGym episode recorded with its observations writes to Minari and reads back the same.

    As generation and import record them; the dataset's metadata names the BiGym embodiment.
    """
    import minari

    from dexmg_bench import envs
    from dexmg_bench.datasets.minari_io import source_info, write_minari
    from dexmg_bench.datasets.source import DemoRecorder, SourceFile

    monkeypatch.setattr(
        envs, "make_task_env", lambda task, variant="D0": _make(IDS[0], "pose").unwrapped
    )
    env = _make(IDS[0], action_mode="pose").unwrapped
    obs, info = env.reset(seed=3)
    recorder = DemoRecorder(env, 3, obs, info["success"])
    hold = env.target_pose_to_action(env.eef_poses(), -np.ones(2))
    for _ in range(4):
        recorder.before_step(hold)
        obs, _, _, _, info = env.step(hold)
        recorder.after_step(obs, info["success"])
    demo = recorder.finish(False, boundaries={})  # a short hold: no subtask ends
    source = SourceFile(
        env_id=IDS[0], task="BiGym-FlipCup", variant="D0", origin="scripted",
        code_version="test", demos=(demo,),
    )  # fmt: skip
    ds = write_minari(source, source_info(source), dataset="dexmg/test-bigym-v0")
    assert ds.storage.metadata["dexmg"]["embodiment"].startswith("BiGym: Unitree H1")
    episode = next(iter(minari.load_dataset("dexmg/test-bigym-v0").iterate_episodes()))
    for key, value in demo.observations.items():
        np.testing.assert_array_equal(episode.observations[key], value, err_msg=key)
    env.close()
