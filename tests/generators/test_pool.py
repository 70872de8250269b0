"""Backends: Ray actors give the same attempts, in the same order, as running them in-process."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from dexmg_bench.datasets.source import read_source_file
from dexmg_bench.generators.job import build_generator
from dexmg_bench.generators.pool import require_ray
from dexmg_bench.generators.run import GenerateConfig, generate


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for the module (starting one costs seconds); skipped without the extra."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (the `ray` extra)")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_backend_matches_in_process_attempts(ray_session, tmp_path):
    """Two Ray actors run Threading Demo-Noise attempts 0-3: same outcomes and kept episode."""
    config = GenerateConfig(
        task="Threading", generator="demo-noise", n=1, max_attempts=4, workers=2, backend="ray"
    )
    stats = generate(config, tmp_path / "job", progress=False)
    assert ray_session.is_initialized(), "a Ray session the job did not start must stay up"
    rows = [json.loads(r) for r in (tmp_path / "job" / "attempts.jsonl").read_text().splitlines()]
    local = build_generator(GenerateConfig(task="Threading", generator="demo-noise"))
    expected = [local.attempt(0, k) for k in range(len(rows))]
    key = ("index", "env_seed", "success", "steps", "failure")
    assert [tuple(r[k] for k in key) for r in rows] == [
        tuple(getattr(a, k) for k in key) for a in expected
    ]
    assert stats["complete"], f"no success in {len(rows)} attempts: {stats['failures']}"
    kept = next(a for a in expected if a.success)
    (demo,) = read_source_file(tmp_path / "job" / stats["output"]).demos
    assert kept.demo is not None
    np.testing.assert_array_equal(demo.actions, kept.demo.actions)
    np.testing.assert_array_equal(demo.states, kept.demo.states)


def test_missing_ray_says_which_extra(monkeypatch):
    """Without Ray installed, --backend ray names the extra to install."""
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"dexmg-bench\[ray\]"):
        require_ray()
