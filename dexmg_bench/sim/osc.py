"""Operational-space control (OSC) of several torque-driven arms, the control law of robosuite.

Per control substep and per arm (Khatib 1987, as robosuite's ``OSC_POSE`` computes it):

    F = kp * (p* - p) - kd * v,          T = kp * e_R(R*, R) - kd * w
    tau = J_p^T Lambda_p F + J_r^T Lambda_r T + bias + N^T M (kp_null (q0 - q) - kd_null qd)

with Lambda = (J M^-1 J^T)^+, kd = 2 sqrt(kp) * damping_ratio, N = I - M^-1 J^T Lambda J J the
dynamically consistent null-space projector, and bias = gravity + Coriolis. Each arm only sees its
own block of the mass matrix, as in robosuite.

Two implementations of the same law: ``OSC.torques`` is the plain numpy reference, and
``_substeps`` is a numba kernel that runs a whole control step (25 substeps of ``mj_step1``,
torques, ``mj_step2``) in compiled code, calling MuJoCo's C functions directly (``sim/native``).
The kernel is what ``OSC.step`` runs; a test checks it against the reference on random states.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numba
import numpy as np

from dexmg_bench.sim.native import address, binding, ccall
from dexmg_bench.sim.physics import Physics


@dataclass(frozen=True, kw_only=True)
class OSCGains:
    """Gains of the pose controller; the defaults are robosuite's ``OSC_POSE`` defaults."""

    kp_pos: float = 150.0
    kp_ori: float = 150.0
    damping_ratio: float = 1.0
    kp_null: float = 10.0

    def __post_init__(self) -> None:
        for name in ("kp_pos", "kp_ori", "damping_ratio", "kp_null"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"`{name}` must be >= 0. Got {getattr(self, name)}.")


@dataclass(frozen=True)
class ArmBinding:
    """Where one arm lives in the model: its joints, torque actuators and end-effector site."""

    joints: tuple[str, ...]
    actuators: tuple[str, ...]
    eef_site: str
    rest_qpos: tuple[float, ...]


