"""Record scripted source demos and replay recorded ones (the simulator side of ``source.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dexmg_bench import __version__
from dexmg_bench.datasets.source import DemoRecorder, SourceDemo, SourceFile
from dexmg_bench.envs import (
    TaskEntry,
    make_task_env,  # noqa: F401 (re-exported: the gallery imports it here)
)
from dexmg_bench.envs.experts import make_expert

# What "the same episode" means across CPUs (docs/datasets.md, "Across CPUs"): CPU-specific SIMD
# paths round differently in the last bits and contacts amplify that over an episode, so a replay
# follows the recorded states within ``REPLAY_ATOL`` over its first ``REPLAY_FOLLOWED_STEPS``
# steps, where a changed env, controller or action alignment departs by orders of magnitude more,
# and must end in the same outcome.
REPLAY_ATOL = 1e-6
REPLAY_FOLLOWED_STEPS = 50


def run_expert(
    env: Any, seed: int, *, horizon: int, on_frame: Callable[[np.ndarray], None] | None = None
) -> tuple[SourceDemo, dict[str, Any]]:
    """One scripted episode from ``reset(seed)``; the expert's noise comes from the same seed."""
    obs, info = env.reset(seed=seed)
    expert = make_expert(env, np.random.default_rng(seed))
    recorder = DemoRecorder(env, seed, obs, info["success"])
    for _ in range(horizon):
        action = expert.act()
        recorder.before_step(action)
        obs, _, terminated, _, info = env.step(action)
        recorder.after_step(obs, info["success"])
        if on_frame is not None:
            on_frame(env.render())
        if expert.done or terminated:
            break
    success = bool(info.get("success", False))
    return _finish(recorder, success), info


def measure_expert(
    task: str, variant: str, *, n: int, seed: int = 0, progress: bool = True
) -> dict[str, Any]:
    """The scripted expert's success over ``n`` seeded resets, per episode, with the versions.

    ``dexmg expert-rate --out`` writes this as one results file; ``examples/expert_table.py``
    writes one per task and variant for the expert table of docs/tasks.md.
    """
    import time

    from tqdm import tqdm

    from dexmg_bench.envs import task_entry
    from dexmg_bench.provenance import versions

    entry = task_entry(task)
    env = entry.make_env(variant)
    episodes, ok = [], 0
    t0 = time.perf_counter()
    bar = tqdm(range(seed, seed + n), desc=f"{task}-{variant} expert", disable=not progress)
    for s in bar:
        demo, info = run_expert(env, s, horizon=entry.horizon)
        episodes.append({"seed": s, "success": bool(info["success"]), "steps": demo.num_steps})
        ok += episodes[-1]["success"]
        bar.set_postfix(success=f"{ok}/{len(episodes)}")
    env.close()
    return {
        "task": entry.name,
        "variant": variant,
        "seed": seed,
        "n": n,
        "successes": ok,
        "episodes": episodes,
        "seconds": time.perf_counter() - t0,
        "versions": versions(),
    }


def _finish(recorder: DemoRecorder, success: bool) -> SourceDemo:
    """Segment by the subtask signals; an episode that skipped one keeps no boundaries.

    A failed episode may stop before a signal; a successful one may reach the goal another way
    than the signals describe (e.g. one hand carrying both plates). Either still counts for the
    expert's success rate, but cannot be a source demo (``has_boundaries`` is False).
    """
    try:
        return recorder.finish(success)
    except ValueError:
        recorder.signals = {}
        return recorder.finish(success)


def has_boundaries(demo: SourceDemo) -> bool:
    """Whether the demo is segmented into every arm's subtasks (usable for generation)."""
    return bool(demo.boundaries)


def record_source_demos(
    entry: TaskEntry,
    *,
    variant: str = "D0",
    n: int = 10,
    seed: int = 0,
    max_attempts: int | None = None,
    progress: bool = True,
) -> tuple[SourceFile, int]:
    """Run the scripted expert from seeds ``seed, seed+1, ...`` until ``n`` demos succeed.

    Returns:
        The source file (only successful demos) and the number of attempts it took.
    """
    from tqdm import tqdm

    task = entry.name
    env = entry.make_env(variant)
    horizon = entry.horizon
    max_attempts = max_attempts or 3 * n
    demos: list[SourceDemo] = []
    attempts = 0
    with tqdm(total=n, desc=f"{task}-{variant} scripted demos", disable=not progress) as bar:
        while len(demos) < n and attempts < max_attempts:
            demo, _ = run_expert(env, seed + attempts, horizon=horizon)
            attempts += 1
            if demo.success and has_boundaries(demo):
                demos.append(demo)
                bar.update(1)
            bar.set_postfix(attempts=attempts)
    env.close()
    if len(demos) < n:
        raise RuntimeError(f"only {len(demos)}/{n} scripted demos succeeded in {attempts} attempts")
    source = SourceFile(
        env_id=entry.env_id(variant),
        task=task,
        variant=variant,
        origin="scripted",
        code_version=__version__,
        demos=tuple(demos),
    )
    return source, attempts


def replay_demo(
    env: Any, demo: SourceDemo, *, on_frame: Callable[[np.ndarray], None] | None = None
) -> bool:
    """Replay a demo's actions from its first state; True if the task succeeds at the end."""
    env.reset(seed=demo.seed)
    env.set_state(demo.states[0])
    info: dict[str, Any] = {"success": False}
    for action in demo.actions:
        _, _, _, _, info = env.step(action)
        if on_frame is not None:
            on_frame(env.render())
    return bool(info["success"])
