"""Which code produced an artefact: the package version plus, in a git checkout, the commit.

The version string alone does not move between releases, so a dataset or result made from a
development checkout also records ``git rev-parse HEAD`` (with ``-dirty`` when tracked files
differ from it). An installed wheel has no checkout and records the version only.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

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


@functools.cache
def cpu_model() -> str:
    """The CPU's model name, where ``platform`` says only ``x86_64``.

    Results and rebuilt datasets can differ in their last bits between CPUs, so artefacts say
    which one made them.
    """
    try:
        with open("/proc/cpuinfo") as f:
            return next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    """Library versions results may drift with, recorded next to every measured number."""
    import mujoco
    import numpy

    from dexmg_bench import __version__

    out = {"dexmg_bench": __version__, "mujoco": mujoco.__version__, "numpy": numpy.__version__}
    if (commit := code_commit()) is not None:
        out["dexmg_bench_commit"] = commit
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:
        pass
    out["python"] = platform.python_version()
    out["cpu"] = platform.processor() or platform.machine()
    return out


def write_json(
    path: str | Path, value: Any, *, indent: int = 1, sort_keys: bool = False, newline: bool = False
) -> None:
    """Write ``value`` as JSON through a temporary file renamed into place.

    A reader (or a resumed job) sees the old file or the new one, never half of one; on failure
    the temporary file is removed and a full disk is named (``errors.writing``).
    """
    from dexmg_bench.errors import writing

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    text = json.dumps(value, indent=indent, sort_keys=sort_keys)
    with writing(path, partial=tmp):
        tmp.write_text(text + "\n" if newline else text)
        os.replace(tmp, path)


def _git(*args: str) -> str:
    if not (ROOT / ".git").exists():
        raise OSError("not a git checkout")
    done = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10, check=True
    )
    return done.stdout.strip()
