"""robomimic's ``EnvBase`` interface over a DexMG env: a stored demo replays through it."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from dexmg_bench.datasets.robomimic import env_args
from dexmg_bench.datasets.source import read_source_file, shipped_source_file
from dexmg_bench.envs.robomimic_env import RobomimicEnv

TASK = "Threading"


@pytest.fixture(scope="module")
def source():
    """The shipped Threading source demos."""
    return read_source_file(shipped_source_file(TASK))


@pytest.fixture
def env(source):
    """The env a checkpoint trained on our robomimic export names, behind the interface."""
    meta = env_args(source)  # what a checkpoint trained on our robomimic export names
    made = RobomimicEnv(meta["env_name"], render_offscreen=True, **meta["env_kwargs"])
    yield made
    made.close()


def test_a_demo_replays_to_success_from_reset_to(env, source):
    """The robomimic loop: reset_to the stored first state, step the actions, read is_success."""
    demo = source.demos[0]
    obs = env.reset_to({"states": demo.states[0]})
    np.testing.assert_allclose(env.get_state()["states"], demo.states[0], atol=1e-6, rtol=0)
    assert set(obs) == set(env.env.observation_space.spaces)
    successes = []
    for action in demo.actions:
        obs, reward, done, _ = env.step(action)
        successes.append(env.is_success()["task"])
        assert reward == env.get_reward() == float(successes[-1])
        assert done == env.is_done()
    assert successes[-1], "the shipped demo did not succeed through the robomimic interface"
    assert not successes[0]


def test_state_round_trips_and_observations_are_copies(env):
    """get_state / reset_to restore an episode; a kept observation is not changed by stepping."""
    env.reset()
    for _ in range(3):
        env.step(np.zeros(env.action_dimension))
    state = env.get_state()
    kept = env.get_observation()
    after = env.step(np.full(env.action_dimension, 0.5))[0]
    assert any(not np.array_equal(kept[k], after[k]) for k in kept)
    again = env.reset_to(state)
    for k in kept:
        np.testing.assert_allclose(again[k], kept[k], atol=1e-9, err_msg=k)


def test_metadata_matches_the_export(env, source):
    """serialize() is the export's env_args (name, type, kwargs): a checkpoint rebuilds this env."""
    meta = env_args(source)
    assert env.serialize() == {k: meta[k] for k in ("env_name", "type", "env_kwargs")}
    assert env.name == source.env_id and env.action_dimension == 14
    frame = env.render(mode="rgb_array", height=48, width=64)
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8 and frame.std() > 0


def test_bad_calls_say_what_is_wrong(env):
    """On-screen rendering, a state without 'states' and goals are refused by name."""
    with pytest.raises(ValueError, match="rgb_array"):
        env.render(mode="human")
    with pytest.raises(KeyError, match="states"):
        env.reset_to({"qpos": np.zeros(3)})
    with pytest.raises(NotImplementedError, match="goal"):
        env.get_goal()
    with pytest.raises(ValueError, match="on-screen"):
        RobomimicEnv("DexMG/Threading-D0-v0", render=True)


def test_it_is_a_robomimic_env_base_where_robomimic_is_installed(env):
    """With robomimic importable: a registered EnvBase with every abstract method of it."""
    env_base = pytest.importorskip("robomimic.envs.env_base", reason="needs robomimic 0.3.0")
    assert isinstance(env, env_base.EnvBase)
    for name in env_base.EnvBase.__abstractmethods__:
        assert hasattr(RobomimicEnv, name), name
        ours, theirs = getattr(RobomimicEnv, name), getattr(env_base.EnvBase, name)
        if callable(theirs) and callable(ours) and name != "__init__":
            wanted = [p for p in inspect.signature(theirs).parameters if p not in ("kwargs",)]
            have = inspect.signature(ours).parameters
            assert all(p in have for p in wanted), (name, wanted, list(have))
