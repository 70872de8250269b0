"""Observations recorded while episodes run: kept in source files, copied by the writers.

A writer copies them instead of restoring every stored state in a simulator; files without them
(older jobs) are written by recomputing. For the Panda tasks both give the same arrays bit for
bit. The GR-1 tasks' ``step`` reads body poses one physics substep before its last (it ends on
``mj_step``, no ``mj_forward``), so there the recorded observations are what ``step`` returns
(and what a replay returns, bit for bit) and the recomputed ones differ in the pose keys.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.datasets import minari_io
from dexmg_bench.datasets.record import run_expert
from dexmg_bench.datasets.source import (
    DemoRecorder,
    LazyDemos,
    SourceFile,
    read_source_file,
    write_source_file,
)
from dexmg_bench.envs import make_task_env, task_entry


def scripted(task: str, seeds: tuple[int, ...], steps: int) -> SourceFile:
    """Short scripted episodes (first ``steps`` actions), recorded with their observations."""
    env = make_task_env(task)
    try:
        demos = tuple(run_expert(env, s, horizon=steps)[0] for s in seeds)
    finally:
        env.close()
    # Cut short, they end before any subtask signal: one whole-episode segment, so that source
    # files (which require segmentation) take them.
    demos = tuple(
        dataclasses.replace(
            d,
            signals={"right": {"cut": np.zeros(d.num_steps, bool)}},
            boundaries={"right": np.array([d.num_steps])},
        )
        for d in demos
    )
    return SourceFile(
        env_id=task_entry(task).env_id("D0"),
        task=task,
        variant="D0",
        origin="scripted",
        code_version="test",
        demos=demos,
    )


def without_obs(src: SourceFile) -> SourceFile:
    """The same episodes as an older file holds them: no recorded observations."""
    demos = tuple(dataclasses.replace(d, observations=None, state_success=None) for d in src.demos)
    return dataclasses.replace(src, demos=demos)


def through_file(src: SourceFile, path: Path) -> SourceFile:
    """Write the file and read it back lazily, as the job writer does."""
    write_source_file(path, src)
    return read_source_file(path, lazy=True)


def main_data(ds) -> Path:
    """The dataset's HDF5 file."""
    return Path(ds.storage.data_path) / "main_data.hdf5"


@pytest.fixture(scope="module")
def threading_src() -> SourceFile:
    """Two 25-step scripted Threading episodes with their observations."""
    return scripted("Threading", (0, 1), 25)


def test_recorder_keeps_what_step_returned(threading_src):
    """T + 1 observations per episode, in the env's key order, with per-state success."""
    env = make_task_env("Threading")
    try:
        for demo in threading_src.demos:
            assert demo.observations is not None and demo.state_success is not None
            assert list(demo.observations) == list(env.reset(seed=0)[0])
            n = demo.num_steps + 1
            assert all(v.shape[0] == n for v in demo.observations.values())
            assert demo.state_success.shape == (n,)
            env.reset(seed=demo.seed)
            env.set_state(demo.states[0])
            for t in range(5):
                obs, _, _, _, info = env.step(demo.actions[t])
                for k, v in obs.items():
                    np.testing.assert_array_equal(v, demo.observations[k][t + 1])
                assert info["success"] == demo.state_success[t + 1]
    finally:
        env.close()


def test_recorder_needs_every_step_observation():
    """A recorder started with an observation refuses a step without one (misaligned arrays)."""
    env = make_task_env("Threading")
    try:
        obs, info = env.reset(seed=0)
        rec = DemoRecorder(env, 0, obs, info["success"])
        action = np.zeros(env.action_space.shape)
        rec.before_step(action)
        env.step(action)
        with pytest.raises(ValueError, match="pass the step's obs"):
            rec.after_step()
    finally:
        env.close()


def test_source_file_keeps_observations_in_order(threading_src, tmp_path):
    """Recorded observations survive the source file bit for bit, in the env's key order."""
    write_source_file(tmp_path / "s.hdf5", threading_src)
    back = read_source_file(tmp_path / "s.hdf5")
    for a, b in zip(threading_src.demos, back.demos, strict=True):
        assert list(a.observations) == list(b.observations)
        for k in a.observations:
            np.testing.assert_array_equal(a.observations[k], b.observations[k])
            assert a.observations[k].dtype == b.observations[k].dtype
        np.testing.assert_array_equal(a.state_success, b.state_success)


