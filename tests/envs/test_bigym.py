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


def _make(env_id: str, **kwargs):
    return gym.make(env_id, disable_env_checker=True, backend=FAKE, **kwargs)


def test_ids_are_listed_and_marked():
    """The three ids are registered, with the paper's tasks, horizons and the bigym marker."""
    assert IDS == [
        "DexMG/BiGym-FlipCup-v0",
        "DexMG/BiGym-DishwasherLoadPlates-v0",
        "DexMG/BiGym-CupboardsCloseAll-v0",
    ]
    assert [gym.spec(i).max_episode_steps for i in IDS] == [550, 560, 620]
    assert all(t.requires == "bigym" and t.action_dim == 15 for t in BIGYM_TASKS)


@pytest.mark.skipif(HAS_BIGYM, reason="BiGym is installed here; the message is for its absence")
@pytest.mark.parametrize("env_id", IDS, ids=IDS)
def test_make_without_bigym_says_what_to_install(env_id):
    """gym.make names the extra, the pinned BiGym commit, and warns off the `mojo` name."""
    with pytest.raises(BiGymNotInstalled, match=r"dexmg-bench\[bigym\]") as err:
        gym.make(env_id)
    assert "bigym@72d305437d5a13800ea633479a1060619fc14e54" in str(err.value)
    assert "never `pip install mojo`" in str(err.value)


@pytest.mark.parametrize("env_id", IDS, ids=IDS)
def test_check_env_passes_on_fake(env_id):
    """Gymnasium's checker passes: needs the seeding fix (the raw env fails it)."""
    env = _make(env_id)
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
    assert info["success"] is True and terminated and reward == 1.0
    last = {arm: list(sig.values())[-1] for arm, sig in info["subtask_signals"].items()}
    assert all(last.values()), last
    env.close()


def test_time_limit_truncates():
    """gym.make applies the registry horizon (BiGym has none of its own)."""
    env = gym.make(
        "DexMG/BiGym-FlipCup-v0", disable_env_checker=True, backend=FAKE, max_episode_steps=4
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
    assert set(poses) == set(env.object_names) == {"plate0", "plate1", "drainer"}
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
