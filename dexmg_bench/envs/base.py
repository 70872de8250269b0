"""``DexMGEnv``: the one env base of the DexMG tasks; the robot is a controller component.

The base owns what every task shares: the Gymnasium loop (seeded reset, the step of
``500 / control_freq`` physics substeps, render, close), observations and info, exact state
save/restore and the generator interface. The robot is a :class:`~dexmg_bench.envs.controllers.
Controller` built by ``_make_controller``: it turns pose targets into joint motion and drives the
hands. A task file adds its objects, its reset distribution, its success terms and its per-arm
subtask signals, and subclasses one robot's base once, no deeper:

* ``BimanualEnv``: two Panda arms under OSC (``OSCArms``) with grippers or, with
  ``robots = PANDA_INSPIRE``, Inspire hands;
* ``HumanoidEnv`` (``humanoid.py``): the GR-1 through whole-body IK (``WholeBodyIKArms``).

A new embodiment is a ``Controller`` subclass, a base naming it, and task files.

Action (per arm, in ``ARMS`` order ``right, left``), all in ``[-1, 1]``: a pose part of 6
values, then ``hand`` (``hand_dim``): 1 for a parallel gripper (-1 open, +1 closed), 6 for an
Inspire or Fourier hand (per-finger joint-position targets). On the Pandas the pose part is
``dpos`` (3, +-5 cm per step, world axes) and ``drot`` (3, axis-angle, +-0.5 rad per step, world
axes, applied on the left of the current end-effector orientation: robosuite ``OSC_POSE`` delta
semantics). ``env.action_layout`` gives the index ranges of each part.
"""

from __future__ import annotations

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
from dexmg_bench.envs.controllers import ARMS, Controller, Embodiment, OSCArms
from dexmg_bench.envs.robots import panda_gripper as panda
from dexmg_bench.sim import Physics
from dexmg_bench.sim.osc import OSC
from dexmg_bench.sim.scene import compile_model

PHYSICS_HZ = 500


def pose_action(poses: list[np.ndarray], hand: np.ndarray, hand_dim: int) -> np.ndarray:
    """Per-arm pose parts and hand commands as one action, clipped to the action box."""
    hand = np.asarray(hand, dtype=np.float64).reshape(len(ARMS), hand_dim)
    rows = [np.concatenate([pose, hand[i]]) for i, pose in enumerate(poses)]
    return np.clip(np.concatenate(rows), -1.0, 1.0)


