"""Training data from a Minari dataset: low-dim observation vectors, actions, normalisation."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    """Episodes as (T, obs_dim) / (T, action_dim) float32 arrays plus normalisation statistics.

    With image keys, ``images`` holds per episode a uint8 array (T, cameras, H, W, 3).
    """

    obs: tuple[np.ndarray, ...]
    actions: tuple[np.ndarray, ...]
    obs_keys: tuple[str, ...]
    obs_mean: np.ndarray
    obs_std: np.ndarray
    env_id: str
    env_kwargs: dict = field(default_factory=dict)
    image_keys: tuple[str, ...] = ()
    images: tuple[np.ndarray, ...] = ()

    @property
    def image_shape(self) -> tuple[int, ...] | None:
        """(cameras, H, W, 3) of one step, or None for low-dim data."""
        return tuple(self.images[0].shape[1:]) if self.images else None

    @property
    def obs_dim(self) -> int:
        """Width of the flattened observation."""
        return int(self.obs[0].shape[1])

    @property
    def action_dim(self) -> int:
        """Width of an action."""
        return int(self.actions[0].shape[1])


def load_demos(
    dataset: str, obs_keys: tuple[str, ...] = (), max_episodes: int = 0, images: bool = False
) -> Demos:
    """Read a Minari dataset (checked loader) into ``Demos``; observation t pairs with action t.

    ``images=True`` also loads every ``<camera>_image`` key (a dataset made by ``dexmg datasets
    render``); they are held in memory, which bounds the dataset size on small machines.
    """
    from dexmg_bench.datasets.loader import load

    ds = load(dataset)
    obs, actions, frames = [], [], []
    keys, image_keys = obs_keys, ()
    for k, ep in enumerate(ds.iterate_episodes()):
        if max_episodes and k >= max_episodes:
            break
        if not keys:
            keys = default_obs_keys(list(ep.observations))
        if images and not image_keys:
            image_keys = tuple(sorted(k for k in ep.observations if k.endswith("_image")))
            if not image_keys:
                raise ValueError(
                    f"{dataset} has no camera images; add them with `dexmg datasets render`."
                )
        obs.append(flatten_obs(ep.observations, keys)[:-1])
        actions.append(np.asarray(ep.actions, dtype=np.float32))
        if image_keys:
            frames.append(np.stack([ep.observations[c][:-1] for c in image_keys], axis=1))
    if not obs:
        raise ValueError(f"{dataset} has no episodes.")
    stacked = np.concatenate(obs)
    spec = ds.spec.env_spec
    return Demos(
        obs=tuple(obs),
        actions=tuple(actions),
        obs_keys=tuple(keys),
        obs_mean=stacked.mean(0),
        obs_std=np.maximum(stacked.std(0), 1e-3),  # constant features (e.g. a fixed bin) stay 0
        env_id=spec.id if spec is not None else "",
        env_kwargs=dict(spec.kwargs) if spec is not None else {},
        image_keys=image_keys,
        images=tuple(frames),
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
        self.images = list(demos.images)
        self.index = np.array([(e, t) for e, o in enumerate(self.obs) for t in range(len(o))])

    def __len__(self) -> int:
        return len(self.index)

    def batch(
        self, rng: np.random.Generator, size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Normalised observations (size, seq_len, obs_dim), actions, and images or None."""
        picks = self.index[rng.integers(0, len(self.index), size)]
        steps = np.arange(self.seq_len) - self.pad_before
        obs, act, img = [], [], []
        for e, t in picks:
            idx = np.clip(t + steps, 0, len(self.obs[e]) - 1)
            obs.append(self.obs[e][idx])
            act.append(self.actions[e][idx])
            if self.images:
                img.append(self.images[e][idx])
        return np.stack(obs), np.stack(act), (np.stack(img) if img else None)
