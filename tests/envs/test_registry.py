"""Registry-wide env tests: every DexMG id is checked, not a sample."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import dexmg_bench
from dexmg_bench.envs import BIGYM_TASKS, TASKS, env_ids

ALL_IDS = env_ids()
# BiGym ids run here against tests/envs/fake_bigym.py (CI has no BiGym; see test_bigym*.py).
BIGYM_IDS = {i for t in BIGYM_TASKS for i in t.ids()}


def _make(env_id: str, **kwargs):
    if env_id in BIGYM_IDS:
        kwargs.setdefault("backend", "fake_bigym")
    return gym.make(env_id, disable_env_checker=True, **kwargs)


def test_every_task_variant_is_registered():
    """Each task lists D0-D2 and each id is in Gymnasium's registry."""
    assert len(ALL_IDS) == sum(len(t.variants) for t in TASKS) + len(BIGYM_TASKS) >= 9
    for env_id in ALL_IDS:
        assert env_id in gym.registry


@pytest.mark.parametrize("form", ["DexMG/Threading-D1", "DexMG/Threading-D1-v0"])
def test_make_forms(form):
    """The unversioned, versioned and module-prefixed forms all make the same env."""
    env = _make(form)
    assert env.spec.id == "DexMG/Threading-D1-v0"
    assert env.unwrapped.config.variant == "D1"
    env.close()


def test_make_with_module_prefix(restore_registry):
    """`module:id` imports the module before making the env (Gymnasium's plugin form)."""
    env = gym.make("dexmg_bench:DexMG/Threading-D1", disable_env_checker=True)
    assert env.spec.id == "DexMG/Threading-D1-v0"
    env.close()


@pytest.mark.parametrize("env_id", ALL_IDS, ids=ALL_IDS)
def test_check_env(env_id):
    """Gymnasium's own API checker passes."""
    env = _make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("env_id", ALL_IDS, ids=ALL_IDS)
def test_spec_is_json(env_id):
    """Specs and kwargs serialise to JSON (they go into dataset metadata)."""
    spec = gym.spec(env_id)
    json.dumps(spec.kwargs)
    assert json.loads(spec.to_json())["id"] == env_id
    env = _make(env_id)
    json.loads(env.unwrapped.config.to_json())
    json.dumps(env.unwrapped.action_layout)
    env.close()


@pytest.mark.parametrize("env_id", ALL_IDS, ids=ALL_IDS)
def test_seeded_reset_and_rollout_are_deterministic(env_id):
    """Same seed, same observations, also after steps with the same actions, in a new env."""
    rollouts = []
    for _ in range(2):
        env = _make(env_id)
        obs, _ = env.reset(seed=123)
        actions = np.random.default_rng(5).uniform(-1, 1, size=(5, env.action_space.shape[0]))
        trajectory = [obs]
        for a in actions:
            trajectory.append(env.step(a)[0])
        rollouts.append(trajectory)
        env.close()
    for o1, o2 in zip(*rollouts, strict=True):
        assert o1.keys() == o2.keys()
        for k in o1:
            np.testing.assert_array_equal(o1[k], o2[k], err_msg=k)


@pytest.mark.parametrize("env_id", ALL_IDS, ids=ALL_IDS)
def test_different_seeds_give_different_scenes(env_id):
    """The reset distribution is really sampled (some object moves between seeds)."""
    if env_id == "DexMG/BiGym-CupboardsCloseAll-v0":
        pytest.skip("BiGym's CupboardsCloseAll has one fixed initial scene (no randomisation)")
    env = _make(env_id)
    a, _ = env.reset(seed=1)
    b, _ = env.reset(seed=2)
    keys = [f"{o}_{k}" for o in env.unwrapped.object_names for k in ("pos", "quat")]
    assert any(not np.allclose(a[k], b[k]) for k in keys)
    env.close()


