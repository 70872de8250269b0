"""How precisely must a policy act? Replay a dataset's episodes with noise on every action.

Each of the first N episodes is replayed from its stored first state with white Gaussian noise of
``sigma`` action half-ranges (per dimension, from those episodes' action ranges) added to every
stored action; the success count bounds what a policy with that error level can reach.

    python examples/noisy_replay.py dexmg/pouring-v0 --episodes 10 --sigmas 0.01 0.03 0.1
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import dexmg_bench.envs  # noqa: F401 (registers the DexMG ids)
from dexmg_bench.datasets.loader import load


def noisy_successes(dataset: str, episodes: int, sigma: float) -> int:
    """How many of the first ``episodes`` still succeed with noise ``sigma`` (seeded by index)."""
    ds = load(dataset)
    eps = list(ds.iterate_episodes(episode_indices=list(range(episodes))))
    actions = np.concatenate([e.actions for e in eps])
    half = (actions.max(0) - actions.min(0)) / 2
    env = gym.make(ds.spec.env_spec.id, disable_env_checker=True)
    ok = 0
    for k, ep in enumerate(eps):
        rng = np.random.default_rng(k)
        env.reset(options={"initial_state": ep.infos["state"][0]})
        for a in ep.actions:
            noisy = a + sigma * half * rng.standard_normal(a.shape)
            *_, info = env.step(noisy.astype(a.dtype))
            if info["success"]:
                ok += 1
                break
    env.close()
    return ok


def main() -> None:
    """Print the success count for each sigma."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="Minari dataset id, e.g. dexmg/pouring-v0")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.0, 0.01, 0.03, 0.1])
    args = parser.parse_args()
    for sigma in args.sigmas:
        ok = noisy_successes(args.dataset, args.episodes, sigma)
        print(f"{args.dataset} sigma={sigma}: {ok}/{args.episodes}", flush=True)


if __name__ == "__main__":
    main()
