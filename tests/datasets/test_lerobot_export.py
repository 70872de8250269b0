"""LeRobot export: the layout LeRobot 0.4 reads, frames equal the Minari episodes, same bytes twice.

Camera images become videos; the rendered tests decode them and compare with the stored images.
The slow tests open exports with LeRobot's own ``LeRobotDataset`` in a separate interpreter
(``DEXMG_LEROBOT_PYTHON``): LeRobot 0.4.4 pins torch below 2.11, so it cannot share our venv.
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from dexmg_bench.baselines.data import default_obs_keys, flatten_obs
from dexmg_bench.cli import main
from dexmg_bench.datasets.loader import load

pq = pytest.importorskip("pyarrow.parquet", reason="the lerobot extra (pyarrow) is not installed")

from dexmg_bench.datasets.lerobot_export import export_lerobot  # noqa: E402

FILES = (
    "meta/info.json",
    "meta/stats.json",
    "meta/tasks.parquet",
    "meta/episodes/chunk-000/file-000.parquet",
    "data/chunk-000/file-000.parquet",
)


def _episodes(ds_id: str) -> list:
    return list(load(ds_id).iterate_episodes())


def _column(table, name: str) -> np.ndarray:
    return np.array(table.column(name).to_pylist())


def test_export_layout_and_frames(threading_source, tmp_path):
    """Every file LeRobot opens, info fields it reads, and each row equal to the Minari step."""
    out = tmp_path / "lerobot"
    done = export_lerobot(threading_source, out)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == sorted(FILES)
    episodes = _episodes(threading_source)
    lengths = [len(ep.actions) for ep in episodes]
    assert (done.episodes, done.frames, done.fps) == (3, sum(lengths), 20)

    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0"
    assert (info["fps"], info["total_episodes"], info["total_frames"]) == (20, 3, sum(lengths))
    assert info["total_tasks"] == 1 and info["video_path"] is None
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    keys = default_obs_keys(list(episodes[0].observations))
    state = flatten_obs(episodes[0].observations, keys)
    sim = np.asarray(episodes[0].infos["state"])
    features = info["features"]
    assert features["observation.state"]["shape"] == [state.shape[1]]
    assert len(features["observation.state"]["names"]) == state.shape[1]
    assert features["observation.state"]["names"][:4] == [f"left_eef_pos.{c}" for c in "xyz"] + [
        "left_eef_quat.w"
    ]
    assert features["observation.sim_state"] == {
        "dtype": "float64",
        "shape": [sim.shape[1]],
        "names": None,
    }
    assert features["action"]["shape"] == [episodes[0].actions.shape[1]]
    assert features["action"]["names"][0] == "right_dpos.0"
    assert len(features["action"]["names"]) == episodes[0].actions.shape[1]
    assert features["next.success"]["dtype"] == "bool"
    for key in ("frame_index", "episode_index", "index", "task_index"):
        assert features[key] == {"dtype": "int64", "shape": [1], "names": None}
    assert features["timestamp"]["dtype"] == "float32"
    assert info["dexmg"]["observation_keys"] == list(keys)

    data = pq.read_table(out / "data/chunk-000/file-000.parquet")
    assert data.column_names == list(features)
    np.testing.assert_array_equal(_column(data, "index"), np.arange(sum(lengths)))
    starts = np.cumsum([0, *lengths])
    for k, ep in enumerate(episodes):
        rows = slice(starts[k], starts[k + 1])
        np.testing.assert_array_equal(_column(data, "episode_index")[rows], k)
        np.testing.assert_array_equal(_column(data, "frame_index")[rows], np.arange(lengths[k]))
        np.testing.assert_array_equal(
            _column(data, "timestamp")[rows], (np.arange(lengths[k]) / 20).astype(np.float32)
        )
        np.testing.assert_array_equal(
            _column(data, "action")[rows], np.asarray(ep.actions, np.float32)
        )
        np.testing.assert_array_equal(
            _column(data, "observation.state")[rows], flatten_obs(ep.observations, keys)[:-1]
        )
        np.testing.assert_array_equal(
            _column(data, "observation.sim_state")[rows], np.asarray(ep.infos["state"])[:-1]
        )
        np.testing.assert_array_equal(
            _column(data, "next.success")[rows], np.asarray(ep.infos["success"])[1:]
        )
    np.testing.assert_array_equal(_column(data, "task_index"), 0)

    eps = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["length"] for e in eps] == lengths
    assert [e["dataset_from_index"] for e in eps] == list(starts[:-1])
    assert [e["dataset_to_index"] for e in eps] == list(starts[1:])
    assert [e["success"] for e in eps] == [bool(ep.infos["success"][-1]) for ep in episodes]
    assert all(e["success"] for e in eps)  # the shipped scripted demos all succeed
    assert {(e["data/chunk_index"], e["data/file_index"]) for e in eps} == {(0, 0)}
    tasks = pq.read_table(out / "meta/tasks.parquet").to_pylist()
    assert tasks == [{"task_index": 0, "task": eps[0]["tasks"][0]}]
    assert "thread the needle" in tasks[0]["task"]

    stats = json.loads((out / "meta/stats.json").read_text())
    assert set(stats) == set(features)
    actions = np.concatenate([ep.actions for ep in episodes]).astype(np.float32)
    np.testing.assert_allclose(stats["action"]["min"], actions.min(0))
    np.testing.assert_allclose(stats["action"]["mean"], actions.astype(np.float64).mean(0))
    assert stats["action"]["count"] == [sum(lengths)]
    assert {"min", "max", "mean", "std", "count", "q01", "q50", "q99"} <= set(stats["action"])


def test_export_is_deterministic(threading_source, tmp_path):
    """Two exports of the same dataset are the same bytes, file for file."""
    a, b = (
        export_lerobot(threading_source, tmp_path / "a"),
        export_lerobot(threading_source, tmp_path / "b"),
    )
    for name in FILES:
        assert (a.root / name).read_bytes() == (b.root / name).read_bytes(), name


def test_bad_input_is_one_error_line(threading_source, tmp_path, capsys):
    """A missing dataset and a non-empty --out stop with one ``dexmg: error:`` line."""
    out = tmp_path / "out"
    with pytest.raises(SystemExit):
        main(["datasets", "export-lerobot", "dexmg/nothing-here-v0", "--out", str(out)])
    err = capsys.readouterr().err
    assert err.startswith("dexmg: error: dataset dexmg/nothing-here-v0 not found")
    assert len(err.splitlines()) == 1 and not out.exists()

    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit):
        main(["datasets", "export-lerobot", threading_source, "--out", str(out)])
    err = capsys.readouterr().err
    assert err.startswith("dexmg: error:") and "not an empty folder" in err
    assert len(err.splitlines()) == 1
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


LEROBOT_READ = """
import json, sys
from lerobot.datasets.lerobot_dataset import LeRobotDataset
ds = LeRobotDataset("dexmg/threading-source", root=sys.argv[1])
rows = [ds[i] for i in range(len(ds))]
keys = ["observation.state", "observation.sim_state", "action", "next.success",
        "timestamp", "frame_index", "episode_index", "index", "task_index"]
