"""Training data from a Minari dataset: low-dim observation vectors, actions, normalisation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Observation keys a low-dim policy sees by default, as robomimic's DexMimicGen configs do:
# end-effector poses, finger positions and object poses (not joint angles or velocities).
LOWDIM_SUFFIXES = ("_eef_pos", "_eef_quat", "_gripper_qpos", "_hand_qpos")


def default_obs_keys(keys: list[str], object_names: list[str] | None = None) -> tuple[str, ...]:
    """Robot end-effector/finger keys plus object pose keys, in sorted order."""
    chosen = [k for k in keys if k.endswith(LOWDIM_SUFFIXES)]
    robot_prefixes = ("right_", "left_")
    for k in keys:
        is_object = k.endswith(("_pos", "_quat")) and not k.startswith(robot_prefixes)
        if is_object and (object_names is None or k.rsplit("_", 1)[0] in object_names):
            chosen.append(k)
    return tuple(sorted(set(chosen)))


def flatten_obs(obs: dict[str, np.ndarray], keys: tuple[str, ...]) -> np.ndarray:
    """Concatenate ``keys`` along the last axis (works for one step or a whole episode)."""
    missing = [k for k in keys if k not in obs]
    if missing:
        raise KeyError(f"observation lacks {missing}; it has {sorted(obs)}")
    return np.concatenate([np.asarray(obs[k], dtype=np.float32) for k in keys], axis=-1)


@dataclass(frozen=True)
class Demos:
    """Episodes as (T, obs_dim) / (T, action_dim) float32 arrays plus normalisation statistics."""

    obs: tuple[np.ndarray, ...]
    actions: tuple[np.ndarray, ...]
    obs_keys: tuple[str, ...]
    obs_mean: np.ndarray
    obs_std: np.ndarray
    env_id: str

    @property
    def obs_dim(self) -> int:
        """Width of the flattened observation."""
        return int(self.obs[0].shape[1])

    @property
    def action_dim(self) -> int:
        """Width of an action."""
        return int(self.actions[0].shape[1])


def load_demos(dataset: str, obs_keys: tuple[str, ...] = (), max_episodes: int = 0) -> Demos:
    """Read a Minari dataset (checked loader) into ``Demos``; observation t pairs with action t."""
    from dexmg_bench.datasets.loader import load

    ds = load(dataset)
    obs, actions = [], []
    keys = obs_keys
    for k, ep in enumerate(ds.iterate_episodes()):
        if max_episodes and k >= max_episodes:
            break
        if not keys:
            keys = default_obs_keys(list(ep.observations))
        obs.append(flatten_obs(ep.observations, keys)[:-1])
        actions.append(np.asarray(ep.actions, dtype=np.float32))
    if not obs:
        raise ValueError(f"{dataset} has no episodes.")
    stacked = np.concatenate(obs)
    env_id = ds.spec.env_spec.id if ds.spec.env_spec is not None else ""
    return Demos(
        obs=tuple(obs),
        actions=tuple(actions),
        obs_keys=tuple(keys),
        obs_mean=stacked.mean(0),
        obs_std=np.maximum(stacked.std(0), 1e-3),  # constant features (e.g. a fixed bin) stay 0
        env_id=env_id,
    )


class SequenceSampler:
    """Random windows of ``seq_len`` steps; steps outside an episode repeat its first/last step.

    Every step can start a window, as in robomimic's ``pad_seq_length``; ``pad_before`` shifts
    windows to start up to that many steps before the episode (Diffusion Policy's observation
    history at t = 0).
    """

    def __init__(self, demos: Demos, seq_len: int, pad_before: int = 0):
        self.seq_len = seq_len
        self.pad_before = pad_before
        self.obs = [(o - demos.obs_mean) / demos.obs_std for o in demos.obs]
        self.actions = list(demos.actions)
        self.index = np.array([(e, t) for e, o in enumerate(self.obs) for t in range(len(o))])

    def __len__(self) -> int:
        return len(self.index)

    def batch(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """``(size, seq_len, obs_dim)`` normalised observations and matching actions."""
        picks = self.index[rng.integers(0, len(self.index), size)]
        steps = np.arange(self.seq_len) - self.pad_before
        obs, act = [], []
        for e, t in picks:
            idx = np.clip(t + steps, 0, len(self.obs[e]) - 1)
            obs.append(self.obs[e][idx])
            act.append(self.actions[e][idx])
        return np.stack(obs), np.stack(act)
