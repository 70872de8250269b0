"""BiGym env steps/s: through the DexMG adapter vs the raw BiGym env it wraps (target >= 0.95).

Both step the *same* BiGym instance with the same valid hold action (zero base deltas, arm joint
targets 0, grippers open), alternating rounds so that load from other processes hits both alike;
each rate is the best of its rounds. The adapter runs in ``action_mode="joint"`` (BiGym's own
action passed through), so this is the adapter's overhead; the default pose mode adds an IK solve
per step on top. Skipped, saying so, where BiGym is not installed.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest

import dexmg_bench  # noqa: F401

pytest.importorskip("bigym", reason="BiGym is not installed (see the README's BiGym section)")

STEPS = 100
ROUNDS = 10
TASKS = ["FlipCup", "DishwasherLoadPlates", "CupboardsCloseAll"]


@pytest.mark.parametrize("task", TASKS)
def test_adapter_vs_raw(record_rate, task):
    """Adapter and raw steps/s on one env; the summary table prints ``ours/bare``."""
    env = gym.make(f"DexMG/BiGym-{task}-v0", disable_env_checker=True, action_mode="joint")
    env = env.unwrapped
    env.reset(seed=0)
    raw = env.raw
    action = np.zeros(15, dtype=env.action_space.dtype)
    best = {"ours": np.inf, "bare": np.inf}
    for _ in range(ROUNDS):
        for name, step in (("ours", env.step), ("bare", raw.step)):
            start = time.perf_counter()
            for _ in range(STEPS):
                step(action)
            best[name] = min(best[name], time.perf_counter() - start)
    for name, seconds in best.items():
        record_rate(f"BiGym-{task}", name, STEPS / seconds)
    env.close()
