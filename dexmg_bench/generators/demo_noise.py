"""The Demo-Noise baseline (paper V-C): replay a source demo with action noise, keep successes.

It takes the same source demos as DexMimicGen but, instead of adapting segments to a new scene,
replays one demo's actions from that demo's own initial state (its stored simulator state at step
0) and adds Gaussian noise to the arm-pose part of each action. It can only produce episodes in
the source demos' initial configurations, which is why the paper reports it on D0 only.

Attempt ``k`` replays source demo ``k mod len(demos)`` (every demo equally often) with noise
drawn from the attempt's noise stream (``execute.attempt_rngs``), so, as for the generator, an
attempt is a pure function of (seed, k). The noise scale at each step is, per arm, the
``action_noise`` of the spec subtask the source demo is in at that step, the same scale the
generator uses, unless ``action_noise`` overrides it with one number.

Failing attempts are cut short like the generator's: a subtask signal that fired at step ``t`` in
the source must fire by ``t + grace_steps`` in the replay.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from dexmg_bench.datasets.source import DemoRecorder, SourceDemo, observe_state
from dexmg_bench.generators.execute import (
    GRACE_STEPS,
    Attempt,
    add_pose_noise,
    attempt_rngs,
    pose_slices,
)
from dexmg_bench.generators.protocol import GeneratorEnv
from dexmg_bench.generators.spec import ARMS, TaskSpec, validate_against


def noise_schedule(
    demo: SourceDemo, spec: TaskSpec, action_noise: float | None = None
) -> np.ndarray:
    """Noise scale per step and arm ``(T, n_arms)``: the spec subtask's, or one override."""
    scales = np.empty((demo.num_steps, len(ARMS)))
    for i, arm in enumerate(ARMS):
        start = 0
        for sub, end in zip(spec.subtasks[arm], demo.boundaries[arm], strict=True):
            noise = sub.action_noise if action_noise is None else action_noise
            scales[start:end, i] = noise
            start = int(end)
    return scales


class DemoNoise:
    """Replays source demos with Gaussian noise on the arm-pose actions.

    Args:
        env: an unwrapped env of the registry (any ``GeneratorEnv``) in the demos' variant.
        spec: the task's generator spec (for the noise scale per subtask and signal names).
        demos: the source demos (with states and subtask boundaries).
        action_noise: one noise scale for every step; ``None`` takes the spec's.
        grace_steps: steps a subtask's signal may lag behind its step in the source.
    """

    name = "demo-noise"

    def __init__(
        self,
        env: GeneratorEnv,
        spec: TaskSpec,
        demos: Sequence[SourceDemo],
        *,
        action_noise: float | None = None,
        grace_steps: int = GRACE_STEPS,
    ):
        validate_against(spec, env.object_names, env.subtask_names)
        if not demos:
            raise ValueError("no source demos given")
        if action_noise is not None and not action_noise >= 0:
            raise ValueError(f"`action_noise` must be >= 0 or None. Got {action_noise}.")
        for k, demo in enumerate(demos):
            for arm in ARMS:
                if len(demo.boundaries[arm]) != len(spec.subtasks[arm]):
                    raise ValueError(
                        f"source demo {k}: arm {arm!r} has {len(demo.boundaries[arm])} subtask "
                        f"boundaries, the spec {len(spec.subtasks[arm])} subtasks"
                    )
        self.env = env
        self.spec = spec
        self.demos = tuple(demos)
        self.action_noise = action_noise
        self.grace_steps = grace_steps
        self._pose_slices = pose_slices(env)

    def attempt(self, seed: int, index: int) -> Attempt:
        """Run attempt ``index`` of a run seeded ``seed``."""
        t0 = time.perf_counter()
        env = self.env
        demo = self.demos[index % len(self.demos)]
        _, _, noise_rng = attempt_rngs(seed, index)
        scales = noise_schedule(demo, self.spec, self.action_noise)
        deadlines = self._deadlines(demo)
        env.reset(seed=demo.seed)
        env.set_state(demo.states[0])
        recorder = DemoRecorder(env, demo.seed, *(observe_state(env) or (None, None)))
        info: dict[str, Any] = {"success": False}
        fired: set[tuple[str, str]] = set()
        failure: str | None = None
        steps = 0
        for t, source_action in enumerate(demo.actions):
            action = add_pose_noise(source_action, self._pose_slices, scales[t], noise_rng)
            recorder.before_step(action)
            obs, _, _, _, info = env.step(action)
            recorder.after_step(obs, info["success"])
            steps += 1
            for arm, sig in info["subtask_signals"].items():
                fired |= {(arm, s) for s, on in sig.items() if on}
            late = [key for key, step in deadlines if key not in fired and steps > step]
            if late:
                failure = f"{late[0][0]}/{late[0][1]}"
                break
        success = failure is None and bool(info["success"])
        if not success and failure is None:
            unfired = [key for key, _ in deadlines if key not in fired]
            failure = f"{unfired[0][0]}/{unfired[0][1]}" if unfired else "task"
        return Attempt(
            index=index,
            env_seed=demo.seed,
            success=success,
            steps=steps,
            failure=failure,
            seconds=time.perf_counter() - t0,
            demo=recorder.finish(True) if success else None,
        )

    def _deadlines(self, demo: SourceDemo) -> list[tuple[tuple[str, str], int]]:
        """(arm, signal) of every non-final subtask and the step its signal must fire by."""
        out = []
        for arm in ARMS:
            subs = self.spec.subtasks[arm]
            for sub, end in zip(subs[:-1], demo.boundaries[arm][:-1], strict=True):
                out.append(((arm, sub.signal_name), int(end) + self.grace_steps))
        return sorted(out, key=lambda item: item[1])
