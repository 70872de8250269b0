"""robomimic/MimicGen HDF5: export -> import returns identical arrays; foreign files are read."""

from __future__ import annotations

import dataclasses
import json

import h5py
import numpy as np
import pytest

from dexmg_bench.datasets import loader, minari_io, robomimic
from dexmg_bench.datasets.source import SourceFile, read_source_file, shipped_source_file
from dexmg_bench.envs import make_task_env


def small_source(steps: int = 6) -> SourceFile:
    """Two shipped Threading demos cut to a few steps (the format does not care about success)."""
    src = read_source_file(shipped_source_file("Threading"))
    demos = tuple(
        dataclasses.replace(
            d,
            actions=d.actions[:steps],
            states=d.states[: steps + 1],
            eef_pose=d.eef_pose[:steps],
            target_pose=d.target_pose[:steps],
            hand=d.hand[:steps],
            object_pose={k: v[:steps] for k, v in d.object_pose.items()},
            signals={a: {s: v[:steps] for s, v in sg.items()} for a, sg in d.signals.items()},
        )
        for d in src.demos[:2]
    )
    return dataclasses.replace(src, demos=demos)


def assert_same_source(a: SourceFile, b: SourceFile) -> None:
    """Every field and array equal, bit for bit."""
    for name in ("env_id", "task", "variant", "origin", "code_version"):
        assert getattr(a, name) == getattr(b, name)
    assert len(a.demos) == len(b.demos)
    for x, y in zip(a.demos, b.demos, strict=True):
        assert (x.seed, x.success) == (y.seed, y.success)
        for name in ("actions", "states", "eef_pose", "target_pose", "hand"):
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name))
        assert x.object_pose.keys() == y.object_pose.keys()
        for k in x.object_pose:
            np.testing.assert_array_equal(x.object_pose[k], y.object_pose[k])
        assert x.signals.keys() == y.signals.keys()
        for arm in x.signals:
            assert x.signals[arm].keys() == y.signals[arm].keys()
            for s in x.signals[arm]:
                np.testing.assert_array_equal(x.signals[arm][s], y.signals[arm][s])
            np.testing.assert_array_equal(x.boundaries[arm], y.boundaries[arm])


def test_export_import_identical_arrays(tmp_path):
    """Full shipped file (10 demos, datagen info) survives export -> import unchanged."""
    src = read_source_file(shipped_source_file("Threading"))
    path = tmp_path / "threading_robomimic.hdf5"
    robomimic.export_robomimic(src, path)
    assert_same_source(src, robomimic.import_robomimic(path))
    with h5py.File(path) as f:
        args = json.loads(f["data"].attrs["env_args"])
        assert args["env_name"] == "DexMG/Threading-D0-v0"
        assert f["data/demo_0/states"].shape[0] == f["data/demo_0/actions"].shape[0]
        assert f["data/demo_0"].attrs["num_samples"] == src.demos[0].num_steps


def test_observations_match_minari(tmp_path):
    """obs/next_obs exported with an env equal the Minari observations of the same demos."""
    src = small_source()
    path = tmp_path / "with_obs.hdf5"
    env = make_task_env("Threading")
    robomimic.export_robomimic(src, path, env=env)
    env.close()
    demos = robomimic.read_robomimic(path)
    minari_io.write_minari(src, minari_io.source_info(src))
    ds = loader.load("dexmg/threading-source-v0")
    for demo, episode in zip(demos, ds.iterate_episodes(), strict=True):
        assert demo.obs.keys() == episode.observations.keys()
        for k, v in demo.obs.items():
            np.testing.assert_array_equal(v, episode.observations[k][:-1])
        np.testing.assert_array_equal(demo.actions, episode.actions)
        np.testing.assert_array_equal(demo.rewards, episode.rewards)
    with h5py.File(path) as f:
        np.testing.assert_array_equal(
            f["data/demo_0/next_obs/needle_pos"][:-1], demos[0].obs["needle_pos"][1:]
        )
    assert_same_source(src, robomimic.import_robomimic(path))


def test_foreign_robosuite_file_is_read_but_not_imported(tmp_path):
    """An official-style file (robosuite env) gives its arrays; importing its states is refused."""
    path = tmp_path / "official.hdf5"
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["env_args"] = json.dumps(
            {"env_name": "TwoArmThreading", "type": 1, "env_kwargs": {}}
        )
        g = data.create_group("demo_0")
        g.create_dataset("actions", data=np.zeros((3, 14)))
        g.create_dataset("states", data=np.ones((3, 50)))
        g.create_dataset("obs/robot0_eef_pos", data=np.zeros((3, 3)))
    (demo,) = robomimic.read_robomimic(path)
    assert demo.actions.shape == (3, 14) and demo.obs["robot0_eef_pos"].shape == (3, 3)
    assert robomimic.read_env_args(path)["env_name"] == "TwoArmThreading"
    with pytest.raises(ValueError, match="not a DexMG env"):
        robomimic.import_robomimic(path)


def test_not_robomimic_file(tmp_path):
    """A source-format file is named as not robomimic; a truncated file as unreadable."""
    with pytest.raises(ValueError, match="not a robomimic file"):
        robomimic.read_robomimic(shipped_source_file("Threading"))
    bad = tmp_path / "cut.hdf5"
    bad.write_bytes(shipped_source_file("Threading").read_bytes()[:5000])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        robomimic.import_robomimic(bad)
