"""Roll a policy out on evaluator-chosen seeds, with the simulator in worker processes.

The policy lives in this process and gets observations only; the envs live in a Gymnasium vector
env (``AsyncVectorEnv`` for several workers), so it can neither read nor reset the simulator.
Each worker slot runs whole episodes one after another from a shared queue of seeds; an episode
ends at its first successful step (as robomimic counts success), at termination or at the limit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from tqdm import tqdm


class Policy(Protocol):
    """What the evaluator runs: ``reset()`` at each episode start, then ``act(obs) -> action``."""

    def reset(self) -> None:
        """Forget the previous episode (recurrent state, action chunks)."""

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """One action for one (unbatched) observation."""


@dataclass(frozen=True, kw_only=True)
class Episode:
    """Outcome of one evaluation episode."""

    seed: int
    success: bool
    steps: int
    seconds: float


def _env_fn(
    env_id: str, kwargs: dict[str, Any], parent_pid: int | None = None
) -> Callable[[], gym.Env]:
    """An env factory; called in a worker process, it ties the worker's life to ours."""
    parent = os.getpid() if parent_pid is None else parent_pid

    def make() -> gym.Env:
        if os.getpid() != parent:  # a worker: a killed evaluation must not leave it stepping
            from dexmg_bench.processes import die_with_parent

            die_with_parent(parent)
        import dexmg_bench.envs  # noqa: F401 (registers the ids inside spawned workers)

        return gym.make(env_id, disable_env_checker=True, **kwargs)

    return make


def _vector_env(env_id: str, kwargs: dict[str, Any], n: int) -> gym.vector.VectorEnv:
    """``n`` envs; resets are explicit (per-slot seeds), so autoreset is off."""
    fns = [_env_fn(env_id, kwargs) for _ in range(n)]
    mode = gym.vector.AutoresetMode.DISABLED
    if n == 1:
        return gym.vector.SyncVectorEnv(fns, autoreset_mode=mode)
    return gym.vector.AsyncVectorEnv(fns, autoreset_mode=mode, context="spawn")


def _write_video(path: Path, frames: list[np.ndarray]) -> None:
    import imageio.v2 as imageio

    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimwrite(path, frames, fps=20, macro_block_size=1)


class _Slots:
    """Which episode each vector-env slot runs, and the queue of episodes not yet started."""

    def __init__(
        self,
        seeds: Sequence[int],
        policies: list[Policy],
        envs: gym.vector.VectorEnv,
        initial_states: Sequence[np.ndarray] | None = None,
    ):
        self.seeds, self.policies, self.envs = seeds, policies, envs
        self.initial_states = initial_states
        self.queue = list(range(len(seeds)))
        n = len(policies)
        self.episode: list[int | None] = [None] * n
        self.steps = [0] * n
        self.start_time = [0.0] * n

    def start(self, slots: list[int]) -> dict[str, np.ndarray]:
        """Reset ``slots`` onto the next queued seeds; returns the whole batch's observation."""
        n = len(self.policies)
        reset_seeds: list[int | None] = [None] * n
        mask = np.zeros(n, dtype=bool)
        for i in slots:
            ep = self.queue.pop(0)
            self.episode[i], self.steps[i], self.start_time[i] = ep, 0, time.perf_counter()
            reset_seeds[i], mask[i] = int(self.seeds[ep]), True
            self.policies[i].reset()
        if self.initial_states is None:
            obs, _ = self.envs.reset(seed=reset_seeds, options={"reset_mask": mask})
            return obs
        for i in slots:  # one reset per slot: each restores its own episode's first state
            one = np.zeros(n, dtype=bool)
            one[i] = True
            state = self.initial_states[self.episode[i]]  # type: ignore[index]
            options = {"reset_mask": one, "initial_state": state}
            obs, _ = self.envs.reset(seed=reset_seeds, options=options)
        return obs

    def actions(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Each running slot's policy acts on its own observation; idle slots get zeros."""
        out = np.zeros((len(self.policies), *self.envs.single_action_space.shape))
        for i, ep in enumerate(self.episode):
            if ep is not None:
                out[i] = self.policies[i].act({k: v[i] for k, v in obs.items()})
        return out

    def finish(self, i: int, success: bool) -> Episode:
        """Close slot ``i``'s episode."""
        ep = self.episode[i]
        assert ep is not None
        self.episode[i] = None
        return Episode(
            seed=int(self.seeds[ep]),
            success=success,
            steps=self.steps[i],
            seconds=time.perf_counter() - self.start_time[i],
        )


def rollout(
    env_id: str,
    make_policy: Callable[[], Policy],
    seeds: Sequence[int],
    *,
    workers: int = 1,
    max_steps: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    progress: bool = True,
    video: Path | None = None,
    initial_states: Sequence[np.ndarray] | None = None,
    on_episode: Callable[[Episode], None] | None = None,
) -> list[Episode]:
    """Run one episode per seed and return them in seed order.

    Args:
        env_id: a registered id, e.g. ``DexMG/Threading-D0-v0``.
        make_policy: builds one policy per worker slot (each keeps its own recurrent state).
        seeds: reset seeds, one episode each.
        workers: simulator processes (1 runs in this process).
        max_steps: step limit per episode; 0 = the env's own time limit.
        env_kwargs: passed to ``gym.make`` (e.g. ``obs_mode="rgb"``).
        progress: show a progress bar.
        video: if given, an mp4 of the first episode is written here.
        initial_states: one ``get_state`` vector per seed: each episode starts there (reset
            option ``initial_state``) instead of at its seed's sampled scene, e.g. to roll a
            policy out from its own training episodes' first states.
        on_episode: called with each finished episode, in the order they finish (a caller's
            own progress display over several rollouts).
    """
    if workers < 1:
        raise ValueError(f"`workers` must be >= 1. Got {workers}.")
    if initial_states is not None and len(initial_states) != len(seeds):
        raise ValueError(
            f"{len(initial_states)} initial states for {len(seeds)} seeds; give one per seed."
        )
    if not seeds:
        return []
    kwargs = dict(env_kwargs or {})
    if video is not None:
        kwargs["render_mode"] = "rgb_array"
    n = min(workers, len(seeds))
    envs = _vector_env(env_id, kwargs, n)
    results: dict[int, Episode] = {}
    frames: list[np.ndarray] = []
    bar = tqdm(total=len(seeds), desc="episodes", unit="ep", disable=not progress)
    notify = on_episode if on_episode is not None else (lambda _ep: None)
    try:  # from here on, the worker processes are always closed, even if a policy fails to build
        slots = _Slots(seeds, [make_policy() for _ in range(n)], envs, initial_states)
        obs = slots.start(list(range(n)))
        while any(e is not None for e in slots.episode):
            obs, _, terminated, truncated, info = envs.step(slots.actions(obs))
            if video is not None and slots.episode[0] == 0:
                frames.append(envs.call("render")[0])
            done = []
            for i, ep in enumerate(slots.episode):
                if ep is None:
                    continue
                slots.steps[i] += 1
                success = bool(info["success"][i])
                at_limit = max_steps > 0 and slots.steps[i] >= max_steps
                if success or terminated[i] or truncated[i] or at_limit:
                    results[ep] = slots.finish(i, success)
                    done.append(i)
                    notify(results[ep])
                    bar.update(1)
                    bar.set_postfix(success=f"{np.mean([r.success for r in results.values()]):.0%}")
            if done and slots.queue:
                obs = slots.start(done[: len(slots.queue)])
    finally:
        bar.close()
        envs.close()
    if video is not None and frames:
        _write_video(video, frames)
    return [results[k] for k in range(len(seeds))]
