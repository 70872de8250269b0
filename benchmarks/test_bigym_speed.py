"""BiGym env steps/s: through the DexMG adapter vs the raw BiGym env it wraps (target >= 0.95).

Both step the *same* BiGym instance in alternating rounds (the order flips every round), each
round from the same saved state, so that load from other processes and the simulation's own
phase hit both alike; each rate is the best of its rounds. ``test_adapter_vs_raw`` runs the
adapter in ``action_mode="joint"`` (BiGym's own action passed through, a valid hold action: zero
base deltas, arm joint targets 0, grippers open): the adapter's overhead alone.
``test_pose_adapter_vs_raw`` runs the default pose mode (an IK solve per step) on moving
targets: both hands trace 5 cm circles, so the IK iterates every step; the raw env steps the
very joint actions the adapter sent it, from the same state, so both simulate the same motion.

The six adapter/raw ratios print at the end of this module (also in the summary table's
``ours/bare`` column) with ``os.getloadavg()[0]``, and are written as JSON to ``$BIGYM_SPEED_JSON``
(default ``runs/bench/bigym_speed.json``). Skipped, saying so, where BiGym is not installed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import dexmg_bench  # noqa: F401

pytest.importorskip("bigym", reason="BiGym is not installed (see the README's BiGym section)")

STEPS = 100
ROUNDS = 10
TASKS = ["FlipCup", "DishwasherLoadPlates", "CupboardsCloseAll"]
DEFAULT_OUT = Path(__file__).parents[1] / "runs/bench/bigym_speed.json"
OUT = Path(os.environ.get("BIGYM_SPEED_JSON", DEFAULT_OUT))


@pytest.fixture(scope="module")
def ratios(request):
    """Collects ``{row: {"ours", "bare", "ratio", "load"}}``; prints and saves them at the end."""
    rows: dict[str, dict[str, float]] = {}
    yield rows
    if not rows:
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(rows, indent=1, sort_keys=True))
    lines = ["BiGym adapter vs raw BiGym (env steps/s, best of rounds; target ratio >= 0.95):"]
    for row, r in sorted(rows.items()):
        lines.append(
            f"  {row:32s} ours {r['ours']:7.1f}  raw {r['bare']:7.1f}  ratio {r['ratio']:.3f}"
            f"  (load {r['load_before']:.2f} -> {r['load_after']:.2f})"
        )
    lines.append(f"  saved to {OUT}")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + "\n".join(lines))


def _race(steppers, restore, rounds=ROUNDS):
    """Best seconds per contender over ``rounds``; the order flips every round."""
    best = dict.fromkeys(steppers, np.inf)
    names = list(steppers)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            step, seq = steppers[name]
            restore()
            begin = time.perf_counter()
            for a in seq:
                step(a)
            best[name] = min(best[name], time.perf_counter() - begin)
    return best


def _record(record_rate, ratios, row, best, load_before):
    for name, seconds in best.items():
        record_rate(row, name, STEPS / seconds)
    ours, bare = STEPS / best["ours"], STEPS / best["bare"]
    ratios[row] = {
        "ours": ours,
        "bare": bare,
        "ratio": ours / bare,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


@pytest.mark.parametrize("task", TASKS)
def test_adapter_vs_raw(record_rate, ratios, task):
    """Adapter and raw steps/s on one env; the summary table prints ``ours/bare``."""
    load = os.getloadavg()[0]
    env = gym.make(f"DexMG/BiGym-{task}-v0", disable_env_checker=True, action_mode="joint")
    env = env.unwrapped
    env.reset(seed=0)
    raw = env.raw
    space = env.action_space  # 15-D, or 16-D where the base crouches
    action = np.clip(np.zeros(space.shape), space.low, space.high).astype(space.dtype)
    start = env.get_state()
    seq = [action] * STEPS
    best = _race({"ours": (env.step, seq), "bare": (raw.step, seq)}, lambda: env.set_state(start))
    _record(record_rate, ratios, f"BiGym-{task}", best, load)
    env.close()


@pytest.mark.parametrize("task", TASKS)
def test_pose_adapter_vs_raw(record_rate, ratios, task):
    """Pose-mode adapter (IK included) vs raw BiGym, same motion; row ``BiGym-<task>-pose``."""
    load = os.getloadavg()[0]
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
    raw.step = lambda a, **kw: (sent.append(a.copy()), raw_step(a, **kw))[1]  # what it sends
    for a in actions:
        env.step(a)
    del raw.step
    assert np.abs(np.diff(np.asarray(sent)[:, -12:-2], axis=0)).max() > 1e-3  # the arms move
    best = _race(
        {"ours": (env.step, actions), "bare": (raw.step, sent)},
        lambda: env.set_state(start_state),
    )
    _record(record_rate, ratios, f"BiGym-{task}-pose", best, load)
    env.close()
