"""The embodiment side of ``DexMGEnv``: a controller component owns the arms and the hands.

``DexMGEnv`` runs the Gymnasium loop for every robot; what differs between robots is here, so a
new embodiment is a :class:`Controller` subclass plus its task files. The base class drives the
hands, which work alike on every robot (a command per arm in [-1, 1] mapped to actuator controls,
two opposing contact groups for the grasp test); a subclass says how poses become joint motion:

* :class:`OSCArms`: per-arm operational-space torque control (``sim/osc.py``) with delta pose
  actions, for the two Panda arms with grippers or Inspire hands;
* :class:`WholeBodyIKArms`: whole-body IK onto joint position servos (``sim/ik.py``) with
  absolute pose actions, for the GR-1 humanoid with Fourier hands.

The order of operations (random draws, writes to ``qpos``/``ctrl``) is the one each robot's env
always had, so seeded episodes, shipped demos and generated datasets are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from dexmg_bench.envs.robots import gr1
from dexmg_bench.envs.robots import panda_gripper as panda
from dexmg_bench.geometry import axis_angle_to_mat, mat_to_axis_angle
from dexmg_bench.sim import Physics
from dexmg_bench.sim.ik import IKConfig, IKServo
from dexmg_bench.sim.osc import OSC, ArmBinding, OSCGains

ARMS = panda.ARMS


@dataclass(frozen=True, kw_only=True)
class Hands:
    """How one robot's hands are driven and how they grasp.

    Attributes:
        hand_dim: per-arm hand command size (1 for a gripper, 6 for a dexterous hand).
        joints: per arm, the hand joints observed as ``<arm>_gripper_qpos``.
        actuators: per arm, the hand actuators ``ctrl`` writes, in its column order.
        ctrl: maps hand commands (n_arms, hand_dim) in [-1, 1] to actuator controls.
        open_command: the per-arm command at reset (hands open).
        open_qpos: hand joint positions at reset; ``None`` where the hand joints are position
            servos that start at their open command's controls.
        contact_bodies: per arm, two groups of bodies that oppose each other in a grasp.
        contact_subtree: whether a contact body's geoms include its subtree's.
    """

    hand_dim: int
    joints: dict[str, tuple[str, ...]]
    actuators: dict[str, tuple[str, ...]]
    ctrl: Callable[[np.ndarray], np.ndarray]
    open_command: tuple[float, ...]
    open_qpos: tuple[float, ...] | None
    contact_bodies: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    contact_subtree: bool

    def __post_init__(self) -> None:
        if self.hand_dim < 1 or len(self.open_command) != self.hand_dim:
            raise ValueError(
                f"`open_command` must have `hand_dim` >= 1 values. Got {self.open_command}."
            )


class Controller:
    """Arms and hands of one robot: the part of an env that a new embodiment supplies.

    Subclasses implement the arm methods; the hand methods here are shared.
    """

    # The action layout's names of the per-arm pose parts (``dpos``/``drot`` are what the
    # generator reads for every embodiment).
    pose_keys: ClassVar[tuple[tuple[str, str], ...]] = (("dpos", "drot"),)
    # (m, rad) per step at |a| = 1 where the pose action is a delta from the current pose; None
    # where it is an absolute pose.
    delta_pose_scale: tuple[float, float] | None = None

    def __init__(self, physics: Physics, hands: Hands):
        self.physics = physics
        self.hands = hands
        self.hand_dim = hands.hand_dim
        p = physics
        self.finger_qpos = np.array([[p.joint_qpos_adr(j) for j in hands.joints[a]] for a in ARMS])
        self.finger_act = np.array(
            [[p.id("actuator", n) for n in hands.actuators[a]] for a in ARMS]
        )
        self.contact_geoms = {
            arm: tuple(
                frozenset().union(*(p.body_geoms(b, subtree=hands.contact_subtree) for b in group))
                for group in hands.contact_bodies[arm]
            )
            for arm in ARMS
        }
        self.hand_cmd = self._open_command()
        # Per arm, the qpos and dof addresses of the arm joints (observed per arm).
        self.arm_qpos: dict[str, Any] = {}
        self.arm_dof: dict[str, Any] = {}

    # ------------------------------------------------------------------ hands
    def _open_command(self) -> np.ndarray:
        return np.tile(np.asarray(self.hands.open_command, dtype=np.float64), len(ARMS))

    def open_hands(self) -> None:
        """Hands open, at rest at their open positions (resets)."""
        self.hand_cmd = self._open_command()
        open_qpos = self.hands.open_qpos
        self.physics.data.qpos[self.finger_qpos] = (
            self._hand_ctrl() if open_qpos is None else np.asarray(open_qpos)
        )
        self.apply_hand()

    def set_hand(self, action: np.ndarray) -> None:
        """Take the hand part of a (validated) action and write its controls."""
        self.hand_cmd = action.reshape(len(ARMS), -1)[:, 6:].copy().ravel()
        self.apply_hand()

    def _hand_ctrl(self) -> np.ndarray:
        return self.hands.ctrl(self.hand_cmd.reshape(len(ARMS), self.hand_dim))

    def apply_hand(self) -> None:
        """Write the hand command's actuator controls."""
        self.physics.data.ctrl[self.finger_act] = self._hand_ctrl()

    # ------------------------------------------------------------------ arms
    def reset_arms(self, rng: np.random.Generator, joint_noise: float) -> None:
        """Arms at their rest posture plus Gaussian joint noise."""
        raise NotImplementedError

    def command_arms(self, targets: np.ndarray) -> None:
        """Aim the arms at world end-effector targets (n_arms, 4, 4) until the next command."""
        raise NotImplementedError

    def step(self, n_substeps: int) -> None:
        """Advance the physics ``n_substeps`` with the current commands."""
        raise NotImplementedError

    def eef_poses(self) -> np.ndarray:
        """World poses (n_arms, 4, 4) of the end-effector sites, ``ARMS`` order."""
        raise NotImplementedError

    def action_to_target_pose(self, a: np.ndarray) -> np.ndarray:
        """World targets (n_arms, 4, 4) of per-arm actions ``a`` (n_arms, >= 6) in [-1, 1]."""
        raise NotImplementedError

    def target_pose_to_action(self, target: np.ndarray) -> list[np.ndarray]:
        """Per arm, the 6 pose values (unclipped) that command world target ``target[i]``."""
        raise NotImplementedError

    def observation_space(self) -> dict[str, gym.spaces.Space]:
        """Observation entries of this robot beyond the per-arm ones (none by default)."""
        return {}

    def observation(self) -> dict[str, np.ndarray]:
        """The ``observation_space`` entries now."""
        return {}

    def info(self) -> dict[str, Any]:
        """Step info entries of this robot (none by default)."""
        return {}


