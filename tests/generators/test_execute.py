"""The simulator side of generation: attempts, kept episodes, input checks, stop and resume."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from dexmg_bench.datasets.minari_io import write_generated_job
from dexmg_bench.datasets.record import replay_demo
from dexmg_bench.datasets.source import read_source_file, shipped_source_file
from dexmg_bench.envs import make_task_env
from dexmg_bench.generators.execute import DexMimicGen, attempt_rngs
from dexmg_bench.generators.run import GenerateConfig, Stopped, check_inputs, generate
from dexmg_bench.generators.spec import SpecError, load_spec, spec_path


def _generator(horizon: int = 400) -> DexMimicGen:
    src = read_source_file(shipped_source_file("Threading"))
    env = make_task_env("Threading")
    return DexMimicGen(env, load_spec(spec_path("Threading")), src.demos, horizon=horizon)


def test_attempt_randomness_depends_only_on_seed_and_index():
    """Attempt k draws the same env seed and streams wherever it runs."""
    a, b = attempt_rngs(7, 3), attempt_rngs(7, 3)
    assert a[0] == b[0] and a[1].random() == b[1].random() and a[2].random() == b[2].random()
    assert attempt_rngs(7, 4)[0] != a[0]


def test_attempts_are_reproducible():
    """The same (seed, index) gives the same steps and outcome."""
    gen = _generator(horizon=40)
    first, second = gen.attempt(0, 1), gen.attempt(0, 1)
    assert (first.steps, first.failure, first.env_seed) == (
        second.steps,
        second.failure,
        second.env_seed,
    )


def test_a_kept_episode_replays_to_success():
    """A generated episode, replayed from its stored initial state, succeeds."""
    gen = _generator()
    for index in range(8):
        attempt = gen.attempt(0, index)
        if attempt.success:
            break
    assert attempt.success, "no success in 8 Threading attempts"
    assert attempt.demo is not None
    env = make_task_env("Threading")
    assert replay_demo(env, attempt.demo)
    np.testing.assert_array_equal(env.get_state(), attempt.demo.states[-1])


def test_inputs_are_checked_before_simulation(tmp_path):
    """A source file of another task, or an unknown task, fails at once with a clear error."""
    with pytest.raises(ValueError, match="source demos are for 'Threading'"):
        check_inputs(
            GenerateConfig(task="PieceAssembly", source=str(shipped_source_file("Threading")))
        )
    with pytest.raises(ValueError, match="unknown task"):
        check_inputs(GenerateConfig(task="Threadng"))
    with pytest.raises(ValueError, match="`n` must be >= 1"):
        GenerateConfig(task="Threading", n=0)
    with pytest.raises(ValueError, match="unknown variant 'D7'"):
        check_inputs(GenerateConfig(task="Threading", variant="D7"))


def _copy_source(tmp_path: Path) -> Path:
    path = tmp_path / "threading.hdf5"
    shutil.copyfile(shipped_source_file("Threading"), path)
    return path


def test_source_without_datagen_info_fails_before_simulation(tmp_path, monkeypatch):
    """A demo lacking its datagen group is named in the error; no env is ever built."""
    path = _copy_source(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["demo_3/datagen"]
    monkeypatch.setattr("dexmg_bench.generators.run.map_attempts", _no_simulation)
    with pytest.raises(ValueError, match=r"demo_3 lacks \['datagen'\]"):
        generate(GenerateConfig(task="Threading", source=str(path)), tmp_path / "out")
    path = _copy_source(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["demo_0/boundaries/left"]
    with pytest.raises(ValueError, match="demo 0 has no segmentation of arm 'left'"):
        generate(GenerateConfig(task="Threading", source=str(path)), tmp_path / "out")


def test_source_of_another_env_version_fails_before_simulation(tmp_path, monkeypatch):
    """Demos recorded in another version of the env are refused, naming both ids."""
    path = _copy_source(tmp_path)
    with h5py.File(path, "r+") as f:
        f.attrs["env_id"] = "DexMG/Threading-D0-v9"
    monkeypatch.setattr("dexmg_bench.generators.run.map_attempts", _no_simulation)
    with pytest.raises(ValueError, match="recorded in DexMG/Threading-D0-v9.*Threading-D0-v0"):
        generate(GenerateConfig(task="Threading", source=str(path)), tmp_path / "out")


def test_malformed_spec_fails_before_simulation(tmp_path, monkeypatch):
    """A spec with a bad field, or naming an object the env lacks, fails with its location."""
    monkeypatch.setattr("dexmg_bench.generators.run.map_attempts", _no_simulation)
    text = spec_path("Threading").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('kind = "coordination"', 'kind = "coordinated"', 1))
    with pytest.raises(SpecError, match=r"bad.toml: arm 'right'.*'kind'.*'coordinated'"):
        generate(GenerateConfig(task="Threading", spec=str(bad)), tmp_path / "out")
    bad.write_text(text.replace('object_ref = "needle"', 'object_ref = "thread"'))
    with pytest.raises(SpecError, match="'object_ref' names 'thread', not an object"):
        generate(GenerateConfig(task="Threading", spec=str(bad)), tmp_path / "out")
    bad.write_text(text.replace('task = "Threading"', 'task = "Transport"'))
    with pytest.raises(ValueError, match="is a spec for 'Transport', not 'Threading'"):
        generate(GenerateConfig(task="Threading", spec=str(bad)), tmp_path / "out")


def test_a_stop_request_ends_the_job_after_the_attempt_in_flight(tmp_path):
    """The flag a signal handler sets is polled: the job stops, keeps its log, writes no stats."""
    config = GenerateConfig(task="Threading", n=5, generator="demo-noise", action_noise=0.01)
    log = tmp_path / "job" / "attempts.jsonl"

    def should_stop() -> bool:  # as if a signal came while attempt 1 ran
        return log.exists() and log.read_text().count("\n") >= 2

    with pytest.raises(Stopped, match="stopped after 2 attempts"):
        generate(config, tmp_path / "job", progress=False, should_stop=should_stop)
    rows = log.read_text().splitlines()
    assert len(rows) == 2 and not (tmp_path / "job" / "stats.json").exists()
    stats = generate(config, tmp_path / "job", progress=False)  # resumes where it stopped
    assert stats["complete"] and stats["attempts"] >= 5


def test_an_exhausted_attempt_budget_keeps_its_successes(tmp_path):
    """--max-attempts reached short of n: the successes are written and counted.

    The job is marked incomplete (no Minari dataset), and a rerun with a larger budget
    completes it in the same folder.
    """
    config = GenerateConfig(
        task="Threading", n=4, max_attempts=2, generator="demo-noise", action_noise=0.01
    )
    stats = generate(config, tmp_path / "job", progress=False)
    assert stats["attempts"] == 2 and not stats["complete"]
    assert stats["kept"] == stats["successes"] >= 1  # small noise: nearly every attempt succeeds
    partial = read_source_file(tmp_path / "job" / stats["output"])
    assert len(partial.demos) == stats["kept"]
    with pytest.raises(ValueError, match="not complete"):
        write_generated_job(tmp_path / "job", dataset="dexmg/test-partial-v0")
    bigger = dataclasses.replace(config, max_attempts=20)
    stats = generate(bigger, tmp_path / "job", progress=False)
    assert stats["complete"] and stats["kept"] == 4
    assert len(read_source_file(tmp_path / "job" / stats["output"]).demos) == 4


def _no_simulation(*args, **kwargs):
    raise AssertionError("simulation started despite bad inputs")
