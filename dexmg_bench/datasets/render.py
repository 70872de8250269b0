"""Add camera observations to a low-dim dataset by restoring its stored states (in parallel).

The result is a sibling dataset ``<name>-rgb<size>-v<N>`` (Minari fixes a dataset's observation
space at creation, so images cannot be added in place). Its env spec carries ``obs_mode="rgb"``,
the cameras and the size, so ``recover_environment()`` returns an env whose observations have the
same keys and shapes. Workers are spawned processes, each with its own rendering context.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
from typing import Any

from dexmg_bench.datasets.loader import load
from dexmg_bench.datasets.minari_io import (
    DatasetInfo,
    create_streamed,
    episode_arrays,
    registered_spec,
)

_WORKER: dict[str, Any] = {}


def rendered_id(ds_id: str, size: int) -> str:
    """``dexmg/threading-source-v0`` -> ``dexmg/threading-source-rgb84-v0``."""
    m = re.fullmatch(r"(.+)-v(\d+)", ds_id)
    if m is None:
        raise ValueError(f"dataset id must end in -vN. Got {ds_id!r}.")
    return f"{m.group(1)}-rgb{size}-v{m.group(2)}"


def _env_kwargs(cameras: tuple[str, ...], size: int) -> dict[str, Any]:
    return {"obs_mode": "rgb", "cameras": cameras, "image_size": size}


def _init(ds_id: str, task: str, variant: str, kwargs: dict[str, Any], parent_pid: int = 0) -> None:
    from dexmg_bench.envs import make_task_env
    from dexmg_bench.processes import die_with_parent

    if parent_pid:  # a pool worker: a killed render job must not leave renderers running
        die_with_parent(parent_pid)

    _WORKER["ds"] = load(ds_id)
    _WORKER["env"] = make_task_env(task, variant, **kwargs)


def _render_episode(index: int) -> tuple[int, dict[str, Any], dict[str, Any]]:
    ds = _WORKER["ds"]
    episode = ds[index]
    (meta,) = ds.storage.get_episode_metadata([index])
    arrays = episode_arrays(_WORKER["env"], episode.infos["state"], episode.actions)
    # Only the images are new: the low-dim keys stay as the source dataset has them (what step
    # returned, for episodes recorded with their observations; see minari_io).
    obs = arrays["observations"]
    for key, value in episode.observations.items():
        if key in obs and not key.endswith("_image") and value.shape == obs[key].shape:
            obs[key] = value
    return index, arrays, meta


def render_dataset(
    ds_id: str,
    *,
    cameras: tuple[str, ...],
    size: int = 84,
    workers: int = 2,
    new_id: str = "",
    overwrite: bool = False,
    progress: bool = True,
) -> Any:
    """Write ``new_id`` (default ``rendered_id``) = ``ds_id`` plus ``<camera>_image`` observations.

    Episodes are rendered in ``workers`` processes and written in order as they arrive, so memory
    holds at most a few episodes' images.
    """
    from minari.data_collector import EpisodeBuffer
    from tqdm import tqdm

    from dexmg_bench.envs import make_task_env

    if not cameras:
        raise ValueError("`cameras` must name at least one camera.")
    if size < 8 or workers < 1:
        raise ValueError(f"need size >= 8 and workers >= 1. Got size={size}, workers={workers}.")
    src = load(ds_id)
    meta = src.storage.metadata
    dx = meta["dexmg"]
    target = new_id or rendered_id(ds_id, size)
    kwargs = _env_kwargs(tuple(cameras), size)
    env = make_task_env(dx["task"], dx["variant"], **kwargs)  # validates camera names early
    n = src.total_episodes
    episode_meta: list[dict[str, Any]] = []
    init_args = (ds_id, dx["task"], dx["variant"], kwargs)

    def buffers(results: Any) -> Any:
        with tqdm(total=n, desc=f"render {target}", unit="ep", disable=not progress) as bar:
            for index, arrays, ep_meta in results:
                skip = ("id", "total_steps", "seed")
                episode_meta.append({k: v for k, v in ep_meta.items() if k not in skip})
                bar.update(1)
                yield EpisodeBuffer(id=index, seed=ep_meta.get("seed"), **arrays)

    info = DatasetInfo(
        generator=str(meta.get("algorithm_name", dx["generator"])),
        generator_config=dx["generator_config"],
        source_dataset=dx["source_dataset"],
        generation_stats=dx["generation_stats"],
        description=(
            f"{meta.get('description', '')} Camera observations ({', '.join(cameras)}, "
            f"{size}x{size}) rendered from the stored states of {ds_id}."
        ),
    )
    extra = {"rendered_from": ds_id, "cameras": list(cameras), "image_size": size}
    try:
        if workers == 1:
            _init(*init_args)
            return create_streamed(
                target,
                buffers(map(_render_episode, range(n))),
                env=env,
                env_spec=registered_spec(dx["env_id"], kwargs),
                info=info,
                dexmg={**dx, **extra},
                episode_meta=episode_meta,
                overwrite=overwrite,
            )
        ctx = mp.get_context("spawn")  # fresh interpreters: no inherited OpenGL state
        pool_args = (*init_args, os.getpid())
        with ctx.Pool(workers, initializer=_init, initargs=pool_args) as pool:
            return create_streamed(
                target,
                buffers(pool.imap(_render_episode, range(n))),
                env=env,
                env_spec=registered_spec(dx["env_id"], kwargs),
                info=info,
                dexmg={**dx, **extra},
                episode_meta=episode_meta,
                overwrite=overwrite,
            )
    finally:
        env.close()
