"""BiGym env steps/s: through the DexMG adapter vs the raw BiGym env it wraps (target >= 0.95).

Both step the *same* BiGym instance with the same valid hold action (zero base deltas, arm joint
targets 0, grippers open), alternating rounds so that load from other processes hits both alike;
each rate is the best of its rounds. ``test_adapter_vs_raw`` runs the adapter in
``action_mode="joint"`` (BiGym's own action passed through): the adapter's overhead alone.
``test_pose_adapter_vs_raw`` runs the default pose mode (an IK solve per step) on moving targets:
both hands trace 5 cm circles, so the IK iterates every step; the raw env steps the very joint
actions the adapter sent it, from the same state, so both simulate the same motion. Skipped,
saying so, where BiGym is not installed.
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
    space = env.action_space  # 15-D, or 16-D where the base crouches
    action = np.clip(np.zeros(space.shape), space.low, space.high).astype(space.dtype)
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


@pytest.mark.parametrize("task", TASKS)
def test_pose_adapter_vs_raw(record_rate, task):
    """Pose-mode adapter (IK included) vs raw BiGym, same motion; row ``BiGym-<task>-pose``."""
    env = gym.make(f"DexMG/BiGym-{task}-v0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    raw = env.raw
    start_state, start = env.get_state(), env.eef_poses()
    actions = []
    for k in range(STEPS):
        phase = 2 * np.pi * k / STEPS
        target = start.copy()
        target[:, :3, 3] += 0.05 * np.array([np.cos(phase) - 1, np.sin(phase), 0.0])
        actions.append(env.target_pose_to_action(target, -np.ones(2)))
    sent = []
    raw_step = raw.step
    raw.step = lambda a: (sent.append(a.copy()), raw_step(a))[1]  # what the adapter sends
    for a in actions:
        env.step(a)
    del raw.step
    assert np.abs(np.diff(np.asarray(sent)[:, -12:-2], axis=0)).max() > 1e-3  # the arms move
    best = {"ours": np.inf, "bare": np.inf}
    for _ in range(ROUNDS):
        for name, step, seq in (("ours", env.step, actions), ("bare", raw.step, sent)):
            env.set_state(start_state)
            begin = time.perf_counter()
            for a in seq:
                step(a)
            best[name] = min(best[name], time.perf_counter() - begin)
    for name, seconds in best.items():
        record_rate(f"BiGym-{task}-pose", name, STEPS / seconds)
    env.close()
