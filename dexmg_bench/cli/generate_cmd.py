"""``dexmg generate``: DexMimicGen (or Demo-Noise) data generation from source demos."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Literal


def generate(
    *,
    task: str = "Threading",
    variant: str = "D0",
    n: int = 10,
    out: Path = Path("out/generated"),
    workers: int = 1,
    seed: int = 0,
    source: str = "",
    spec: str = "",
    max_attempts: int = 0,
    generator: Literal["dexmgen", "demo-noise"] = "dexmgen",
    action_noise: float | None = None,
    backend: Literal["process", "ray"] = "process",
    address: str = "",
    time_warp: float = 0.0,
    minari: bool = True,
    dataset_id: str = "",
) -> None:
    """Generate ``n`` successful demos from source demos; rerun with the same --out to resume.

    Args:
        task: task name (see `dexmg envs`).
        variant: reset distribution to generate in (source demos are from D0).
        n: successful demos to keep.
        out: job folder (episodes, attempt log, stats, the final HDF5).
        workers: attempts run in parallel (worker processes, or Ray actors).
        seed: run seed; attempt k is a pure function of (seed, k).
        source: source-demo HDF5 file (default: the task's shipped scripted demos).
        spec: generator spec TOML (default: the task's shipped spec).
        max_attempts: give up after this many attempts (0 = 20 * n).
        generator: dexmgen (DexMimicGen) or demo-noise (noisy replay of source demos, D0 only).
        action_noise: demo-noise only: one arm-pose noise scale (default: the spec's per subtask).
        backend: process (local pool) or ray (needs the `ray` extra).
        address: Ray cluster to join (default: start a local Ray with --workers CPUs).
        time_warp: dexmgen only: replay sources at random speeds 1-w..1+w (0 = as recorded).
        minari: also write the finished job as a Minari dataset in ``$MINARI_DATASETS_PATH``;
            an existing dataset with that id is left alone.
        dataset_id: id of that dataset, ``namespace/name-vN`` (default: what the job holds,
            ``dexmg/<task>[-d1][-demo-noise][-time-warp]-n<n>-v0``; the flagship set
            ``dexmg/<task>-v0`` is written by `dexmg datasets build --flagship` alone).
    """
    from dexmg_bench.datasets.minari_io import check_dataset_id
    from dexmg_bench.errors import from_options
    from dexmg_bench.generators.run import GenerateConfig
    from dexmg_bench.generators.run import generate as run_generate

    if dataset_id:  # before any simulation: a bad id would only fail at the end
        check_dataset_id(dataset_id, task=task)
    check_out_folder(out)
    config = from_options(
        GenerateConfig,
        task=task,
        variant=variant,
        n=n,
        seed=seed,
        workers=workers,
        source=source,
        spec=spec,
        max_attempts=max_attempts,
        generator=generator,
        action_noise=action_noise,
        backend=backend,
        address=address,
        time_warp=time_warp,
    )
    stats = _run_interruptible(run_generate, config, out)
    print(json.dumps(stats, indent=2, sort_keys=True))
    if minari and stats["complete"]:
        _write_minari(out, dataset_id)
    if not stats["complete"]:
        wrote = f" (written to {out / stats['output']})" if "output" in stats else ""
        raise SystemExit(
            f"only {stats['kept']}/{n} demos succeeded within {config.attempt_budget} "
            f"attempts{wrote}; no Minari dataset is written for an incomplete job; rerun with a "
            f"larger --max-attempts and the same --out to continue"
        )


def check_out_folder(out: Path) -> None:
    """An --out that exists must be a folder (a file there would fail only after the work)."""
    from dexmg_bench.errors import UserInputError

    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out} is a file; give a folder (new, or a job to resume)")


def _run_interruptible(run: Any, config: Any, out: Path) -> dict[str, Any]:
    """Run the job; Ctrl-C or SIGTERM stop it cleanly (workers terminated, no tracebacks).

    The first signal only sets a flag that the job polls after every attempt, so it stops
    within one attempt. Raising KeyboardInterrupt from the handler was not safe: landing in a
    weakref callback, it was printed with a traceback and then ignored, and the job ran on. A
    second Ctrl-C raises it anyway, for a user who will not wait.
    """
    from dexmg_bench.generators.run import Stopped

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping after the attempts in flight (Ctrl-C again: now)", file=sys.stderr)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return run(config, out, should_stop=stop.is_set)
    except (KeyboardInterrupt, Stopped):
        raise SystemExit(
            f"interrupted: finished attempts are kept in {out}; rerun the same command to resume"
        ) from None
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _write_minari(out: Path, dataset: str = "") -> None:
    """The generate -> Minari hook: never replaces a dataset, says how to write it instead."""
    from dexmg_bench.datasets.minari_io import write_generated_job

    try:
        ds = write_generated_job(out, dataset=dataset)
    except FileExistsError as err:
        named = f" --dataset {dataset}" if dataset else ""
        print(
            f"Minari dataset not written: {err}; use "
            f"`dexmg datasets write {out}{named} --overwrite`"
        )
        return
    print(f"Minari dataset {ds.id}: {ds.total_episodes} episodes ({ds.storage.data_path})")
