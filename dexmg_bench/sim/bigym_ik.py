"""BiGym's arm IK: its gains, the numpy reference solve, and the real backend's IK methods.

The pose action turns two pinch-site targets into BiGym's joint targets with a damped-least-squares
IK (:class:`IKGains`). :func:`solve_ik` is its reference iteration in numpy, on any kinematics
function (the tests' fake backend runs it); ``bigym_ik_kernel`` runs the same iteration compiled
(to ~1e-12; ``tests/sim/test_bigym_ik_kernel.py``). :class:`RealBiGymIK` is the IK part of the real
backend (``bigym_real.RealBiGym``): the IK joints, forward kinematics and Jacobians of BiGym's own
model, and the compiled calls bound once per env.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dexmg_bench.geometry import mat_to_axis_angle
from dexmg_bench.sim.bigym_backend import ARMS

# The joints the arm-control layer solves for, in BiGym's action order: floating base (x, y, yaw),
# left arm 5, right arm 5 (shoulder pitch, roll, yaw, elbow, wrist roll).
ARM_JOINTS = ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow", "wrist")
IK_DOFS = ("pelvis_x", "pelvis_y", "pelvis_rz") + tuple(
    f"{side}_{j}" for side in ("left", "right") for j in ARM_JOINTS
)
# IKGains' fields, in the order bigym_ik_kernel.pose_joint_action takes them.
_GAIN_FIELDS = (
    "rot_weight",
    "damping",
    "max_joint_step",
    "min_joint_step",
    "tolerance",
    "rot_tolerance",
)


@dataclass(frozen=True, kw_only=True)
class IKGains:
    """The damped-least-squares IK that turns pinch-site targets into BiGym's joint targets.

    Per step it solves, from the measured arm joints and the base's commanded pose, for the 13
    ``IK_DOFS`` (base x, y, yaw; 5 joints per arm) that bring both pinch sites to their targets.
    A 5-joint arm cannot reach every orientation, so orientation is a soft goal: its error
    (axis-angle, rad) is weighted by ``rot_weight`` m/rad against the position error (m). The base
    is a heavier joint (``base_cost``: it moves ``1 / base_cost`` as readily as an arm joint), so it
    moves when the arms cannot reach, and at most ``max_base_step`` (m) / ``max_yaw_step`` (rad) per
    policy step.

    Attributes:
        rot_weight: metres of position error one radian of orientation error counts as.
        base_cost: motion cost of the base x, y and yaw relative to an arm joint.
        damping: DLS damping (m).
        iterations: most Gauss-Newton iterations per step.
        max_joint_step: largest joint change (rad or m) of one iteration.
        min_joint_step: stop when an iteration changes no joint by more than this.
        tolerance: stop when every position error is below this (m) ...
        rot_tolerance: ... and every orientation error below this (rad).
        max_base_step: base translation per policy step (m).
        max_yaw_step: base yaw per policy step (rad).
    """

    rot_weight: float = 0.05
    base_cost: float = 50.0
    damping: float = 0.02
    iterations: int = 10
    max_joint_step: float = 0.3
    min_joint_step: float = 1e-3
    tolerance: float = 1e-3
    rot_tolerance: float = 0.02
    max_base_step: float = 0.02
    max_yaw_step: float = 0.05

    def __post_init__(self) -> None:
        for name in ("rot_weight", "base_cost", "damping", "max_joint_step", "tolerance"):
            if not getattr(self, name) > 0:
                raise ValueError(f"`{name}` must be > 0. Got {getattr(self, name)}.")
        if self.iterations < 1:
            raise ValueError(f"`iterations` must be >= 1. Got {self.iterations}.")


def pose_errors(poses: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per arm: position error (m) and world axis-angle orientation error (rad), target - pose."""
    dpos = targets[:, :3, 3] - poses[:, :3, 3]
    drot = np.stack(
        [mat_to_axis_angle(t[:3, :3] @ p[:3, :3].T) for t, p in zip(targets, poses, strict=True)]
    )
    return dpos, drot


