"""LeRobot export: a dexmg Minari dataset as a LeRobot dataset, for LeRobot's loaders and policies.

Written in LeRobot's dataset format ``codebase_version`` "v3.0" (read by LeRobot 0.4)::

    meta/info.json                              fps, features (dtype, shape, names), totals
    meta/stats.json                             per feature: min max mean std count q01..q99
    meta/tasks.parquet                          one instruction per task (index) -> task_index
    meta/episodes/chunk-000/file-000.parquet    per episode: length, tasks, rows, videos, success
    data/chunk-000/file-000.parquet             one row per action (more files past 100 MB)
    videos/observation.images.<camera>/chunk-000/file-000.mp4   (more files past 200 MB)

A row is one step: ``observation.state`` (the low-dim keys of ``default_obs_keys``, quaternions
wxyz) and ``observation.sim_state`` (``env.get_state()``) before the action, the ``action``, and
``next.success`` after it. The first row's simulator state and the actions replay an episode;
the state after the last action is not a row (LeRobot keeps one observation per action).
Each ``<camera>_image`` key (``dexmg datasets render``) becomes the video feature
``observation.images.<camera>``: one frame per row, the image before the action, episodes one
after another in a file, H.264 yuv420p (``lerobot_video``; lossy, and images need an even size).
The same dataset gives the same bytes: no timestamps are written, and the encoder is run
bit-exact on one thread (the mp4 bytes hold for one ffmpeg build).
"""

from __future__ import annotations

import importlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dexmg_bench.datasets.lerobot_video import (
    VIDEO_FILE_SIZE_MB,
    VIDEO_PATH,
    CameraVideos,
    ImageStats,
    check_images,
    ffmpeg_exe,
    video_feature,
    video_key,
)
from dexmg_bench.errors import UserInputError

CODEBASE_VERSION = "v3.0"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
CHUNK_SIZE = 1000  # files per chunk folder, LeRobot's default
DATA_FILE_SIZE_MB = 100  # a data file is closed once its episodes pass this, LeRobot's default
QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)  # the ones LeRobot's stats carry (q01 ... q99)
INDEX_KEYS = ("timestamp", "frame_index", "episode_index", "index", "task_index")


@dataclass(frozen=True)
class LerobotExport:
    """What an export wrote."""

    root: Path
    episodes: int
    frames: int
    fps: int
    task: str


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as err:
        raise UserInputError(
            "the LeRobot export writes parquet with pyarrow, which is not installed: "
            "pip install 'dexmg-bench[lerobot]'"
        ) from err
    return pa, pq


def task_instruction(task: str) -> str:
    """A short instruction for the task: its module docstring's first line, less the task name."""
    from dexmg_bench.envs import task_entry

    entry = task_entry(task)
    doc = importlib.import_module(entry.entry_point.split(":")[0]).__doc__ or ""
    line = doc.strip().splitlines()[0].strip() if doc.strip() else entry.name
    prefix = f"{entry.name}:"
    return line[len(prefix) :].strip() if line.startswith(prefix) else line


def state_names(obs: dict[str, np.ndarray], keys: tuple[str, ...]) -> list[str]:
    """One name per ``observation.state`` entry: ``right_eef_quat.w``, ``needle_pos.x``, ..."""
    from dexmg_bench.baselines.data import flatten_obs

    names = []
    for key in keys:
        width = flatten_obs(obs, (key,)).shape[-1]
        if key.endswith("_quat") and width == 4:
            names += [f"{key}.{c}" for c in "wxyz"]
        elif key.endswith("_pos") and width == 3:
            names += [f"{key}.{c}" for c in "xyz"]
        elif width == 1:
            names.append(key)
        else:
            names += [f"{key}.{i}" for i in range(width)]
    return names


def action_names(layout: dict[str, Any], dim: int) -> list[str] | None:
    """``right_dpos.0`` ... from the env's action layout; None if it does not cover the action."""
    names: dict[int, str] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, str(k)))
        else:
            start, stop = int(node[0]), int(node[1])
            for i in range(start, stop):
                names[i] = f"{'_'.join(path)}.{i - start}"

    walk(layout or {}, ())
    if sorted(names) != list(range(dim)):
        return None
    return [names[i] for i in range(dim)]