print(json.dumps({
    "fps": ds.fps, "num_episodes": ds.num_episodes, "num_frames": ds.num_frames,
    "tasks": [r["task"] for r in rows],
    "frames": {k: [r[k].tolist() for r in rows] for k in keys},
    "dtypes": {k: str(rows[0][k].dtype) for k in keys},
    "sim_state_table": ds.hf_dataset.data.table.column("observation.sim_state").to_pylist(),
}))
"""


@pytest.mark.slow
def test_lerobot_dataset_reads_the_export(threading_source, tmp_path):
    """A 3-episode Threading export loads in LeRobot's dataset class; its frames equal ours."""
    python = os.environ.get("DEXMG_LEROBOT_PYTHON")
    if not python:
        pytest.skip("DEXMG_LEROBOT_PYTHON (a Python with lerobot 0.4.4 installed) is not set")
    done = export_lerobot(threading_source, tmp_path / "lerobot")
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [python, "-c", LEROBOT_READ, str(done.root)],
        capture_output=True, text=True, check=False, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (got["fps"], got["num_episodes"], got["num_frames"]) == (20, 3, done.frames)
    assert set(got["tasks"]) == {done.task}

    episodes = _episodes(threading_source)
    keys = default_obs_keys(list(episodes[0].observations))
    frames = {k: np.array(v) for k, v in got["frames"].items()}

    def cat(per_episode) -> np.ndarray:
        return np.concatenate([per_episode(k, e) for k, e in enumerate(episodes)])

    want = {
        "observation.state": cat(lambda k, e: flatten_obs(e.observations, keys)[:-1]),
        "observation.sim_state": cat(lambda k, e: np.asarray(e.infos["state"])[:-1]),
        "action": cat(lambda k, e: np.asarray(e.actions, np.float32)),
        "next.success": cat(lambda k, e: np.asarray(e.infos["success"])[1:]),
        "frame_index": cat(lambda k, e: np.arange(len(e.actions))),
        "episode_index": cat(lambda k, e: np.full(len(e.actions), k)),
        "index": np.arange(done.frames),
    }
    # LeRobot's items are torch tensors built from Python floats: float32, also for the float64
    # simulator state, which its table keeps exact.
    assert got["dtypes"]["observation.sim_state"] == "torch.float32"
    np.testing.assert_array_equal(np.array(got["sim_state_table"]), want["observation.sim_state"])
    want["observation.sim_state"] = want["observation.sim_state"].astype(np.float32)
    for key, value in want.items():
        np.testing.assert_array_equal(frames[key].reshape(value.shape), value, err_msg=key)
    np.testing.assert_array_equal(
        frames["timestamp"], (want["frame_index"] / 20).astype(np.float32)
    )
    np.testing.assert_array_equal(frames["task_index"], 0)


