"""A generation job: parallel attempts, crash-safe output, resume, stats.

Layout of ``--out DIR``::

    DIR/job.json                 the job (task, variant, seed, generator, ...); checked on resume
    DIR/attempts.jsonl           one line per finished attempt (appended, flushed)
    DIR/episodes/attempt_<k>.hdf5   each kept episode, written atomically
    DIR/<task>-<variant>.hdf5    the first ``n`` successes by attempt index (written at the end)
    DIR/stats.json               attempts, successes, failure reasons per subtask, time per attempt

Every HDF5 file carries a ``generator`` attribute (``dexmgen`` or ``demo-noise``) next to its
``origin = "generated"``; ``stats.json`` names the generator too.

Attempt ``k`` is a pure function of (seed, k) (see ``execute.attempt_rngs``), for DexMimicGen and
Demo-Noise alike, whichever backend (``pool.py``) runs it. The result keeps the ``n`` successful
attempts with the lowest indices, so it does not depend on the backend, the number of workers or
where a killed run stopped: killing the job loses at most the attempts in flight, and rerunning
with the same ``--out`` continues.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import h5py

from dexmg_bench import __version__
from dexmg_bench.datasets.source import LazyDemos, SourceDemo, SourceFile, kebab
from dexmg_bench.datasets.source import write_source_file as _write_plain
from dexmg_bench.errors import UserInputError, reading
from dexmg_bench.generators.job import GenerateConfig, check_inputs
from dexmg_bench.generators.pool import map_attempts
from dexmg_bench.provenance import code_commit

__all__ = ["GenerateConfig", "Stopped", "check_inputs", "generate", "generator_of"]

# Changing any of these changes which episodes a job produces, so a resume must not.
_JOB_KEYS = ("task", "variant", "seed", "source", "spec", "generator", "action_noise", "time_warp")


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


def _none() -> Iterator[Any]:
    yield from ()


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


class Stopped(Exception):
    """The job was asked to stop (``should_stop``); finished attempts are on disk."""


def generate(
    config: GenerateConfig,
    out: Path,
    *,
    progress: bool = True,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Run (or resume) a job until ``n`` episodes are kept; returns the stats.

    ``should_stop`` is polled after every finished attempt (a signal handler sets the flag it
    reads): a stop request cannot be lost the way an asynchronous exception can be, e.g. when
    it lands in a finaliser, which Python reports and then ignores.
    """
    from tqdm import tqdm

    src = check_inputs(config)
    out.mkdir(parents=True, exist_ok=True)
    _check_job(config, out)
    (out / "episodes").mkdir(exist_ok=True)
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

    env_id = src.env_id.replace(f"-{src.variant}-", f"-{config.variant}-")
    finished = _kept_prefix(done, config.n) is not None  # a rerun of a complete job: no workers
    attempts = contextlib.closing(map_attempts(config, todo()) if not finished else _none())
    with open(out / "attempts.jsonl", "a") as log, attempts as stream:
        for attempt in stream:
            if attempt.success:
                assert attempt.demo is not None
                path = out / "episodes" / f"attempt_{attempt.index}.hdf5"
                _write_generated(path, config, env_id, (attempt.demo,))
            row = {k: v for k, v in asdict(attempt).items() if k != "demo"}
            log.write(json.dumps(row) + "\n")
            log.flush()
            done[attempt.index] = row
            successes += attempt.success
            bar.update(int(attempt.success and bar.n < config.n))
            bar.set_postfix(attempts=len(done), rate=f"{successes / len(done):.0%}")
            if _kept_prefix(done, config.n) is not None:
                break
            if should_stop is not None and should_stop():
                bar.close()
                raise Stopped(f"stopped after {len(done)} attempts")
    bar.close()
    kept = _kept_prefix(done, config.n)
    if kept is None and all(k in done for k in range(config.attempt_budget)):
        # The attempt budget ran out short of n: keep every success (in attempt order) and say
        # so (``complete`` false); a rerun with a larger --max-attempts continues the job.
        kept = [k for k in range(config.attempt_budget) if done[k]["success"]]
    stats = _stats(config, done, kept, time.perf_counter() - t0)
    if kept:  # streamed: one episode in memory at a time
        demos = LazyDemos([(out / "episodes" / f"attempt_{k}.hdf5", "demo_0") for k in kept])
        name = f"{kebab(config.task)}-{config.variant.lower()}.hdf5"
        _write_generated(out / name, config, env_id, demos)
        stats["output"] = name
    (out / "stats.json").write_text(json.dumps(stats, indent=2, sort_keys=True))
    return stats


def _check_job(config: GenerateConfig, out: Path) -> None:
    """Refuse to resume a folder that holds another job; record this one atomically."""
    job = {**asdict(config), "code_version": __version__, "code_commits": []}
    path = out / "job.json"
    if path.exists():
        with reading(path, "the job file of a `dexmg generate` folder"):
            old = json.loads(path.read_text())
        defaults = asdict(GenerateConfig(task=config.task))  # keys older job files lack
        if any(old.get(k, defaults[k]) != job[k] for k in _JOB_KEYS):
            raise UserInputError(f"{out} holds a different job ({old}); use another --out")
        job["code_commits"] = list(old.get("code_commits", []))
    commit = code_commit()  # every checkout that ran part of the job, in order
    if commit is not None and commit not in job["code_commits"]:
        job["code_commits"].append(commit)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(job, indent=2, sort_keys=True))
    tmp.replace(path)


def _write_generated(
    path: Path, config: GenerateConfig, env_id: str, demos: Sequence[SourceDemo]
) -> None:
    """Write generated episodes atomically, with the generator's name as a file attribute."""
    source = SourceFile(
        env_id=env_id,
        task=config.task,
        variant=config.variant,
        origin="generated",
        code_version=__version__,
        demos=demos,
    )
    tmp = path.with_name(path.name + ".part")
    _write_plain(tmp, source)
    with h5py.File(tmp, "r+") as f:
        f.attrs["generator"] = config.generator
    tmp.replace(path)


def generator_of(path: str | Path) -> str | None:
    """The ``generator`` attribute of a generated file (``None`` for source demos)."""
    with h5py.File(path, "r") as f:
        value = f.attrs.get("generator")
    return None if value is None else str(value)


def _stats(
    config: GenerateConfig, done: dict[int, dict[str, Any]], kept: list[int] | None, wall: float
) -> dict[str, Any]:
    rows = list(done.values())
    n_ok = sum(r["success"] for r in rows)
    return {
        "task": config.task,
        "variant": config.variant,
        "generator": config.generator,
        "seed": config.seed,
        "requested": config.n,
        "kept": len(kept) if kept else 0,
        "complete": kept is not None and len(kept) == config.n,
        "attempts": len(rows),
        "successes": n_ok,
        "success_rate": n_ok / len(rows) if rows else 0.0,
        "failures": dict(Counter(r["failure"] for r in rows if not r["success"])),
        "seconds_per_attempt": sum(r["seconds"] for r in rows) / len(rows) if rows else 0.0,
        "wall_seconds_this_run": wall,
    }
