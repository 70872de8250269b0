"""``dexmg generate``: DexMimicGen data generation from source demos."""

from __future__ import annotations

import json
from pathlib import Path


def generate(
    *,
    task: str = "Threading",
    variant: str = "D0",
    n: int = 10,
    out: Path = Path("out/generated"),
    workers: int = 1,
    seed: int = 0,
    source: str = "",
    max_attempts: int = 0,
) -> None:
    """Generate ``n`` successful demos with DexMimicGen; rerun with the same --out to resume.

    Args:
        task: task name (see `dexmg envs`).
        variant: reset distribution to generate in (source demos are from D0).
        n: successful demos to keep.
        out: job folder (episodes, attempt log, stats, the final HDF5).
        workers: parallel worker processes.
        seed: run seed; attempt k is a pure function of (seed, k).
        source: source-demo HDF5 file (default: the task's shipped scripted demos).
        max_attempts: give up after this many attempts (0 = 20 * n).
    """
    from dexmg_bench.generators.run import GenerateConfig
    from dexmg_bench.generators.run import generate as run_generate

    config = GenerateConfig(
        task=task,
        variant=variant,
        n=n,
        seed=seed,
        workers=workers,
        source=source,
        max_attempts=max_attempts,
    )
    stats = run_generate(config, out)
    print(json.dumps(stats, indent=2, sort_keys=True))
    if not stats["complete"]:
        raise SystemExit(f"only {stats['kept']}/{n} demos within {config.attempt_budget} attempts")
