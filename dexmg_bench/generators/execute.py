"""The simulator side of DexMimicGen: run the scheduler's ticks in an env, keep what succeeds.

Each attempt ``k`` of a run with seed ``s`` draws everything from ``SeedSequence([s, k])``: the
env's reset seed, source selection, segment offsets, action noise and source time warps. So an
attempt is the same whichever worker runs it and in whatever order, which is what makes parallel
runs and resumed runs produce identical episodes.

Failing attempts are cut short: when an arm has moved on from a subtask and that subtask's
termination signal has not fired within ``grace_steps``, the attempt stops and the subtask is
recorded as the failure reason.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dexmg_bench.datasets.source import DemoRecorder, SourceDemo
from dexmg_bench.generators.protocol import GeneratorEnv
from dexmg_bench.generators.scheduler import Scheduler
from dexmg_bench.generators.segment import DemoLike, build_library
from dexmg_bench.generators.spec import ARMS, TaskSpec, validate_against
from dexmg_bench.generators.warp import check_time_warp, warp_demos

GRACE_STEPS = 20


@dataclass(frozen=True)
class Attempt:
    """The outcome of one generation attempt.

    Attributes:
        index: attempt number within the run.
        env_seed: the seed the env was reset with.
        success: whether the task succeeded at the last step.
        steps: env steps taken.
        failure: ``None`` on success, else ``"<arm>/<subtask>"`` whose signal never fired,
            ``"task"`` (every subtask ended but the task failed) or ``"horizon"``.
        seconds: wall time of the attempt.
        demo: the recorded episode (datagen info included), kept only on success.
    """

    index: int
    env_seed: int
    success: bool
    steps: int
    failure: str | None
    seconds: float
    demo: SourceDemo | None


def attempt_rngs(seed: int, index: int) -> tuple[int, np.random.Generator, np.random.Generator]:
    """Env reset seed, scheduling rng (selection and offsets) and noise rng of one attempt."""
    seq = np.random.SeedSequence([seed, index])
    env_seed = int(seq.generate_state(1)[0])
    sched_seq, noise_seq = seq.spawn(2)
    return env_seed, np.random.default_rng(sched_seq), np.random.default_rng(noise_seq)


def warp_rng(seed: int, index: int) -> np.random.Generator:
    """The time-warp stream of one attempt (a third child of its seed sequence).

    Drawing from it leaves the env seed, scheduling and noise draws of ``attempt_rngs`` unchanged.
    """
    return np.random.default_rng(np.random.SeedSequence([seed, index]).spawn(3)[2])


def pose_slices(env: GeneratorEnv) -> list[tuple[int, int]]:
    """Per arm, the action slice of its pose command (position and rotation, not the hand)."""
    return [(env.action_layout[a]["dpos"][0], env.action_layout[a]["drot"][1]) for a in ARMS]


def add_pose_noise(
    action: np.ndarray,
    slices: list[tuple[int, int]],
    scales: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Gaussian noise of each arm's scale on its pose slice (hands stay clean), then clip.

    Arms with scale 0 draw nothing, so their noise does not shift the other arms' draws.
    """
    action = np.array(action, dtype=np.float64)
    for i, (lo, hi) in enumerate(slices):
        if scales[i] > 0:
            action[lo:hi] += scales[i] * rng.standard_normal(hi - lo)
    return np.clip(action, -1.0, 1.0)


class DexMimicGen:
    """Generates demos for one env from source demos and a task spec.

    Args:
        env: an unwrapped env of the registry (any ``GeneratorEnv``).
        spec: the task's generator spec (``generators/<task>.toml``).
        demos: the source demos (with datagen info).
        horizon: step budget of an attempt (default: the env's registered horizon).
        grace_steps: steps a subtask's signal may lag behind the end of its segment.
        time_warp: play each source demo at a speed from ``[1 - w, 1 + w]`` per attempt
            (``warp.py``; 0 = as recorded, the paper's behaviour).
    """

    def __init__(
        self,
        env: GeneratorEnv,
        spec: TaskSpec,
        demos: Sequence[SourceDemo],
        *,
        horizon: int,
        grace_steps: int = GRACE_STEPS,
        time_warp: float = 0.0,
    ):
        validate_against(spec, env.object_names, env.subtask_names)
        if not demos:
            raise ValueError("no source demos given")
        self.env = env
        self.spec = spec
        self.demos = tuple(demos)
        self.horizon = horizon
        self.grace_steps = grace_steps
        self.time_warp = check_time_warp(time_warp)
        self._pose_slices = pose_slices(env)

    def attempt(self, seed: int, index: int) -> Attempt:
        """Run attempt ``index`` of a run seeded ``seed``."""
        t0 = time.perf_counter()
        env = self.env
        env_seed, sched_rng, noise_rng = attempt_rngs(seed, index)
        obs, first = env.reset(seed=env_seed)
        demos: Sequence[DemoLike] = self.demos
        if self.time_warp:
            demos = warp_demos(demos, self.time_warp, warp_rng(seed, index))
        library = build_library(demos, self.spec, sched_rng)
        scheduler = Scheduler(self.spec, library, sched_rng, initial_hands=env.hand_command())
        recorder = DemoRecorder(env, env_seed, obs, first["success"])
        pending: dict[tuple[str, str], int] = {}  # (arm, subtask) -> deadline step
        current = {arm: 0 for arm in ARMS}
        fired: set[tuple[str, str]] = set()
        info: dict[str, Any] = {"success": False, "subtask_signals": env.subtask_signals()}
        failure: str | None = None
        steps = 0
        while (tick := scheduler.step(env, info["subtask_signals"])) is not None:
            if steps >= self.horizon:
                failure = "horizon"
                break
            action = env.target_pose_to_action(tick.targets, tick.hands)
            action = add_pose_noise(action, self._pose_slices, tick.noise, noise_rng)
            recorder.before_step(action)
            obs, _, _, _, info = env.step(action)
            recorder.after_step(obs, info["success"])
            steps += 1
            signals = info["subtask_signals"]
            fired |= {(a, s) for a, sig in signals.items() for s, on in sig.items() if on}
            for i, arm in enumerate(ARMS):
                status = tick.arms[i]
                now = len(self.spec.subtasks[arm]) if status.subtask is None else status.subtask
                for k in range(current[arm], now):  # the arm left subtask k behind
                    pending[(arm, self.spec.subtasks[arm][k].signal_name)] = (
                        steps + self.grace_steps
                    )
                current[arm] = now
            for key, deadline in list(pending.items()):
                if key in fired:
                    del pending[key]
                elif steps > deadline:
                    failure = f"{key[0]}/{key[1]}"
                    break
            if failure:
                break
        success = failure is None and bool(info["success"])
        if not success and failure is None:
            failure = self._first_unfired(fired)
        demo = recorder.finish(True) if success else None
        return Attempt(
            index=index,
            env_seed=env_seed,
            success=success,
            steps=steps,
            failure=failure,
            seconds=time.perf_counter() - t0,
            demo=demo,
        )

    def _first_unfired(self, fired: set[tuple[str, str]]) -> str:
        for k in range(max(len(s) for s in self.spec.subtasks.values())):
            for arm in ARMS:
                subs = self.spec.subtasks[arm]
                if k < len(subs) - 1 and (arm, subs[k].signal_name) not in fired:
                    return f"{arm}/{subs[k].signal_name}"
        return "task"
