"""Anything that maps observations to actions, behind the evaluator's ``Policy`` protocol.

A researcher's policy is often a bare function or a stable-baselines3 ``.zip``; these adapters
let the evaluator treat them exactly like our own baselines. ``ObservationExpert`` runs a task's
scripted expert from observations alone: it is the evaluator's known-good reference.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dexmg_bench.envs.base import ARMS, BimanualEnv, pose_action
from dexmg_bench.envs.controllers import delta_pose_action
from dexmg_bench.geometry import quat_to_mat


class CallablePolicy:
    """Wrap ``fn(obs) -> action``; ``fn.reset()`` is called at episode starts if it exists."""

    def __init__(self, fn: Callable[[dict[str, np.ndarray]], np.ndarray]):
        self.fn = fn

    def reset(self) -> None:
        """Forward to ``fn.reset`` when the callable has one."""
        reset = getattr(self.fn, "reset", None)
        if callable(reset):
            reset()

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """The callable's action as a float array."""
        return np.asarray(self.fn(obs), dtype=np.float64)


class RandomPolicy:
    """Uniform actions in the action box: the floor every method must beat."""

    def __init__(self, action_dim: int, seed: int = 0):
        self.action_dim = action_dim
        self.rng = np.random.default_rng(seed)

    def reset(self) -> None:
        """Nothing to forget."""

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:  # noqa: ARG002 (ignores obs)
        """A uniform sample in [-1, 1]."""
        return self.rng.uniform(-1.0, 1.0, self.action_dim)


class SB3Policy:
    """A stable-baselines3 model saved as ``.zip`` (needs ``pip install stable-baselines3``).

    Args:
        path: the ``.zip`` written by ``model.save``.
        algo: the SB3 algorithm class name that trained it (``PPO``, ``SAC``, ...).
        deterministic: use the policy's mean action.
    """

    def __init__(self, path: str | Path, algo: str = "PPO", deterministic: bool = True):
        try:
            import stable_baselines3
        except ImportError as err:
            raise ImportError(
                "SB3Policy needs stable-baselines3: pip install stable-baselines3"
            ) from err
        if not hasattr(stable_baselines3, algo):
            raise ValueError(f"stable_baselines3 has no algorithm {algo!r}.")
        self.model = getattr(stable_baselines3, algo).load(str(path), device="cpu")
        self.deterministic = deterministic
        space = self.model.observation_space
        self.keys = list(space.spaces) if hasattr(space, "spaces") else None

    def reset(self) -> None:
        """SB3 feed-forward policies keep no state."""

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """``model.predict`` on the keys the model was trained with."""
        x: Any = {k: obs[k] for k in self.keys} if self.keys is not None else obs
        action, _ = self.model.predict(x, deterministic=self.deterministic)
        return np.asarray(action, dtype=np.float64)


class _ObservationView:
    """The slice of a task env's interface that scripted experts read, rebuilt from observations.

    Constants (robot limits, action layout, object names) come from an env that is built but
    never reset or stepped; every pose comes from the observation the evaluator handed over.
    """

    def __init__(self, constants: BimanualEnv):
        self.robots = constants.robots
        self.hand_dim = constants.hand_dim
        self.action_layout = constants.action_layout
        self.object_names = tuple(constants.object_names)
        self.obs: dict[str, np.ndarray] = {}

    @staticmethod
    def _pose(pos: np.ndarray, quat: np.ndarray) -> np.ndarray:
        pose = np.eye(4)
        pose[:3, :3] = quat_to_mat(quat)
        pose[:3, 3] = pos
        return pose

    def eef_poses(self) -> np.ndarray:
        """World end-effector poses (n_arms, 4, 4) from ``<arm>_eef_pos/quat``."""
        o = self.obs
        return np.stack([self._pose(o[f"{a}_eef_pos"], o[f"{a}_eef_quat"]) for a in ARMS])

    def object_poses(self) -> dict[str, np.ndarray]:
        """World object poses from ``<obj>_pos/quat``."""
        o = self.obs
        return {n: self._pose(o[f"{n}_pos"], o[f"{n}_quat"]) for n in self.object_names}

    def target_pose_to_action(self, target: np.ndarray, hand: np.ndarray) -> np.ndarray:
        """The env's action toward world targets, from the observed end-effector poses."""
        poses = delta_pose_action(self.eef_poses(), target, self.robots)
        return pose_action(poses, hand, self.hand_dim)


class ObservationExpert:
    """A task's scripted expert driven by observations only (no simulator access).

    Works for experts that read poses through ``eef_poses``/``object_poses`` (Threading and
    Transport); one that reads joint positions from the simulator raises on first use.
    """

    def __init__(self, env_id: str, seed: int = 0):
        import gymnasium as gym

        from dexmg_bench.envs.experts import EXPERTS

        constants = gym.make(env_id, disable_env_checker=True).unwrapped
        self._view = _ObservationView(constants)
        module, cls = EXPERTS[type(constants).__name__].split(":")
        import importlib

        self._expert_cls = getattr(importlib.import_module(module), cls)
        constants.close()
        self.rng = np.random.default_rng(seed)
        self._expert = None

    def reset(self) -> None:
        """A new plan is made from the first observation of the episode."""
        self._expert = None

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """The expert's next action for this observation."""
        self._view.obs = obs
        if self._expert is None:
            self._expert = self._expert_cls(self._view, self.rng)
        return self._expert.act()
