"""Grade a submission folder with the standard protocol, on hidden seeds, in the sandbox.

The evaluator's own ``rollout`` runs the episodes (simulator in its worker processes); the policy
it drives is a ``SandboxedPolicy`` proxy, so the submission's code runs only in the child. The
results JSON holds every episode's outcome and nothing that varies between runs (no clock
readings), so grading twice with one key gives the same bytes; timings go to ``<id>.run.json``.
A submission that breaks anything ends as ``failed`` with the reason; grading never raises for
it. Grading refuses to start where bubblewrap cannot run unless unsandboxed grading is allowed;
every result records which of the two ran its policies (``sandbox``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dexmg_bench import __version__
from dexmg_bench.errors import UserInputError
from dexmg_bench.evaluation.metrics import SeedResult, aggregate, wilson_interval
from dexmg_bench.evaluation.rollout import Episode, rollout
from dexmg_bench.leaderboard.manifest import card_sha256, stage, verify_manifest
from dexmg_bench.leaderboard.sandbox import (
    PolicyFailure,
    SandboxedPolicy,
    SandboxLimits,
    grading_sandbox,
    sandbox_label,
)
from dexmg_bench.leaderboard.schema import (
    Claims,
    Submission,
    SubmissionError,
    checkpoints,
    load_claims,
    load_submission,
    split_task,
)
from dexmg_bench.leaderboard.seeds import dev_seeds, hidden_seeds, key_sha256
from dexmg_bench.provenance import write_json

RESULTS_SCHEMA = 1
CLAIMS_ALPHA = 0.01
DATASET_UNVERIFIED = "dataset unverified"  # flag (and warning prefix): the card lists no hash


@dataclass(frozen=True, kw_only=True)
class GradeConfig:
    """How much to run: episodes per checkpoint, step limit, simulator workers, sandbox.

    ``allow_unsandboxed``: grade where bubblewrap cannot run (rlimits and the audit hook only;
    the result is labelled ``unsandboxed``, never ``verified``); otherwise grading refuses there.
    """

    episodes: int = 50
    max_steps: int = 0
    workers: int = 1
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    allow_unsandboxed: bool = False
    cards: Path = Path("datasets/cards")

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"GradeConfig.`episodes` must be >= 1. Got {self.episodes}.")
        if self.max_steps < 0:
            raise ValueError(f"GradeConfig.`max_steps` must be >= 0. Got {self.max_steps}.")
        if self.workers < 1:
            raise ValueError(f"GradeConfig.`workers` must be >= 1. Got {self.workers}.")


def _env_facts(env_id: str, track: str) -> tuple[tuple[str, ...], int, dict[str, Any]]:
    """The track's observation keys, the action length and the ``gym.make`` kwargs."""
    import gymnasium as gym

    import dexmg_bench.envs  # noqa: F401 (registers DexMG ids)

    env_kwargs = {"obs_mode": "rgb"} if track == "image" else {}
    env = gym.make(env_id, disable_env_checker=True, **env_kwargs)
    try:
        space = env.observation_space.spaces
        keys = tuple(sorted(k for k, s in space.items() if track == "image" or len(s.shape) <= 1))
        return keys, int(env.action_space.shape[0]), env_kwargs
    finally:
        env.close()


def check_submission(folder: Path, cards: Path) -> tuple[Submission, list[str]]:
    """Offline checks beyond the schema: benchmark version, dataset hash, checkpoints, claims.

    The quoted ``dataset.sha256`` must be the one the named dataset's card lists, whatever the
    declared demo counts: a submission that used no demos still names its data truthfully.
    Returns the submission and warnings; one starting with ``DATASET_UNVERIFIED`` means the card
    lists no sha256 to check against (the grader flags the result).
    """
    sub = load_submission(folder)
    if sub.benchmark_version.split(".")[:2] != __version__.split(".")[:2]:
        raise SubmissionError(
            f"{folder / 'submission.yaml'}: `benchmark_version` must be {__version__} "
            f"(same major.minor as this grader); got {sub.benchmark_version!r}"
        )
    warnings = []
    listed = card_sha256(sub.dataset.id, cards)
    if listed is None:
        warnings.append(
            f"{DATASET_UNVERIFIED}: the dataset card of {sub.dataset.id} lists no sha256, so "
            "`dataset.sha256` was not checked"
        )
    elif listed != sub.dataset.sha256:
        raise SubmissionError(
            f"{folder / 'submission.yaml'}: `dataset.sha256` must be {listed} "
            f"(from the card of {sub.dataset.id}); got {sub.dataset.sha256}"
        )
    for tv in sub.tasks:
        from dexmg_bench.envs import task_entry

        task, variant = split_task(tv)
        try:
            entry = task_entry(task)
        except ValueError as err:
            raise SubmissionError(f"{folder / 'submission.yaml'}: `tasks`: {err}") from err
        if variant not in entry.variants:
            raise SubmissionError(f"{folder / 'submission.yaml'}: `tasks`: {tv} has no {variant}")
        load_claims(folder, tv, checkpoints(folder, sub, tv))
    return sub, warnings


