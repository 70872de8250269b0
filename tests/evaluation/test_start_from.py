"""Rolling out from a dataset's stored first states: the evaluator sees what training saw."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from dexmg_bench.baselines.adapters import CallablePolicy
from dexmg_bench.datasets.record import REPLAY_ATOL, REPLAY_FOLLOWED_STEPS
from dexmg_bench.envs import TASKS
from dexmg_bench.evaluation import EvalProtocol
from dexmg_bench.evaluation.evaluate import evaluate


@pytest.mark.parametrize("task", [t.name for t in TASKS])
def test_reset_to_a_stored_state_restores_it_exactly(task):
    """Every task: reset(options={"initial_state": s}) restores s and observes it."""
    env = gym.make(f"DexMG/{task}-D0-v0", disable_env_checker=True)
    obs_a, _ = env.reset(seed=11)
    state = env.unwrapped.get_state()
    env.reset(seed=12)
    assert not np.array_equal(env.unwrapped.get_state(), state)
    obs_b, info = env.reset(seed=12, options={"initial_state": state})
    np.testing.assert_array_equal(env.unwrapped.get_state(), state)
    for k in obs_a:
        np.testing.assert_allclose(obs_b[k], obs_a[k], atol=1e-9, err_msg=k)
    assert "success" in info
    env.close()


def test_unknown_reset_option_is_named():
    """A typo in a reset option fails loudly instead of being ignored."""
    env = gym.make("DexMG/Threading-D0-v0", disable_env_checker=True)
    with pytest.raises(ValueError, match="initial_stat"):
        env.reset(seed=0, options={"initial_stat": None})
    env.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_replaying_stored_actions_from_stored_states_sees_the_stored_observations(
    threading_source, workers
):
    """Alignment: each step's observation is the one the dataset pairs with that action.

    So replaying the stored actions from the stored first states succeeds on every episode.
    """
    import minari

    episodes = list(minari.load_dataset(threading_source).iterate_episodes())
    mismatches: list[str] = []

    class Replay:
        """Identifies its episode from the first observation, then replays it step by step."""

        def __init__(self):
            self.ep, self.t = None, 0

        def reset(self):
            self.ep, self.t = None, 0

        def __call__(self, obs):
            if self.ep is None:
                first = [e.observations["right_eef_pos"][0] for e in episodes]
                self.ep = next(
                    i for i, f in enumerate(first) if np.allclose(f, obs["right_eef_pos"])
                )
            ep = episodes[self.ep]
            for k, v in obs.items():  # a step out of line is off by far more than rounding
                if self.t < REPLAY_FOLLOWED_STEPS and not np.allclose(
                    v, ep.observations[k][self.t], rtol=0, atol=REPLAY_ATOL
                ):
                    mismatches.append(f"episode {self.ep} step {self.t} key {k}")
            action = ep.actions[min(self.t, len(ep.actions) - 1)]
            self.t += 1
            return action

    protocol = EvalProtocol(task="Threading", episodes=3, training_seeds=(0,), workers=workers)
    res = evaluate(
        protocol,
        {0: {"replay": lambda: CallablePolicy(Replay())}},
        policy_name="replay",
        progress=False,
        start_from=threading_source,
    )
    assert res["start_from"] == threading_source
    assert res["success_mean"] == 1.0
    steps = [e["steps"] for e in res["episodes"]["0/replay"]]
    assert steps == [int(np.argmax(e.infos["success"])) for e in episodes]
    assert mismatches == []  # policies run in this process, the simulators in the workers