def _control_freq(task: str, variant: str) -> int:
    from dexmg_bench.envs import make_task_env

    env = make_task_env(task, variant)
    try:
        config = env.config
        return int(getattr(config, "frequency", None) or config.control_freq)
    finally:
        env.close()


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserInputError(f"{out} exists and is not an empty folder; pass a fresh --out")


def episode_columns(
    episode: Any, keys: tuple[str, ...], *, episode_index: int, start: int, fps: int
) -> dict[str, np.ndarray]:
    """The data rows of one Minari episode, column by column (task index 0)."""
    from dexmg_bench.baselines.data import flatten_obs

    n = len(episode.actions)
    frame = np.arange(n, dtype=np.int64)
    return {
        "observation.state": flatten_obs(episode.observations, keys, features="quat")[:-1],
        "observation.sim_state": np.asarray(episode.infos["state"], np.float64)[:-1],
        "action": np.asarray(episode.actions, np.float32),
        "next.success": np.asarray(episode.infos["success"], bool)[1:],
        "timestamp": (frame / fps).astype(np.float32),
        "frame_index": frame,
        "episode_index": np.full(n, episode_index, np.int64),
        "index": start + frame,
        "task_index": np.zeros(n, np.int64),
    }


def _arrow_column(pa: Any, values: np.ndarray) -> Any:
    if values.ndim == 1:
        return pa.array(values)
    flat = pa.array(values.reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])