@dataclass(frozen=True, kw_only=True)
class Embodiment:
    """The per-robot constants of ``OSCArms``: arm bindings, and how the hands are driven.

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

    @property
    def hands(self) -> Hands:
        """The hand part (a gripper's command is 1 value: -1 open, +1 closed)."""
        return Hands(
            hand_dim=self.hand_dim,
            joints=self.hand_joints,
            actuators=self.hand_actuators,
            ctrl=self.hand_ctrl,
            open_command=(-1.0,) * self.hand_dim,
            open_qpos=self.hand_open_qpos,
            contact_bodies=self.contact_bodies,
            contact_subtree=True,
        )


class OSCArms(Controller):
    """Two arms under OSC with delta pose actions (robosuite ``OSC_POSE`` semantics).

    The OSC goal is set once per step from the current end-effector pose; torques are recomputed
    at 500 Hz for the step's physics substeps (``sim/osc.py``).
    """

    def __init__(self, physics: Physics, robots: Embodiment):
        super().__init__(physics, robots.hands)
        self.robots = robots
        self.delta_pose_scale = (robots.max_dpos, robots.max_drot)
        self.osc = OSC(
            physics,
            tuple(
                ArmBinding(
                    joints=robots.arm_joints[arm],
                    actuators=robots.arm_actuators[arm],
                    eef_site=robots.eef_site[arm],
                    rest_qpos=robots.rest_qpos,
                )
                for arm in ARMS
            ),
            OSCGains(),
        )
        self.arm_qpos = {a: self.osc.qpos_idx[i] for i, a in enumerate(ARMS)}
        self.arm_dof = {a: self.osc.dof_idx[i] for i, a in enumerate(ARMS)}

    def reset_arms(self, rng: np.random.Generator, joint_noise: float) -> None:
        """See :class:`Controller`; one draw per arm, in ``ARMS`` order."""
        rest = np.asarray(self.robots.rest_qpos)
        for i, _arm in enumerate(ARMS):
            noise = rng.normal(0.0, joint_noise, size=rest.shape)
            self.physics.data.qpos[self.osc.qpos_idx[i]] = rest + noise

    def command_arms(self, targets: np.ndarray) -> None:
        """See :class:`Controller`."""
        self.osc.set_goal(targets[:, :3, 3], targets[:, :3, :3])

    def step(self, n_substeps: int) -> None:
        """See :class:`Controller`."""
        self.osc.step(n_substeps)

    def eef_poses(self) -> np.ndarray:
        """See :class:`Controller`."""
        pos, rot = self.osc.eef_pos_rot()
        poses = np.tile(np.eye(4), (len(ARMS), 1, 1))
        poses[:, :3, :3] = rot
        poses[:, :3, 3] = pos
        return poses

    def action_to_target_pose(self, a: np.ndarray) -> np.ndarray:
        """Deltas: ``dpos`` in world axes, ``drot`` applied on the left of the current pose."""
        eef = self.eef_poses()
        target = eef.copy()
        target[:, :3, 3] += a[:, :3] * self.robots.max_dpos
        for i in range(len(ARMS)):
            target[i, :3, :3] = axis_angle_to_mat(a[i, 3:6] * self.robots.max_drot) @ eef[i, :3, :3]
        return target

    def target_pose_to_action(self, target: np.ndarray) -> list[np.ndarray]:
        """See :class:`Controller` (the delta from the current pose)."""
        return delta_pose_action(self.eef_poses(), target, self.robots)


def delta_pose_action(eef: np.ndarray, target: np.ndarray, robots: Embodiment) -> list[np.ndarray]:
    """Per arm, the unclipped ``dpos, drot`` that move from poses ``eef`` toward ``target``.

    A function of the poses alone, so an observation-driven expert computes the same actions.
    """
    rows = []
    for i in range(len(ARMS)):
        dpos = (target[i, :3, 3] - eef[i, :3, 3]) / robots.max_dpos
        drot = mat_to_axis_angle(target[i, :3, :3] @ eef[i, :3, :3].T) / robots.max_drot
        rows.append(np.concatenate([dpos, drot]))
    return rows


GR1_HANDS = Hands(
    hand_dim=gr1.HAND_DIM,
    joints=gr1.HAND_JOINTS,
    actuators=gr1.HAND_ACTUATORS,
    ctrl=gr1.hand_ctrl,
    open_command=tuple(float(x) for x in gr1.OPEN),
    open_qpos=None,
    # The palm counts with the thumb: in a power grasp of a can the fingers press it against the
    # palm, and the thumb may not touch it at all.
    contact_bodies={
        arm: ((*gr1.THUMB_BODIES[arm], gr1.PALM_BODY[arm]), gr1.FINGER_BODIES[arm]) for arm in ARMS
    },
    contact_subtree=False,
)


class WholeBodyIKArms(Controller):
    """The GR-1's arms (and waist, with ``torso``) through whole-body IK and joint servos.

    Each command solves IK once (``sim/ik.py``) from the measured joints to the two targets and
    aims the joints' position servos at the solution; ``info()["ik_error"]`` is the remaining
    position error per hand (m). Actions are absolute poses about ``base_xyz``.
    """

    pose_keys = (("pos", "rot"), ("dpos", "drot"))

    def __init__(
        self, physics: Physics, *, scene_xml: str, torso: bool, base_xyz: tuple[float, ...]
    ):
        super().__init__(physics, GR1_HANDS)
        p = physics
        self.torso = torso
        self.joints = (gr1.TORSO_JOINTS if torso else ()) + tuple(
            j for a in ARMS for j in gr1.ARM_JOINTS[a]
        )
        self.rest_qpos = np.concatenate(
            [np.zeros(3)] * torso + [np.asarray(gr1.ARM_REST[a]) for a in ARMS]
        )
        self.servo = IKServo(
            p,
            scene_xml=scene_xml,
            joints=self.joints,
            frames=tuple(gr1.EEF_SITE[a] for a in ARMS),
            rest_qpos=self.rest_qpos,
            config=IKConfig(),
        )
        self.arm_qpos = {a: [p.joint_qpos_adr(j) for j in gr1.ARM_JOINTS[a]] for a in ARMS}
        self.arm_dof = {a: [p.joint_dof_adr(j) for j in gr1.ARM_JOINTS[a]] for a in ARMS}
        self.base = np.asarray(base_xyz, dtype=np.float64)
        self.ik_error = np.zeros(len(ARMS))

    def reset_arms(self, rng: np.random.Generator, joint_noise: float) -> None:
        """See :class:`Controller`; one draw for all joints, clipped to the joint limits."""
        noise = rng.normal(0.0, joint_noise, size=self.rest_qpos.shape)
        ik = self.servo.ik
        self.servo.hold(np.clip(self.rest_qpos + noise, ik.lower, ik.upper))
        self.ik_error = np.zeros(len(ARMS))

    def command_arms(self, targets: np.ndarray) -> None:
        """See :class:`Controller`: one IK solve; an unreachable target is followed, not refused."""
        self.ik_error = self.servo.command(targets).pos_error

    def step(self, n_substeps: int) -> None:
        """See :class:`Controller`: one ``mj_step`` call, no Python per substep."""
        self.servo.step(n_substeps)

    def eef_poses(self) -> np.ndarray:
        """World poses (n_arms, 4, 4) of the hands' ``grip_site``, ``ARMS`` order."""
        return self.servo.frame_poses()

    def action_to_target_pose(self, a: np.ndarray) -> np.ndarray:
        """Absolute: position about ``base_xyz`` (+-1 m), world axis-angle (+-pi)."""
        target = np.tile(np.eye(4), (len(ARMS), 1, 1))
        for i in range(len(ARMS)):
            target[i, :3, 3] = self.base + a[i, :3] * gr1.POS_RANGE
            target[i, :3, :3] = axis_angle_to_mat(a[i, 3:6] * gr1.ROT_RANGE)
        return target

    def target_pose_to_action(self, target: np.ndarray) -> list[np.ndarray]:
        """See :class:`Controller` (absolute, independent of the current pose)."""
        rows = []
        for i in range(len(ARMS)):
            pos = (target[i, :3, 3] - self.base) / gr1.POS_RANGE
            rot = mat_to_axis_angle(target[i, :3, :3]) / gr1.ROT_RANGE
            rows.append(np.concatenate([pos, rot]))
        return rows

    def observation_space(self) -> dict[str, gym.spaces.Space]:
        """The waist joints, when they take part in the IK."""
        if not self.torso:
            return {}
        return {"torso_joint_pos": gym.spaces.Box(-np.inf, np.inf, (3,), np.float64)}

    def observation(self) -> dict[str, np.ndarray]:
        """See :class:`Controller`."""
        if not self.torso:
            return {}
        return {"torso_joint_pos": self.physics.data.qpos[self.servo.qpos_idx[:3]].copy()}

    def info(self) -> dict[str, Any]:
        """The IK's remaining position error per hand (m)."""
        return {"ik_error": self.ik_error.copy()}
