"""A generation job: parallel attempts, crash-safe output, resume, stats.

Layout of ``--out DIR``::

    DIR/job.json                 what was asked (task, variant, n, seed, source); checked on resume
    DIR/attempts.jsonl           one line per finished attempt (appended, flushed)
    DIR/episodes/attempt_<k>.hdf5   each kept episode, written atomically
    DIR/<task>-<variant>.hdf5    the first ``n`` successes by attempt index (written at the end)
    DIR/stats.json               attempts, successes, failure reasons per subtask, time per attempt

Attempt ``k`` is a pure function of (seed, k) (see ``execute.attempt_rngs``). The result keeps the
``n`` successful attempts with the lowest indices, so it does not depend on the number of workers
or on where a killed run stopped: killing the job loses at most the attempts in flight, and
rerunning with the same ``--out`` continues.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dexmg_bench import __version__
from dexmg_bench.datasets.source import (
    SourceFile,
    kebab,
    read_source_file,
    shipped_source_file,
    write_source_file,
)
from dexmg_bench.generators.execute import Attempt


@dataclass(frozen=True, kw_only=True)
class GenerateConfig:
    """One generation job."""

    task: str
    variant: str = "D0"
    n: int = 10
    seed: int = 0
    workers: int = 1
    source: str = ""  # a source-demo file; empty = the task's shipped scripted demos
    max_attempts: int = 0  # 0 = 20 * n

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"`n` must be >= 1. Got {self.n}.")
        if self.workers < 1:
            raise ValueError(f"`workers` must be >= 1. Got {self.workers}.")
        if self.max_attempts < 0:
            raise ValueError(f"`max_attempts` must be >= 0. Got {self.max_attempts}.")

    @property
    def attempt_budget(self) -> int:
        """Most attempts the job may make."""
        return self.max_attempts or 20 * self.n


_WORKER: Any = None


def _build(config: GenerateConfig) -> Any:
    from dexmg_bench.datasets.record import make_task_env
    from dexmg_bench.envs import task_entry
    from dexmg_bench.generators.execute import DexMimicGen
    from dexmg_bench.generators.spec import load_spec, spec_path

    src = read_source_file(config.source or shipped_source_file(config.task))
    env = make_task_env(config.task, config.variant)
    spec = load_spec(spec_path(config.task))
    horizon = task_entry(config.task).max_episode_steps
    return DexMimicGen(env, spec, src.demos, horizon=horizon)


def _init_worker(config: GenerateConfig) -> None:
    global _WORKER  # noqa: PLW0603  (one generator and env per worker process, built once)
    _WORKER = _build(config)


def _run_attempt(args: tuple[int, int]) -> Attempt:
    seed, index = args
    return _WORKER.attempt(seed, index)


def check_inputs(config: GenerateConfig) -> SourceFile:
    """Fail before any simulation on a bad spec, source file or task/source mismatch."""
    from dexmg_bench.envs import task_entry
    from dexmg_bench.generators.spec import load_spec, spec_path

    task_entry(config.task)  # unknown task names the close matches
    src = read_source_file(config.source or shipped_source_file(config.task))
    if src.task != config.task:
        raise ValueError(
            f"source demos are for {src.task!r} ({src.env_id}), not for {config.task!r}"
        )
    load_spec(spec_path(config.task))
    return src


def _attempts_done(out: Path) -> dict[int, dict[str, Any]]:
    path = out / "attempts.jsonl"
    done: dict[int, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash: that attempt simply runs again
            episode = out / "episodes" / f"attempt_{row['index']}.hdf5"
            if row["success"] and not episode.exists():
                continue
            done[row["index"]] = row
    return done


def _kept_prefix(done: dict[int, dict[str, Any]], n: int) -> list[int] | None:
    """Indices of the first ``n`` successes if every lower attempt has finished, else None."""
    kept = []
    k = 0
    while k in done:
        if done[k]["success"]:
            kept.append(k)
            if len(kept) == n:
                return kept
        k += 1
    return None


def generate(config: GenerateConfig, out: Path, *, progress: bool = True) -> dict[str, Any]:
    """Run (or resume) a job until ``n`` episodes are kept; returns the stats."""
    from tqdm import tqdm

    src = check_inputs(config)
    out.mkdir(parents=True, exist_ok=True)
    (out / "episodes").mkdir(exist_ok=True)
    job = {**asdict(config), "code_version": __version__}
    job_path = out / "job.json"
    if job_path.exists():
        old = json.loads(job_path.read_text())
        keys = ("task", "variant", "seed", "source")
        if any(old.get(k) != job[k] for k in keys):
            raise ValueError(f"{out} holds a different job ({old}); use another --out")
    job_path.write_text(json.dumps(job, indent=2, sort_keys=True))

    done = _attempts_done(out)
    t0 = time.perf_counter()
    successes = sum(r["success"] for r in done.values())
    bar = tqdm(
        total=config.n,
        initial=min(successes, config.n),
        disable=not progress,
        desc=f"{config.task}-{config.variant}",
        unit="demo",
    )

    def todo() -> Iterator[tuple[int, int]]:
        for k in range(config.attempt_budget):
            if k not in done:
                yield (config.seed, k)

    with open(out / "attempts.jsonl", "a") as log:
        for attempt in _map(config, todo()):
            if attempt.success:
                assert attempt.demo is not None
                one = SourceFile(
                    env_id=src.env_id.replace(f"-{src.variant}-", f"-{config.variant}-"),
                    task=config.task,
                    variant=config.variant,
                    origin="generated",
                    code_version=__version__,
                    demos=(attempt.demo,),
                )
                write_source_file(out / "episodes" / f"attempt_{attempt.index}.hdf5", one)
            row = {k: v for k, v in asdict(attempt).items() if k != "demo"}
            log.write(json.dumps(row) + "\n")
            log.flush()
            done[attempt.index] = row
            successes += attempt.success
            bar.update(int(attempt.success and bar.n < config.n))
            bar.set_postfix(attempts=len(done), rate=f"{successes / len(done):.0%}")
            if _kept_prefix(done, config.n) is not None:
                break
    bar.close()
    kept = _kept_prefix(done, config.n)
    stats = _stats(config, done, kept, time.perf_counter() - t0)
    if kept is not None:
        demos = []
        for k in kept:
            demos.extend(read_source_file(out / "episodes" / f"attempt_{k}.hdf5").demos)
        name = f"{kebab(config.task)}-{config.variant.lower()}.hdf5"
        write_source_file(
            out / name,
            SourceFile(
                env_id=src.env_id.replace(f"-{src.variant}-", f"-{config.variant}-"),
                task=config.task,
                variant=config.variant,
                origin="generated",
                code_version=__version__,
                demos=tuple(demos),
            ),
        )
        stats["output"] = name
    (out / "stats.json").write_text(json.dumps(stats, indent=2, sort_keys=True))
    return stats


def _map(config: GenerateConfig, items: Iterator[tuple[int, int]]) -> Iterator[Attempt]:
    if config.workers == 1:
        _init_worker(config)
        for item in items:
            yield _run_attempt(item)
        return
    ctx = mp.get_context("spawn")  # fresh interpreters: no inherited MuJoCo/OpenGL state
    with ctx.Pool(config.workers, initializer=_init_worker, initargs=(config,)) as pool:
        yield from pool.imap(_run_attempt, items, chunksize=1)


def _stats(
    config: GenerateConfig, done: dict[int, dict[str, Any]], kept: list[int] | None, wall: float
) -> dict[str, Any]:
    rows = list(done.values())
    n_ok = sum(r["success"] for r in rows)
    return {
        "task": config.task,
        "variant": config.variant,
        "seed": config.seed,
        "requested": config.n,
        "kept": len(kept) if kept else 0,
        "complete": kept is not None,
        "attempts": len(rows),
        "successes": n_ok,
        "success_rate": n_ok / len(rows) if rows else 0.0,
        "failures": dict(Counter(r["failure"] for r in rows if not r["success"])),
        "seconds_per_attempt": sum(r["seconds"] for r in rows) / len(rows) if rows else 0.0,
        "wall_seconds_this_run": wall,
    }