def _write_parquet(pq: Any, path: Path, table: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy")


def _feature_stats(values: np.ndarray) -> dict[str, list[float]]:
    x = np.asarray(values, np.float64).reshape(len(values), -1)
    stats = {
        "min": x.min(0),
        "max": x.max(0),
        "mean": x.mean(0),
        "std": x.std(0),
        "count": np.array([len(x)]),
    }
    for q in QUANTILES:
        stats[f"q{round(q * 100):02d}"] = np.quantile(x, q, axis=0)
    return {k: v.tolist() for k, v in stats.items()}


def export_lerobot(dataset: str, out: str | Path) -> LerobotExport:
    """Write the Minari dataset ``dataset`` as a LeRobot dataset in ``out`` (absent or empty).

    Episodes are read one at a time (camera images go straight to the encoder), and everything
    is written beside ``out`` first and moved there at the end, so a failed export leaves no half
    dataset.
    """
    from dexmg_bench.baselines.data import default_obs_keys
    from dexmg_bench.datasets.loader import load

    pa, pq = _pyarrow()
    out = Path(out)
    _check_out(out)
    ds = load(dataset)
    meta = ds.storage.metadata
    dx = meta.get("dexmg") or {}
    if ds.total_episodes == 0:
        raise UserInputError(f"{dataset} has no episodes")
    spaces = ds.observation_space.spaces
    obs_keys = list(spaces)
    images = sorted(k for k in obs_keys if k.endswith("_image"))
    for key in images:  # refused before any work, as is a missing encoder
        check_images(key, spaces[key].shape, spaces[key].dtype)
    if images:
        ffmpeg_exe()
    keys = default_obs_keys(obs_keys)
    fps = _control_freq(dx["task"], dx["variant"])
    task = task_instruction(dx["task"])

    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    cameras = {k: CameraVideos(root=tmp, key=video_key(k), fps=fps) for k in images}
    image_stats = {k: ImageStats() for k in images}
    columns: list[dict[str, np.ndarray]] = []
    rows: list[dict[str, Any]] = []
    pending: list[dict[str, np.ndarray]] = []
    file_no, start = 0, 0
    first_obs: dict[str, np.ndarray] = {}
    sizes: dict[str, tuple[int, int]] = {}  # camera -> (height, width)

    def flush() -> None:
        nonlocal file_no
        if not pending:
            return
        merged = {k: np.concatenate([c[k] for c in pending]) for k in pending[0]}
        table = pa.table({k: _arrow_column(pa, v) for k, v in merged.items()})
        chunk, file = divmod(file_no, CHUNK_SIZE)
        _write_parquet(pq, tmp / DATA_PATH.format(chunk_index=chunk, file_index=file), table)
        pending.clear()
        file_no += 1

    try:
        for k, ep in enumerate(ds.iterate_episodes()):
            cols = episode_columns(ep, keys, episode_index=k, start=start, fps=fps)
            n = len(cols["action"])
            chunk, file = divmod(file_no, CHUNK_SIZE)
            row: dict[str, Any] = {
                "episode_index": k,
                "tasks": [task],
                "length": n,
                "data/chunk_index": chunk,
                "data/file_index": file,
                "dataset_from_index": start,
                "dataset_to_index": start + n,
            }
            for key in images:
                frames = np.asarray(ep.observations[key])[:-1]  # the image before each action
                sizes[key] = frames.shape[1:3]
                row |= cameras[key].add_episode(frames)
                image_stats[key].update(frames)
            row |= {
                "meta/episodes/chunk_index": 0,
                "meta/episodes/file_index": 0,
                "success": bool(np.asarray(ep.infos["success"])[-1]),
            }
            rows.append(row)
            if not first_obs:
                first_obs = {key: ep.observations[key] for key in keys}
            columns.append(cols)
            pending.append(cols)
            start += n
            if sum(v.nbytes for c in pending for v in c.values()) > DATA_FILE_SIZE_MB * 2**20:
                flush()
        flush()
    finally:
        for camera in cameras.values():
            camera.close()

    first = columns[0]
    videos = {video_key(k): video_feature(*sizes[k], fps=fps) for k in images}
    features: dict[str, dict[str, Any]] = {
        "observation.state": {
            "dtype": "float32",
            "shape": [first["observation.state"].shape[1]],
            "names": state_names(first_obs, keys),
        },
        "observation.sim_state": {
            "dtype": "float64",
            "shape": [first["observation.sim_state"].shape[1]],
            "names": None,
        },
        **videos,
        "action": {
            "dtype": "float32",
            "shape": [first["action"].shape[1]],
            "names": action_names(dx.get("action_layout", {}), first["action"].shape[1]),
        },
        "next.success": {"dtype": "bool", "shape": [1], "names": None},
        **{
            key: {"dtype": str(first[key].dtype), "shape": [1], "names": None} for key in INDEX_KEYS
        },
    }
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": dx.get("embodiment"),
        "total_episodes": len(rows),
        "total_frames": start,
        "total_tasks": 1,
        "chunks_size": CHUNK_SIZE,
        "data_files_size_in_mb": DATA_FILE_SIZE_MB,
        "video_files_size_in_mb": VIDEO_FILE_SIZE_MB,
        "fps": fps,
        "splits": {"train": f"0:{len(rows)}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if images else None,
        "features": features,
        "dexmg": {
            "dataset_id": dataset,
            "task": dx.get("task"),
            "variant": dx.get("variant"),
            "env_id": dx.get("env_id"),
            "code_version": dx.get("code_version"),
            "observation_keys": list(keys),
            "camera_keys": images,
        },
    }
    stats = {
        key: _feature_stats(np.concatenate([c[key] for c in columns]))
        for key in features
        if key not in videos
    }
    stats |= {video_key(k): image_stats[k].result() for k in images}
    _write_json(tmp / "meta/info.json", info)
    _write_json(tmp / "meta/stats.json", stats)
    _write_parquet(pq, tmp / "meta/tasks.parquet", _tasks_table(pa, [task]))
    episode_table = pa.Table.from_pylist(rows)
    _write_parquet(pq, tmp / EPISODES_PATH.format(chunk_index=0, file_index=0), episode_table)
    if out.exists():
        out.rmdir()  # checked empty above
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.replace(out)
    return LerobotExport(root=out, episodes=len(rows), frames=start, fps=fps, task=task)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4) + "\n")


def _tasks_table(pa: Any, tasks: list[str]) -> Any:
    """The task strings as the pandas index LeRobot reads (``pd.read_parquet``), without pandas."""
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [],
        "columns": [
            {
                "name": "task_index",
                "field_name": "task_index",
                "pandas_type": "int64",
                "numpy_type": "int64",
                "metadata": None,
            },
            {
                "name": "task",
                "field_name": "task",
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": None,
            },
        ],
    }
    schema = pa.schema(
        [("task_index", pa.int64()), ("task", pa.string())],
        metadata={"pandas": json.dumps(pandas_meta)},
    )
    return pa.table(
        {"task_index": np.arange(len(tasks), dtype=np.int64), "task": tasks}, schema=schema
    )
