"""The generation table of docs/generation.md: kept per 50 attempts, every kept one replayed.

For each task and variant (and Demo-Noise on D0) this runs a generation job of ``--attempts``
attempts (``n = attempts``, so the job stops at the budget), then replays every kept episode in a
fresh env from its stored initial state, checking success and that the final simulator state
equals the recorded one bit for bit. One JSON per row under ``--out`` (default
``generators/results/generation``), with the commit and versions it ran with; ``dexmg docs``
builds the table of docs/generation.md from those files. Rerunning skips rows already measured, so
an interrupted table resumes at its next row; ``--remeasure`` measures them again.
The jobs themselves go under ``--work``.

    python examples/generation_table.py --workers 2
    python examples/generation_table.py --tasks Threading --variants D0 D1

Not part of CI: all rows take on the order of an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import time
from pathlib import Path

import numpy as np

from dexmg_bench.datasets.record import replay_demo
from dexmg_bench.datasets.source import read_source_file
from dexmg_bench.docs_tables import GENERATION_RESULTS, generation_markdown
from dexmg_bench.envs import TASKS, make_task_env
from dexmg_bench.generators.run import GenerateConfig, generate
from dexmg_bench.provenance import versions, write_json

ROOT = Path(__file__).resolve().parents[1]


def commit() -> str:
    """The checkout's commit, with ``+dirty`` when tracked files differ from it."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    )
    code = ["dexmg_bench", "generators", "datasets/source"]
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *code], check=False)
    return sha.stdout.strip() + ("+dirty" if dirty.returncode else "")


def replay_kept(out: Path) -> tuple[int, int, int]:
    """Replay every kept episode of a job folder: (episodes, successes, bit-exact final states)."""
    files = sorted((out / "episodes").glob("attempt_*.hdf5"))
    if not files:
        return 0, 0, 0
    first = read_source_file(files[0])
    env = make_task_env(first.task, first.variant)
    n = ok = exact = 0
    for path in files:
        for demo in read_source_file(path).demos:
            n += 1
            ok += replay_demo(env, demo)
            exact += bool(np.array_equal(env.get_state(), demo.states[-1]))
    env.close()
    return n, ok, exact


def run_row(task: str, variant: str, generator: str, args: argparse.Namespace) -> dict:
    """Measure one row (or return it if it was measured, unless ``--remeasure``)."""
    name = f"{task}-{variant}-{generator}"
    row_path = args.out / f"{name}.json"
    if row_path.exists() and not args.remeasure:
        return json.loads(row_path.read_text())
    code = commit()
    job_dir = args.work / f"{name}-{code}"
    config = GenerateConfig(
        task=task,
        variant=variant,
        n=args.attempts,
        max_attempts=args.attempts,
        seed=args.seed,
        workers=args.workers,
        generator=generator,
    )
    t0 = time.perf_counter()
    stats = generate(config, job_dir, progress=True)
    gen_s = time.perf_counter() - t0
    n, ok, exact = replay_kept(job_dir)
    row = {
        "task": task,
        "variant": variant,
        "generator": generator,
        "commit": code,
        "seed": args.seed,
        "attempts": stats["attempts"],
        "successes": stats["successes"],
        "failures": stats["failures"],
        "seconds_per_attempt": stats["seconds_per_attempt"],
        "wall_seconds": gen_s,
        "replayed": n,
        "replay_success": ok,
        "replay_exact": exact,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }
    write_json(row_path, row, indent=2, sort_keys=True, newline=True)
    print(json.dumps(row))
    return row


def main() -> None:
    """Run the rows asked for, then print the table from every row measured so far."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / GENERATION_RESULTS)
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "gen_table")
    parser.add_argument("--tasks", nargs="*", default=[t.name for t in TASKS if not t.requires])
    parser.add_argument("--variants", nargs="*", default=None, help="default: all of each task")
    parser.add_argument("--attempts", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-demo-noise", action="store_true")
    parser.add_argument("--remeasure", action="store_true", help="measure rows already measured")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    entries = {t.name: t for t in TASKS}
    for task in args.tasks:
        variants = args.variants or list(entries[task].variants)
        for variant in variants:
            if variant in entries[task].variants:
                run_row(task, variant, "dexmgen", args)
        if not args.no_demo_noise and (args.variants is None or "D0" in args.variants):
            run_row(task, "D0", "demo-noise", args)
    print(generation_markdown(args.out))


if __name__ == "__main__":
    main()
