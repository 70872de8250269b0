"""``dexmg generate``: DexMimicGen (or Demo-Noise) data generation from source demos.

Ctrl-C (SIGINT) or SIGTERM stops a job cleanly: the handler only sets a flag, which the job
polls between attempts (and while workers run them) and the Minari write before each episode.
The command then ends its workers, keeps what finished, prints one line saying how to resume
and exits 130 (SIGINT) or 143 (SIGTERM). A second signal ends it at once: every file is written
atomically, so that is as safe as ``kill -9``, and a rerun resumes either way.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from dexmg_bench.cli.options import options
from dexmg_bench.generators.job import GenerateConfig


def generate(
    config: options(GenerateConfig, task="Threading"),
    *,
    out: Path = Path("out/generated"),
    minari: bool = True,
    dataset_id: str = "",
) -> None:
    """Generate ``n`` successful demos from source demos; rerun with the same --out to resume.

    Args:
        config: the job (`GenerateConfig`: one option per field).
        out: job folder (episodes, attempt log, stats, the final HDF5).
        minari: also write the finished job as a Minari dataset in ``$MINARI_DATASETS_PATH``;
            an existing dataset with that id is left alone.
        dataset_id: id of that dataset, ``namespace/name-vN`` (default: what the job holds,
            ``dexmg/<task>[-d1][-demo-noise][-time-warp]-n<n>-v0``; the flagship set
            ``dexmg/<task>-v0`` is written by `dexmg datasets build --flagship` alone).
    """
    from dexmg_bench.datasets.minari_io import check_dataset_id
    from dexmg_bench.errors import Stopped
    from dexmg_bench.generators.run import generate as run_generate

    config.entry  # noqa: B018 (an unknown task fails here, naming the close matches)
    if dataset_id:  # before any simulation: a bad id would only fail at the end
        check_dataset_id(dataset_id, task=config.task)
    check_out_folder(out)
    with stop_on_signals() as stop:
        try:
            stats = run_generate(config, out, should_stop=stop)
        except Stopped:
            stop.exit(f"finished attempts are kept in {out}; rerun the same command to resume")
        print(json.dumps(stats, indent=2, sort_keys=True))
        if minari and stats["complete"]:
            try:
                _write_minari(out, dataset_id, should_stop=stop)
            except Stopped:
                stop.exit("the Minari dataset was not written; rerun the same command to write it")
    if not stats["complete"]:
        wrote = f" (written to {out / stats['output']})" if "output" in stats else ""
        raise SystemExit(
            f"only {stats['kept']}/{config.n} demos succeeded within {config.attempt_budget} "
            f"attempts{wrote}; no Minari dataset is written for an incomplete job; rerun with a "
            f"larger --max-attempts and the same --out to continue"
        )


def check_out_folder(out: Path) -> None:
    """An --out that exists must be a folder (a file there would fail only after the work)."""
    from dexmg_bench.errors import UserInputError

    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out} is a file; give a folder (new, or a job to resume)")


class StopFlag:
    """Set by SIGINT or SIGTERM (``signum``); true once set, the job's ``should_stop``.

    A flag cannot be lost the way an exception raised from a signal handler can: one that
    lands in a finaliser or a weakref callback is printed and ignored, and the job runs on.
    """

    def __init__(self) -> None:
        self.signum = 0

    def __call__(self) -> bool:
        """Whether a stop was asked for."""
        return self.signum != 0

    def exit(self, what: str) -> NoReturn:
        """Print one line on what was kept and how to resume; exit 128 + the signal number."""
        print(f"interrupted: {what}", file=sys.stderr)
        raise SystemExit(128 + self.signum if self.signum else 1)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopFlag]:
    """While inside, SIGINT and SIGTERM set the flag; a second one exits at once.

    Outside the main thread (where Python cannot install handlers) the flag is never set.
    """
    flag = StopFlag()

    def on_signal(signum: int, frame: Any) -> None:
        if flag.signum:  # the user will not wait: every write is atomic, a rerun resumes
            os.write(2, b"\ninterrupted at once; rerun the same command to resume\n")
            os._exit(128 + signum)
        flag.signum = signum

    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _write_minari(out: Path, dataset: str = "", *, should_stop: StopFlag | None = None) -> None:
    """The generate -> Minari hook: never replaces a dataset, says how to write it instead."""
    from dexmg_bench.datasets.minari_io import write_generated_job

    try:
        ds = write_generated_job(out, dataset=dataset, should_stop=should_stop)
    except FileExistsError as err:
        named = f" --dataset {dataset}" if dataset else ""
        print(
            f"Minari dataset not written: {err}; use "
            f"`dexmg datasets write {out}{named} --overwrite`"
        )
        return
    print(f"Minari dataset {ds.id}: {ds.total_episodes} episodes ({ds.storage.data_path})")
