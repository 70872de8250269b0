"""Minari write cost: seconds per low-dim episode, 1000 episodes extrapolated, share of generation.

* ``test_write_time``: writes a batch of ``BATCH`` Threading episodes (the 10 shipped source demos,
  repeated; ~210 steps each) with ``write_minari`` (observations from stored states, HDF5 via
  Minari) and reports s/episode and the time for 1000 episodes **extrapolated** from that batch.
* ``test_write_share_of_generation``: runs the first ``ATTEMPTS`` DexMimicGen attempts of a
  Threading job in-process, then writes the kept episodes (repeated to 20); reports generation s
  per kept episode and the write time per episode as a fraction of it (target < 5%).
* ``test_memory_flat``: peak traced Python/numpy memory while writing 10 vs 50 episodes (streamed
  writes: it must not grow with the episode count); ``test_peak_rss_flat``: the same for the whole
  process (peak RSS of a fresh interpreter writing 10 vs 100 episodes).
"""

from __future__ import annotations

import dataclasses
import time
import tracemalloc

import pytest

from dexmg_bench.datasets.minari_io import source_info, write_minari
from dexmg_bench.datasets.source import SourceFile, read_source_file, shipped_source_file

BATCH = 50
ATTEMPTS = 6


@pytest.fixture(autouse=True)
def _minari_in_tmp(tmp_path, monkeypatch):
    """Benchmarks never write into the user's ~/.minari."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))


def batch(n: int) -> SourceFile:
    """``n`` Threading episodes: the shipped demos, repeated."""
    src = read_source_file(shipped_source_file("Threading"))
    demos = tuple(src.demos[k % len(src.demos)] for k in range(n))
    return dataclasses.replace(src, demos=demos)


def test_write_time(benchmark, record_rate):
    """Write BATCH low-dim episodes; s/episode and extrapolated s per 1000 episodes."""
    src = batch(BATCH)
    steps = sum(d.num_steps for d in src.demos)
    counter = iter(range(1000))

    def write():
        write_minari(src, source_info(src), dataset=f"dexmg/bench-{next(counter)}-v0")

    benchmark.pedantic(write, rounds=2, iterations=1, warmup_rounds=0)
    per_episode = benchmark.stats.stats.min / BATCH
    record_rate("write Threading lowdim", "s_per_episode", per_episode)
    record_rate("write Threading lowdim", "s_per_1000_extrap", per_episode * 1000)
    record_rate("write Threading lowdim", "steps_per_s", steps / benchmark.stats.stats.min)


def test_write_share_of_generation(record_rate):
    """Generation time per kept episode vs write time per episode, same episodes."""
    from dexmg_bench.generators.job import GenerateConfig
    from dexmg_bench.generators.pool import map_attempts

    config = GenerateConfig(task="Threading", n=ATTEMPTS, max_attempts=ATTEMPTS, workers=1)
    attempts = list(map_attempts(config, iter([(0, k) for k in range(ATTEMPTS)])))
    kept = [a.demo for a in attempts if a.success and a.demo is not None]
    assert kept, "no attempt succeeded: cannot compare"
    gen_per_kept = sum(a.seconds for a in attempts) / len(kept)
    # The kept episodes, repeated to 20 so the one-off env construction (~3 s) is amortised as it
    # is in a real 1000-episode job.
    demos = tuple(kept[k % len(kept)] for k in range(20))
    src = dataclasses.replace(batch(1), origin="generated", demos=demos)
    info = dataclasses.replace(source_info(src), source_dataset="dexmg/threading-source-v0")
    t0 = time.perf_counter()
    write_minari(src, info)
    write_per_episode = (time.perf_counter() - t0) / len(demos)
    record_rate("generate+write Threading", "gen_s_per_kept", gen_per_kept)
    record_rate("generate+write Threading", "write_s_per_episode", write_per_episode)
    record_rate("generate+write Threading", "write/gen", write_per_episode / gen_per_kept)


_RSS_SCRIPT = """
import dataclasses, resource, sys
from dexmg_bench.datasets.minari_io import source_info, write_minari
from dexmg_bench.datasets.source import read_source_file, shipped_source_file
n = int(sys.argv[1])
src = read_source_file(shipped_source_file("Threading"))
src = dataclasses.replace(src, demos=tuple(src.demos[k % len(src.demos)] for k in range(n)))
write_minari(src, source_info(src), dataset=f"dexmg/rss-{n}-v0")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def test_peak_rss_flat(record_rate):
    """Peak resident memory of a fresh process writing 10 vs 100 episodes (all allocations)."""
    import subprocess
    import sys

    peaks = {}
    for n in (10, 100):
        out = subprocess.run(
            [sys.executable, "-c", _RSS_SCRIPT, str(n)], capture_output=True, text=True, check=True
        )
        peaks[n] = float(out.stdout.split()[-1])
        record_rate("write Threading lowdim", f"peak_RSS_MiB_{n}_eps", peaks[n])
    assert peaks[100] < peaks[10] + 50.0, peaks


def test_memory_flat(record_rate):
    """Peak traced memory writing 10 vs 50 episodes; streamed writes keep it flat."""
    peaks = {}
    for n in (10, 50):
        src = batch(n)
        tracemalloc.start()
        write_minari(src, source_info(src), dataset=f"dexmg/mem-{n}-v0")
        peaks[n] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        record_rate("write Threading lowdim", f"peak_MiB_{n}_eps", peaks[n])
    assert peaks[50] < 1.5 * peaks[10] + 5.0, peaks