@pytest.mark.parametrize("task", [t.name for t in TASKS])
def test_state_round_trip(task):
    """set_state(get_state()) continues the episode bit for bit."""
    env = _make(f"DexMG/{task}-D0").unwrapped
    env.reset(seed=0)
    action = np.random.default_rng(0).uniform(-1, 1, size=env.action_space.shape)
    env.step(action)
    state = env.get_state()
    first = [env.step(action)[0] for _ in range(3)]
    env.set_state(state)
    second = [env.step(action)[0] for _ in range(3)]
    for o1, o2 in zip(first, second, strict=True):
        for k in o1:
            np.testing.assert_array_equal(o1[k], o2[k], err_msg=k)
    with pytest.raises(ValueError, match="expected a state of shape"):
        env.set_state(state[:-1])
    env.close()


@pytest.mark.parametrize("task", [t.name for t in TASKS])
def test_info_has_success_terms_and_signals(task):
    """Info carries success, named terms and one signal per declared subtask of each arm."""
    env = _make(f"DexMG/{task}-D0").unwrapped
    _, info = env.reset(seed=0)
    assert isinstance(info["success"], bool) and not info["success"]
    assert info["terms"]["success"] is False and len(info["terms"]) >= 2
    for arm, names in env.subtask_names.items():
        assert set(info["subtask_signals"][arm]) == set(names)
    assert set(env.object_poses()) == set(env.object_names)
    assert env.eef_poses().shape == (2, 4, 4)
    env.close()


def test_action_pose_round_trip():
    """target_pose_to_action inverts action_to_target_pose inside the action box."""
    env = _make("DexMG/Threading-D0").unwrapped
    env.reset(seed=0)
    action = np.random.default_rng(1).uniform(-0.9, 0.9, size=env.action_space.shape)
    hand = action.reshape(2, -1)[:, 6:]
    back = env.target_pose_to_action(env.action_to_target_pose(action), hand)
    np.testing.assert_allclose(back, action, atol=1e-9)
    env.close()


def test_bad_actions_raise_clear_errors():
    """Wrong shapes and non-finite actions name what was expected."""
    env = _make("DexMG/Threading-D0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"expected an action of shape \(14,\)"):
        env.step(np.zeros(13))
    bad = np.zeros(14)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        env.step(bad)
    env.close()


def test_unknown_variant_and_option_name_the_valid_ones():
    """Constructing with a bad variant lists the variants; a bad option lists the options."""
    from dexmg_bench.envs.tasks.threading import ThreadingEnv

    with pytest.raises(ValueError, match=r"valid variants: \['D0', 'D1', 'D2'\]"):
        ThreadingEnv(variant="D7")
    with pytest.raises(TypeError, match="unknown option"):
        ThreadingEnv(needle_colour="red")
    with pytest.raises(ValueError, match="obs_mode"):
        ThreadingEnv(obs_mode="depth")


def test_unknown_id_lists_close_matches():
    """A typo in the id gets a suggestion."""
    with pytest.raises(gym.error.NameNotFound, match="Did you mean: `Threading-D1`"):
        gym.make("DexMG/Threding-D1")


def test_package_version_is_exported():
    """`dexmg_bench.__version__` is the single source of the version."""
    assert dexmg_bench.__version__.count(".") == 2


def test_task_entry_takes_a_name_or_an_entry():
    """A resolved entry passes through; a typo names close matches; a non-name is a TypeError."""
    from dexmg_bench.envs import task_entry
    from dexmg_bench.errors import UserInputError

    entry = task_entry("Threading")
    assert task_entry(entry) is entry
    with pytest.raises(UserInputError, match=r"Did you mean \['Threading'\]"):
        task_entry("Threadng")
    with pytest.raises(TypeError, match="not int"):
        task_entry(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_version_history_ends_at_the_registered_version(task):
    """A changed env gets a new version and a history line; the two cannot drift apart."""
    import importlib
    import re

    module = importlib.import_module(task.entry_point.split(":")[0])
    doc = module.__doc__ or ""
    assert "## Version History" in doc, f"{module.__name__} has no ## Version History"
    history = doc.split("## Version History", 1)[1]
    versions = [int(v) for v in re.findall(r"^\* v(\d+):", history, flags=re.MULTILINE)]
    assert versions == list(range(task.version + 1)), (module.__name__, versions, task.version)
