"""``BimanualEnv``: the base class of the two-Panda tasks (tasks subclass it once, no deeper).

The base owns the simulation loop, the action layout (per-arm OSC pose command plus hand command),
observations, seeding and exact state save/restore. A task file adds its objects, its reset
distribution, its success terms and its per-arm subtask signals. The GR-1 tasks have the sibling
base ``HumanoidEnv`` (``humanoid.py``); what the two share is in ``common.py``.

Action (per arm, in ``ARMS`` order ``right, left``), all in ``[-1, 1]``:
    ``dpos`` (3): end-effector translation, scaled to +-5 cm per step, world axes;
    ``drot`` (3): axis-angle rotation, scaled to +-0.5 rad per step, world axes, applied on the left
    of the current end-effector orientation (robosuite ``OSC_POSE`` delta semantics);
    ``hand`` (``Embodiment.hand_dim``): 1 for a parallel gripper (-1 open, +1 closed); 6 for an
    Inspire hand (per-finger joint-position targets, -1 open to +1 closed; see
    ``robots/panda_inspire.py``).
``env.action_layout`` gives the index ranges of each part. The hand is the only part that differs
between embodiments; it is described by the task's ``Embodiment`` (a per-robot constants object).
The OSC goal is set once per step from the current end-effector pose; torques are recomputed at
500 Hz for the ``500 / control_freq`` physics substeps of the step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from dexmg_bench.envs.common import (
    arm_observation,
    arm_spaces,
    both_sides_touch,
    camera_observation,
    camera_spaces,
    check_action,
    object_observation,
    object_spaces,
    resolve_config,
)
from dexmg_bench.envs.config import TaskConfig
from dexmg_bench.envs.robots import panda_gripper as panda
from dexmg_bench.geometry import axis_angle_to_mat, mat_to_axis_angle
from dexmg_bench.sim import Physics
from dexmg_bench.sim.osc import OSC, ArmBinding, OSCGains
from dexmg_bench.sim.scene import compile_model

ARMS = panda.ARMS
PHYSICS_HZ = 500


@dataclass(frozen=True, kw_only=True)
class Embodiment:
    """The per-robot constants the base class needs: arm bindings, and how the hands are driven.

    Attributes:
        arm_joints, arm_actuators, eef_site: per arm, the names of the arm's joints, torque
            actuators and the end-effector site the pose controller tracks.
        rest_qpos: arm rest posture (also the OSC null-space target).
        hand_dim: per-arm hand action size (1 for a gripper, 6 for an Inspire hand).
        hand_joints: per arm, the hand joints observed as ``<arm>_gripper_qpos``.
        hand_actuators: per arm, the hand actuators ``hand_ctrl`` writes, in its column order.
        hand_open_qpos: hand joint positions at reset (hands open).
        hand_ctrl: maps hand commands (n_arms, hand_dim) in [-1, 1] to actuator controls
            (n_arms, n_hand_actuators).
        contact_bodies: per arm, two groups of bodies (with their subtrees) that oppose each other
            in a grasp: finger pads, or thumb and fingers. ``grasped`` needs both to touch.
        max_dpos, max_drot: action scaling of the pose delta (m, rad per step at |a| = 1).
    """

    arm_joints: dict[str, tuple[str, ...]]
    arm_actuators: dict[str, tuple[str, ...]]
    eef_site: dict[str, str]
    rest_qpos: tuple[float, ...]
    hand_dim: int
    hand_joints: dict[str, tuple[str, ...]]
    hand_actuators: dict[str, tuple[str, ...]]
    hand_open_qpos: tuple[float, ...]
    hand_ctrl: Callable[[np.ndarray], np.ndarray]
    contact_bodies: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    max_dpos: float = 0.05
    max_drot: float = 0.5

    def __post_init__(self) -> None:
        if self.hand_dim < 1:
            raise ValueError(f"`hand_dim` must be >= 1. Got {self.hand_dim}.")
        for arm in ARMS:
            if len(self.hand_open_qpos) != len(self.hand_joints[arm]):
                raise ValueError(
                    f"`hand_open_qpos` has {len(self.hand_open_qpos)} values for "
                    f"{len(self.hand_joints[arm])} {arm} hand joints."
                )


def _gripper_ctrl(cmd: np.ndarray) -> np.ndarray:
    """Panda gripper: -1 open (4 cm per jaw), +1 closed; the two jaws mirror each other."""
    opening = panda.FINGER_OPEN * (1.0 - cmd[:, 0]) / 2.0
    return np.stack([opening, -opening], axis=1)


PANDA_GRIPPERS = Embodiment(
    arm_joints=panda.ARM_JOINTS,
    arm_actuators=panda.ARM_ACTUATORS,
    eef_site=panda.EEF_SITE,
    rest_qpos=panda.REST_QPOS,
    hand_dim=1,
    hand_joints=panda.FINGER_JOINTS,
    hand_actuators=panda.FINGER_ACTUATORS,
    hand_open_qpos=(panda.FINGER_OPEN, -panda.FINGER_OPEN),
    hand_ctrl=_gripper_ctrl,
    contact_bodies={a: ((panda.LEFT_PAD_BODY[a],), (panda.RIGHT_PAD_BODY[a],)) for a in ARMS},
    max_dpos=panda.MAX_DPOS,
    max_drot=panda.MAX_DROT,
)


class BimanualEnv(gym.Env):
    """Two arms, each with an end-effector pose controller and a hand, at a table."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 20}

    # Set by each task.
    config_cls: ClassVar[type[TaskConfig]] = TaskConfig
    variants: ClassVar[dict[str, TaskConfig]] = {}
    embodiment: ClassVar[str] = "two Panda arms, parallel grippers"
    robots: ClassVar[Embodiment] = PANDA_GRIPPERS
    object_names: ClassVar[tuple[str, ...]] = ()
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, variant: str = "D0", render_mode: str | None = None, **overrides: Any):
        self.config = resolve_config(self, variant, render_mode, overrides)
        self.render_mode = render_mode
        self.physics = Physics(compile_model(self._scene_xml()))
        rb = self.robots
        self.osc = OSC(
            self.physics,
            tuple(
                ArmBinding(
                    joints=rb.arm_joints[arm],
                    actuators=rb.arm_actuators[arm],
                    eef_site=rb.eef_site[arm],
                    rest_qpos=rb.rest_qpos,
                )
                for arm in ARMS
            ),
            OSCGains(),
        )
        p = self.physics
        self._n_substeps = PHYSICS_HZ // self.config.control_freq
        self._finger_qpos = np.array(
            [[p.joint_qpos_adr(j) for j in rb.hand_joints[a]] for a in ARMS]
        )
        self._arm_qpos = {a: self.osc.qpos_idx[i] for i, a in enumerate(ARMS)}
        self._arm_dof = {a: self.osc.dof_idx[i] for i, a in enumerate(ARMS)}
        self._finger_act = np.array(
            [[p.id("actuator", n) for n in rb.hand_actuators[a]] for a in ARMS]
        )
        self._object_ids = {name: p.id("body", name) for name in self.object_names}
        self._object_geoms = {name: p.body_geoms(name) for name in self.object_names}
        self._pad_geoms = {
            arm: tuple(
                frozenset().union(*(p.body_geoms(b) for b in group))
                for group in rb.contact_bodies[arm]
            )
            for arm in ARMS
        }
        self.hand_dim = rb.hand_dim
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
        self._hand_cmd = -np.ones(len(ARMS) * self.hand_dim)
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
        """Sample a new scene from the variant's reset distribution.

        ``options={"initial_state": state}`` then restores a ``get_state`` vector (e.g. the first
        state of a recorded episode), as robomimic's ``reset_to`` does.
        """
        super().reset(seed=seed)
        options = dict(options or {})
        initial_state = options.pop("initial_state", None)
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}; known: initial_state")
        p = self.physics
        p.reset()
        rest = np.asarray(self.robots.rest_qpos)
        for i, _arm in enumerate(ARMS):
            noise = self.np_random.normal(0.0, self.config.joint_noise, size=rest.shape)
            p.data.qpos[self.osc.qpos_idx[i]] = rest + noise
        self._hand_cmd = -np.ones(len(ARMS) * self.hand_dim)
        p.data.qpos[self._finger_qpos] = np.asarray(self.robots.hand_open_qpos)
        self._apply_hand()
        self._reset_objects(self.np_random)
        p.forward()
        self._elapsed = 0
        if initial_state is not None:
            self.set_state(initial_state)
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
        target[:, :3, 3] += a[:, :3] * self.robots.max_dpos
        for i in range(len(ARMS)):
            target[i, :3, :3] = axis_angle_to_mat(a[i, 3:6] * self.robots.max_drot) @ eef[i, :3, :3]
        return target

    def target_pose_to_action(self, target: np.ndarray, hand: np.ndarray) -> np.ndarray:
        """The action that moves toward world targets (n_arms, 4, 4), clipped to the action box."""
        eef = self.eef_poses()
        hand = np.asarray(hand, dtype=np.float64).reshape(len(ARMS), self.hand_dim)
        rows = []
        for i in range(len(ARMS)):
            dpos = (target[i, :3, 3] - eef[i, :3, 3]) / self.robots.max_dpos
            drot = mat_to_axis_angle(target[i, :3, :3] @ eef[i, :3, :3].T) / self.robots.max_drot
            rows.append(np.concatenate([dpos, drot, hand[i]]))
        return np.clip(np.concatenate(rows), -1.0, 1.0)

    def grasped(self, arm: str, obj: str) -> bool:
        """Whether both opposing sides of ``arm``'s hand touch ``obj`` (robosuite's test).

        The sides are the two finger pads of a gripper, or the thumb and the other fingers of a
        dexterous hand (``Embodiment.contact_bodies``).
        """
        return both_sides_touch(self.physics, self._pad_geoms[arm], self._object_geoms[obj])

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
        return check_action(action, self.action_space, self.action_layout)

    def _apply_hand(self) -> None:
        cmd = self._hand_cmd.reshape(len(ARMS), self.hand_dim)
        self.physics.data.ctrl[self._finger_act] = self.robots.hand_ctrl(cmd)

    def _make_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict(
            {
                **arm_spaces(self.robots.hand_joints),
                **object_spaces(self.object_names),
                **camera_spaces(self.config),
            }
        )

    def _observation(self) -> dict[str, np.ndarray]:
        d = self.physics.data
        return {
            **arm_observation(
                d,
                self.eef_poses(),
                arm_qpos=self._arm_qpos,
                arm_dof=self._arm_dof,
                finger_qpos=self._finger_qpos,
            ),
            **object_observation(self.object_poses()),
            **camera_observation(self.physics, self.config),
        }

    def _info(self) -> dict[str, Any]:
        terms = self.evaluate()
        return {
            "success": bool(terms["success"]),
            "terms": terms,
            "subtask_signals": self.subtask_signals(),
        }
