"""The standard protocol end to end: seeds x checkpoints x episodes -> one results JSON."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dexmg_bench import __version__
from dexmg_bench.evaluation.metrics import SeedResult, aggregate, wilson_interval
from dexmg_bench.evaluation.protocol import EvalProtocol, episode_seeds
from dexmg_bench.evaluation.rollout import Policy, rollout
from dexmg_bench.provenance import code_commit

PolicyFactory = Callable[[], Policy]


def _versions() -> dict[str, str]:
    """Library versions results may drift with, recorded next to every number."""
    import mujoco
    import numpy

    out = {"dexmg_bench": __version__, "mujoco": mujoco.__version__, "numpy": numpy.__version__}
    if (commit := code_commit()) is not None:
        out["dexmg_bench_commit"] = commit
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:
        pass
    out["python"] = platform.python_version()
    out["cpu"] = platform.processor() or platform.machine()
    return out


def evaluate(
    protocol: EvalProtocol,
    checkpoints: Mapping[int, Mapping[str, PolicyFactory]],
    *,
    policy_name: str,
    out: Path | None = None,
    progress: bool = True,
    env_kwargs: dict[str, Any] | None = None,
    video_dir: Path | None = None,
    start_from: str = "",
) -> dict[str, Any]:
    """Roll out every checkpoint of every training seed and aggregate as the paper does.

    Args:
        protocol: task, variant, episodes per checkpoint, expected training seeds.
        checkpoints: ``{training_seed: {checkpoint_name: policy factory}}``; the training seeds
            must be exactly ``protocol.training_seeds``.
        policy_name: recorded in the results.
        out: where to write the results JSON (atomically); None = do not write.
        progress: progress bars.
        env_kwargs: extra ``gym.make`` arguments (e.g. image observations).
        video_dir: if given, one video per checkpoint (its first episode).
        start_from: a Minari dataset id: start episode k at the first state of the dataset's
            episode k (the first ``protocol.episodes`` episodes) instead of at an evaluator
            seed. A policy rolled out from its own training episodes must nearly always succeed;
            this is the check that the training pipeline works, not a benchmark number.
    """
    if sorted(checkpoints) != sorted(protocol.training_seeds):
        raise ValueError(
            f"checkpoints are given for training seeds {sorted(checkpoints)}, "
            f"the protocol expects {sorted(protocol.training_seeds)}."
        )
    from dexmg_bench import envs  # the one task resolver (module attribute: patchable)

    env_id = envs.task_entry(protocol.task).env_id(protocol.variant)
    initial_states = _initial_states(start_from, protocol.episodes) if start_from else None
    seed_results, per_checkpoint = [], {}
    for training_seed in protocol.training_seeds:
        seeds = episode_seeds(protocol.base_seed, protocol.episodes, training_seed)
        if initial_states is not None:  # the dataset's episode indices name the episodes
            seeds = list(range(protocol.episodes))
        successes = {}
        for name, factory in checkpoints[training_seed].items():
            if progress:
                print(f"training seed {training_seed}, checkpoint {name}")
            video = None if video_dir is None else video_dir / f"seed{training_seed}_{name}.mp4"
            episodes = rollout(
                env_id,
                factory,
                seeds,
                workers=protocol.workers,
                max_steps=protocol.max_steps,
                env_kwargs=env_kwargs,
                progress=progress,
                video=video,
                initial_states=initial_states,
            )
            successes[name] = sum(e.success for e in episodes)
            per_checkpoint[f"{training_seed}/{name}"] = [asdict(e) for e in episodes]
        seed_results.append(
            SeedResult(training_seed=training_seed, episodes=protocol.episodes, successes=successes)
        )
    summary = aggregate(seed_results)
    for row in summary["per_seed"]:
        k = round(row["best_rate"] * row["episodes"])
        row["best_wilson95"] = wilson_interval(k, row["episodes"])
    results = {
        "task": protocol.task,
        "variant": protocol.variant,
        "env_id": env_id,
        "policy": policy_name,
        "protocol": protocol.to_json(),
        "start_from": start_from or None,
        **summary,
        "episodes": per_checkpoint,
        "versions": _versions(),
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(out.suffix + ".tmp")
        tmp.write_text(json.dumps(results, indent=1))
        os.replace(tmp, out)
    return results


def _initial_states(dataset: str, n: int) -> list[Any]:
    """The first state of each of the first ``n`` episodes of a Minari dataset."""
    from dexmg_bench.datasets.loader import load

    ds = load(dataset)
    if ds.total_episodes < n:
        raise ValueError(f"{dataset} has {ds.total_episodes} episodes; {n} were asked for.")
    return [ep.infos["state"][0] for ep in ds.iterate_episodes(episode_indices=list(range(n)))]
