"""``BimanualEnv``: the one base class of every DexMG task (tasks subclass it once, no deeper).

The base owns the simulation loop, the action layout (per-arm OSC pose command plus hand command),
observations, seeding and exact state save/restore. A task file adds its objects, its reset
distribution, its success terms and its per-arm subtask signals.

Action (per arm, in ``ARMS`` order ``right, left``), all in ``[-1, 1]``:
    ``dpos`` (3): end-effector translation, scaled to +-5 cm per step, world axes;
    ``drot`` (3): axis-angle rotation, scaled to +-0.5 rad per step, world axes, applied on the left
    of the current end-effector orientation (robosuite ``OSC_POSE`` delta semantics);
    ``hand`` (1 for a parallel gripper): -1 open, +1 closed.
The OSC goal is set once per step from the current end-effector pose; torques are recomputed at
500 Hz for the ``500 / control_freq`` physics substeps of the step.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from dexmg_bench.envs.config import TaskConfig
from dexmg_bench.envs.robots import panda_gripper as panda
from dexmg_bench.geometry import axis_angle_to_mat, mat_to_axis_angle, mat_to_quat
from dexmg_bench.sim import Physics
from dexmg_bench.sim.osc import OSC, ArmBinding, OSCGains
from dexmg_bench.sim.scene import compile_model

ARMS = panda.ARMS
PHYSICS_HZ = 500


class BimanualEnv(gym.Env):
    """Two arms, each with an end-effector pose controller and a hand, at a table."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 20}

    # Set by each task.
    config_cls: ClassVar[type[TaskConfig]] = TaskConfig
    variants: ClassVar[dict[str, TaskConfig]] = {}
    embodiment: ClassVar[str] = "two Panda arms, parallel grippers"
    object_names: ClassVar[tuple[str, ...]] = ()
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, variant: str = "D0", render_mode: str | None = None, **overrides: Any):
        if variant not in self.variants:
            raise ValueError(
                f"unknown variant {variant!r} for {type(self).__name__}; "
                f"valid variants: {sorted(self.variants)}"
            )
        fields = {f.name for f in dataclasses.fields(self.config_cls)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise TypeError(
                f"unknown option(s) {unknown} for {self.config_cls.__name__}; "
                f"valid: {sorted(fields)}"
            )
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array'. Got {render_mode!r}.")
        overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
        self.config = dataclasses.replace(self.variants[variant], **overrides)
        self.render_mode = render_mode
        self.physics = Physics(compile_model(self._scene_xml()))
        self.osc = OSC(
            self.physics,
            tuple(
                ArmBinding(
                    joints=panda.ARM_JOINTS[arm],
                    actuators=panda.ARM_ACTUATORS[arm],
                    eef_site=panda.EEF_SITE[arm],
                    rest_qpos=panda.REST_QPOS,
                )
                for arm in ARMS
            ),
            OSCGains(),
        )
        p = self.physics
        self._n_substeps = PHYSICS_HZ // self.config.control_freq
        self._finger_qpos = np.array(
            [[p.joint_qpos_adr(j) for j in panda.FINGER_JOINTS[a]] for a in ARMS]
        )
        self._finger_act = np.array(
            [[p.id("actuator", n) for n in panda.FINGER_ACTUATORS[a]] for a in ARMS]
        )
        self._object_ids = {name: p.id("body", name) for name in self.object_names}
        self._object_geoms = {name: p.body_geoms(name) for name in self.object_names}
        self._pad_geoms = {
            arm: (p.body_geoms(panda.LEFT_PAD_BODY[arm]), p.body_geoms(panda.RIGHT_PAD_BODY[arm]))
            for arm in ARMS
        }
        self.hand_dim = 1
        self.arm_action_dim = 6 + self.hand_dim
        self.action_layout = {
            arm: {
                "dpos": [i * self.arm_action_dim, i * self.arm_action_dim + 3],
                "drot": [i * self.arm_action_dim + 3, i * self.arm_action_dim + 6],
                "hand": [i * self.arm_action_dim + 6, (i + 1) * self.arm_action_dim],
            }
            for i, arm in enumerate(ARMS)
        }
        n_act = len(ARMS) * self.arm_action_dim
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(n_act,), dtype=np.float64)
        self.observation_space = self._make_observation_space()
        self._hand_cmd = -np.ones(len(ARMS))
        self._elapsed = 0

    # ------------------------------------------------------------------ task hooks
    def _scene_xml(self) -> str:
        raise NotImplementedError

    def _reset_objects(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def evaluate(self) -> dict[str, bool]:
        """Named success terms of the current state; ``"success"`` is the task's success."""
        raise NotImplementedError

    def subtask_signals(self) -> dict[str, dict[str, bool]]:
        """Per arm, whether each subtask's termination condition holds now (for segmentation)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Sample a new scene from the variant's reset distribution."""
        super().reset(seed=seed)
        p = self.physics
        p.reset()
        rest = np.asarray(panda.REST_QPOS)
        for i, _arm in enumerate(ARMS):
            noise = self.np_random.normal(0.0, self.config.joint_noise, size=rest.shape)
            p.data.qpos[self.osc.qpos_idx[i]] = rest + noise
        self._hand_cmd = -np.ones(len(ARMS))
        p.data.qpos[self._finger_qpos] = np.array([panda.FINGER_OPEN, -panda.FINGER_OPEN])
        self._apply_hand()
        self._reset_objects(self.np_random)
        p.forward()
        self._elapsed = 0
        return self._observation(), self._info()

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Apply one policy action for ``500 / control_freq`` physics substeps."""
        action = self._validate_action(action)
        goal = self.action_to_target_pose(action)
        self.osc.set_goal(goal[:, :3, 3], goal[:, :3, :3])
        self._hand_cmd = action.reshape(len(ARMS), -1)[:, 6:].copy().ravel()
        self._apply_hand()
        self.osc.step(self._n_substeps)
        self._elapsed += 1
        info = self._info()
        reward = float(info["success"])
        terminated = bool(info["success"] and self.config.terminate_on_success)
        return self._observation(), reward, terminated, False, info

    def render(self) -> np.ndarray | None:
        """An RGB frame of ``render_camera`` when ``render_mode="rgb_array"``."""
        if self.render_mode != "rgb_array":
            return None
        size = self.config.render_size
        return self.physics.render(self.config.render_camera, size, size)

    def close(self) -> None:
        """Release rendering contexts."""
        self.physics.close()

    # ------------------------------------------------------------------ generator interface
    def eef_poses(self) -> np.ndarray:
        """World poses (n_arms, 4, 4) of the end-effector sites, ``ARMS`` order."""
        pos, rot = self.osc.eef_pos_rot()
        poses = np.tile(np.eye(4), (len(ARMS), 1, 1))
        poses[:, :3, :3] = rot
        poses[:, :3, 3] = pos
        return poses

    def object_poses(self) -> dict[str, np.ndarray]:
        """World poses (4, 4) of the task's objects: the frames subtasks are defined in."""
        return {n: self.physics.body_pose(i) for n, i in self._object_ids.items()}

    def action_to_target_pose(self, action: np.ndarray) -> np.ndarray:
        """The world-frame end-effector targets (n_arms, 4, 4) that an action commands now."""
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0).reshape(len(ARMS), -1)
        eef = self.eef_poses()
        target = eef.copy()
        target[:, :3, 3] += a[:, :3] * panda.MAX_DPOS
        for i in range(len(ARMS)):
            target[i, :3, :3] = axis_angle_to_mat(a[i, 3:6] * panda.MAX_DROT) @ eef[i, :3, :3]
        return target

    def target_pose_to_action(self, target: np.ndarray, hand: np.ndarray) -> np.ndarray:
        """The action that moves toward world targets (n_arms, 4, 4), clipped to the action box."""
        eef = self.eef_poses()
        hand = np.asarray(hand, dtype=np.float64).reshape(len(ARMS), self.hand_dim)
        rows = []
        for i in range(len(ARMS)):
            dpos = (target[i, :3, 3] - eef[i, :3, 3]) / panda.MAX_DPOS
            drot = mat_to_axis_angle(target[i, :3, :3] @ eef[i, :3, :3].T) / panda.MAX_DROT
            rows.append(np.concatenate([dpos, drot, hand[i]]))
        return np.clip(np.concatenate(rows), -1.0, 1.0)

    def grasped(self, arm: str, obj: str) -> bool:
        """Whether both finger pads of ``arm``'s gripper touch object ``obj`` (robosuite's test)."""
        left_pad, right_pad = self._pad_geoms[arm]
        geoms = self._object_geoms[obj]
        return self.physics.contact_between(left_pad, geoms) and self.physics.contact_between(
            right_pad, geoms
        )

    def hand_command(self) -> np.ndarray:
        """The last hand command per arm (n_arms, hand_dim)."""
        return self._hand_cmd.reshape(len(ARMS), self.hand_dim).copy()

    def get_state(self) -> np.ndarray:
        """Everything needed to continue this episode exactly (the hand command included)."""
        return np.concatenate([self.physics.get_state(), self._hand_cmd])

    def set_state(self, state: np.ndarray) -> None:
        """Restore a state from ``get_state`` (e.g. the first state of a recorded demo)."""
        state = np.asarray(state, dtype=np.float64)
        n = self.physics.state_size
        if state.shape != (n + self._hand_cmd.size,):
            raise ValueError(
                f"expected a state of shape ({n + self._hand_cmd.size},), got {state.shape}"
            )
        self.physics.set_state(state[:n])
        self._hand_cmd = state[n:].copy()

    # ------------------------------------------------------------------ helpers
    def _validate_action(self, action: Any) -> np.ndarray:
        a = np.asarray(action, dtype=np.float64)
        if a.shape != self.action_space.shape:
            raise ValueError(
                f"expected an action of shape {self.action_space.shape} "
                f"(layout {self.action_layout}), got shape {a.shape}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError(f"action contains NaN or inf: {a}")
        return np.clip(a, -1.0, 1.0)

    def _apply_hand(self) -> None:
        opening = panda.FINGER_OPEN * (1.0 - self._hand_cmd) / 2.0
        self.physics.data.ctrl[self._finger_act] = np.stack([opening, -opening], axis=1)

    def _make_observation_space(self) -> gym.spaces.Dict:
        def box(*shape: int) -> gym.spaces.Box:
            return gym.spaces.Box(-np.inf, np.inf, shape=shape, dtype=np.float64)

        spaces: dict[str, gym.spaces.Space] = {}
        for arm in ARMS:
            spaces[f"{arm}_joint_pos"] = box(7)
            spaces[f"{arm}_joint_vel"] = box(7)
            spaces[f"{arm}_eef_pos"] = box(3)
            spaces[f"{arm}_eef_quat"] = box(4)
            spaces[f"{arm}_gripper_qpos"] = box(2)
        for name in self.object_names:
            spaces[f"{name}_pos"] = box(3)
            spaces[f"{name}_quat"] = box(4)
        if self.config.obs_mode == "rgb":
            s = self.config.image_size
            for cam in self.config.cameras:
                spaces[f"{cam}_image"] = gym.spaces.Box(0, 255, shape=(s, s, 3), dtype=np.uint8)
        return gym.spaces.Dict(spaces)

    def _observation(self) -> dict[str, np.ndarray]:
        d = self.physics.data
        eef = self.eef_poses()
        obs: dict[str, np.ndarray] = {}
        for i, arm in enumerate(ARMS):
            obs[f"{arm}_joint_pos"] = d.qpos[self.osc.qpos_idx[i]].copy()
            obs[f"{arm}_joint_vel"] = d.qvel[self.osc.dof_idx[i]].copy()
            obs[f"{arm}_eef_pos"] = eef[i, :3, 3].copy()
            obs[f"{arm}_eef_quat"] = mat_to_quat(eef[i, :3, :3])
            obs[f"{arm}_gripper_qpos"] = d.qpos[self._finger_qpos[i]].copy()
        for name, pose in self.object_poses().items():
            obs[f"{name}_pos"] = pose[:3, 3].copy()
            obs[f"{name}_quat"] = mat_to_quat(pose[:3, :3])
        if self.config.obs_mode == "rgb":
            s = self.config.image_size
            for cam in self.config.cameras:
                obs[f"{cam}_image"] = self.physics.render(cam, s, s)
        return obs

    def _info(self) -> dict[str, Any]:
        terms = self.evaluate()
        return {
            "success": bool(terms["success"]),
            "terms": terms,
            "subtask_signals": self.subtask_signals(),
        }
