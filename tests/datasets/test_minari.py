"""Minari datasets: ids, round trip to a successful replay, metadata, damaged-file detection."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.datasets import loader, minari_io
from dexmg_bench.datasets.source import (
    SourceDemo,
    SourceFile,
    read_source_file,
    shipped_source_file,
)


def two_source_demos(task: str = "Threading") -> SourceFile:
    """The first two shipped scripted demos of a task."""
    src = read_source_file(shipped_source_file(task))
    return dataclasses.replace(src, demos=src.demos[:2])


def short(demo: SourceDemo, steps: int) -> SourceDemo:
    """The first ``steps`` actions of a demo (for tests that do not need success)."""
    return dataclasses.replace(demo, actions=demo.actions[:steps], states=demo.states[: steps + 1])


def replay(env, episode) -> tuple[bool, dict[str, float]]:
    """Replay stored actions from the stored initial state; success and early obs mismatch."""
    env.reset(seed=0)
    env.unwrapped.set_state(episode.infos["state"][0])
    err: dict[str, float] = {}
    info = {"success": False}
    for t, action in enumerate(episode.actions):
        obs, _, _, _, info = env.step(action)
        if t < 5:  # before chaotic drift: the stored observation is what step returns
            for k, v in obs.items():
                err[k] = max(
                    err.get(k, 0.0), float(np.abs(v - episode.observations[k][t + 1]).max())
                )
    return bool(info["success"]), err


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"task": "Threading"}, "dexmg/threading-v0"),
        ({"task": "PieceAssembly", "origin": "scripted"}, "dexmg/piece-assembly-source-v0"),
        ({"task": "Threading", "variant": "D1"}, "dexmg/threading-d1-v0"),
        (
            {"task": "Transport", "variant": "D2", "tag": "demo-noise"},
            "dexmg/transport-d2-demo-noise-v0",
        ),
    ],
)
def test_dataset_ids(kwargs, expected):
    """Ids follow the house naming (flagship, -source, -d1, generator tag)."""
    assert minari_io.dataset_id(**kwargs) == expected


@pytest.mark.parametrize(
    ("job", "flagship", "expected"),
    [
        ({"task": "Threading"}, False, "dexmg/threading-n10-v0"),
        ({"task": "Threading"}, True, "dexmg/threading-v0"),
        ({"task": "Coffee", "variant": "D1", "generator": "demo-noise"}, False,
         "dexmg/coffee-d1-demo-noise-n10-v0"),
        ({"task": "Threading", "time_warp": 0.25}, True, "dexmg/threading-time-warp-v0"),
    ],
)  # fmt: skip
def test_generated_ids_say_what_the_job_holds(job, flagship, expected):
    """An ad-hoc job's id carries its size; only the flagship build drops it (tags stay)."""
    assert minari_io.generated_id(job, 10, flagship=flagship) == expected


def test_source_round_trip_replays_to_success():
    """Source demos -> Minari -> load -> recover_environment -> replay reaches success."""
    src = two_source_demos()
    written = minari_io.write_minari(src, minari_io.source_info(src))
    assert written.id == "dexmg/threading-source-v0"

    ds = loader.load("dexmg/threading-source-v0", verify=True)
    assert ds.total_episodes == 2
    assert ds.total_steps == sum(d.num_steps for d in src.demos)
    env = ds.recover_environment()
    assert env.spec.id == "DexMG/Threading-D0-v0"
    assert env.spec.max_episode_steps == 400
    for episode, demo in zip(ds.iterate_episodes(), src.demos, strict=True):
        np.testing.assert_array_equal(episode.actions, demo.actions)
        np.testing.assert_array_equal(episode.infos["state"], demo.states)
        assert episode.infos["success"][-1] and episode.rewards[-1] == 1.0
        assert episode.truncations[-1] and not episode.terminations.any()
        ok, err = replay(env, episode)
        assert ok
        assert max(err.values()) < 1e-9, err
    env.close()


