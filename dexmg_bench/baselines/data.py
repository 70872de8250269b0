"""Training data from a Minari dataset: low-dim feature vectors, actions, normalisation.

Two choices here decide whether a policy can fit its data at all:

* Orientations enter as the first two columns of their rotation matrix, not as quaternions. A
  quaternion is unique only up to sign, and the envs report it with ``w >= 0``: a gripper
  pointing down (rotated about pi from the world frame) has ``w`` near 0, so its quaternion
  flips sign between neighbouring steps and the same pose reads as two distant vectors. The
  rotation-matrix columns are continuous over all of SO(3).
* Actions are scaled per dimension from the dataset's range to [-1, 1] (robomimic's ``min_max``
  normalisation). The GR-1's absolute poses span a few centimetres of a +-1 m action range, so
  unscaled they are tiny targets next to the +-1 hand commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dexmg_bench.baselines.pose_targets import PoseFrame, pose_frame, to_targets
from dexmg_bench.geometry import mat_to_rot6d, quat_to_mat

# Robot keys a low-dim policy sees, as robomimic's DexMimicGen configs do: end-effector poses and
# finger positions, not joint angles or velocities.
LOWDIM_SUFFIXES = ("_eef_pos", "_eef_quat", "_gripper_qpos", "_hand_qpos")
ROBOT_PREFIXES = ("right_", "left_", "torso_")

# How observation vectors are built; stored in checkpoints. ``quat``: keys concatenated as
# stored (checkpoints written before ``rot6d`` existed); ``rot6d``: see the module docstring.
FEATURES = ("quat", "rot6d")

# Smallest half-range an action dimension is scaled by: a constant dimension (an unused hand
# joint) maps to 0 and back to its constant, instead of dividing by zero.
MIN_ACTION_HALF_RANGE = 1e-3


def default_obs_keys(keys: list[str], object_names: list[str] | None = None) -> tuple[str, ...]:
    """End-effector/finger keys plus every task key (object poses, task scalars), sorted.

    Task keys are all keys that are not the robot's (``right_``/``left_``/``torso_``) nor camera
    images: object poses and scalars such as Can Sorting's ``can_red`` or Coffee's
    ``lid_angle``. ``object_names`` restricts the object pose keys to those objects.
    """
    chosen = [k for k in keys if k.startswith(ROBOT_PREFIXES) and k.endswith(LOWDIM_SUFFIXES)]
    for k in keys:
        if k.startswith(ROBOT_PREFIXES) or k.endswith("_image"):
            continue
        is_pose = k.endswith(("_pos", "_quat"))
        if not is_pose or object_names is None or k.rsplit("_", 1)[0] in object_names:
            chosen.append(k)
    return tuple(sorted(set(chosen)))


def rot6d(quat: np.ndarray) -> np.ndarray:
    """The first two columns of the rotation of wxyz quaternions ``(..., 4) -> (..., 6)``.

    Equal for ``q`` and ``-q``, and continuous in the rotation (Zhou et al., CVPR 2019).
    """
    return mat_to_rot6d(quat_to_mat(np.asarray(quat, dtype=np.float64)))


def flatten_obs(
    obs: dict[str, np.ndarray], keys: tuple[str, ...], features: str = "quat"
) -> np.ndarray:
    """Concatenate ``keys`` along the last axis (one step or a whole episode).

    With ``features="rot6d"`` every ``*_quat`` key enters as ``rot6d`` of it.
    """
    if features not in FEATURES:
        raise ValueError(f"`features` must be one of {FEATURES}. Got {features!r}.")
    missing = [k for k in keys if k not in obs]
    if missing:
        raise KeyError(f"observation lacks {missing}; it has {sorted(obs)}")
    parts = []
    for k in keys:
        value = np.asarray(obs[k])
        if features == "rot6d" and k.endswith("_quat"):
            value = rot6d(value)
        parts.append(np.asarray(value, dtype=np.float32).reshape(*value.shape[:-1], -1))
    return np.concatenate(parts, axis=-1)


def action_scale(actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(centre, half_range)`` per action dimension of stacked actions ``(N, A)``."""
    low, high = actions.min(0), actions.max(0)
    centre = (high + low) / 2
    half = np.maximum((high - low) / 2, MIN_ACTION_HALF_RANGE)
    return centre.astype(np.float32), half.astype(np.float32)


