"""``dexmg train`` and ``dexmg eval``: baselines on Minari datasets, the standard evaluator."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

from dexmg_bench.baselines.train_config import TrainConfig
from dexmg_bench.cli.options import options
from dexmg_bench.evaluation.protocol import EvalProtocol

REFERENCE_POLICIES = ("expert", "random")


def train(
    config: options(TrainConfig, omit=("seed",)),
    *,
    out: Path,
    seeds: tuple[int, ...] = (0,),
    processes: int = 1,
) -> None:
    """Train a baseline policy on a Minari dataset, one folder per training seed.

    Checkpoints are ``.npz`` (no pickle) every ``ckpt_every`` epochs; rerunning the same command
    resumes from the last one. A loss curve is saved as ``loss.png`` next to them.

    Args:
        config: the run (`TrainConfig`: one option per field; one run per seed).
        out: run folder; seed k trains into OUT/seed<k>.
        seeds: training seeds (the standard protocol uses 0 1 2).
        processes: seeds trained at once, each in its own process (with the default one torch
            thread a seed uses one core; the checkpoints are the same either way).
    """
    from dexmg_bench.baselines import require_torch

    require_torch("dexmg train")
    from dexmg_bench.baselines.train import train_seeds
    from dexmg_bench.datasets.loader import load
    from dexmg_bench.errors import UserInputError, check_min

    for seed in seeds:
        check_min("seeds", seed, 0)
    check_min("processes", processes, 1)
    configs = [dataclasses.replace(config, seed=seed) for seed in seeds]
    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out} is a file; give a run folder (new, or one to resume)")
    load(config.dataset)  # a missing or damaged dataset fails before any run folder is made
    for one, last in zip(configs, train_seeds(configs, out, processes=processes), strict=True):
        print(f"seed {one.seed}: {last}")


def _run_checkpoints(run: Path) -> dict[int, list[Path]]:
    from dexmg_bench.baselines.checkpoint import run_checkpoints
    from dexmg_bench.errors import InputFileNotFoundError, UserInputError

    if not run.is_dir():
        raise InputFileNotFoundError(f"--run {run}: no such folder (give a `dexmg train` folder)")
    found = {}
    for folder in sorted(run.glob("seed*")):
        ckpts = run_checkpoints(folder)
        if ckpts:
            found[int(folder.name[4:])] = ckpts
    if not found:
        raise UserInputError(f"--run {run}: no seed*/ckpt_epoch*.npz checkpoints found.")
    return found


def eval(  # noqa: A001 (the subcommand's name)
    protocol: options(EvalProtocol, omit=("training_seeds",), task="", workers=2),
    *,
    run: Path | None = None,
    policy: str = "checkpoints",
    out: Path | None = None,
    video_dir: Path | None = None,
    start_from: str = "",
) -> None:
    """Evaluate with the standard protocol: per training seed, the best checkpoint's success rate.

    Every checkpoint of a training seed is rolled out on the same evaluator-derived episode
    seeds; the result is mean +- std over training seeds of the best checkpoint's rate. An
    interrupted evaluation of a run resumes at its next checkpoint when rerun with the same
    options (finished ones are kept in <out stem>.checkpoints.jsonl until the results are written).

    Args:
        protocol: the evaluation (`EvalProtocol`: one option per field; the training seeds are
            those of the checkpoints, the task defaults to the one they were trained for).
        run: a `dexmg train` folder (policy=checkpoints).
        policy: checkpoints of RUN; the reference policies expert (scripted, from observations)
            and random; or a policy from elsewhere: sb3:PATH.zip (a stable-baselines3 model,
            deterministic), robomimic:PATH.pth (a robomimic checkpoint) or module:callable (a
            factory returning an object with reset() and act(obs), or a function obs -> action;
            the working folder is importable). See docs/interop.md.
        out: results JSON (default: RUN/eval_<task>-<variant>.json or ./eval_<...>.json).
        video_dir: write one video per checkpoint (first episode).
        start_from: a Minari dataset id: start each episode at the first state of one of its
            episodes instead of an evaluator seed (e.g. the training set: a policy that cannot
            repeat its own training episodes points at the pipeline, not the data). Not a
            benchmark number.
    """
    from dexmg_bench.baselines import require_torch
    from dexmg_bench.baselines.adapters import ObservationExpert, RandomPolicy
    from dexmg_bench.datasets.loader import load
    from dexmg_bench.envs import task_entry
    from dexmg_bench.errors import UserInputError, from_options
    from dexmg_bench.evaluation.evaluate import evaluate
    from dexmg_bench.evaluation.external import FORMS, ExternalPolicy

    task, variant = protocol.task, protocol.variant
    if policy == "checkpoints":
        if run is None:
            raise UserInputError("--run is required with --policy checkpoints.")
        require_torch("dexmg eval of trained checkpoints")
        import torch

        torch.set_num_threads(1)  # the simulator workers need the cores
        from dexmg_bench.baselines.checkpoint import load_checkpoint
        from dexmg_bench.baselines.policy import TrainedPolicy

        found = _run_checkpoints(run)
        meta, _ = load_checkpoint(next(iter(found.values()))[0])
        task = task or meta["env_id"].split("/")[1].rsplit("-", 2)[0]
        task_entry(task).env_id(variant)  # an unknown task or variant, before any rollout
        checkpoints = {
            s: {p.stem: (lambda p=p, s=s: TrainedPolicy(p, seed=s)) for p in paths}
            for s, paths in found.items()
        }
        name = meta["policy"]
        env_kwargs = meta.get("env_kwargs") or {}
    else:
        if policy not in REFERENCE_POLICIES and ":" not in policy:
            raise UserInputError(
                f"unknown --policy {policy!r}: give checkpoints, expert, random, {FORMS}."
            )
        external = None if policy in REFERENCE_POLICIES else ExternalPolicy.parse(policy)
        if not task:
            raise UserInputError(f"--task is required with --policy {policy}.")
        env_id = task_entry(task).env_id(variant)
        if external is not None:
            external.check()
            checkpoints = {0: {external.name: external}}
        else:
            factory = {
                "expert": lambda: ObservationExpert(env_id),
                "random": lambda: RandomPolicy(_action_dim(env_id)),
            }[policy]
            checkpoints = {0: {policy: factory}}
        name = policy
        env_kwargs = {}
    if start_from:
        load(start_from)  # a missing or damaged dataset, before any rollout
    with_policy = functools.partial(dataclasses.replace, protocol)
    protocol = from_options(with_policy, task=task, training_seeds=tuple(checkpoints))
    suffix = "_start-from-" + start_from.replace("/", "_") if start_from else ""
    out = out or (run or Path(".")) / f"eval_{task}-{variant}{suffix}.json"
    # A run's finished checkpoints are kept beside the results until they are written, so an
    # interrupted evaluation of many checkpoints resumes at the next one.
    resume = out.with_name(out.stem + ".checkpoints.jsonl") if policy == "checkpoints" else None
    res = evaluate(
        protocol,
        checkpoints,
        policy_name=name,
        out=out,
        video_dir=video_dir,
        env_kwargs=env_kwargs,
        start_from=start_from,
        resume=resume,
    )
    if resume is not None:
        resume.unlink(missing_ok=True)
    for row in res["per_seed"]:
        rates = ", ".join(f"{k} {v:.0%}" for k, v in row["rates"].items())
        print(f"training seed {row['training_seed']}: best {row['best_rate']:.0%} ({rates})")
    print(
        f"{task}-{variant} {name}: {res['success_mean']:.1%} +- {res['success_std']:.1%} "
        f"over {len(res['per_seed'])} training seed(s), {protocol.episodes} episodes each -> {out}"
    )
    print(json.dumps({"success_mean": res["success_mean"], "success_std": res["success_std"]}))


def _action_dim(env_id: str) -> int:
    import gymnasium as gym

    env = gym.make(env_id, disable_env_checker=True)
    dim = int(env.action_space.shape[0])
    env.close()
    return dim


__all__ = ["eval", "train"]
