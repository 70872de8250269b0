"""A seeded generation attempt equals the one stored in ``tests/data``, for each embodiment.

Generated datasets are published by seed: attempt ``k`` of a job with seed ``s`` must give the
same actions and simulator states on every run, or a dataset cannot be regenerated from its
job file. On the CPU that wrote the file that means bit for bit; another CPU rounds differently
in the last bits (numpy, OpenBLAS and MuJoCo take CPU-specific SIMD paths), so the comparison
allows ``REPLAY_ATOL``, orders of magnitude below what any change of behaviour moves. One episode
is stored per controller, each the first kept attempt of a default D0 job with seed 0 (shipped
source and spec): Threading (two Pandas with grippers, OSC), BoxCleanup (two Pandas with Inspire
hands, OSC) and Pouring (the GR-1, whole-body IK). Any change to task resolution, the generator or
the env that alters one fails here. A deliberate change of the episodes (a new env version, a new
generator) rewrites the files with::

    MUJOCO_GL=osmesa python tests/generators/test_stored_attempt.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dexmg_bench.datasets.record import REPLAY_ATOL
from dexmg_bench.generators.job import build_generator
from dexmg_bench.generators.run import GenerateConfig

DATA = Path(__file__).resolve().parents[1] / "data"
SEED = 0
# Task -> index of its stored attempt. Threading's takes a few seconds; the others are longer
# episodes with dexterous hands, in the slow tier.
STORED = {"Threading": 3, "BoxCleanup": 0, "Pouring": 0}
CASES = [
    pytest.param("Threading", id="Threading"),
    pytest.param("BoxCleanup", id="BoxCleanup", marks=pytest.mark.slow),
    pytest.param("Pouring", id="Pouring", marks=pytest.mark.slow),
]


def stored_path(task: str) -> Path:
    """Where ``task``'s attempt is stored."""
    return DATA / f"{task.lower()}-d0-seed{SEED}-attempt{STORED[task]}.npz"


def attempt(task: str) -> Any:
    """``task``'s stored attempt index of a default job with seed ``SEED``, run in-process."""
    return build_generator(GenerateConfig(task=task, seed=SEED)).attempt(SEED, STORED[task])


def write_stored(task: str) -> Path:
    """Store the attempt's outcome, actions and states (compressed, about 150 KB)."""
    a = attempt(task)
    assert a.success and a.demo is not None, "the stored attempt must be a kept demo"
    path = stored_path(task)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, env_seed=a.env_seed, steps=a.steps, actions=a.demo.actions, states=a.demo.states
    )
    return path


@pytest.mark.parametrize("task", CASES)
def test_seeded_attempt_equals_the_stored_one(task: str) -> None:
    """Same seed and index: same env seed and step count, the same actions and states."""
    stored = np.load(stored_path(task))
    a = attempt(task)
    assert a.success and a.demo is not None
    assert (a.env_seed, a.steps) == (int(stored["env_seed"]), int(stored["steps"]))
    np.testing.assert_allclose(a.demo.actions, stored["actions"], rtol=0, atol=REPLAY_ATOL)
    np.testing.assert_allclose(a.demo.states, stored["states"], rtol=0, atol=REPLAY_ATOL)


if __name__ == "__main__":
    for name in STORED:
        written = write_stored(name)
        print(f"wrote {written} ({written.stat().st_size} bytes)")
