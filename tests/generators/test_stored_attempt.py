"""A seeded generation attempt equals the one stored in ``tests/data``.

Generated datasets are published by seed: attempt ``k`` of a job with seed ``s`` must give the
same actions and simulator states on every run, or a dataset cannot be regenerated from its
job file. On the CPU that wrote the file that means bit for bit; another CPU rounds differently
in the last bits (numpy, OpenBLAS and MuJoCo take CPU-specific SIMD paths), so the comparison
allows ``REPLAY_ATOL``, orders of magnitude below what any change of behaviour moves. The
stored episode is Threading D0 (DexMimicGen, shipped source and spec), seed 0, attempt 3 (the
first that succeeds). Any change to task resolution, the generator or the env that alters it
fails here. A deliberate change of the episode (a new env version, a new
generator) rewrites the file with::

    MUJOCO_GL=osmesa python tests/generators/test_stored_attempt.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dexmg_bench.datasets.record import REPLAY_ATOL
from dexmg_bench.generators.job import build_generator
from dexmg_bench.generators.run import GenerateConfig

STORED = Path(__file__).resolve().parents[1] / "data" / "threading-d0-seed0-attempt3.npz"
SEED, INDEX = 0, 3


def attempt() -> Any:
    """Attempt ``INDEX`` of a default Threading job with seed ``SEED``, run in-process."""
    return build_generator(GenerateConfig(task="Threading", seed=SEED)).attempt(SEED, INDEX)


def write_stored(path: Path = STORED) -> None:
    """Store the attempt's outcome, actions and states (compressed, about 150 KB)."""
    a = attempt()
    assert a.success and a.demo is not None, "the stored attempt must be a kept demo"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, env_seed=a.env_seed, steps=a.steps, actions=a.demo.actions, states=a.demo.states
    )


def test_seeded_attempt_equals_the_stored_one() -> None:
    """Same seed and index: same env seed and step count, the same actions and states."""
    stored = np.load(STORED)
    a = attempt()
    assert a.success and a.demo is not None
    assert (a.env_seed, a.steps) == (int(stored["env_seed"]), int(stored["steps"]))
    np.testing.assert_allclose(a.demo.actions, stored["actions"], rtol=0, atol=REPLAY_ATOL)
    np.testing.assert_allclose(a.demo.states, stored["states"], rtol=0, atol=REPLAY_ATOL)


if __name__ == "__main__":
    write_stored()
    print(f"wrote {STORED} ({STORED.stat().st_size} bytes)")
