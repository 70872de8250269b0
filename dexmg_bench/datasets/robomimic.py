"""robomimic / MimicGen HDF5 interop: export our episodes, import them back without loss.

Layout written (robomimic's, plus MimicGen's ``datagen_info``; extra keys are ignored by robomimic
tools)::

    data/                      attrs: total, env_args (JSON: env_name, type, env_kwargs, dexmg)
    data/demo_<k>/             attrs: num_samples, seed, success
        actions (T, A)   states (T, S)   rewards (T,)   dones (T,)
        obs/<key> (T, ...)   next_obs/<key> (T, ...)        only when an env computes them
        final_state (S,)                                    state after the last action (ours)
        datagen_info/eef_pose (T, n_arms, 4, 4)   target_pose   gripper_action (T, n_arms, H)
        datagen_info/object_poses/<obj> (T, 4, 4)
        datagen_info/subtask_term_signals/<arm>/<subtask> (T,)
        boundaries/<arm> (n_subtasks,)                      (ours)

robomimic keeps ``T`` states (one before each action), so the state after the last action goes
into ``final_state``; import puts it back, so export -> import returns identical arrays.
Official DexMimicGen files carry robosuite simulator states, which our MuJoCo scenes cannot
restore: ``read_robomimic`` reads their actions and observations, ``import_robomimic`` refuses them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from dexmg_bench.datasets.source import SourceDemo, SourceFile
from dexmg_bench.envs.robomimic_env import GYM_ENV_TYPE
from dexmg_bench.errors import InputFileNotFoundError, UserInputError, reading


@dataclass(frozen=True)
class RobomimicDemo:
    """The robomimic part of one demo (any robomimic file, ours or not)."""

    name: str
    actions: np.ndarray
    states: np.ndarray
    obs: dict[str, np.ndarray]
    rewards: np.ndarray | None
    dones: np.ndarray | None


def env_args(source: SourceFile) -> dict[str, Any]:
    """``data.attrs["env_args"]``: how robomimic-style tools rebuild the env."""
    from dexmg_bench.datasets.source import FORMAT_VERSION

    return {
        "env_name": source.env_id,
        "type": GYM_ENV_TYPE,
        "env_kwargs": {"variant": source.variant},
        "dexmg": {
            "task": source.task,
            "variant": source.variant,
            "origin": source.origin,
            "code_version": source.code_version,
            "format_version": FORMAT_VERSION,
        },
    }


def export_robomimic(source: SourceFile, path: str | Path, *, env: Any = None) -> None:
    """Write ``source`` as a robomimic/MimicGen HDF5; pass ``env`` to add ``obs``/``next_obs``.

    The observations are the demo's recorded ones, or recomputed from its stored states (as in
    the Minari writer), so they match the Minari dataset of the same demos exactly.
    """
    from dexmg_bench.datasets.minari_io import all_recorded, demo_arrays, episode_arrays

    recorded = env is not None and all_recorded(source.demos)  # else all recomputed, as Minari
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with h5py.File(tmp, "w") as f:
        data = f.create_group("data")
        data.attrs["total"] = sum(d.num_steps for d in source.demos)
        data.attrs["env_args"] = json.dumps(env_args(source))
        for k, d in enumerate(source.demos):
            g = data.create_group(f"demo_{k}")
            g.attrs.update(num_samples=d.num_steps, seed=d.seed, success=d.success)
            g.create_dataset("actions", data=d.actions)
            g.create_dataset("states", data=d.states[:-1])
            g.create_dataset("final_state", data=d.states[-1])
            if env is not None:
                arrays = (
                    demo_arrays(env, d) if recorded else episode_arrays(env, d.states, d.actions)
                )
                g.create_dataset("rewards", data=arrays["rewards"])
                g.create_dataset("dones", data=arrays["infos"]["success"][1:].astype(np.int64))
                for key, value in arrays["observations"].items():
                    g.create_dataset(f"obs/{key}", data=value[:-1])
                    g.create_dataset(f"next_obs/{key}", data=value[1:])
            dg = g.create_group("datagen_info")
            dg.create_dataset("eef_pose", data=d.eef_pose)
            dg.create_dataset("target_pose", data=d.target_pose)
            dg.create_dataset("gripper_action", data=d.hand)
            for name, pose in d.object_pose.items():
                dg.create_dataset(f"object_poses/{name}", data=pose)
            for arm, sig in d.signals.items():
                for s, v in sig.items():
                    dg.create_dataset(f"subtask_term_signals/{arm}/{s}", data=v)
                g.create_dataset(f"boundaries/{arm}", data=d.boundaries[arm])
    tmp.replace(path)


def _demo_names(data: h5py.Group) -> list[str]:
    return sorted((k for k in data if k.startswith("demo_")), key=lambda k: int(k[5:]))


def _open(path: str | Path) -> h5py.File:
    path = Path(path)
    if not path.exists():
        raise InputFileNotFoundError(f"no robomimic file at {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise UserInputError(
            f"{path} is not a readable HDF5 file (truncated or corrupt?): {err}"
        ) from err
    if "data" not in f or "env_args" not in f["data"].attrs:
        f.close()
        raise UserInputError(
            f"{path} is not a robomimic file: it lacks data/ with attrs['env_args']"
        )
    return f


def read_env_args(path: str | Path) -> dict[str, Any]:
    """The ``env_args`` JSON of any robomimic file."""
    with _open(path) as f:
        return json.loads(f["data"].attrs["env_args"])


def read_robomimic(path: str | Path) -> list[RobomimicDemo]:
    """Actions, states and observations of every demo of any robomimic file (e.g. official)."""
    with _open(path) as f:
        out = []
        for name in _demo_names(f["data"]):
            g = f["data"][name]
            obs = {k: np.array(v) for k, v in g["obs"].items()} if "obs" in g else {}
            out.append(
                RobomimicDemo(
                    name=name,
                    actions=np.array(g["actions"]),
                    states=np.array(g["states"]),
                    obs=obs,
                    rewards=np.array(g["rewards"]) if "rewards" in g else None,
                    dones=np.array(g["dones"]) if "dones" in g else None,
                )
            )
        return out


def import_robomimic(path: str | Path) -> SourceFile:
    """Read a file written by ``export_robomimic`` (or any with DexMG states and datagen info)."""
    with reading(path, "a robomimic HDF5 file"), _open(path) as f:
        args = json.loads(f["data"].attrs["env_args"])
        meta = args.get("dexmg")
        if args.get("type") != GYM_ENV_TYPE or not str(args.get("env_name", "")).startswith(
            "DexMG/"
        ):
            raise UserInputError(
                f"{path}: env {args.get('env_name')!r} (type {args.get('type')}) is not a DexMG "
                "env; its simulator states cannot be restored here. Use read_robomimic() for "
                "its actions and observations."
            )
        if meta is None:
            raise UserInputError(
                f"{path}: env_args lacks the 'dexmg' entry (task, variant, origin)"
            )
        demos = tuple(_import_demo(f["data"][n], path) for n in _demo_names(f["data"]))
    return SourceFile(
        env_id=args["env_name"],
        task=meta["task"],
        variant=meta["variant"],
        origin=meta["origin"],
        code_version=meta["code_version"],
        demos=demos,
    )


def _import_demo(g: h5py.Group, path: str | Path) -> SourceDemo:
    missing = [k for k in ("actions", "states", "final_state", "datagen_info") if k not in g]
    if missing:
        raise UserInputError(f"{path}:{g.name} lacks {missing}")
    dg = g["datagen_info"]
    signals = dg.get("subtask_term_signals", {})
    return SourceDemo(
        seed=int(g.attrs.get("seed", 0)),
        actions=np.array(g["actions"]),
        states=np.concatenate([np.array(g["states"]), np.array(g["final_state"])[None]]),
        eef_pose=np.array(dg["eef_pose"]),
        target_pose=np.array(dg["target_pose"]),
        hand=np.array(dg["gripper_action"]),
        object_pose={k: np.array(v) for k, v in dg["object_poses"].items()},
        signals={a: {s: np.array(v) for s, v in sg.items()} for a, sg in signals.items()},
        boundaries={a: np.array(v) for a, v in g.get("boundaries", {}).items()},
        success=bool(g.attrs.get("success", False)),
    )