def test_metadata_and_namespace():
    """Dataset, episode and namespace metadata carry what the cards and publishing need."""
    import minari
    from minari.namespace import get_namespace_metadata

    src = two_source_demos()
    src = dataclasses.replace(src, demos=tuple(short(d, 3) for d in src.demos))
    minari_io.write_minari(src, minari_io.source_info(src))
    meta = minari.load_dataset("dexmg/threading-source-v0").storage.metadata
    assert minari_io.missing_metadata(meta) == []
    assert meta["dexmg"]["seeds"] == [d.seed for d in src.demos]
    assert meta["dexmg"]["code_version"]
    assert meta["dexmg"]["action_layout"]["left"]["hand"] == [13, 14]
    ns = get_namespace_metadata("dexmg")
    assert "DexMimicGen" in ns["citation"] and ns["description"]
    episode_meta = list(
        minari.load_dataset("dexmg/threading-source-v0").storage.get_episode_metadata([1])
    )
    assert episode_meta[0]["seed"] == src.demos[1].seed


def test_generated_requires_source_dataset(tmp_path):
    """A generated dataset without its source id is refused and leaves no partial dataset."""
    src = two_source_demos()
    gen = dataclasses.replace(src, origin="generated", demos=(short(src.demos[0], 2),))
    with pytest.raises(ValueError, match="source dataset"):
        minari_io.write_minari(
            gen, minari_io.DatasetInfo(generator="dexmimicgen"), dataset="dexmg/threading-v0"
        )
    # the failed write left nothing behind
    assert not (tmp_path / "minari" / "dexmg" / "threading-v0").exists()


def test_generated_episodes_never_default_to_the_flagship_id(tmp_path):
    """Only the flagship build writes ``dexmg/<task>-v0``: generated episodes must name an id."""
    src = two_source_demos()
    gen = dataclasses.replace(src, origin="generated", demos=(short(src.demos[0], 2),))
    info = minari_io.DatasetInfo(generator="dexmimicgen", source_dataset=src.env_id)
    with pytest.raises(ValueError, match="need a dataset id"):
        minari_io.write_minari(gen, info)
    assert not (tmp_path / "minari" / "dexmg" / "threading-v0").exists()


def test_existing_dataset_is_not_overwritten_silently():
    """Rewriting an id needs overwrite=True."""
    src = two_source_demos()
    src = dataclasses.replace(src, demos=(short(src.demos[0], 2),))
    minari_io.write_minari(src, minari_io.source_info(src))
    with pytest.raises(FileExistsError, match="overwrite"):
        minari_io.write_minari(src, minari_io.source_info(src))
    assert (
        minari_io.write_minari(src, minari_io.source_info(src), overwrite=True).total_episodes == 1
    )


def _small_dataset(tmp_path: Path) -> Path:
    src = two_source_demos()
    src = dataclasses.replace(src, demos=tuple(short(d, 4) for d in src.demos))
    minari_io.write_minari(src, minari_io.source_info(src))
    return tmp_path / "minari" / "dexmg" / "threading-source-v0" / "data"


def test_content_hash_is_stable_across_rewrites_and_sees_changes(tmp_path):
    """Rewriting the same episodes gives the same content hash; one changed action changes it."""
    import time

    data = _small_dataset(tmp_path)
    first = minari_io.dataset_content_sha256("dexmg/threading-source-v0")
    assert first == minari_io.content_sha256(data / "main_data.hdf5")  # recorded == recomputed
    file_hash = minari_io.file_sha256(data / "main_data.hdf5")
    time.sleep(1.1)  # HDF5 stores object times in whole seconds
    src = two_source_demos()
    src = dataclasses.replace(src, demos=tuple(short(d, 4) for d in src.demos))
    minari_io.write_minari(src, minari_io.source_info(src), overwrite=True)
    assert minari_io.dataset_content_sha256("dexmg/threading-source-v0") == first
    print(f"file sha256: {file_hash} then {minari_io.file_sha256(data / 'main_data.hdf5')}")
    demo = src.demos[0]
    changed = dataclasses.replace(
        demo, actions=demo.actions + np.eye(1, demo.actions.size).reshape(demo.actions.shape) * 1e-9
    )
    src = dataclasses.replace(src, demos=(changed, src.demos[1]))
    minari_io.write_minari(src, minari_io.source_info(src), overwrite=True)
    assert minari_io.dataset_content_sha256("dexmg/threading-source-v0") != first