def test_lazy_demos_without_datagen_read_what_writers_need(threading_src, tmp_path):
    """``datagen=False``: the same actions, states and observations; no datagen info."""
    src = through_file(threading_src, tmp_path / "s.hdf5")
    light = LazyDemos(src.demos.items, datagen=False)
    for a, b in zip(threading_src.demos, light, strict=True):
        np.testing.assert_array_equal(a.actions, b.actions)
        np.testing.assert_array_equal(a.states, b.states)
        np.testing.assert_array_equal(a.state_success, b.state_success)
        for k in a.observations:
            np.testing.assert_array_equal(a.observations[k], b.observations[k])
        assert (a.seed, a.success) == (b.seed, b.success)
        assert b.eef_pose.size == 0 and b.object_pose == {} and b.boundaries == {}


def test_recorded_and_recomputed_writes_are_identical(threading_src, tmp_path):
    """Panda task: a file with observations and one without give the same dataset content."""
    new = through_file(threading_src, tmp_path / "new.hdf5")
    old = through_file(without_obs(threading_src), tmp_path / "old.hdf5")
    assert next(iter(old.demos)).observations is None
    a = minari_io.write_minari(new, minari_io.source_info(new), dataset="dexmg/rec-a-v0")
    b = minari_io.write_minari(old, minari_io.source_info(old), dataset="dexmg/rec-b-v0")
    for ea, eb in zip(a.iterate_episodes(), b.iterate_episodes(), strict=True):
        assert sorted(ea.observations) == sorted(eb.observations)
        for k in ea.observations:
            np.testing.assert_array_equal(ea.observations[k], eb.observations[k])
            assert ea.observations[k].dtype == eb.observations[k].dtype
        np.testing.assert_array_equal(ea.infos["success"], eb.infos["success"])
        np.testing.assert_array_equal(ea.rewards, eb.rewards)
    assert minari_io.content_sha256(main_data(a)) == minari_io.content_sha256(main_data(b))


def test_recorded_observations_are_copied_not_recomputed(threading_src, tmp_path):
    """The writers use the recorded arrays (shifted here by +1 to tell them apart)."""
    from dexmg_bench.datasets.robomimic import export_robomimic, read_robomimic

    shifted = tuple(
        dataclasses.replace(d, observations={k: v + 1.0 for k, v in d.observations.items()})
        for d in threading_src.demos
    )
    src = dataclasses.replace(threading_src, demos=shifted)
    ds = minari_io.write_minari(src, minari_io.source_info(src), dataset="dexmg/rec-c-v0")
    for demo, ep in zip(shifted, ds.iterate_episodes(), strict=True):
        for k, v in demo.observations.items():
            np.testing.assert_array_equal(ep.observations[k], v)
    env = make_task_env("Threading")
    try:
        export_robomimic(src, tmp_path / "r.hdf5", env=env)
        (back, *_) = read_robomimic(tmp_path / "r.hdf5")
    finally:
        env.close()
    for k, v in shifted[0].observations.items():
        np.testing.assert_array_equal(back.obs[k], v[:-1])


def test_a_source_with_unrecorded_episodes_is_recomputed_whole(threading_src, tmp_path):
    """One definition per dataset: if any episode lacks observations, none are copied."""
    d0, d1 = threading_src.demos
    mixed = (
        dataclasses.replace(d0, observations={k: v + 1.0 for k, v in d0.observations.items()}),
        dataclasses.replace(d1, observations=None, state_success=None),
    )
    src = through_file(dataclasses.replace(threading_src, demos=mixed), tmp_path / "m.hdf5")
    assert not minari_io.all_recorded(src.demos)
    assert minari_io.all_recorded(through_file(threading_src, tmp_path / "r.hdf5").demos)
    ds = minari_io.write_minari(src, minari_io.source_info(src), dataset="dexmg/rec-m-v0")
    first = next(iter(ds.iterate_episodes()))
    for k, v in d0.observations.items():  # recomputed: the unshifted arrays
        np.testing.assert_array_equal(first.observations[k], v)


@pytest.mark.render
def test_render_keeps_the_source_low_dim_observations(threading_src):
    """Re-rendering adds images; the low-dim keys stay the source dataset's (shifted here)."""
    from dexmg_bench.datasets.render import render_dataset

    shifted = tuple(
        dataclasses.replace(d, observations={k: v + 1.0 for k, v in d.observations.items()})
        for d in threading_src.demos
    )
    src = dataclasses.replace(threading_src, demos=shifted)
    minari_io.write_minari(src, minari_io.source_info(src), dataset="dexmg/rec-r-v0")
    ds = render_dataset("dexmg/rec-r-v0", cameras=("overview",), size=32, workers=1, progress=False)
    for demo, ep in zip(shifted, ds.iterate_episodes(), strict=True):
        assert ep.observations["overview_image"].shape == (demo.num_steps + 1, 32, 32, 3)
        for k, v in demo.observations.items():
            np.testing.assert_array_equal(ep.observations[k], v)


