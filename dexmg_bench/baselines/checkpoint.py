"""Checkpoints as plain ``.npz`` (arrays + one JSON string): loading never unpickles anything.

A ``torch.save`` file runs arbitrary code when loaded; leaderboard checkpoints come from
strangers, so ours are arrays only, read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dexmg_bench.errors import UserInputError


def _flat_optimizer(state: dict[str, Any]) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    arrays = {}
    for idx, slots in state["state"].items():
        for name, value in slots.items():
            arrays[f"optim/{idx}/{name}"] = torch.as_tensor(value).cpu().numpy()
    groups = [
        {k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
        for g in state["param_groups"]
    ]
    return arrays, groups


def save_checkpoint(
    path: Path,
    *,
    model: torch.nn.Module,
    meta: dict[str, Any],
    arrays: dict[str, np.ndarray],
    optimizer: torch.optim.Optimizer | None = None,
) -> None:
    """Write model weights, extra arrays, optimizer state and JSON ``meta`` atomically."""
    out = {f"model/{k}": v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    out.update(arrays)
    meta = dict(meta)
    if optimizer is not None:
        opt_arrays, meta["optimizer_groups"] = _flat_optimizer(optimizer.state_dict())
        out.update(opt_arrays)
    out["meta"] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **out)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(meta, arrays)`` of a checkpoint; a damaged file raises a ``ValueError`` naming it."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise UserInputError(f"{path}: not a readable checkpoint ({err})") from err
    if "meta" not in arrays:
        raise UserInputError(f"{path}: not a dexmg checkpoint (no 'meta' entry)")
    return json.loads(str(arrays.pop("meta"))), arrays


def model_state(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """The ``state_dict`` stored under ``model/``."""
    return {k[6:]: torch.from_numpy(v.copy()) for k, v in arrays.items() if k.startswith("model/")}


def optimizer_state(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The optimizer ``state_dict`` stored under ``optim/`` and ``meta['optimizer_groups']``."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in arrays.items():
        if key.startswith("optim/"):
            _, idx, name = key.split("/", 2)
            state.setdefault(int(idx), {})[name] = torch.from_numpy(value.copy())
    return {"state": state, "param_groups": meta["optimizer_groups"]}


def run_checkpoints(folder: Path) -> list[Path]:
    """One seed's checkpoints on its config's schedule: every ``ckpt_every`` epochs and the last.

    A run trained on for longer keeps the checkpoints of its shorter self (epoch 90 of a
    90-epoch run extended to 300 with a checkpoint every 100); they are not the longer run's
    checkpoints, so the evaluator and the packager leave them out. Without a ``train.json``
    every checkpoint is the run's.
    """
    paths = sorted(folder.glob("ckpt_epoch*.npz"))
    spec = folder / "train.json"
    if not spec.exists():
        return paths
    config = json.loads(spec.read_text())
    every, last = int(config["ckpt_every"]), int(config["epochs"])
    epochs = [int(p.stem.removeprefix("ckpt_epoch")) for p in paths]
    return [p for p, e in zip(paths, epochs, strict=True) if e % every == 0 or e == last]