class DexMGEnv(gym.Env):
    """A bimanual robot at a table with a task's objects; the robot is ``self.controller``."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 20}

    # Set by each task.
    config_cls: ClassVar[type[TaskConfig]] = TaskConfig
    variants: ClassVar[dict[str, TaskConfig]] = {}
    embodiment: ClassVar[str] = ""
    object_names: ClassVar[tuple[str, ...]] = ()
    object_bodies: ClassVar[dict[str, str]] = {}  # object name -> body name, where they differ
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {}
    extra_state: ClassVar[int] = 0  # task state outside MuJoCo (e.g. a colour), in get_state

    def __init__(self, variant: str = "D0", render_mode: str | None = None, **overrides: Any):
        self.config = resolve_config(self, variant, render_mode, overrides)
        self.render_mode = render_mode
        self.controller = self._make_controller(self._scene_xml())
        self.physics = p = self.controller.physics
        self._n_substeps = PHYSICS_HZ // self.config.control_freq
        bodies = {n: self.object_bodies.get(n, n) for n in self.object_names}
        self._object_ids = {n: p.id("body", b) for n, b in bodies.items()}
        self._object_geoms = {n: p.body_geoms(b) for n, b in bodies.items()}
        self._pad_geoms = self.controller.contact_geoms
        self.hand_dim = self.controller.hand_dim
        self.arm_action_dim = 6 + self.hand_dim
        self.action_layout: dict[str, dict[str, list[int]]] = {}
        for i, arm in enumerate(ARMS):
            o = i * self.arm_action_dim
            pos, rot, hand = [o, o + 3], [o + 3, o + 6], [o + 6, o + self.arm_action_dim]
            self.action_layout[arm] = {}
            for pos_key, rot_key in self.controller.pose_keys:
                self.action_layout[arm] |= {pos_key: pos, rot_key: rot, "hand": hand}
        n_act = len(ARMS) * self.arm_action_dim
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(n_act,), dtype=np.float64)
        self.observation_space = self._make_observation_space()
        self._task_state = np.zeros(self.extra_state)
        self._elapsed = 0

    # ------------------------------------------------------------------ robot and task hooks
    def _make_controller(self, scene_xml: str) -> Controller:
        """The robot: its physics (of ``scene_xml``), arms and hands."""
        raise NotImplementedError

    def _scene_xml(self) -> str:
        raise NotImplementedError

    def _reset_task(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        """Place the objects (the robot is reset); a task taking no options refuses any."""
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}; known: initial_state")
        self._reset_objects(rng)

    def _reset_objects(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _task_state_changed(self) -> None:
        """Called after ``set_state`` restored ``_task_state`` (e.g. to recolour objects).

        It runs after ``mj_forward``, so it may change appearance only, not physics.
        """

    def _task_observation_space(self) -> dict[str, gym.spaces.Space]:
        return {}

    def _task_observation(self) -> dict[str, np.ndarray]:
        return {}

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
        """Sample a new scene from the variant's reset distribution (``options`` per task).

        ``options={"initial_state": state}`` then restores a ``get_state`` vector (e.g. the first
        state of a recorded episode), as robomimic's ``reset_to`` does.
        """
        super().reset(seed=seed)
        options = dict(options or {})
        initial_state = options.pop("initial_state", None)
        self.physics.reset()
        self.controller.reset_arms(self.np_random, self.config.joint_noise)
        self.controller.open_hands()
        self._reset_task(self.np_random, options)
        self.physics.forward()
        self._elapsed = 0
        if initial_state is not None:
            self.set_state(initial_state)
        return self._observation(), self._info()

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Aim the arms and hands as ``action`` says, then run ``500 / control_freq`` substeps."""
        action = check_action(action, self.action_space, self.action_layout)
        self.controller.command_arms(self.action_to_target_pose(action))
        self.controller.set_hand(action)
        self.controller.step(self._n_substeps)
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
        return self.controller.eef_poses()

    def object_poses(self) -> dict[str, np.ndarray]:
        """World poses (4, 4) of the task's objects: the frames subtasks are defined in."""
        return {n: self.physics.body_pose(i) for n, i in self._object_ids.items()}

    def action_to_target_pose(self, action: np.ndarray) -> np.ndarray:
        """The world-frame end-effector targets (n_arms, 4, 4) that an action commands now."""
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0).reshape(len(ARMS), -1)
        return self.controller.action_to_target_pose(a)

    @property
    def delta_pose_scale(self) -> tuple[float, float] | None:
        """(m, rad) per step at ``|a| = 1`` of a delta pose action; None where poses are absolute.

        With it and the observed end-effector pose, an action and the world target it commands
        convert into each other without the simulator (``baselines/pose_targets.py``).
        """
        return self.controller.delta_pose_scale

    def target_pose_to_action(self, target: np.ndarray, hand: np.ndarray) -> np.ndarray:
        """The action that moves toward world targets (n_arms, 4, 4), clipped to the action box."""
        return pose_action(self.controller.target_pose_to_action(target), hand, self.hand_dim)

    def grasped(self, arm: str, obj: str) -> bool:
        """Whether both opposing sides of ``arm``'s hand touch ``obj`` (robosuite's test).

        The sides are the two finger pads of a gripper, the thumb and the other fingers of an
        Inspire hand, or the thumb with the palm and the other fingers of a Fourier hand.
        """
        return both_sides_touch(self.physics, self._pad_geoms[arm], self._object_geoms[obj])

    def touching(self, arm: str, obj: str) -> bool:
        """Whether any part of ``arm``'s hand touches ``obj``."""
        first, second = self._pad_geoms[arm]
        return self.physics.contact_between(first | second, self._object_geoms[obj])

    def hand_command(self) -> np.ndarray:
        """The last hand command per arm (n_arms, hand_dim)."""
        return self.controller.hand_cmd.reshape(len(ARMS), self.hand_dim).copy()

    def get_state(self) -> np.ndarray:
        """Everything needed to continue exactly: physics, hand command, task state."""
        return np.concatenate(
            [self.physics.get_state(), self.controller.hand_cmd, self._task_state]
        )

    def set_state(self, state: np.ndarray) -> None:
        """Restore a state from ``get_state`` (e.g. the first state of a recorded demo)."""
        state = np.asarray(state, dtype=np.float64)
        n, h = self.physics.state_size, self.controller.hand_cmd.size
        if state.shape != (n + h + self.extra_state,):
            raise ValueError(
                f"expected a state of shape ({n + h + self.extra_state},), got {state.shape}"
            )
        self.physics.set_state(state[:n])  # runs mj_forward (a second one cost 45% of a write)
        self.controller.hand_cmd = state[n : n + h].copy()
        self._task_state = state[n + h :].copy()
        self._task_state_changed()

    # ------------------------------------------------------------------ observations
    def _make_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict(
            {
                **arm_spaces(self.controller.hands.joints),
                **self.controller.observation_space(),
                **object_spaces(self.object_names),
                **self._task_observation_space(),
                **camera_spaces(self.config),
            }
        )

    def _observation(self) -> dict[str, np.ndarray]:
        c = self.controller
        return {
            **arm_observation(
                self.physics.data,
                self.eef_poses(),
                arm_qpos=c.arm_qpos,
                arm_dof=c.arm_dof,
                finger_qpos=c.finger_qpos,
            ),
            **c.observation(),
            **object_observation(self.object_poses()),
            **self._task_observation(),
            **camera_observation(self.physics, self.config),
        }

    def _info(self) -> dict[str, Any]:
        terms = self.evaluate()
        return {
            "success": bool(terms["success"]),
            "terms": terms,
            "subtask_signals": self.subtask_signals(),
            **self.controller.info(),
        }


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


class BimanualEnv(DexMGEnv):
    """Two Panda arms under OSC, each with a gripper or (``robots``) a dexterous hand."""

    embodiment: ClassVar[str] = "two Panda arms, parallel grippers"
    robots: ClassVar[Embodiment] = PANDA_GRIPPERS

    def _make_controller(self, scene_xml: str) -> Controller:
        return OSCArms(Physics(compile_model(scene_xml)), self.robots)

    @property
    def osc(self) -> OSC:
        """The arms' operational-space controller."""
        assert isinstance(self.controller, OSCArms)
        return self.controller.osc


__all__ = ["ARMS", "PHYSICS_HZ", "BimanualEnv", "DexMGEnv", "Embodiment", "PANDA_GRIPPERS"]
