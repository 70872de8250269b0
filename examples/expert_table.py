"""The scripted-expert table of docs/tasks.md: success on 50 seeded resets per task and variant.

One JSON per task and variant under ``--out`` (default ``envs/results/experts``), with every
episode's seed, outcome and length, the commit and the versions; ``dexmg docs`` builds the
expert table of docs/tasks.md and the README's summary from those files. Rerunning skips rows
already measured, so an interrupted table resumes at its next row; ``--remeasure`` redoes them.
Rows run ``--workers`` at a time, one process each.

    python examples/expert_table.py --workers 2
    python examples/expert_table.py --tasks Pouring --variants D1 --n 20

Not part of CI: the 27 rows take on the order of an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
from pathlib import Path

from dexmg_bench.datasets.record import measure_expert
from dexmg_bench.docs_tables import EXPERT_RESULTS, expert_markdown
from dexmg_bench.envs import TASKS
from dexmg_bench.provenance import write_json

ROOT = Path(__file__).resolve().parents[1]


def run_row(job: tuple[str, str, int, int, Path]) -> str:
    """Measure one task and variant and write its row."""
    task, variant, n, seed, path = job
    row = measure_expert(task, variant, n=n, seed=seed, progress=False)
    write_json(path, row, indent=2, sort_keys=True, newline=True)
    return f"{task}-{variant}: {row['successes']}/{n}"


def main() -> None:
    """Run the rows not measured yet, then print the table from every row measured so far."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / EXPERT_RESULTS)
    parser.add_argument("--tasks", nargs="*", default=[t.name for t in TASKS if not t.requires])
    parser.add_argument("--variants", nargs="*", default=None, help="default: all of each task")
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--remeasure", action="store_true", help="measure rows already measured")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    entries = {t.name: t for t in TASKS}
    jobs = []
    for task in args.tasks:
        for variant in args.variants or entries[task].variants:
            path = args.out / f"{task}-{variant}.json"
            if variant in entries[task].variants and (args.remeasure or not path.exists()):
                jobs.append((task, variant, args.n, args.seed, path))
    with mp.get_context("spawn").Pool(args.workers) as pool:
        for done in pool.imap_unordered(run_row, jobs):
            print(done, flush=True)
    print(expert_markdown(args.out))


if __name__ == "__main__":
    main()