def test_observations_that_do_not_fit_are_recomputed(threading_src):
    """A demo cut after recording (or from another env version) falls back to its states."""
    d = threading_src.demos[0]
    cut = dataclasses.replace(d, actions=d.actions[:10], states=d.states[:11])
    env = make_task_env("Threading")
    try:
        assert minari_io.recorded_observations(env, cut) is None
        arrays = minari_io.demo_arrays(env, cut)
        for k, v in arrays["observations"].items():
            np.testing.assert_array_equal(v, d.observations[k][:11])
        renamed = dict(d.observations)
        renamed["other"] = renamed.pop("right_eef_pos")
        assert (
            minari_io.recorded_observations(env, dataclasses.replace(d, observations=renamed))
            is None
        )
    finally:
        env.close()


@pytest.mark.slow
def test_humanoid_recorded_observations_are_what_replay_returns(tmp_path):
    """GR-1 (Can Sorting): the written observations are what ``step`` returns on replay.

    Bit for bit; recomputing them from the states gives the same joints, but poses one substep
    later.
    """
    src = through_file(scripted("CanSorting", (0,), 40), tmp_path / "cs.hdf5")
    ds = minari_io.write_minari(src, minari_io.source_info(src), dataset="dexmg/rec-cs-v0")
    (episode,) = list(ds.iterate_episodes())
    env = ds.recover_environment()
    env.reset(seed=0)
    env.unwrapped.set_state(episode.infos["state"][0])
    for t in range(10):
        obs, _, _, _, _ = env.step(episode.actions[t])
        for k, v in obs.items():
            np.testing.assert_array_equal(v, episode.observations[k][t + 1])
    env.close()
    old = minari_io.write_minari(
        src, minari_io.source_info(src), dataset="dexmg/rec-cs2-v0", recompute=True
    )
    (recomputed,) = list(old.iterate_episodes())
    for k, v in episode.observations.items():
        if k.endswith(("joint_pos", "joint_vel", "gripper_qpos")):
            np.testing.assert_array_equal(v, recomputed.observations[k])
        else:  # one 2 ms substep of motion
            np.testing.assert_allclose(v, recomputed.observations[k], atol=5e-3)
    np.testing.assert_array_equal(episode.infos["success"], recomputed.infos["success"])


_PEAK_RSS = """
import dataclasses, sys
from dexmg_bench.datasets.minari_io import source_info, write_minari
from dexmg_bench.datasets.source import LazyDemos, read_source_file
path, n = sys.argv[1], int(sys.argv[2])
src = read_source_file(path, lazy=True)
items = [src.demos.items[k % len(src.demos)] for k in range(n)]
src = dataclasses.replace(src, demos=LazyDemos(items))
write_minari(src, source_info(src), dataset=f"dexmg/rss-{n}-v0")
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) / 1024)
"""


def test_write_memory_does_not_grow_with_episode_count(threading_src, tmp_path):
    """Streamed writes: the peak RSS of a process writing 300 episodes is that of writing 30.

    Every allocation counts (HDF5's own too: reading a 1000-episode file back for its content
    hash in one open file held 330 MB more than in one of 50 episodes).
    """
    import subprocess
    import sys

    path = tmp_path / "src.hdf5"
    write_source_file(path, threading_src)
    peaks = {}
    for n in (30, 300):
        out = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS, str(path), str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks[n] = float(out.stdout.split()[-1])
    assert peaks[300] < peaks[30] + 25.0, peaks


@pytest.mark.slow
def test_generated_job_written_both_ways_is_identical(tmp_path):
    """A 2-episode DexMimicGen job (Threading) written both ways: the same content.

    Its files keep the observations; copying them or recomputing them from the states gives
    every array bit for bit.
    """
    from dexmg_bench.generators.run import GenerateConfig, generate

    job = tmp_path / "job"
    stats = generate(GenerateConfig(task="Threading", n=2, seed=0), job, progress=False)
    src = read_source_file(job / stats["output"], lazy=True)
    assert all(d.observations is not None for d in src.demos)
    info = minari_io.generated_info(job)
    a = minari_io.write_minari(src, info, dataset="dexmg/job-a-v0")
    b = minari_io.write_minari(src, info, dataset="dexmg/job-b-v0", recompute=True)
    for ea, eb in zip(a.iterate_episodes(), b.iterate_episodes(), strict=True):
        for k in ea.observations:
            np.testing.assert_array_equal(ea.observations[k], eb.observations[k])
        np.testing.assert_array_equal(ea.infos["success"], eb.infos["success"])
    assert minari_io.content_sha256(main_data(a)) == minari_io.content_sha256(main_data(b))