class OSC:
    """Batched OSC for ``n`` arms with the same number of joints."""

    def __init__(self, physics: Physics, arms: tuple[ArmBinding, ...], gains: OSCGains):
        self.physics = physics
        self.gains = gains
        m = physics.model
        self.n_arms = len(arms)
        self.qpos_idx = np.array([[physics.joint_qpos_adr(j) for j in a.joints] for a in arms])
        self.dof_idx = np.array([[physics.joint_dof_adr(j) for j in a.joints] for a in arms])
        self.act_idx = np.array([[physics.id("actuator", n) for n in a.actuators] for a in arms])
        self.site_ids = [physics.id("site", a.eef_site) for a in arms]
        self.rest_qpos = np.array([a.rest_qpos for a in arms], dtype=np.float64)
        n_j = self.dof_idx.shape[1]
        self._jac = np.zeros((self.n_arms, 6, m.nv))
        self._mass = np.zeros((m.nv, m.nv))
        self._jacp = np.zeros((3, m.nv))
        self._jacr = np.zeros((3, m.nv))
        self._site_ids32 = np.array(self.site_ids, dtype=np.int32)
        self._eye = np.eye(n_j)
        self._block = (self.dof_idx[:, :, None], self.dof_idx[:, None, :])
        self.goal_pos = np.zeros((self.n_arms, 3))
        self.goal_rot = np.tile(np.eye(3), (self.n_arms, 1, 1))
        kp = np.array([gains.kp_pos] * 3 + [gains.kp_ori] * 3)
        self._kp = kp
        self._kd = 2.0 * np.sqrt(kp) * gains.damping_ratio
        self._kd_null = 2.0 * np.sqrt(gains.kp_null)

    def eef_pos_rot(self) -> tuple[np.ndarray, np.ndarray]:
        """Current end-effector positions (n,3) and rotations (n,3,3) in the world frame."""
        d = self.physics.data
        pos = np.stack([d.site_xpos[s] for s in self.site_ids])
        rot = np.stack([d.site_xmat[s].reshape(3, 3) for s in self.site_ids])
        return pos, rot

    def set_goal(self, goal_pos: np.ndarray, goal_rot: np.ndarray) -> None:
        """Fix the world-frame target of every arm until the next call."""
        self.goal_pos = np.asarray(goal_pos, dtype=np.float64).reshape(self.n_arms, 3)
        self.goal_rot = np.asarray(goal_rot, dtype=np.float64).reshape(self.n_arms, 3, 3)

    def torques(self) -> np.ndarray:
        """Joint torques (n, n_joints) for the current state and goal: the numpy reference.

        ``step`` runs the compiled kernel instead; this one is the readable statement of the law.
        """
        m, d = self.physics.model, self.physics.data
        for i, site in enumerate(self.site_ids):
            mujoco.mj_jacSite(m, d, self._jac[i, :3], self._jac[i, 3:], site)
        full_mass_matrix(m, d, self._mass)
        jac = np.take_along_axis(self._jac, self.dof_idx[:, None, :].repeat(6, axis=1), axis=2)
        mass = self._mass[self._block]
        q, qd = d.qpos[self.qpos_idx], d.qvel[self.dof_idx]
        pos, rot = self.eef_pos_rot()
        vel = np.einsum("aij,aj->ai", jac, qd)
        pos_err = self.goal_pos - pos
        # robosuite's orientation_error: half the sum of cross products of matching axes.
        ori_err = 0.5 * np.cross(rot.transpose(0, 2, 1), self.goal_rot.transpose(0, 2, 1)).sum(1)
        err = np.concatenate([pos_err, ori_err], axis=1)
        wrench_des = self._kp * err - self._kd * vel
        mass_inv = np.linalg.inv(mass)
        jt = jac.transpose(0, 2, 1)
        lam_full_inv = jac @ mass_inv @ jt
        lam_pos = np.linalg.inv(lam_full_inv[:, :3, :3])
        lam_ori = np.linalg.inv(lam_full_inv[:, 3:, 3:])
        lam_full = np.linalg.inv(lam_full_inv)
        wrench = np.concatenate(
            [
                np.einsum("aij,aj->ai", lam_pos, wrench_des[:, :3]),
                np.einsum("aij,aj->ai", lam_ori, wrench_des[:, 3:]),
            ],
            axis=1,
        )
        tau = np.einsum("aij,aj->ai", jt, wrench) + d.qfrc_bias[self.dof_idx]
        jbar = mass_inv @ jt @ lam_full
        null = self._eye - jbar @ jac
        pose_tau = np.einsum(
            "aij,aj->ai", mass, self.gains.kp_null * (self.rest_qpos - q) - self._kd_null * qd
        )
        tau += np.einsum("aji,aj->ai", null, pose_tau)
        return tau

    def apply(self) -> None:
        """Write the torques into the arm actuators (MuJoCo clamps them to their limits)."""
        self.physics.data.ctrl[self.act_idx] = self.torques()

    def step(self, n_substeps: int) -> None:
        """Advance physics, recomputing the torques in every substep (500 Hz control).

        ``mj_step1`` brings positions, Jacobians and the mass matrix up to date before the torques
        are computed, and a final ``mj_forward`` makes everything read afterwards (observations,
        poses) agree with the new state. So a state restored with ``set_state`` continues exactly
        as the original episode did.
        """
        m, d = self.physics.model, self.physics.data
        arms = (self._site_ids32, self.dof_idx, self.qpos_idx, self.act_idx, self.rest_qpos)
        gains = (self._kp, self._kd, self.gains.kp_null, self._kd_null)
        dynamics = (d.qvel, d.qfrc_bias, d.ctrl, *_full_mass_args(d, self._mass), self._mass)
        kin = binding(_FUNCTIONS, m, d, (self._jacp, self._jacr))
        _substeps(kin, n_substeps, arms, (self.goal_pos, self.goal_rot), gains, dynamics)
        mujoco.mj_forward(m, d)


# MuJoCo 4 reads the inertia from mjData itself, ``mj_fullM(m, d, dst)``; MuJoCo 3 takes the packed
# ``d.qM``, ``mj_fullM(m, dst, qM)``, a field MuJoCo 4 no longer has.
MUJOCO_MAJOR = int(mujoco.__version__.split(".")[0])


def full_mass_matrix(m: mujoco.MjModel, d: mujoco.MjData, dst: np.ndarray) -> None:
    """Write the dense joint-space inertia (nv, nv) into ``dst`` on MuJoCo 3 and 4 alike."""
    if MUJOCO_MAJOR >= 4:
        mujoco.mj_fullM(m, d, dst)
    else:
        mujoco.mj_fullM(m, dst, d.qM)


