"""``HumanoidEnv``: the base of the GR-1 tasks (absolute hand poses through whole-body IK).

It is a sibling of ``BimanualEnv``, not a subclass: the controller differs (IK + joint servos
instead of per-arm OSC torques), but the task hooks (``_scene_xml``, ``_reset_objects``,
``evaluate``, ``subtask_signals``), the config (``TaskConfig``), the observation keys and the
generator interface (``eef_poses``, ``object_poses``, ``action_to_target_pose``,
``target_pose_to_action``, ``hand_command``, ``grasped``, ``get_state``/``set_state``) are the
same, so scripted experts, source recording and the generator run unchanged.

Action (24 values in [-1, 1]; per arm in ``ARMS`` order ``right, left``, see ``action_layout``):
    ``pos`` (3): **absolute** end-effector (``grip_site``) position in the robot base frame,
    ``[-1, 1] -> +-1 m`` about the base origin (the base sits at the task's ``base_xyz``,
    axes aligned with the world);
    ``rot`` (3): **absolute** orientation as world-frame axis-angle, ``[-1, 1] -> +-pi`` per
    component;
    ``hand`` (6): finger joint-position commands (``robots/gr1.py``).
Unlike the reference (right pose, left pose, right hand, left hand) each arm's hand follows its
pose, the per-arm layout every DexMG task uses. An all-zero action sends both hands toward the
base origin, out of reach: "hold" is the current pose, ``target_pose_to_action(eef_poses())``.
``action_layout`` also names the pose part ``dpos``/``drot``: the generator reads those keys for
every embodiment; here they are absolute, not deltas.

Each step solves IK once (``sim/ik.py``: mink's QP in a compiled kernel, joint limits enforced)
from the measured joints to the two targets and sends the solution to the joints' position servos
for ``500 / control_freq`` physics substeps: one ``mj_step(nstep=...)`` call, no Python per
substep. A target already met (both hands within ``IKConfig.tolerance``) costs no iteration.
``info["ik_error"]`` reports the IK's remaining position error per hand (m):
an unreachable target is followed as far as it can be, never an error.
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
from dexmg_bench.envs.robots import gr1
from dexmg_bench.geometry import axis_angle_to_mat, mat_to_axis_angle
from dexmg_bench.sim import Physics
from dexmg_bench.sim.ik import IKConfig, IKServo, copy_model
from dexmg_bench.sim.scene import compile_model

ARMS = gr1.ARMS
PHYSICS_HZ = 500


class HumanoidEnv(gym.Env):
    """The GR-1 with two Fourier hands at a table, driven by absolute hand poses."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 20}

    config_cls: ClassVar[type[TaskConfig]] = TaskConfig
    variants: ClassVar[dict[str, TaskConfig]] = {}
    embodiment: ClassVar[str] = "GR-1 humanoid, Fourier hands"
    torso: ClassVar[bool] = False  # whether the waist joints take part in the IK
    base_xyz: ClassVar[tuple[float, float, float]] = gr1.BASE_XYZ
    object_names: ClassVar[tuple[str, ...]] = ()
    object_bodies: ClassVar[dict[str, str]] = {}  # object name -> body name, where they differ
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {}
    extra_state: ClassVar[int] = 0  # task state outside MuJoCo (e.g. a colour), in get_state

    def __init__(self, variant: str = "D0", render_mode: str | None = None, **overrides: Any):
        self.config = resolve_config(self, variant, render_mode, overrides)
        self.render_mode = render_mode
        xml = self._scene_xml()
        self.physics = Physics(copy_model(compile_model(xml)))
        p = self.physics
        self.joints = (gr1.TORSO_JOINTS if self.torso else ()) + tuple(
            j for a in ARMS for j in gr1.ARM_JOINTS[a]
        )
        self.rest_qpos = np.concatenate(
            [np.zeros(3)] * self.torso + [np.asarray(gr1.ARM_REST[a]) for a in ARMS]
        )
        self.servo = IKServo(
            p,
            scene_xml=xml,
            joints=self.joints,
            frames=tuple(gr1.EEF_SITE[a] for a in ARMS),
            rest_qpos=self.rest_qpos,
            config=IKConfig(),
        )
        self._arm_qpos = {a: [p.joint_qpos_adr(j) for j in gr1.ARM_JOINTS[a]] for a in ARMS}
        self._arm_dof = {a: [p.joint_dof_adr(j) for j in gr1.ARM_JOINTS[a]] for a in ARMS}
        self._n_substeps = PHYSICS_HZ // self.config.control_freq
        self._finger_qpos = np.array(
            [[p.joint_qpos_adr(j) for j in gr1.HAND_JOINTS[a]] for a in ARMS]
        )
        self._finger_act = np.array(
            [[p.id("actuator", n) for n in gr1.HAND_ACTUATORS[a]] for a in ARMS]
        )
        bodies = {n: self.object_bodies.get(n, n) for n in self.object_names}
        self._object_ids = {n: p.id("body", b) for n, b in bodies.items()}
        self._object_geoms = {n: p.body_geoms(b) for n, b in bodies.items()}
        self._pad_geoms = {
            arm: tuple(
                frozenset().union(*(p.body_geoms(b, subtree=False) for b in group))
                for group in (
                    (*gr1.THUMB_BODIES[arm], gr1.PALM_BODY[arm]),
                    gr1.FINGER_BODIES[arm],
                )
            )
            for arm in ARMS
        }
        self.hand_dim = gr1.HAND_DIM
        self.arm_action_dim = 6 + self.hand_dim
        self.action_layout: dict[str, dict[str, list[int]]] = {}
        for i, arm in enumerate(ARMS):
            o = i * self.arm_action_dim
            pos, rot, hand = [o, o + 3], [o + 3, o + 6], [o + 6, o + self.arm_action_dim]
            self.action_layout[arm] = {
                "pos": pos,
                "rot": rot,
                "hand": hand,
                "dpos": pos,
                "drot": rot,
            }
        n_act = len(ARMS) * self.arm_action_dim
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(n_act,), dtype=np.float64)
        self.observation_space = self._make_observation_space()
        self._base = np.asarray(self.base_xyz, dtype=np.float64)
        self._hand_cmd = np.tile(gr1.OPEN, len(ARMS))
        self._task_state = np.zeros(self.extra_state)
        self._ik_error = np.zeros(len(ARMS))

    # ------------------------------------------------------------------ task hooks
    def _scene_xml(self) -> str:
        raise NotImplementedError

    def _reset_objects(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        raise NotImplementedError

    def _task_state_changed(self) -> None:
        """Called after ``set_state`` restored ``_task_state`` (e.g. to recolour objects).

        It runs after ``mj_forward``, so it may change appearance only, not physics.
        """

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
        p = self.physics
        p.reset()
        noise = self.np_random.normal(0.0, self.config.joint_noise, size=self.rest_qpos.shape)
        self.servo.hold(np.clip(self.rest_qpos + noise, self.servo.ik.lower, self.servo.ik.upper))
        self._hand_cmd = np.tile(gr1.OPEN, len(ARMS))
        p.data.qpos[self._finger_qpos] = self._finger_ctrl()
        self._apply_hand()
        self._reset_objects(self.np_random, options)
        p.forward()
        self._ik_error = np.zeros(len(ARMS))
        if initial_state is not None:
            self.set_state(initial_state)
        return self._observation(), self._info()

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Solve IK for the commanded hand poses, then run ``500 / control_freq`` substeps."""
        action = self._validate_action(action)
        result = self.servo.command(self.action_to_target_pose(action))
        self._ik_error = result.pos_error
        self._hand_cmd = action.reshape(len(ARMS), -1)[:, 6:].copy().ravel()
        self._apply_hand()
        self.servo.step(self._n_substeps)
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
        """World poses (n_arms, 4, 4) of the hands' ``grip_site``, ``ARMS`` order."""
        return self.servo.frame_poses()

    def object_poses(self) -> dict[str, np.ndarray]:
        """World poses (4, 4) of the task's objects: the frames subtasks are defined in."""
        return {n: self.physics.body_pose(i) for n, i in self._object_ids.items()}

    def action_to_target_pose(self, action: np.ndarray) -> np.ndarray:
        """The world-frame hand targets (n_arms, 4, 4) an action commands (absolute)."""
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0).reshape(len(ARMS), -1)
        target = np.tile(np.eye(4), (len(ARMS), 1, 1))
        for i in range(len(ARMS)):
            target[i, :3, 3] = self._base + a[i, :3] * gr1.POS_RANGE
            target[i, :3, :3] = axis_angle_to_mat(a[i, 3:6] * gr1.ROT_RANGE)
        return target

    def target_pose_to_action(self, target: np.ndarray, hand: np.ndarray) -> np.ndarray:
        """The action commanding world targets (n_arms, 4, 4), clipped to the action box."""
        hand = np.asarray(hand, dtype=np.float64).reshape(len(ARMS), self.hand_dim)
        rows = []
        for i in range(len(ARMS)):
            pos = (target[i, :3, 3] - self._base) / gr1.POS_RANGE
            rot = mat_to_axis_angle(target[i, :3, :3]) / gr1.ROT_RANGE
            rows.append(np.concatenate([pos, rot, hand[i]]))
        return np.clip(np.concatenate(rows), -1.0, 1.0)

    def grasped(self, arm: str, obj: str) -> bool:
        """Whether ``obj`` is held between the thumb or palm and the other fingers of ``arm``.

        The palm counts with the thumb: in a power grasp of a can the fingers press it against the
        palm, and the thumb may not touch it at all.
        """
        return both_sides_touch(self.physics, self._pad_geoms[arm], self._object_geoms[obj])

    def touching(self, arm: str, obj: str) -> bool:
        """Whether any part of ``arm``'s hand touches ``obj``."""
        thumb, fingers = self._pad_geoms[arm]
        return self.physics.contact_between(thumb | fingers, self._object_geoms[obj])

    def hand_command(self) -> np.ndarray:
        """The last hand command per arm (n_arms, hand_dim)."""
        return self._hand_cmd.reshape(len(ARMS), self.hand_dim).copy()

    def get_state(self) -> np.ndarray:
        """Everything needed to continue exactly: physics, hand command, task state."""
        return np.concatenate([self.physics.get_state(), self._hand_cmd, self._task_state])

    def set_state(self, state: np.ndarray) -> None:
        """Restore a state from ``get_state`` (e.g. the first state of a recorded demo)."""
        state = np.asarray(state, dtype=np.float64)
        n, h = self.physics.state_size, self._hand_cmd.size
        if state.shape != (n + h + self.extra_state,):
            raise ValueError(
                f"expected a state of shape ({n + h + self.extra_state},), got {state.shape}"
            )
        self.physics.set_state(state[:n])  # runs mj_forward (a second one cost 45% of a write)
        self._hand_cmd = state[n : n + h].copy()
        self._task_state = state[n + h :].copy()
        self._task_state_changed()

    # ------------------------------------------------------------------ helpers
    def _validate_action(self, action: Any) -> np.ndarray:
        return check_action(action, self.action_space, self.action_layout)

    def _finger_ctrl(self) -> np.ndarray:
        return gr1.hand_ctrl(self._hand_cmd.reshape(len(ARMS), self.hand_dim))

    def _apply_hand(self) -> None:
        self.physics.data.ctrl[self._finger_act] = self._finger_ctrl()

    def _make_observation_space(self) -> gym.spaces.Dict:
        torso = {"torso_joint_pos": gym.spaces.Box(-np.inf, np.inf, (3,), np.float64)}
        return gym.spaces.Dict(
            {
                **arm_spaces(gr1.HAND_JOINTS),
                **(torso if self.torso else {}),
                **object_spaces(self.object_names),
                **self._task_observation_space(),
                **camera_spaces(self.config),
            }
        )

    def _task_observation_space(self) -> dict[str, gym.spaces.Space]:
        return {}

    def _task_observation(self) -> dict[str, np.ndarray]:
        return {}

    def _observation(self) -> dict[str, np.ndarray]:
        d = self.physics.data
        torso = {"torso_joint_pos": d.qpos[self.servo.qpos_idx[:3]].copy()} if self.torso else {}
        return {
            **arm_observation(
                d,
                self.eef_poses(),
                arm_qpos=self._arm_qpos,
                arm_dof=self._arm_dof,
                finger_qpos=self._finger_qpos,
            ),
            **torso,
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
            "ik_error": self._ik_error.copy(),
        }