def test_truncated_file_is_detected(tmp_path):
    """A truncated main_data.hdf5 raises DatasetError with a clear message."""
    data = _small_dataset(tmp_path)
    main = data / "main_data.hdf5"
    main.write_bytes(main.read_bytes()[: main.stat().st_size // 2])
    with pytest.raises(loader.DatasetError, match="truncated or corrupt"):
        loader.load("dexmg/threading-source-v0")


def test_flipped_bytes_fail_the_checksum(tmp_path):
    """Bytes changed in place still parse as HDF5; verify=True catches them by checksum."""
    data = _small_dataset(tmp_path)
    main = data / "main_data.hdf5"
    raw = bytearray(main.read_bytes())
    raw[-200:-100] = bytes(100)
    main.write_bytes(bytes(raw))
    loader.load("dexmg/threading-source-v0")  # the structure is intact
    with pytest.raises(loader.DatasetError, match="SHA-256"):
        loader.load("dexmg/threading-source-v0", verify=True)


def test_corrupt_metadata_and_missing_episode_are_detected(tmp_path):
    """Episode count mismatch and unparsable metadata raise DatasetError."""
    import h5py

    data = _small_dataset(tmp_path)
    with h5py.File(data / "main_data.hdf5", "a") as f:
        del f["episode_1"]
    with pytest.raises(loader.DatasetError, match="has 1 episodes, metadata says 2"):
        loader.load("dexmg/threading-source-v0")
    (data / "metadata.json").write_text('{"dataset_id": ')
    with pytest.raises(loader.DatasetError, match="unreadable metadata"):
        loader.load("dexmg/threading-source-v0")


def test_interrupted_write_is_refused(tmp_path):
    """A dataset without the completion flag is refused and counts as incomplete."""
    data = _small_dataset(tmp_path)
    meta = json.loads((data / "metadata.json").read_text())
    meta["dexmg"]["complete"] = False
    (data / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(loader.DatasetError, match="writing was interrupted"):
        loader.load("dexmg/threading-source-v0")
    assert "dexmg.complete" in minari_io.missing_metadata(meta)


def test_missing_dataset_names_the_fix():
    """An absent dataset says how to get it."""
    with pytest.raises(FileNotFoundError, match="minari download dexmg/nope-v0"):
        loader.load("dexmg/nope-v0")


@pytest.mark.slow
def test_generated_round_trip(tmp_path):
    """Acceptance 1: generate 2 episodes -> Minari -> load -> recover_environment -> replay."""
    from dexmg_bench.generators.run import GenerateConfig, generate

    job = tmp_path / "job"
    stats = generate(GenerateConfig(task="Threading", n=2, seed=0), job, progress=False)
    assert stats["complete"]
    src = read_source_file(job / stats["output"])
    minari_io.write_minari(src, minari_io.generated_info(job), dataset="dexmg/threading-v0")
    ds = loader.load("dexmg/threading-v0", verify=True)
    meta = ds.storage.metadata
    assert minari_io.missing_metadata(meta) == []
    assert meta["dexmg"]["source_dataset"] == "dexmg/threading-source-v0"
    assert meta["dexmg"]["generation_stats"]["kept"] == 2
    assert meta["dexmg"]["generator_config"]["seed"] == 0
    env = ds.recover_environment()
    for episode in ds.iterate_episodes():
        ok, err = replay(env, episode)
        assert ok
        assert max(err.values()) < 1e-9, err


def test_minari_back_to_source_demos():
    """A Minari dataset rebuilds its source file: same arrays, datagen info and boundaries."""
    from dexmg_bench.datasets.minari_source import read_minari_source

    src = two_source_demos()
    minari_io.write_minari(src, minari_io.source_info(src))
    back = read_minari_source("dexmg/threading-source-v0")
    assert (back.env_id, back.task, back.origin) == (src.env_id, src.task, src.origin)
    for a, b in zip(src.demos, back.demos, strict=True):
        assert (a.seed, a.success) == (b.seed, b.success)
        np.testing.assert_array_equal(a.actions, b.actions)
        np.testing.assert_array_equal(a.states, b.states)
        np.testing.assert_allclose(b.eef_pose, a.eef_pose, atol=1e-12)
        np.testing.assert_allclose(b.target_pose, a.target_pose, atol=1e-12)
        np.testing.assert_array_equal(b.hand, a.hand)
        for k in a.object_pose:
            np.testing.assert_allclose(b.object_pose[k], a.object_pose[k], atol=1e-12)
        for arm in a.signals:
            for s in a.signals[arm]:
                np.testing.assert_array_equal(b.signals[arm][s], a.signals[arm][s])
            np.testing.assert_array_equal(b.boundaries[arm], a.boundaries[arm])