def _claims_test(claims: Claims, verified: dict[int, dict[str, int]], n: int) -> dict[str, Any]:
    """Fisher's exact test of each claimed rate (on its N dev episodes) against the verified one.

    Bonferroni over checkpoints; ``consistent`` is False if any p-value is below alpha/m.
    """
    from scipy.stats import fisher_exact

    tests, m = [], sum(len(v) for v in verified.values())
    for seed, per in verified.items():
        for name, k in per.items():
            kc = round(claims.rates[seed][name] * claims.episodes)
            table = [[kc, claims.episodes - kc], [k, n - k]]
            p = float(fisher_exact(table).pvalue)
            claimed = kc / claims.episodes
            tests.append({"training_seed": seed, "checkpoint": name, "claimed": claimed,
                          "verified": k / n, "p_value": round(p, 6)})  # fmt: skip
    claimed_best = [max(claims.rates[s].values()) for s in verified]
    verified_best = [max(per.values()) / n for per in verified.values()]
    return {
        "episodes_claimed": claims.episodes,
        "claimed_mean": float(np.mean(claimed_best)),
        "gap": float(np.mean(claimed_best) - np.mean(verified_best)),
        "alpha": CLAIMS_ALPHA,
        "consistent": all(t["p_value"] >= CLAIMS_ALPHA / m for t in tests),
        "tests": tests,
    }


def summarize(episodes: dict[str, list[dict[str, Any]]], n: int) -> dict[str, Any]:
    """Every aggregate of one task, recomputed from per-episode outcomes (the site does the same).

    ``episodes`` maps ``"<seed>/<checkpoint>"`` to that checkpoint's episodes.
    """
    per_seed: dict[int, dict[str, int]] = {}
    for key, eps in episodes.items():
        seed, name = key.split("/", 1)
        per_seed.setdefault(int(seed), {})[name] = sum(bool(e["success"]) for e in eps)
    results = [SeedResult(training_seed=s, episodes=n, successes=c) for s, c in per_seed.items()]
    out = aggregate(results)
    for row in out["per_seed"]:
        k = round(row["best_rate"] * n)
        row["best_wilson95"] = list(wilson_interval(k, n))
    last = [r.rates[sorted(r.successes)[-1]] for r in results]
    out["last_checkpoint_mean"] = float(np.mean(last))
    out["last_checkpoint_std"] = float(np.std(last))
    return out


def _status(failed: bool, key: bytes | None, sandboxed: bool) -> str:
    if failed:
        return "failed"
    if key is None:
        return "self-graded"
    return "verified" if sandboxed else "unsandboxed"


def _versions() -> dict[str, str]:
    """The evaluator's library versions, plus the CPU model (``x86_64`` alone says little)."""
    from dexmg_bench.provenance import cpu_model, versions

    return {**versions(), "cpu_model": cpu_model()}


