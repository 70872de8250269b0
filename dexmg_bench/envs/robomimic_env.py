"""robomimic's ``EnvBase`` interface over a DexMG env, for robomimic's own rollout loops.

robomimic steps environments through ``EnvBase`` (``reset``, ``reset_to({"states": ...})``,
``step -> (obs, reward, done, info)``, ``is_success()["task"]``, ``render``), and its
``run_trained_agent.py`` rollouts take any such object. ``RobomimicEnv`` gives one DexMG env
that interface; ``serialize`` returns the same ``env_args`` that ``dexmg datasets
export-robomimic`` writes (type 2: a Gymnasium-style env made by id), so a checkpoint trained on
an export names the env this class rebuilds.

robomimic is not a dependency (see docs/interop.md). Where it is installed the class is
registered as a virtual subclass of ``robomimic.envs.env_base.EnvBase``, so ``isinstance``
checks in robomimic code pass; without it the class still works for code that only calls the
methods.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

# robomimic's EnvType.GYM_TYPE: our envs are Gymnasium envs, made by id. ``dexmg datasets
# export-robomimic`` records it, and ``RobomimicEnv.type`` reports it.
GYM_ENV_TYPE = 2


class RobomimicEnv:
    """One DexMG env behind robomimic's ``EnvBase`` methods.

    Args:
        env_name: a registered id, e.g. ``DexMG/Threading-D0-v0``.
        render: on-screen rendering; not available (headless envs), refused.
        render_offscreen: make the env with ``render_mode="rgb_array"`` so ``render`` works.
        use_image_obs: camera observations (``obs_mode="rgb"``) in every observation.
        postprocess_visual_obs: kept for the interface; images are returned as the env gives
            them (uint8, H x W x 3).
        **kwargs: passed to ``gymnasium.make``.
    """

    def __init__(
        self,
        env_name: str,
        render: bool = False,
        render_offscreen: bool = False,
        use_image_obs: bool = False,
        postprocess_visual_obs: bool = True,
        **kwargs: Any,
    ):
        if render:
            raise ValueError("on-screen rendering is not supported; use render_offscreen=True")
        import dexmg_bench.envs  # noqa: F401 (registers the ids)

        self._env_name = env_name
        self._kwargs = dict(kwargs)
        self.postprocess_visual_obs = postprocess_visual_obs
        make_kwargs = dict(kwargs)
        if use_image_obs:
            make_kwargs.setdefault("obs_mode", "rgb")
        if render_offscreen or use_image_obs:
            make_kwargs.setdefault("render_mode", "rgb_array")
        self.env = gym.make(env_name, **make_kwargs)
        self._obs: dict[str, np.ndarray] = {}
        self._reward = 0.0
        self._done = False
        self._success = False

    # ----------------------------------------------------------------------------- stepping
    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, dict]:
        """The 4-tuple robomimic expects; ``done`` is Gymnasium's ``terminated or truncated``."""
        obs, reward, terminated, truncated, info = self.env.step(np.asarray(action))
        self._obs, self._reward = obs, float(reward)
        self._done = bool(terminated or truncated)
        self._success = bool(info.get("success", False))
        return self.get_observation(), self._reward, self._done, info

    def reset(self) -> dict[str, np.ndarray]:
        """A fresh episode (unseeded, as robomimic resets)."""
        return self._start(*self.env.reset())

    def reset_to(self, state: dict[str, Any]) -> dict[str, np.ndarray]:
        """Start at ``state["states"]``, a ``get_state`` vector (robomimic's ``states`` key)."""
        if "states" not in state:
            raise KeyError(f"reset_to needs a 'states' entry; got keys {sorted(state)}")
        options = {"initial_state": np.asarray(state["states"], dtype=np.float64)}
        return self._start(*self.env.reset(options=options))

    def _start(self, obs: dict[str, np.ndarray], info: dict) -> dict[str, np.ndarray]:
        del info
        self._obs, self._reward, self._done, self._success = obs, 0.0, False, False
        return self.get_observation()

    def render(
        self,
        mode: str = "human",
        height: int | None = None,
        width: int | None = None,
        camera_name: str | None = None,
    ) -> np.ndarray:
        """An RGB frame (``mode="rgb_array"``), of any camera and size the env's model has."""
        if mode != "rgb_array":
            raise ValueError(f"only mode='rgb_array' is supported (headless); got {mode!r}")
        env = self.env.unwrapped
        config = env.config
        size = config.render_size
        camera = camera_name or config.render_camera
        return env.physics.render(camera, width or size, height or size)

    # ------------------------------------------------------------------------ reading state
    def get_observation(self, obs: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """The latest observation dict (copies: robomimic may keep them)."""
        source = self._obs if obs is None else obs
        return {k: np.array(v, copy=True) for k, v in source.items()}

    def get_state(self) -> dict[str, np.ndarray]:
        """``{"states": vector}``, what ``reset_to`` takes back."""
        return {"states": np.array(self.env.unwrapped.get_state(), copy=True)}

    def get_reward(self) -> float:
        """The last step's reward (1.0 on a successful step)."""
        return self._reward

    def get_goal(self) -> dict:
        """The tasks have no goal observation."""
        raise NotImplementedError("DexMG tasks are not goal-conditioned")

    def set_goal(self, **kwargs: Any) -> None:
        """The tasks have no goal observation."""
        raise NotImplementedError("DexMG tasks are not goal-conditioned")

    def is_done(self) -> bool:
        """Whether the last step ended the episode (success with termination, or time limit)."""
        return self._done

    def is_success(self) -> dict[str, bool]:
        """``{"task": success of the last step}``, the key robomimic reads."""
        return {"task": self._success}

    # ----------------------------------------------------------------------------- metadata
    @property
    def action_dimension(self) -> int:
        """Width of an action."""
        return int(self.env.action_space.shape[0])

    @property
    def name(self) -> str:
        """The env id."""
        return self._env_name

    @property
    def type(self) -> int:
        """``EnvType.GYM_TYPE`` of robomimic, as the robomimic export records."""
        return GYM_ENV_TYPE

    @property
    def base_env(self) -> gym.Env:
        """The wrapped Gymnasium env."""
        return self.env

    def serialize(self) -> dict[str, Any]:
        """``env_meta`` for robomimic checkpoints: env_name, type, env_kwargs."""
        return {"env_name": self.name, "type": self.type, "env_kwargs": dict(self._kwargs)}

    @classmethod
    def create_for_data_processing(
        cls,
        env_name: str,
        camera_names: list[str],
        camera_height: int,
        camera_width: int,
        reward_shaping: bool,
        **kwargs: Any,
    ) -> RobomimicEnv:
        """The constructor robomimic uses to convert datasets: images when cameras are named."""
        del camera_height, camera_width, reward_shaping  # fixed by the env's own config
        images = bool(camera_names)
        return cls(env_name, render_offscreen=images, use_image_obs=images, **kwargs)

    @property
    def rollout_exceptions(self) -> tuple[type[BaseException], ...]:
        """Exceptions a rollout loop may catch and count as a failed episode: none."""
        return ()

    def close(self) -> None:
        """Release the env's rendering contexts."""
        self.env.close()

    def __repr__(self) -> str:
        return f"RobomimicEnv({self.name!r}, env_kwargs={self._kwargs})"


def _register_with_robomimic() -> bool:
    """Make ``RobomimicEnv`` a virtual ``EnvBase`` where robomimic is importable."""
    try:
        from robomimic.envs.env_base import EnvBase
    except ImportError:
        return False
    EnvBase.register(RobomimicEnv)
    return True


ROBOMIMIC_REGISTERED = _register_with_robomimic()
