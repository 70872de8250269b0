"""Grading cost: episodes/min per task through the sandboxed worker, and the N a CI budget fits.

Grades the random reference entry (every episode runs to the task's horizon, the worst case)
with the full grader path: staging, manifest check, one sandboxed child per checkpoint and
worker slot, the evaluator's rollout. The N that fits a 30-minute CI job is 30 min x rate /
(3 training seeds x checkpoints), for 1 and for 5 checkpoints per seed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dexmg_bench.leaderboard.grade import GradeConfig, grade

REPO = Path(__file__).resolve().parents[1]
RANDOM = REPO / "leaderboard" / "submissions" / "dexmg__random"
EPISODES = 2  # per training seed: 6 full-horizon episodes per measurement
CI_MINUTES = 30


@pytest.mark.parametrize("workers", [1, 2], ids=["1w", "2w"])
def test_grading_episodes_per_minute(record_rate, workers):
    """Threading D0, horizon 400 steps, 3 training seeds x 1 checkpoint x EPISODES."""
    config = GradeConfig(episodes=EPISODES, workers=workers, cards=REPO / "datasets" / "cards")
    t0 = time.perf_counter()
    res, run = grade(RANDOM, key=b"bench", config=config)
    wall = time.perf_counter() - t0
    assert res["failure"] is None, res["failure"]
    n = 3 * EPISODES
    rate = 60 * n / wall
    row = f"grade Threading-D0 {workers}w"
    record_rate(row, "episodes/min", rate)
    record_rate(row, "ms/action", run["ms_per_action"]["mean"])
    for ckpts in (1, 5):
        record_rate(row, f"N in {CI_MINUTES} min, {ckpts} ckpt", CI_MINUTES * rate / (3 * ckpts))
