"""``dexmg leaderboard submit``: check a folder offline, smoke-run it in the grader's sandbox.

A policy that works locally and scores 0 on the server is usually one that never ran in the
server's sandbox; here the smoke episode runs through the very worker the grader uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dexmg_bench.evaluation.rollout import rollout
from dexmg_bench.leaderboard.grade import _env_facts, check_submission, checkpoint_policy
from dexmg_bench.leaderboard.manifest import write_manifest
from dexmg_bench.leaderboard.sandbox import PolicyFailure, SandboxLimits
from dexmg_bench.leaderboard.schema import Submission, SubmissionError, checkpoints, split_task
from dexmg_bench.leaderboard.seeds import dev_seeds


@dataclass(frozen=True, kw_only=True)
class SmokeConfig:
    """One smoke episode per task: its step limit and the latency a policy must meet."""

    max_steps: int = 0  # 0 = the task's horizon
    max_ms_per_action: float = 200.0
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    sandbox: bool | None = None
    cards: Path = Path("datasets/cards")

    def __post_init__(self) -> None:
        if self.max_steps < 0:
            raise ValueError(f"SmokeConfig.`max_steps` must be >= 0. Got {self.max_steps}.")
        if self.max_ms_per_action <= 0:
            raise ValueError(
                f"SmokeConfig.`max_ms_per_action` must be > 0. Got {self.max_ms_per_action}."
            )


@dataclass(frozen=True, kw_only=True)
class SubmitReport:
    """What ``submit`` found: the id, warnings, and per task the smoke episode's latency."""

    submission_id: str
    warnings: tuple[str, ...]
    ms_per_action: dict[str, float]
    sandboxed: bool


def submit(folder: Path, config: SmokeConfig | None = None) -> SubmitReport:
    """Validate, smoke-run one episode per task, then write ``MANIFEST.sha256``.

    Raises ``SubmissionError`` (schema, files, dataset hash) or ``PolicyFailure`` (smoke run).
    """
    from dexmg_bench.leaderboard.manifest import manifest_text, submission_id

    config = config or SmokeConfig()
    sub, warnings = check_submission(folder, config.cards)
    manifest_text(folder)  # file types, sizes, links and pickles are checked before any run
    latency: dict[str, float] = {}
    try:
        sandboxed = _smoke(folder, sub, config, latency)
    except BaseException:
        (folder / "MANIFEST.sha256").unlink(missing_ok=True)  # a manifest means "checked"
        raise
    sid = submission_id((folder / "MANIFEST.sha256").read_text())
    return SubmitReport(
        submission_id=sid, warnings=tuple(warnings), ms_per_action=latency, sandboxed=sandboxed
    )


def _smoke(folder: Path, sub: Submission, config: SmokeConfig, latency: dict[str, float]) -> bool:
    """One dev-seed episode per task through the grader's sandboxed worker."""
    import tempfile

    from dexmg_bench.envs import task_entry
    from dexmg_bench.leaderboard.manifest import stage

    sandboxed = False
    with tempfile.TemporaryDirectory(prefix="dexmg-submit-") as tmp:
        staged = Path(tmp) / "submission"
        write_manifest(folder)
        stage(folder, staged)
        for tv in sub.tasks:
            task, variant = split_task(tv)
            env_id = task_entry(task).env_id(variant)
            keys, action_dim, env_kwargs = _env_facts(env_id, sub.track)
            seed = sub.training_seeds[0]
            path = next(iter(checkpoints(folder, sub, tv)[seed].values()))
            proxy = checkpoint_policy(
                sub, staged, path.relative_to(folder), task=task, variant=variant,
                obs_keys=keys, action_dim=action_dim, limits=config.limits,
                sandbox=config.sandbox,
            )  # fmt: skip
            try:
                rollout(env_id, lambda p=proxy: p, dev_seeds(seed, 1), max_steps=config.max_steps,
                        env_kwargs=env_kwargs, progress=False)  # fmt: skip
            finally:
                proxy.close()
            sandboxed = proxy.sandboxed
            ms = 1000 * float(np.mean(proxy.act_seconds))
            latency[tv] = ms
            if ms > config.max_ms_per_action:
                raise PolicyFailure(
                    f"{tv}: {ms:.1f} ms per action in the smoke episode, over the "
                    f"{config.max_ms_per_action:.0f} ms limit"
                )
    return sandboxed


__all__ = ["SmokeConfig", "SubmitReport", "SubmissionError", "submit"]