def solve_ik(
    kinematics: Any,
    q0: np.ndarray,
    targets: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    cost: np.ndarray,
    gains: IKGains,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted damped least squares with joint limits, pure numpy.

    Args:
        kinematics: ``q -> (poses (n_arms, 4, 4), jacobians (n_arms, 6, n))``.
        q0: start configuration (n,).
        targets: world targets (n_arms, 4, 4).
        lower: joint lower limits (n,), ``-inf`` for none.
        upper: joint upper limits (n,), ``+inf`` for none.
        cost: per-joint motion cost (n,); 1 for an arm joint.
        gains: weights, damping, iteration limits.

    Returns:
        The configuration and the remaining position error per arm (m).

    A joint that reaches a limit is frozen for the remaining iterations (its column leaves the
    problem), so the others make up for it instead of pushing into the limit.
    """
    q = np.clip(np.asarray(q0, np.float64), lower, upper)
    free = np.ones(q.size, bool)
    w = gains.rot_weight
    for _ in range(gains.iterations):
        poses, jac = kinematics(q)
        dpos, drot = pose_errors(poses, targets)
        pos_err = np.linalg.norm(dpos, axis=1)
        if pos_err.max() < gains.tolerance and np.linalg.norm(drot, axis=1).max() < (
            gains.rot_tolerance
        ):
            return q, pos_err
        err = np.concatenate([np.concatenate([p, w * r]) for p, r in zip(dpos, drot, strict=True)])
        rows = jac.copy()
        rows[:, 3:] *= w
        rows = rows.reshape(-1, q.size)
        inv_cost = free / cost
        jw = rows * inv_cost
        a = jw @ rows.T + gains.damping**2 * np.eye(rows.shape[0])
        dq = jw.T @ np.linalg.solve(a, err)
        big = np.abs(dq).max()
        if big > gains.max_joint_step:
            dq *= gains.max_joint_step / big
        new = np.clip(q + dq, lower, upper)
        free &= ~((new <= lower) & (dq < 0) | (new >= upper) & (dq > 0))
        moved = np.abs(new - q).max()
        q = new
        if moved < gains.min_joint_step:  # at the least-squares optimum: the rest is unreachable
            break
    poses, _ = kinematics(q)
    return q, np.linalg.norm(pose_errors(poses, targets)[0], axis=1)


class RealBiGymIK:
    """``RealBiGym``'s IK on BiGym's model: joints, kinematics, the compiled solve and conversion.

    A part of :class:`~dexmg_bench.sim.bigym_real.RealBiGym`, which owns the per-env caches (made
    in its ``__init__``, dropped in its ``close``).
    """

    _mujoco: Any
    _side: Any
    _ik: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, Any]]
    _kp: dict[int, np.ndarray]
    _limits: dict[int, tuple[np.ndarray, np.ndarray]]
    _base_ctrl: dict[int, np.ndarray]
    _pose_bound: dict[int, tuple[Any, Any, tuple, int]]
    _pose_gains: tuple[Any, np.ndarray, int]

    def _ik_binding(self, raw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        """Qpos and dof addresses of ``IK_DOFS``, pinch-site ids (``ARMS`` order), scratch data."""
        key = id(raw)
        if key not in self._ik:
            mj, model = self._mujoco, raw.mojo.model
            names = [mj.mj_id2name(model, mj.mjtObj.mjOBJ_JOINT, i) for i in range(model.njnt)]
            dofs = IK_DOFS
            if any(n and n.split("/")[-1] == "pelvis_z" for n in names):  # a crouching task
                dofs = IK_DOFS[:2] + ("pelvis_z",) + IK_DOFS[2:]
            ids = []
            for dof in dofs:
                found = [i for i, n in enumerate(names) if n and n.split("/")[-1] == dof]
                if len(found) != 1:
                    raise RuntimeError(f"BiGym model: joint {dof!r} matches {len(found)} joints")
                ids.append(found[0])
            ids_arr = np.array(ids)
            grippers = raw.robot.grippers
            sides = {"right": self._side.RIGHT, "left": self._side.LEFT}
            sites = np.array([grippers[sides[a]]._pinch_site.id for a in ARMS])
            self._ik[key] = (
                model.jnt_qposadr[ids_arr].copy(),
                model.jnt_dofadr[ids_arr].copy(),
                sites,
                mj.MjData(model),
            )
        return self._ik[key]

    def ik_joints(self, raw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """See :class:`BiGymBackend`; unlimited joints (base x, y, yaw) get +-inf."""
        qadr, dadr, _, _ = self._ik_binding(raw)
        key = id(raw)
        if key not in self._limits:  # per step: the limits never change
            model = raw.mojo.model
            jnt = model.dof_jntid[dadr]
            limited = model.jnt_limited[jnt].astype(bool)
            lower = np.where(limited, model.jnt_range[jnt, 0], -np.inf)
            upper = np.where(limited, model.jnt_range[jnt, 1], np.inf)
            self._limits[key] = (lower, upper)
        lower, upper = self._limits[key]
        return raw.mojo.data.qpos[qadr], lower.copy(), upper.copy()

    def kinematics(self, raw: Any, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """See :class:`BiGymBackend`; forward kinematics on a scratch ``MjData``."""
        mj, model = self._mujoco, raw.mojo.model
        qadr, dadr, sites, scratch = self._ik_binding(raw)
        scratch.qpos[:] = raw.mojo.data.qpos
        scratch.qpos[qadr] = q
        mj.mj_kinematics(model, scratch)
        mj.mj_comPos(model, scratch)
        poses = np.tile(np.eye(4), (len(ARMS), 1, 1))
        jac = np.empty((len(ARMS), 6, len(qadr)))
        jacp, jacr = np.empty((3, model.nv)), np.empty((3, model.nv))
        for i, site in enumerate(sites):
            poses[i, :3, :3] = scratch.site_xmat[site].reshape(3, 3)
            poses[i, :3, 3] = scratch.site_xpos[site]
            mj.mj_jacSite(model, scratch, jacp, jacr, site)
            jac[i, :3], jac[i, 3:] = jacp[:, dadr], jacr[:, dadr]
        return poses, jac

    def solve_ik(  # noqa: PLR0913 (the arguments of the module's solve_ik)
        self,
        raw: Any,
        q0: np.ndarray,
        targets: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        *,
        cost: np.ndarray,
        gains: Any,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:func:`solve_ik` with this model's kinematics, compiled (``bigym_ik_kernel``).

        Same iteration and result (to ~1e-12) as the numpy reference, 30-100x cheaper (measured
        on far targets: 0.12-0.16 ms against 4-17 ms).
        """
        from dexmg_bench.sim.bigym_ik_kernel import solve_on

        qadr, dadr, sites, scratch = self._ik_binding(raw)
        scene = (raw.mojo.model, scratch, raw.mojo.data.qpos, qadr, dadr, sites)
        return solve_on(*scene, q0, targets, (lower, upper), cost=cost, gains=gains)

    def pose_joint_action(  # noqa: PLR0913 (the adapter's pose-to-joint inputs)
        self,
        raw: Any,
        targets: np.ndarray,
        hand: np.ndarray,
        *,
        cost: np.ndarray,
        gains: Any,
        base_step: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """BiGym's joint action (``low.dtype``) for pinch-site targets, and the IK's position error.

        ``BiGymAdapterEnv._pose_to_joint_action`` (IK from the scene, base deltas clamped to
        ``base_step``, servo sag, grippers ``hand`` in [-1, 1], clamped to ``[low, high]``) in one
        compiled call (``bigym_ik_kernel.pose_joint_action``), the same bits: its numpy glue cost
        more than the IK itself. Everything but the targets and grippers is bound once per env.
        """
        kernel, fixed, nq = self._pose_binding(raw)
        if gains is not self._pose_gains[0]:  # frozen: the arguments of one gains object, once
            values = [getattr(gains, f) for f in _GAIN_FIELDS]
            self._pose_gains = (gains, np.array(values, np.float64), int(gains.iterations))
        _, gain_values, iterations = self._pose_gains
        out_q, out_err = np.empty(nq), np.empty(len(ARMS))
        out_joint = np.empty(low.size, low.dtype)
        bounds = (base_step, low, high)
        targets = np.ascontiguousarray(targets, np.float64)
        hand = np.asarray(hand, np.float64)
        out = (out_q, out_err, out_joint)
        kernel(*fixed, targets, hand, cost, gain_values, iterations, bounds, out)
        return out_joint, out_err

    def _pose_binding(self, raw: Any) -> tuple[Any, tuple, int]:
        """The kernel, its per-env arguments and ``len(IK dofs)``, once per env and ``MjData``.

        MuJoCo's arrays are views into its ``MjData``, whose buffers live as long as it does;
        BiGym keeps one ``MjData`` across resets (checked by identity on every call).
        """
        key, data = id(raw), raw.mojo.data
        bound = self._pose_bound.get(key)
        if bound is None or bound[0] is not data:
            from dexmg_bench.sim.bigym_ik_kernel import FUNCTIONS, pose_joint_action
            from dexmg_bench.sim.native import binding

            qadr, dadr, sites, scratch = self._ik_binding(raw)
            lower, upper = self.ik_joints(raw)[1:]
            self.base_command(raw)  # the base actuator ids
            self.servo_sag(raw)  # the servo gains
            model = raw.mojo.model
            base_ids = np.asarray(self._base_ctrl[key], np.int64)
            sites32 = np.asarray(sites, np.int32)
            jac = (np.empty((3, model.nv)), np.empty((3, model.nv)))  # Jacobian scratch
            scene = (data.qpos, data.ctrl, data.qfrc_bias, base_ids, self._kp[key])
            ik = (np.asarray(qadr, np.int64), np.asarray(dadr, np.int64), sites32, lower, upper)
            fixed = (binding(FUNCTIONS, model, scratch, jac), scene, ik)
            bound = (data, pose_joint_action, fixed, len(qadr))
            self._pose_bound[key] = bound
        return bound[1:]

    def base_command(self, raw: Any) -> np.ndarray:
        """See :class:`BiGymBackend`."""
        key = id(raw)
        if key not in self._base_ctrl:  # actuator ids once (dm_control's bind costs ~7 us each)
            bind = raw.mojo.physics.bind
            ids = [int(bind(a).element_id) for a in raw.robot.floating_base.all_actuators]
            self._base_ctrl[key] = np.array(ids)
        return raw.mojo.data.ctrl[self._base_ctrl[key]].astype(np.float64)

    def servo_sag(self, raw: Any) -> np.ndarray:
        """See :class:`BiGymBackend`."""
        key = id(raw)
        if key not in self._kp:
            bind = raw.mojo.physics.bind
            ids = np.array([int(bind(a).element_id) for a in raw.robot.limb_actuators])
            self._kp[key] = raw.mojo.model.actuator_gainprm[ids, 0].copy()
        _, dadr, _, _ = self._ik_binding(raw)
        return raw.mojo.data.qfrc_bias[dadr[-len(ARM_JOINTS) * 2 :]] / self._kp[key]