def grade(
    folder: Path,
    *,
    key: bytes | None = None,
    config: GradeConfig | None = None,
    hide: tuple[Path, ...] = (),
    progress: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(results, run_info)`` of one submission folder; never raises for the submission's faults.

    Args:
        folder: ``leaderboard/submissions/<team>__<method>``.
        key: the round key; None grades on the public dev seeds (``self-graded``).
        config: episodes, step limit, workers, sandbox limits, whether unsandboxed is allowed.
        hide: files masked inside the sandbox (the key file).
        progress: one bar per task over all its (training seed, checkpoint) episodes, on stderr.

    Raises:
        SandboxUnavailable: bubblewrap cannot run here and ``config.allow_unsandboxed`` is False.
    """
    config = config or GradeConfig()
    # One mode for every policy of this grading, decided before anything runs: the proxies are
    # told it (True: bubblewrap or a PolicyFailure), so the label is what ran, for any outcome.
    sandboxed = grading_sandbox(allow_unsandboxed=config.allow_unsandboxed)
    t_start = time.perf_counter()
    act_seconds: list[float] = []
    res: dict[str, Any] = {
        "results_schema": RESULTS_SCHEMA,
        "submission_id": None,
        "folder": folder.resolve().name,
        "status": "failed",
        "failure": None,
        "seeds": "hidden" if key else "dev",
        "key_sha256": key_sha256(key) if key else None,
        "protocol": {"episodes": config.episodes, "max_steps": config.max_steps},
        "sandbox": sandbox_label(sandboxed),
        "tasks": {},
    }
    with tempfile.TemporaryDirectory(prefix="dexmg-grade-") as tmp:
        os.chmod(tmp, 0o755)
        staged = Path(tmp) / "submission"
        try:
            sub, warnings = check_submission(folder, config.cards)
            verify_manifest(folder)  # errors name the submitter's files, not the staged copy
            res["submission_id"] = stage(folder, staged)
            res.update(_submission_fields(sub), warnings=warnings)
            for tv in sub.tasks:
                _grade_task(
                    res, sub, tv, folder, staged, key, config, sandboxed, hide, act_seconds,
                    progress,
                )  # fmt: skip
        except SubmissionError as err:
            res["failure"] = {"reason": f"refused: {err}"}
        except PolicyFailure as err:
            res["failure"] = {**res.get("_where", {}), "reason": str(err)}
        except Exception as err:  # noqa: BLE001 (the grader reports, it never crashes)
            tb = traceback.format_exception_only(err)[-1].strip()
            res["failure"] = {**res.get("_where", {}), "reason": f"grader error: {tb}"}
    res.pop("_where", None)
    res["status"] = _status(res["failure"] is not None, key, sandboxed)
    done = [t for t in res["tasks"].values() if "success_mean" in t]
    res["overall_mean"] = float(np.mean([t["success_mean"] for t in done])) if done else None
    res["flags"] = [
        "claims inconsistent" for t in done if not t.get("claims", {}).get("consistent", True)
    ][:1]
    if any(w.startswith(DATASET_UNVERIFIED) for w in res.get("warnings", [])):
        res["flags"].append(DATASET_UNVERIFIED)
    res["versions"] = _versions()
    ms = 1000 * np.asarray(act_seconds) if act_seconds else np.zeros(1)
    run = {
        "submission_id": res["submission_id"],
        "graded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - t_start, 2),
        "actions": len(act_seconds),
        "ms_per_action": {
            "mean": float(ms.mean()),
            "p50": float(np.median(ms)),
            "p99": float(np.percentile(ms, 99)),
        },  # fmt: skip
    }
    return res, run


def _submission_fields(sub: Submission) -> dict[str, Any]:
    return {
        "team": sub.team,
        "method": sub.method,
        "track": sub.track,
        "benchmark_version": sub.benchmark_version,
        "dataset": {
            "id": sub.dataset.id,
            "sha256": sub.dataset.sha256,
            "source_demos": sub.dataset.source_demos,
            "generated_demos": sub.dataset.generated_demos,
        },  # fmt: skip
        "training_seeds": list(sub.training_seeds),
        "checkpoint_selection": sub.checkpoint_selection,
        "code": {"url": sub.code.url, "commit": sub.code.commit},
        "license": sub.license,
    }


def _grade_task(  # noqa: PLR0917 (private; one call site passes the grading context)
    res: dict[str, Any],
    sub: Submission,
    tv: str,
    folder: Path,
    staged: Path,
    key: bytes | None,
    config: GradeConfig,
    sandboxed: bool,
    hide: tuple[Path, ...],
    act_seconds: list[float],
    progress: bool,
) -> None:
    """Roll out every (training seed, checkpoint) of one task, each policy in the given mode."""
    from tqdm import tqdm

    from dexmg_bench.envs import task_entry

    task, variant = split_task(tv)
    env_id = task_entry(task).env_id(variant)
    obs_keys, action_dim, env_kwargs = _env_facts(env_id, sub.track)
    ckpts = checkpoints(folder, sub, tv)
    claims = load_claims(folder, tv, ckpts)
    n = config.episodes
    episodes: dict[str, list[dict[str, Any]]] = {}
    task_res: dict[str, Any] = {"env_id": env_id, "episodes": episodes}
    res["tasks"][tv] = task_res
    total = n * sum(len(ckpts[seed]) for seed in sub.training_seeds)
    bar = tqdm(total=total, desc=f"grading {tv}", unit="ep", disable=not progress)
    outcomes: list[bool] = []

    def tick(ep: Episode) -> None:
        outcomes.append(bool(ep.success))
        bar.update(1)
        bar.set_postfix(success=f"{np.mean(outcomes):.0%}")

    try:
        for seed in sub.training_seeds:
            seeds = (
                hidden_seeds(key, res["submission_id"], tv, seed, n) if key else dev_seeds(seed, n)
            )
            for name, path in ckpts[seed].items():
                res["_where"] = {"task": tv, "training_seed": seed, "checkpoint": name}
                bar.set_description(f"grading {tv} seed {seed} {name}")
                proxies: list[SandboxedPolicy] = []

                def make(path: Path = path, proxies: list[SandboxedPolicy] = proxies) -> Any:
                    p = checkpoint_policy(
                        sub, staged, path.relative_to(folder), task=task, variant=variant,
                        obs_keys=obs_keys, action_dim=action_dim, limits=config.limits,
                        sandbox=sandboxed, hide=hide,
                    )  # fmt: skip
                    proxies.append(p)
                    return p

                try:
                    eps = rollout(env_id, make, seeds, workers=config.workers,
                                  max_steps=config.max_steps, env_kwargs=env_kwargs,
                                  progress=False, on_episode=tick)  # fmt: skip
                finally:
                    for p in proxies:
                        act_seconds.extend(p.act_seconds)
                        p.close()
                episodes[f"{seed}/{name}"] = [
                    {"seed": e.seed, "success": bool(e.success), "steps": e.steps} for e in eps
                ]
    finally:
        bar.close()
    task_res.update(summarize(episodes, n))
    verified = {}
    for key_name, eps in episodes.items():
        s, c = key_name.split("/", 1)
        verified.setdefault(int(s), {})[c] = sum(e["success"] for e in eps)
    task_res["claims"] = _claims_test(claims, verified, n)


def write_results(res: dict[str, Any], run: dict[str, Any], results_dir: Path) -> Path:
    """``<results_dir>/<id>.json`` (and ``<id>.run.json``), atomically."""
    name = res["submission_id"] or f"refused-{res['folder']}"
    results_dir.mkdir(parents=True, exist_ok=True)
    out = results_dir / f"{name}.json"
    for path, data in ((out, res), (results_dir / f"{name}.run.json", run)):
        write_json(path, data, sort_keys=True, newline=True)
    return out


def regrade(
    results_file: Path,
    submissions: Path,
    *,
    key: bytes,
    config: GradeConfig | None = None,
    progress: bool = False,
) -> tuple[bool, dict[str, Any]]:
    """Regrade with the revealed key; ``(reproduced, new results)`` (``versions`` not compared)."""
    old = json.loads(results_file.read_text())
    if old.get("key_sha256") != key_sha256(key):
        raise UserInputError(
            f"{results_file}: graded with key sha256 {old.get('key_sha256')}; "
            f"the given key hashes to {key_sha256(key)}"
        )
    base = config or GradeConfig()
    proto = old["protocol"]
    from dataclasses import replace

    cfg = replace(base, episodes=proto["episodes"], max_steps=proto["max_steps"])
    new, _ = grade(submissions / old["folder"], key=key, config=cfg, progress=progress)
    strip = lambda d: {k: v for k, v in d.items() if k != "versions"}  # noqa: E731
    return strip(new) == strip(old), new


def checkpoint_policy(
    sub: Submission,
    staged: Path,
    checkpoint: Path,
    *,
    task: str,
    variant: str,
    obs_keys: tuple[str, ...],
    action_dim: int,
    limits: SandboxLimits,
    sandbox: bool | None,
    hide: tuple[Path, ...] = (),
) -> SandboxedPolicy:
    """The submission's policy for one checkpoint (a path inside the submission), sandboxed.

    The one way grading and the submit smoke run start a policy, so both see the same worker.
    """
    return SandboxedPolicy(
        staged=staged,
        entry_point=sub.entry_point,
        kwargs={"checkpoint": checkpoint.as_posix(), "task": task, "variant": variant},
        obs_keys=obs_keys,
        action_dim=action_dim,
        limits=limits,
        sandbox=sandbox,
        hide=hide,
    )
