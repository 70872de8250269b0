"""The standard protocol end to end: seeds x checkpoints x episodes -> one results JSON."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dexmg_bench.evaluation.metrics import SeedResult, aggregate, wilson_interval
from dexmg_bench.evaluation.protocol import EvalProtocol, episode_seeds
from dexmg_bench.evaluation.rollout import Policy, rollout
from dexmg_bench.provenance import versions, write_json

PolicyFactory = Callable[[], Policy]


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
    resume: Path | None = None,
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
        resume: a JSON-lines file of finished checkpoints: each one is appended as it finishes,
            and one already in it (same protocol, env and starts) is read back instead of rerun,
            so an interrupted evaluation resumes at its next checkpoint with the same episodes.
            It belongs to one set of checkpoints (e.g. a training run's folder).

    The results hold ``rollout_seconds``: the wall time of every checkpoint's rollout, those read
    back included, so episodes per minute stay measurable across resumes.
    """
    if sorted(checkpoints) != sorted(protocol.training_seeds):
        raise ValueError(
            f"checkpoints are given for training seeds {sorted(checkpoints)}, "
            f"the protocol expects {sorted(protocol.training_seeds)}."
        )
    from dexmg_bench import envs  # the one task resolver (module attribute: patchable)

    env_id = envs.task_entry(protocol.task).env_id(protocol.variant)
    initial_states = _initial_states(start_from, protocol.episodes) if start_from else None
    proto = {k: v for k, v in protocol.to_json().items() if k != "workers"}  # same episodes
    context = {"protocol": proto, "env_id": env_id, "start_from": start_from or None}
    done = _finished(resume, context)
    seed_results, per_checkpoint, seconds = [], {}, 0.0
    for training_seed in protocol.training_seeds:
        seeds = episode_seeds(protocol.base_seed, protocol.episodes, training_seed)
        if initial_states is not None:  # the dataset's episode indices name the episodes
            seeds = list(range(protocol.episodes))
        successes = {}
        for name, factory in checkpoints[training_seed].items():
            key = f"{training_seed}/{name}"
            if key in done:
                per_checkpoint[key] = done[key]["episodes"]
                successes[name] = sum(e["success"] for e in per_checkpoint[key])
                seconds += done[key]["seconds"]
                if progress:
                    print(
                        f"training seed {training_seed}, checkpoint {name}: read back from {resume}"
                    )
                continue
            if progress:
                print(f"training seed {training_seed}, checkpoint {name}")
            video = None if video_dir is None else video_dir / f"seed{training_seed}_{name}.mp4"
            start = time.perf_counter()
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
            took = time.perf_counter() - start
            successes[name] = sum(e.success for e in episodes)
            per_checkpoint[key] = [asdict(e) for e in episodes]
            seconds += took
            if resume is not None:
                line = {
                    **context,
                    "checkpoint": key,
                    "seconds": took,
                    "episodes": per_checkpoint[key],
                }
                _append_line(resume, json.dumps(line))
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
        "rollout_seconds": seconds,
        "versions": versions(),
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_json(out, results)
    return results


def _append_line(path: Path, text: str) -> None:
    """Append one line, first ending a line a killed run left without its newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torn = False
    if path.is_file() and path.stat().st_size > 0:
        with path.open("rb") as f:  # the last byte only: the file grows with every checkpoint
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"
    with path.open("a") as f:
        f.write(("\n" if torn else "") + text + "\n")


def _finished(resume: Path | None, context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The checkpoints a resume file holds for this evaluation; a torn last line is ignored."""
    if resume is None or not resume.is_file():
        return {}
    found = {}
    for text in resume.read_text().splitlines():
        try:
            line = json.loads(text)
        except json.JSONDecodeError:  # a line cut short when the evaluation was killed
            continue
        if all(line.get(k) == v for k, v in context.items()):
            found[line["checkpoint"]] = line
    return found


def _initial_states(dataset: str, n: int) -> list[Any]:
    """The first state of each of the first ``n`` episodes of a Minari dataset."""
    from dexmg_bench.datasets.loader import load

    ds = load(dataset)
    if ds.total_episodes < n:
        raise ValueError(f"{dataset} has {ds.total_episodes} episodes; {n} were asked for.")
    return [ep.infos["state"][0] for ep in ds.iterate_episodes(episode_indices=list(range(n)))]