def _full_mass_args(d: mujoco.MjData, dst: np.ndarray) -> tuple[np.uint64, np.uint64]:
    """The two pointers after ``m`` that the C ``mj_fullM`` of this MuJoCo takes."""
    if MUJOCO_MAJOR >= 4:
        return np.uint64(d._address), np.uint64(dst.ctypes.data)
    return np.uint64(dst.ctypes.data), np.uint64(d.qM.ctypes.data)


# Addresses of the C functions the kernel calls, in this order.
_FUNCTIONS = np.array(
    [address(f) for f in ("mj_step1", "mj_step2", "mj_jacSite", "mj_fullM")], dtype=np.uint64
)


@numba.njit(cache=True, nogil=True)
def _substeps(kin, n_substeps, arms, goal, gains, dynamics):  # noqa: PLR0914, PLR0917
    """``n_substeps`` of step1 / OSC torques into ``ctrl`` / step2, as ``OSC.torques`` computes.

    ``kin`` is ``native.binding(_FUNCTIONS, ...)``; ``arms`` is ``(site_ids, dof_idx, qpos_idx,
    act_idx, rest_qpos)``, ``goal`` ``(goal_pos, goal_rot)``, ``gains`` ``(kp, kd, kp_null,
    kd_null)`` and ``dynamics`` ``(qvel, qfrc_bias, ctrl, *mj_fullM's two pointers, mass)``.
    """
    fns, m_ptr, d_ptr, qpos, site_xpos, site_xmat, jacp, jacr = kin
    site_ids, dof_idx, qpos_idx, act_idx, rest_qpos = arms
    goal_pos, goal_rot = goal
    kp, kd, kp_null, kd_null = gains
    qvel, qfrc_bias, ctrl, full_m_a, full_m_b, mass = dynamics
    n_arms, n_j = dof_idx.shape
    jac = np.empty((6, n_j))
    m_arm = np.empty((n_j, n_j))
    q = np.empty(n_j)
    qd = np.empty(n_j)
    err = np.empty(6)
    wrench = np.empty(6)
    eye = np.eye(n_j)
    for _ in range(n_substeps):
        ccall(fns[0], (m_ptr, d_ptr))
        ccall(fns[3], (m_ptr, full_m_a, full_m_b))  # mj_fullM, fills ``mass``
        for a in range(n_arms):
            site = site_ids[a]
            ccall(fns[2], (m_ptr, d_ptr, jacp.ctypes.data, jacr.ctypes.data, site))
            for j in range(n_j):
                dj = dof_idx[a, j]
                for r in range(3):
                    jac[r, j] = jacp[r, dj]
                    jac[3 + r, j] = jacr[r, dj]
                for k in range(n_j):
                    m_arm[j, k] = mass[dj, dof_idx[a, k]]
                q[j] = qpos[qpos_idx[a, j]]
                qd[j] = qvel[dj]
            rot = site_xmat[site].reshape(3, 3)
            goal = goal_rot[a]
            ori = np.zeros(3)
            for i in range(3):
                ori += np.cross(rot[:, i], goal[:, i])
            for r in range(3):
                err[r] = goal_pos[a, r] - site_xpos[site, r]
                err[3 + r] = 0.5 * ori[r]
            wrench_des = kp * err - kd * (jac @ qd)
            m_inv = np.linalg.inv(m_arm)
            jt = np.ascontiguousarray(jac.T)
            lam_inv = jac @ m_inv @ jt
            wrench[:3] = np.linalg.inv(np.ascontiguousarray(lam_inv[:3, :3])) @ wrench_des[:3]
            wrench[3:] = np.linalg.inv(np.ascontiguousarray(lam_inv[3:, 3:])) @ wrench_des[3:]
            jbar = m_inv @ jt @ np.linalg.inv(lam_inv)
            null = eye - jbar @ jac
            pose_tau = m_arm @ (kp_null * (rest_qpos[a] - q) - kd_null * qd)
            tau = jt @ wrench + null.T @ pose_tau
            for j in range(n_j):
                ctrl[act_idx[a, j]] = tau[j] + qfrc_bias[dof_idx[a, j]]
        ccall(fns[1], (m_ptr, d_ptr))
