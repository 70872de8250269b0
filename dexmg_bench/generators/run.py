"""A generation job: parallel attempts, crash-safe output, resume, stats.

Layout of ``--out DIR``::

    DIR/job.json                 the job (task, variant, seed, generator, ...); checked on resume
    DIR/attempts.jsonl           one line per finished attempt (appended in one write each)
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

Crash safety: every file is written under a temporary name (``*.part``, ``*.tmp``) and renamed
into place once complete, so a file under its final name is whole; a temporary one left by a
kill is deleted by the next run. An episode file is renamed before its attempt's log line is
appended, so a logged success always has its file; a file without a line is made again by the
rerun (the same attempt gives the same episode). A line cut by a kill or a full disk is cut off
the log before the next run appends to it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, BinaryIO

import h5py

from dexmg_bench import __version__
from dexmg_bench.crash_point import crash_point
from dexmg_bench.datasets.source import LazyDemos, SourceDemo, SourceFile
from dexmg_bench.datasets.source import write_source_file as _write_plain
from dexmg_bench.errors import Stopped, UserInputError, reading, writing
from dexmg_bench.generators.job import GenerateConfig, check_inputs
from dexmg_bench.generators.pool import map_attempts
from dexmg_bench.provenance import code_commit, cpu_model, write_json

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


def _none() -> Generator[Any, None, None]:
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


def generate(
    config: GenerateConfig,
    out: Path,
    *,
    progress: bool = True,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Run (or resume) a job until ``n`` episodes are kept; returns the stats.

    ``should_stop`` is polled between attempts and while workers run them (a signal handler
    sets the flag it reads): a stop request cannot be lost the way an asynchronous exception
    can be, e.g. when it lands in a finaliser, which Python reports and then ignores.

    Raises:
        Stopped: ``should_stop()`` turned true before the job finished; what finished is on disk.
        DiskFullError: the disk filled up; the file being written is removed, the rest kept.
    """
    from tqdm import tqdm

    check_inputs(config)
    out.mkdir(parents=True, exist_ok=True)
    _check_job(config, out)
    (out / "episodes").mkdir(exist_ok=True)
    _remove_partial_files(out)
    log_path = out / "attempts.jsonl"
    _cut_torn_line(log_path)
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

    env_id = config.entry.env_id(config.variant)  # check_inputs matched the source's to it
    finished = _kept_prefix(done, config.n) is not None  # a rerun of a complete job: no workers
    stream = map_attempts(config, todo(), should_stop) if not finished else _none()
    # Closing the bar ends its line, also before an error message.
    with (
        contextlib.closing(bar),
        open(log_path, "ab", buffering=0) as log,
        contextlib.closing(stream),
    ):
        for attempt in stream:
            if attempt.success:
                assert attempt.demo is not None
                path = out / "episodes" / f"attempt_{attempt.index}.hdf5"
                _write_generated(path, config, env_id, (attempt.demo,), point="episode-part")
            row = {k: v for k, v in asdict(attempt).items() if k != "demo"}
            with writing(log_path):
                _append_row(log, row)
            done[attempt.index] = row
            successes += attempt.success
            bar.update(int(attempt.success and bar.n < config.n))
            bar.set_postfix(attempts=len(done), rate=f"{successes / len(done):.0%}")
            if _kept_prefix(done, config.n) is not None:
                break
    if should_stop is not None and should_stop():  # before the final write, which may be long
        raise Stopped(f"stopped after {len(done)} attempts")
    kept = _kept_prefix(done, config.n)
    if kept is None and all(k in done for k in range(config.attempt_budget)):
        # The attempt budget ran out short of n: keep every success (in attempt order) and say
        # so (``complete`` false); a rerun with a larger --max-attempts continues the job.
        kept = [k for k in range(config.attempt_budget) if done[k]["success"]]
    stats = _stats(config, done, kept, time.perf_counter() - t0)
    if kept:  # streamed: one episode in memory at a time
        demos = LazyDemos([(out / "episodes" / f"attempt_{k}.hdf5", "demo_0") for k in kept])
        name = f"{config.entry.slug}-{config.variant.lower()}.hdf5"
        _write_generated(out / name, config, env_id, demos, point="output-part")
        stats["output"] = name
    write_json(out / "stats.json", stats, indent=2, sort_keys=True)
    return stats


def _remove_partial_files(out: Path) -> None:
    """Delete what a killed run left under a temporary name (never counted, only in the way)."""
    for path in [*out.glob("*.part"), *out.glob("*.tmp"), *(out / "episodes").glob("*.part")]:
        path.unlink(missing_ok=True)


def _cut_torn_line(log: Path) -> None:
    """Cut an unfinished last line off the attempt log, so the next row starts on its own line.

    A kill or a full disk in the middle of an append leaves one; that attempt simply runs again.
    """
    if not log.exists():
        return
    data = log.read_bytes()
    if data and not data.endswith(b"\n"):
        with writing(log), open(log, "r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def _append_row(log: BinaryIO, row: dict[str, Any]) -> None:
    """Append one log line in one unbuffered write: a crash can only cut the last line."""
    line = (json.dumps(row) + "\n").encode()
    if log.write(line) != len(line):  # a short write to a regular file: the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(log.name))


def _check_job(config: GenerateConfig, out: Path) -> None:
    """Refuse to resume a folder that holds another job; record this one atomically."""
    job = {**asdict(config), "code_version": __version__, "code_commits": [], "cpus": []}
    path = out / "job.json"
    if path.exists():
        with reading(path, "the job file of a `dexmg generate` folder"):
            old = json.loads(path.read_text())
        defaults = asdict(GenerateConfig(task=config.task))  # keys older job files lack
        if any(old.get(k, defaults[k]) != job[k] for k in _JOB_KEYS):
            raise UserInputError(f"{out} holds a different job ({old}); use another --out")
        job["code_commits"] = list(old.get("code_commits", []))
        job["cpus"] = list(old.get("cpus", []))
    commit = code_commit()  # every checkout that ran part of the job, in order
    if commit is not None and commit not in job["code_commits"]:
        job["code_commits"].append(commit)
    if cpu_model() not in job["cpus"]:  # a flagship set rebuilt on another CPU can differ
        job["cpus"].append(cpu_model())
    write_json(path, job, indent=2, sort_keys=True)


def _write_generated(
    path: Path, config: GenerateConfig, env_id: str, demos: Sequence[SourceDemo], *, point: str
) -> None:
    """Write generated episodes atomically, with the generator's name as a file attribute.

    ``point`` names the moment the file is whole under its temporary name, for ``crash_point``.
    """
    source = SourceFile(
        env_id=env_id,
        task=config.task,
        variant=config.variant,
        origin="generated",
        code_version=__version__,
        demos=demos,
    )
    tmp = path.with_name(path.name + ".part")
    with writing(path, partial=tmp):
        _write_plain(tmp, source)
        with h5py.File(tmp, "r+") as f:
            f.attrs["generator"] = config.generator
        crash_point(point)
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
