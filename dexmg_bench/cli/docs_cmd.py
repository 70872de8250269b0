"""``dexmg docs``: rebuild the measured tables of the docs pages from the result files."""

from __future__ import annotations

import sys
from pathlib import Path

from dexmg_bench.errors import UserInputError


def docs(check: bool = False, root: Path = Path()) -> None:
    """Rewrite every ``<!-- table:NAME -->`` block of README.md and docs/*.md from its JSONs.

    A page's numbers are then output of the result files, never a hand copy of them; ``--check``
    lets CI (and a test) refuse a page whose table no longer matches its data.

    Args:
        check: write nothing; print each stale table and exit 1 if any.
        root: the repository root holding the pages and the result files.
    """
    from dexmg_bench.docs_tables import update

    if not (root / "docs").is_dir():
        raise UserInputError(f"{root.resolve()}: no docs/ folder here; pass --root REPO")
    stale = update(root, write=not check)
    for s in stale:
        verb = "is stale" if check else "rewritten"
        print(f"{s.page}: table {s.table} {verb}")
    if check and stale:
        print("run `dexmg docs` to rebuild them from the result files", file=sys.stderr)
        raise SystemExit(1)
    if not stale:
        print("every docs table matches its result files")
