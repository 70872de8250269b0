"""Generation throughput per task: attempts/s and kept demos per minute with 1 and 2 workers.

Each configuration runs the first ``ATTEMPTS[task]`` DexMimicGen attempts of seed 0 on D0 through
the job's own backend (``pool.map_attempts``: in-process for 1 worker, a spawned process pool for
2). Worker start-up (spawning, imports, building the env) is reported apart and left out of the
rates, since it is paid once per job: start-up is the time to the first result less that
attempt's own duration. The kept count is the same for both worker counts (attempt k is a pure
function of (seed, k)), so kept/min scales exactly like attempts/s. With this few attempts, and on
a shared machine, the numbers are noisy.
"""

from __future__ import annotations

import time

import pytest

from dexmg_bench.generators.job import GenerateConfig
from dexmg_bench.generators.pool import map_attempts

ATTEMPTS = {
    "Threading": 8,
    "PieceAssembly": 8,
    "Transport": 6,
    "BoxCleanup": 8,
    "TrayLift": 6,
    "DrawerCleanup": 6,
    "CanSorting": 8,
    "Coffee": 8,
    "Pouring": 8,
}
RESULTS: dict[tuple[str, int], float] = {}


@pytest.mark.parametrize("workers", [1, 2], ids=["1w", "2w"])
@pytest.mark.parametrize("task", list(ATTEMPTS))
def test_generation_speed(record_rate, task: str, workers: int) -> None:
    """Run the first attempts of a job and time them."""
    n = ATTEMPTS[task]
    config = GenerateConfig(task=task, n=n, max_attempts=n, workers=workers)
    t0 = time.perf_counter()
    first_at = 0.0
    results = []
    for attempt in map_attempts(config, iter([(0, k) for k in range(n)])):
        if not results:
            first_at = time.perf_counter() - t0
        results.append(attempt)
    wall = time.perf_counter() - t0
    assert [a.index for a in results] == list(range(n))
    startup = max(first_at - results[0].seconds, 0.0)
    rate = n / (wall - startup)
    kept = sum(a.success for a in results)
    row = f"{task} generation"
    record_rate(row, f"att/s {workers}w", rate)
    record_rate(row, f"kept/min {workers}w", 60 * rate * kept / n)
    record_rate(row, f"startup_s {workers}w", startup)
    RESULTS[(task, workers)] = rate
    if (task, 1) in RESULTS and (task, 2) in RESULTS:
        record_rate(row, "att/s 2w/1w", RESULTS[(task, 2)] / RESULTS[(task, 1)])
