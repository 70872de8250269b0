"""A seeded generation attempt equals the one stored in ``tests/data``, for every core task.

Generated datasets are published by seed: attempt ``k`` of a job with seed ``s`` must give the
same actions and simulator states on every run, or a dataset cannot be regenerated from its
job file. On the CPU that wrote the file that means bit for bit; another CPU rounds differently
in the last bits (numpy, OpenBLAS and MuJoCo take CPU-specific SIMD paths), so the comparison
allows ``REPLAY_ATOL``, orders of magnitude below what any change of behaviour moves. One episode
is stored per task, the first kept attempt of a default D0 job with seed 0 (shipped source and
spec), as every ``STRIDE``-th action and state plus the last ones: a change at any step moves
every state after it, so the samples catch it and the files stay small. Threading runs in
``make test``; the other eight tasks' episodes are longer and run in the slow tier. Any change
to task resolution, the generator, an env or a controller that alters one fails here. A
deliberate change of the episodes (a new env version, a new generator) rewrites the files with::

    MUJOCO_GL=osmesa python tests/generators/test_stored_attempt.py [TASK ...]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dexmg_bench.datasets.record import REPLAY_ATOL
from dexmg_bench.envs import TASKS
from dexmg_bench.generators.job import build_generator
from dexmg_bench.generators.run import GenerateConfig

DATA = Path(__file__).resolve().parents[1] / "data"
SEED = 0
STRIDE = 10
FAST = ("Threading",)
CASES = [
    pytest.param(t.name, id=t.name, marks=() if t.name in FAST else pytest.mark.slow)
    for t in TASKS
    if not t.requires
]


def stored_path(task: str) -> Path:
    """The file of ``task``'s stored attempt (its name holds the attempt index)."""
    found = sorted(DATA.glob(f"{task.lower()}-d0-seed{SEED}-attempt*.npz"))
    assert len(found) == 1, f"expected one stored attempt of {task} in {DATA}, found {found}"
    return found[0]


def attempt(task: str, index: int) -> Any:
    """Attempt ``index`` of a default ``task`` job with seed ``SEED``, run in-process."""
    return build_generator(GenerateConfig(task=task, seed=SEED)).attempt(SEED, index)


def sampled(x: np.ndarray) -> np.ndarray:
    """Every ``STRIDE``-th row and the last one."""
    return x[np.unique(np.r_[np.arange(0, len(x), STRIDE), len(x) - 1])]


def write_stored(task: str) -> Path:
    """Store the first kept attempt's env seed, step count, sampled actions and states."""
    index = 0
    while not (a := attempt(task, index)).success:
        index += 1
    for old in DATA.glob(f"{task.lower()}-d0-seed{SEED}-attempt*.npz"):
        old.unlink()
    path = DATA / f"{task.lower()}-d0-seed{SEED}-attempt{index}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        env_seed=a.env_seed,
        steps=a.steps,
        actions=sampled(a.demo.actions),
        states=sampled(a.demo.states),
    )
    return path


@pytest.mark.parametrize("task", CASES)
def test_seeded_attempt_equals_the_stored_one(task: str) -> None:
    """Same seed and index: same env seed and step count, the same actions and states."""
    path = stored_path(task)
    stored = np.load(path)
    a = attempt(task, int(re.search(r"attempt(\d+)\.npz$", path.name)[1]))
    assert a.success and a.demo is not None
    assert (a.env_seed, a.steps) == (int(stored["env_seed"]), int(stored["steps"]))
    assert len(sampled(a.demo.states)) == len(stored["states"])
    np.testing.assert_allclose(sampled(a.demo.actions), stored["actions"], rtol=0, atol=REPLAY_ATOL)
    np.testing.assert_allclose(sampled(a.demo.states), stored["states"], rtol=0, atol=REPLAY_ATOL)


if __name__ == "__main__":
    for name in sys.argv[1:] or [c.values[0] for c in CASES]:
        written = write_stored(name)
        print(f"wrote {written} ({written.stat().st_size} bytes)")