def _rendered_threading(steps: int = 10, size: int = 32) -> str:
    """Two shipped Threading demos cut to ``steps`` actions, with two cameras rendered."""
    import dataclasses

    from dexmg_bench.datasets.minari_io import source_info, write_minari
    from dexmg_bench.datasets.render import render_dataset
    from dexmg_bench.datasets.source import read_source_file, shipped_source_file

    src = read_source_file(shipped_source_file("Threading"))
    demos = tuple(
        dataclasses.replace(d, actions=d.actions[:steps], states=d.states[: steps + 1])
        for d in src.demos[:2]
    )
    short = dataclasses.replace(src, demos=demos)
    write_minari(short, source_info(short))
    ds = render_dataset(
        "dexmg/threading-source-v0",
        cameras=CAMERAS,
        size=size,
        workers=1,
        progress=False,
    )
    return ds.id


CAMERAS = ("overview", "robot0_eye_in_hand")


@pytest.fixture
def rendered_threading() -> str:
    """dexmg/threading-source-rgb32-v0: 2 episodes of 10 steps, two 32 px cameras."""
    return _rendered_threading()


def _decode(path) -> np.ndarray:
    """Every frame of an mp4 as uint8 RGB (frames, height, width, 3)."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    width, height = next(reader)["size"]
    return np.stack([np.frombuffer(b, np.uint8).reshape(height, width, 3) for b in reader])


@pytest.mark.render
def test_camera_images_become_videos(rendered_threading, tmp_path):
    """Each camera is one mp4 of all episodes; its frames are the images before each action."""
    out = tmp_path / "lerobot"
    done = export_lerobot(rendered_threading, out)
    episodes = _episodes(rendered_threading)
    lengths = [len(ep.actions) for ep in episodes]
    assert (done.episodes, done.frames) == (2, 20) and lengths == [10, 10]
    videos = [f"videos/observation.images.{c}/chunk-000/file-000.mp4" for c in CAMERAS]
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == sorted(
        (*FILES, *videos)
    )

    info = json.loads((out / "meta/info.json").read_text())
    assert info["video_path"] == (
        "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    )
    assert info["video_files_size_in_mb"] == 200
    for camera in CAMERAS:
        assert info["features"][f"observation.images.{camera}"] == {
            "dtype": "video",
            "shape": [32, 32, 3],
            "names": ["height", "width", "channels"],
            "info": {
                "video.height": 32,
                "video.width": 32,
                "video.codec": "h264",
                "video.pix_fmt": "yuv420p",
                "video.is_depth_map": False,
                "video.fps": 20,
                "video.channels": 3,
                "has_audio": False,
            },
        }
    assert info["dexmg"]["camera_keys"] == [f"{c}_image" for c in CAMERAS]
    data = pq.read_table(out / "data/chunk-000/file-000.parquet")
    assert data.column_names == [
        k for k, f in info["features"].items() if f["dtype"] != "video"
    ]  # LeRobot keeps video frames out of the parquet rows
    np.testing.assert_array_equal(
        _column(data, "action"), np.concatenate([ep.actions for ep in episodes]).astype(np.float32)
    )

    eps = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    stats = json.loads((out / "meta/stats.json").read_text())
    for camera in CAMERAS:
        key = f"observation.images.{camera}"
        assert [e[f"videos/{key}/chunk_index"] for e in eps] == [0, 0]
        assert [e[f"videos/{key}/file_index"] for e in eps] == [0, 0]
        assert [e[f"videos/{key}/from_timestamp"] for e in eps] == [0.0, 0.5]
        assert [e[f"videos/{key}/to_timestamp"] for e in eps] == [0.5, 1.0]

        frames = _decode(out / f"videos/{key}/chunk-000/file-000.mp4")
        images = np.concatenate([ep.observations[f"{camera}_image"][:-1] for ep in episodes])
        assert frames.shape == images.shape == (20, 32, 32, 3)
        error = np.abs(frames.astype(np.int16) - images).mean(axis=(1, 2, 3))
        assert error.max() < MAX_MEAN_ABS_ERROR, error

        pixels = images.reshape(-1, 3) / 255
        np.testing.assert_allclose(np.array(stats[key]["mean"]).reshape(3), pixels.mean(0))
        np.testing.assert_allclose(np.array(stats[key]["q50"]).reshape(3), np.median(pixels, 0))
        assert np.array(stats[key]["std"]).shape == (3, 1, 1) and stats[key]["count"] == [20]

    again = export_lerobot(rendered_threading, tmp_path / "again")
    for path in out.rglob("*"):
        if path.is_file():
            name = path.relative_to(out)
            assert path.read_bytes() == (again.root / name).read_bytes(), name


# Per frame, on 0..255. Measured 2.5 mean, 3.4 max for these 32 px renders at CRF 18 (the
# frame-to-frame change is 4.8), mostly from yuv420p's half-resolution colour.
MAX_MEAN_ABS_ERROR = 4.0

LEROBOT_VIDEOS = """
import sys
import numpy as np
import torch
from lerobot.datasets.lerobot_dataset import LeRobotDataset
root, backend, out = sys.argv[1:]
ds = LeRobotDataset("dexmg/threading-source-rgb32", root=root, video_backend=backend)
rows = [ds[i] for i in range(len(ds))]
frames = {k: torch.stack([r[k] for r in rows]).numpy() for k in ds.meta.video_keys}
np.savez(out, **frames, episode_index=torch.stack([r["episode_index"] for r in rows]).numpy())
"""


@pytest.mark.slow
@pytest.mark.render
@pytest.mark.parametrize("backend", ["pyav", "torchcodec"])
def test_lerobot_dataset_decodes_the_videos(rendered_threading, tmp_path, backend):
    """LeRobot's ``LeRobotDataset`` finds every row's frame in the videos: ours, to within 1/255."""
    python = os.environ.get("DEXMG_LEROBOT_PYTHON")
    if not python:
        pytest.skip("DEXMG_LEROBOT_PYTHON (a Python with lerobot 0.4.4 installed) is not set")
    if backend == "torchcodec":  # it loads the system's FFmpeg libraries, which may be absent
        probe = [python, "-c", "import torchcodec.decoders"]
        found = subprocess.run(probe, capture_output=True, text=True, check=False, timeout=300)
        if found.returncode != 0:
            pytest.skip(f"torchcodec cannot load FFmpeg: {found.stderr.strip().splitlines()[-1]}")
    done = export_lerobot(rendered_threading, tmp_path / "lerobot")
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    npz = tmp_path / "frames.npz"
    proc = subprocess.run(
        [python, "-c", LEROBOT_VIDEOS, str(done.root), backend, str(npz)],
        capture_output=True, text=True, check=False, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = np.load(npz)
    episodes = _episodes(rendered_threading)
    np.testing.assert_array_equal(got["episode_index"], np.repeat([0, 1], 10))
    assert sorted(k for k in got.files if k != "episode_index") == sorted(
        f"observation.images.{c}" for c in CAMERAS
    )
    for camera in CAMERAS:
        key = f"observation.images.{camera}"
        frames = got[key]  # LeRobot's layout: float32 in [0, 1], channels first
        assert frames.shape == (20, 3, 32, 32) and frames.dtype == np.float32
        frames = np.round(frames.transpose(0, 2, 3, 1) * 255).astype(np.int16)
        ours = _decode(done.root / f"videos/{key}/chunk-000/file-000.mp4")
        assert np.abs(frames - ours).max() <= 1, key
        images = np.concatenate([ep.observations[f"{camera}_image"][:-1] for ep in episodes])
        error = np.abs(frames - images).mean(axis=(1, 2, 3))
        assert error.max() < MAX_MEAN_ABS_ERROR, error


def test_odd_sized_camera_is_refused_before_writing(threading_source, tmp_path, monkeypatch):
    """A camera the encoder cannot take stops the export with its key named; nothing is written."""
    from types import SimpleNamespace

    from gymnasium import spaces

    from dexmg_bench.datasets import loader
    from dexmg_bench.errors import UserInputError

    ds = load(threading_source)
    camera = spaces.Box(0, 255, (8, 9, 3), np.uint8)
    fake = SimpleNamespace(
        storage=ds.storage,
        total_episodes=ds.total_episodes,
        observation_space=spaces.Dict({**ds.observation_space.spaces, "agentview_image": camera}),
    )
    monkeypatch.setattr(loader, "load", lambda ds_id: fake)
    with pytest.raises(UserInputError, match=r"agentview_image: 9x8 images"):
        export_lerobot(threading_source, tmp_path / "out")
    assert list(tmp_path.iterdir()) == [tmp_path / "minari"]


def test_odd_image_sizes_are_refused():
    """yuv420p video needs an even width and height; the error names the key and the size."""
    from dexmg_bench.datasets.lerobot_video import check_images
    from dexmg_bench.errors import UserInputError

    check_images("overview_image", (32, 32, 3), np.dtype(np.uint8))
    with pytest.raises(UserInputError, match=r"overview_image: 33x32 images .* even"):
        check_images("overview_image", (32, 33, 3), np.dtype(np.uint8))
    with pytest.raises(UserInputError, match=r"must be uint8"):
        check_images("overview_image", (32, 32, 3), np.dtype(np.float32))


def test_image_stats_equal_numpy(rng):
    """Per-channel stats from histograms equal numpy's over every pixel, scaled to [0, 1]."""
    from dexmg_bench.datasets.lerobot_video import ImageStats

    images = rng.integers(0, 256, (7, 6, 10, 3), dtype=np.uint8)
    acc = ImageStats()
    acc.update(images[:3])
    acc.update(images[3:])
    got = acc.result()
    pixels = images.reshape(-1, 3).astype(np.float64)
    want = {"min": pixels.min(0), "max": pixels.max(0), "mean": pixels.mean(0)}
    want |= {"std": pixels.std(0)}
    want |= {f"q{round(q * 100):02d}": np.quantile(pixels, q, 0) for q in (0.01, 0.1, 0.5, 0.99)}
    for key, value in want.items():
        assert np.array(got[key]).shape == (3, 1, 1), key
        np.testing.assert_allclose(np.array(got[key]).reshape(3), value / 255, err_msg=key)
    assert got["count"] == [7]
