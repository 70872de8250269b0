"""A stable-baselines3 ``.zip`` is evaluated through the same rollout path as our own policies."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from dexmg_bench.baselines.adapters import SB3Policy
from dexmg_bench.evaluation.rollout import rollout

sb3 = pytest.importorskip("stable_baselines3")

ENV = "DexMG/Threading-D0-v0"


@pytest.fixture(scope="module")
def ppo_zip(tmp_path_factory):
    """A PPO policy trained for one short update on the Dict observations of Threading."""
    import torch

    import dexmg_bench.envs  # noqa: F401  (registers DexMG/...)

    torch.set_num_threads(1)  # two OpenMP threads on busy cores were ~60x slower here
    env = gym.make(ENV)
    model = sb3.PPO(
        "MultiInputPolicy", env, n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu"
    )
    model.learn(total_timesteps=32)
    path = tmp_path_factory.mktemp("sb3") / "ppo.zip"
    model.save(path)
    env.close()
    return path, model


def test_sb3_policy_acts_like_the_model_it_loads(ppo_zip):
    """The adapter's action is the saved model's deterministic prediction, as float64."""
    path, model = ppo_zip
    env = gym.make(ENV)
    obs, _ = env.reset(seed=3)
    policy = SB3Policy(path)
    policy.reset()
    action = policy.act(obs)
    expected, _ = model.predict(obs, deterministic=True)
    assert action.shape == (14,) and action.dtype == np.float64
    np.testing.assert_allclose(action, expected, atol=1e-6)
    assert env.action_space.contains(action)
    env.close()


def test_sb3_policy_runs_in_the_evaluator_workers(ppo_zip):
    """The rollout workers build it from the path and step full episodes; untrained, it fails."""
    path, _ = ppo_zip
    episodes = rollout(ENV, lambda: SB3Policy(path), [1, 2], max_steps=25, progress=False)
    assert [e.steps for e in episodes] == [25, 25]
    assert not any(e.success for e in episodes)


def test_unknown_algorithm_is_a_clear_error(ppo_zip):
    """A misspelt algorithm name names itself."""
    with pytest.raises(ValueError, match="no algorithm 'PPOO'"):
        SB3Policy(ppo_zip[0], algo="PPOO")