@dataclass(frozen=True)
class Demos:
    """Episodes as (T, obs_dim) / (T, action_dim) float32 arrays plus normalisation statistics.

    ``actions`` are as stored in the dataset; ``normalise_actions`` maps them to [-1, 1].

    With image keys, ``images`` holds per episode a uint8 array (T, cameras, H, W, 3).
    """

    obs: tuple[np.ndarray, ...]
    actions: tuple[np.ndarray, ...]
    obs_keys: tuple[str, ...]
    obs_mean: np.ndarray
    obs_std: np.ndarray
    action_centre: np.ndarray
    action_half_range: np.ndarray
    env_id: str
    env_kwargs: dict = field(default_factory=dict)
    image_keys: tuple[str, ...] = ()
    images: tuple[np.ndarray, ...] = ()
    features: str = "rot6d"
    time_horizon: int = 0  # > 0: each observation ends with its step index / time_horizon
    pose_frame: PoseFrame | None = None  # set: ``actions`` are pose targets (``pose_targets.py``)

    def normalise_actions(self, actions: np.ndarray) -> np.ndarray:
        """Dataset actions to the network's [-1, 1] range."""
        return (actions - self.action_centre) / self.action_half_range

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
    dataset: str,
    obs_keys: tuple[str, ...] = (),
    max_episodes: int = 0,
    images: bool = False,
    features: str = "rot6d",
    *,
    obs_std_floor: float = 1e-3,
    time_input: bool = False,
    pose_targets: bool = False,
) -> Demos:
    """Read a Minari dataset (checked loader) into ``Demos``; observation t pairs with action t.

    ``obs_std_floor`` is the smallest standard deviation a feature is normalised by (a constant
    feature, e.g. a fixed bin, stays 0; see ``TrainConfig.obs_std_floor``).

    ``time_input=True`` appends ``time_column`` (the step index over the env's horizon) to
    every observation (see ``TrainConfig.time_input``).

    ``pose_targets=True`` turns each arm's delta pose action into the world target it commands
    (``pose_targets.to_targets``); the env of the dataset must have delta pose actions.

    ``images=True`` also loads every ``<camera>_image`` key (a dataset made by ``dexmg datasets
    render``); they are held in memory, which bounds the dataset size on small machines.
    """
    from dexmg_bench.datasets.loader import load

    ds = load(dataset)
    spec = ds.spec.env_spec
    horizon = 0
    if time_input:
        horizon = int(spec.max_episode_steps or 0) if spec is not None else 0
        if horizon < 1:
            raise ValueError(f"{dataset}: its env spec names no horizon for the time input")
    frame = _pose_frame_of(spec, dataset) if pose_targets else None
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
        flat = flatten_obs(ep.observations, keys, features)[:-1]
        if horizon:
            flat = np.concatenate([flat, time_column(len(flat), horizon)], axis=1)
        obs.append(flat)
        act = np.asarray(ep.actions, dtype=np.float64)
        if frame is not None:
            step_obs = {k: np.asarray(v)[:-1] for k, v in ep.observations.items()}
            act = to_targets(frame, step_obs, act)
        actions.append(act.astype(np.float32))
        if image_keys:
            frames.append(np.stack([ep.observations[c][:-1] for c in image_keys], axis=1))
    if not obs:
        raise ValueError(f"{dataset} has no episodes.")
    stacked = np.concatenate(obs)
    centre, half = action_scale(np.concatenate(actions))
    return Demos(
        obs=tuple(obs),
        actions=tuple(actions),
        obs_keys=tuple(keys),
        obs_mean=stacked.mean(0),
        obs_std=np.maximum(stacked.std(0), obs_std_floor),
        action_centre=centre,
        action_half_range=half,
        env_id=spec.id if spec is not None else "",
        env_kwargs=dict(spec.kwargs) if spec is not None else {},
        image_keys=image_keys,
        images=tuple(frames),
        features=features,
        time_horizon=horizon,
        pose_frame=frame,
    )


def _pose_frame_of(spec: Any, dataset: str) -> PoseFrame:
    """The pose frame of a dataset's env (made once to read its action layout and step scale)."""
    import gymnasium as gym

    import dexmg_bench.envs  # noqa: F401 (registers the ids)
    from dexmg_bench.errors import UserInputError

    if spec is None:
        raise UserInputError(f"{dataset} records no env spec, so its action frame is unknown.")
    env = gym.make(spec.id, disable_env_checker=True, **dict(spec.kwargs or {}))
    try:
        return pose_frame(env)
    except ValueError as e:
        raise UserInputError(f"--pose-targets on {dataset}: {e}") from None
    finally:
        env.close()


def time_column(steps: int, horizon: int, start: int = 0) -> np.ndarray:
    """Step indices ``start .. start + steps - 1`` over the horizon, as a ``(steps, 1)`` column."""
    return (np.arange(start, start + steps, dtype=np.float32) / horizon)[:, None]


class SequenceSampler:
    """Random windows of ``seq_len`` steps; steps outside an episode repeat its first/last step.

    Every step can start a window, as in robomimic's ``pad_seq_length``; ``pad_before`` shifts
    windows to start up to that many steps before the episode (Diffusion Policy's observation
    history at t = 0). Episodes are kept as one array each for observations and actions, so a
    batch is one fancy-indexing gather.
    """

    def __init__(self, demos: Demos, seq_len: int, pad_before: int = 0):
        self.seq_len = seq_len
        self.pad_before = pad_before
        lengths = np.array([len(o) for o in demos.obs])
        self.start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self.length = lengths
        self.obs = ((np.concatenate(demos.obs) - demos.obs_mean) / demos.obs_std).astype(np.float32)
        self.actions = demos.normalise_actions(np.concatenate(demos.actions)).astype(np.float32)
        self.images = list(demos.images)
        self.index = np.array([(e, t) for e, n in enumerate(lengths) for t in range(n)])

    def __len__(self) -> int:
        return len(self.index)

    def batch(
        self, rng: np.random.Generator, size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Normalised observations (size, seq_len, obs_dim) and actions, and images or None."""
        picks = self.index[rng.integers(0, len(self.index), size)]
        e, t = picks[:, 0], picks[:, 1]
        steps = np.arange(self.seq_len) - self.pad_before
        local = np.clip(t[:, None] + steps, 0, self.length[e][:, None] - 1)
        rows = self.start[e][:, None] + local
        img = None
        if self.images:
            img = np.stack([self.images[k][idx] for k, idx in zip(e, local, strict=True)])
        return self.obs[rows], self.actions[rows], img
