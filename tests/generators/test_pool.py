"""Backends: Ray actors give the same attempts, in the same order, as running them in-process.

Also: a stop request ends the results between attempts, and a worker ends with its parent.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.datasets.source import read_source_file
from dexmg_bench.generators.job import build_generator
from dexmg_bench.generators.pool import map_attempts, require_ray
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


def test_ray_backend_stops_between_results(ray_session):
    """A stop request after the first result ends the stream there; the actors are released."""
    config = GenerateConfig(
        task="Threading", generator="demo-noise", action_noise=0.01, workers=2, backend="ray"
    )
    got = []
    stream = map_attempts(config, ((0, k) for k in range(50)), lambda: len(got) >= 1)
    with contextlib.closing(stream):
        got.extend(stream)
    assert [a.index for a in got] == [0]


# A job process in miniature: it starts one spawned worker, which reports its pid once it has
# called die_with_parent, then both wait forever.
_PARENT = """
import multiprocessing as mp, os, time

def worker(parent_pid):
    from dexmg_bench.processes import die_with_parent

    die_with_parent(parent_pid)
    print(os.getpid(), flush=True)
    while True:
        time.sleep(0.05)

if __name__ == "__main__":
    mp.get_context("spawn").Process(target=worker, args=(os.getpid(),)).start()
    time.sleep(600)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_worker_ends_quietly_with_its_parent(tmp_path, ends_quietly):
    """Killing the parent (-9) ends the worker within seconds, silently; so does a late start."""
    script = tmp_path / "parent.py"
    script.write_text(_PARENT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    worker = int(proc.stdout.readline())  # type: ignore[union-attr]
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 20
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(worker), "the worker outlived its parent by 20 s"
    assert proc.stderr is not None and proc.stderr.read() == ""
    ends_quietly("from dexmg_bench.processes import die_with_parent; die_with_parent(-1); print(1)")
