"""A Minari dataset back to source demos, so a downloaded dataset can seed the generator.

The datagen info the generator needs is not stored in Minari datasets: it is a function of the
stored simulator states and actions. End-effector and object poses and subtask signals are read
after restoring each state, target poses by converting each action at its state, hand commands
are the hand columns of the actions, and boundaries follow from the signals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dexmg_bench.datasets.source import SourceDemo, SourceFile, append_scene, segment_boundaries


def demo_from_episode(env: Any, episode: Any, *, seed: int, success: bool) -> SourceDemo:
    """Rebuild one demo (datagen info included) from a Minari episode's states and actions."""
    states = np.asarray(episode.infos["state"])
    actions = np.asarray(episode.actions)
    n = len(actions)
    eef, target, objects = [], [], {name: [] for name in env.object_names}
    signals: dict[str, dict[str, list[bool]]] = {
        arm: {s: [] for s in names} for arm, names in env.subtask_names.items()
    }
    for t in range(n):
        env.set_state(states[t])
        eef.append(env.eef_poses())
        target.append(env.action_to_target_pose(actions[t]))
        append_scene(env, objects, signals)
    sig_arrays = {a: {s: np.asarray(v, bool) for s, v in d.items()} for a, d in signals.items()}
    try:
        boundaries = {
            arm: segment_boundaries(sig_arrays[arm], env.subtask_names[arm], n)
            for arm in sig_arrays
        }
    except ValueError:
        if success:
            raise
        sig_arrays, boundaries = {}, {}  # a failed episode may not reach every signal
    return SourceDemo(
        seed=seed,
        actions=actions,
        states=states,
        eef_pose=np.asarray(eef),
        target_pose=np.asarray(target),
        hand=actions.reshape(n, len(env.subtask_names), -1)[:, :, 6:].copy(),
        object_pose={k: np.asarray(v) for k, v in objects.items()},
        signals=sig_arrays,
        boundaries=boundaries,
        success=success,
        observations={k: np.asarray(v) for k, v in episode.observations.items()},
        state_success=np.asarray(episode.infos["success"], bool),
    )


def read_minari_source(ds_id: str) -> SourceFile:
    """Every episode of a dexmg Minari dataset as a ``SourceFile`` (integrity-checked load)."""
    from dexmg_bench.datasets.loader import load
    from dexmg_bench.envs import make_task_env

    ds = load(ds_id)
    dx = ds.storage.metadata["dexmg"]
    env = make_task_env(dx["task"], dx["variant"])
    episode_meta = ds.storage.get_episode_metadata(range(ds.total_episodes))
    try:
        demos = tuple(
            demo_from_episode(
                env,
                episode,
                seed=int(meta.get("seed", 0)),
                success=bool(episode.infos["success"][-1]),
            )
            for episode, meta in zip(ds.iterate_episodes(), episode_meta, strict=True)
        )
    finally:
        env.close()
    return SourceFile(
        env_id=dx["env_id"],
        task=dx["task"],
        variant=dx["variant"],
        origin=dx["origin"],
        code_version=dx.get("recorded_with_code_version", dx["code_version"]),
        demos=demos,
    )
