"""The checked loader: a damaged or half-written dataset fails with a clear ``DatasetError``.

``minari.load_dataset`` on a truncated ``main_data.hdf5`` fails deep inside h5py, or not at all
until an episode is read; a dataset killed mid-write loads with a wrong episode count.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py

from dexmg_bench.errors import InputFileNotFoundError, UserInputError


class DatasetError(UserInputError):
    """A dataset on disk is missing, truncated, corrupt or incomplete."""


def load(ds_id: str, *, verify: bool = False) -> Any:
    """``minari.load_dataset``, but a damaged dataset raises a clear ``DatasetError``.

    Always checked: metadata readable and complete, HDF5 file opens, one group per episode with
    consistent lengths. ``verify=True`` also compares the file's SHA-256 with the one recorded
    when it was written (catches flipped bytes that still parse) and reads every array.
    """
    import minari
    from minari.storage import get_dataset_path

    data = Path(get_dataset_path(ds_id)) / "data"
    if not data.exists():
        raise InputFileNotFoundError(
            f"dataset {ds_id} not found at {data.parent}; build it (`dexmg datasets build`) "
            f"or download it (`minari download {ds_id}`)"
        )
    meta_path = data / "metadata.json"
    try:
        metadata = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DatasetError(f"{ds_id}: unreadable metadata {meta_path}: {err}") from err
    if not (metadata.get("dexmg") or {}).get("complete"):
        raise DatasetError(
            f"{ds_id}: incomplete, lacks dexmg.complete (writing was interrupted, or it was not "
            "written by dexmg-bench); rebuild it"
        )
    _check_file(ds_id, data / "main_data.hdf5", metadata, verify=verify)
    try:
        return minari.load_dataset(ds_id)
    except (OSError, KeyError, ValueError) as err:
        raise DatasetError(f"{ds_id}: Minari cannot load it: {err}") from err


def _check_file(ds_id: str, path: Path, metadata: dict[str, Any], *, verify: bool) -> None:
    from dexmg_bench.datasets.minari_io import file_sha256

    size = path.stat().st_size if path.exists() else 0
    expected = metadata["dexmg"].get("main_data_sha256")
    if verify and expected and file_sha256(path) != expected:
        raise DatasetError(
            f"{ds_id}: {path} does not match the SHA-256 recorded when it was written: corrupt, "
            "or modified after writing (re-download or rebuild it)"
        )
    recorded = metadata.get("dataset_size")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise DatasetError(
            f"{ds_id}: {path} ({size} bytes) is not a readable HDF5 file, truncated or corrupt "
            f"(re-download or rebuild it): {err}"
        ) from err
    with f:
        n = int(metadata.get("total_episodes", -1))
        if len(f) != n:
            raise DatasetError(f"{ds_id}: {path} has {len(f)} episodes, metadata says {n}")
        try:
            for k in range(n):
                _check_episode(f[f"episode_{k}"], verify=verify)
        except (KeyError, OSError, ValueError) as err:
            raise DatasetError(
                f"{ds_id}: {path} is corrupt at episode {k} (recorded size {recorded} MB): {err}"
            ) from err


def _check_episode(g: h5py.Group, *, verify: bool) -> None:
    n = int(g.attrs["total_steps"])
    lengths = {"actions": n, "rewards": n, "terminations": n, "truncations": n}
    for name, length in lengths.items():
        if g[name].shape[0] != length:
            raise ValueError(f"{g.name}/{name} has {g[name].shape[0]} rows, expected {length}")
    for name, ds in _leaves(g["observations"]):
        if ds.shape[0] != n + 1:
            raise ValueError(
                f"{g.name}/observations/{name} has {ds.shape[0]} rows, expected {n + 1}"
            )
    if verify:
        for _, ds in _leaves(g):
            ds[()]


def _leaves(group: h5py.Group) -> Iterator[tuple[str, h5py.Dataset]]:
    out: list[tuple[str, h5py.Dataset]] = []
    group.visititems(
        lambda name, obj: out.append((name, obj)) if isinstance(obj, h5py.Dataset) else None
    )
    return iter(out)
