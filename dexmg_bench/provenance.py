"""Which code produced an artefact: the package version plus, in a git checkout, the commit.

The version string alone does not move between releases, so a dataset or result made from a
development checkout also records ``git rev-parse HEAD`` (with ``-dirty`` when tracked files
differ from it). An installed wheel has no checkout and records the version only.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def code_commit() -> str | None:
    """``<sha>`` or ``<sha>-dirty`` of the checkout this package runs from; None outside git."""
    try:
        sha = _git("rev-parse", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no", "--", "dexmg_bench")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha


def _git(*args: str) -> str:
    if not (ROOT / ".git").exists():
        raise OSError("not a git checkout")
    done = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10, check=True
    )
    return done.stdout.strip()
