"""Minari write cost of 1000 low-dim episodes vs their generation time; peak memory vs N.

A real DexMimicGen job generates ``JOB_N`` Can Sorting episodes here (one worker; they keep the
observations ``step`` returned). Its final file, cycled to N episodes, is written as a Minari
dataset by a fresh process for N = 50, 200 and 1000, timed (wall and CPU) with its peak RSS:

* ``write CanSorting N=1000``: the **measured** write of 1000 episodes (copies of the job's
  episodes, so each has a real length and real arrays); ``gen_s`` is the generation time of the
  same 1000 episodes, from the job's stats (``seconds_per_attempt * attempts / kept * 1000``,
  one worker); ``write/gen_%`` their ratio in percent (target < 5); ``write/gen_2w_%`` the same
  against the wall time of 2 workers (the write runs in one process).
* ``peak_RSS_MiB`` per N: streamed writes keep it flat (asserted).
* ``write CanSorting recompute``: the extra seconds per episode when the observations must be
  recomputed from the stored states (jobs recorded before observations were kept): 20 episodes
  written both ways; ``extra_s_1000_extrap`` is that times 1000 (extrapolated).
* ``write/flagship_gen_%``: if the flagship job folder is present (``runs/flagship/CanSorting``),
  the measured 1000-episode write against that job's generation wall time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

JOB_N = 4
SIZES = (50, 200, 1000)
FLAGSHIP = Path(__file__).resolve().parents[1] / "runs" / "flagship" / "CanSorting"


@pytest.fixture(autouse=True)
def _minari_in_tmp(tmp_path, monkeypatch):
    """Benchmarks never write into the user's ~/.minari."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> Path:
    """A real ``JOB_N``-episode Can Sorting job (one worker), with its stats."""
    from dexmg_bench.generators.run import GenerateConfig, generate

    out = tmp_path_factory.mktemp("job") / "CanSorting"
    config = GenerateConfig(task="CanSorting", n=JOB_N, seed=0, workers=1)
    stats = generate(config, out, progress=False)
    assert stats["complete"], stats
    return out


_WRITE = """
import dataclasses, json, os, resource, sys, time
from dexmg_bench.datasets.minari_io import write_minari, source_info
from dexmg_bench.datasets.source import LazyDemos, read_source_file
path, n, recompute = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
src = read_source_file(path, lazy=True)
items = [src.demos.items[k % len(src.demos)] for k in range(n)]
src = dataclasses.replace(src, origin="scripted", demos=LazyDemos(items))
t0, c0 = time.perf_counter(), time.process_time()
ds = write_minari(src, source_info(src), dataset=f"dexmg/bench-{n}-{int(recompute)}-v0",
                  recompute=recompute)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
status = open("/proc/self/status").read()
print(json.dumps({"wall": wall, "cpu": cpu, "steps": ds.total_steps,
                  "peak_rss_mib": int(status.split("VmHWM:")[1].split()[0]) / 1024}))
"""


def write_in_fresh_process(path: Path, n: int, *, recompute: bool = False) -> dict[str, Any]:
    """Time and peak RSS of a fresh interpreter writing ``n`` episodes cycled from ``path``."""
    out = subprocess.run(
        [sys.executable, "-c", _WRITE, str(path), str(n), "1" if recompute else "0"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def gen_seconds_per_kept(stats: dict[str, Any]) -> float:
    """Generation time (worker seconds) per kept episode of a finished job."""
    return stats["seconds_per_attempt"] * stats["attempts"] / stats["kept"]


def test_write_1000_episodes_vs_generation_and_memory(job, record_rate):
    """Measured 1000-episode write, its share of generation time, peak RSS flat in N."""
    stats = json.loads((job / "stats.json").read_text())
    path = job / stats["output"]
    results = {n: write_in_fresh_process(path, n) for n in SIZES}
    for n, r in results.items():
        row = f"write CanSorting N={n}"
        record_rate(row, "s", r["wall"])
        record_rate(row, "cpu_s", r["cpu"])
        record_rate(row, "peak_RSS_MiB", r["peak_rss_mib"])
    big = results[max(SIZES)]
    gen = gen_seconds_per_kept(stats) * max(SIZES)
    row = f"write CanSorting N={max(SIZES)}"
    record_rate(row, "gen_s", gen)
    record_rate(row, "write/gen_%", 100 * big["wall"] / gen)
    record_rate(row, "write/gen_2w_%", 100 * big["wall"] / (gen / 2))
    if (FLAGSHIP / "stats.json").exists():
        flagship = json.loads((FLAGSHIP / "stats.json").read_text())
        if flagship.get("kept") == max(SIZES):
            wall = flagship["wall_seconds_this_run"]
            record_rate(row, "write/flagship_gen_%", 100 * big["wall"] / wall)
    # Streamed: the largest write peaks within 100 MiB of the smallest (the content hash keeps a
    # window of 50 episodes).
    assert big["peak_rss_mib"] < results[min(SIZES)]["peak_rss_mib"] + 100.0, results


def test_recompute_cost(job, record_rate):
    """Seconds per episode when observations are recomputed from states (older jobs)."""
    stats = json.loads((job / "stats.json").read_text())
    path = job / stats["output"]
    n = 20
    copy = write_in_fresh_process(path, n)
    slow = write_in_fresh_process(path, n, recompute=True)
    extra = (slow["wall"] - copy["wall"]) / n
    record_rate("write CanSorting recompute", "extra_s_per_ep", extra)
    record_rate("write CanSorting recompute", "extra_s_1000_extrap", extra * 1000)
