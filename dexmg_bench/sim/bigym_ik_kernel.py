"""The compiled BiGym arm IK: ``dexmg_bench.sim.bigym_ik.solve_ik``'s iteration without Python.

The pose action solves a 12 x 12 damped-least-squares system up to 10 times per step. Through numpy
each solve costs far more than its arithmetic (Python calls, and OpenBLAS waking its threads for a
12 x 12 matrix: ~0.5 ms per ``np.linalg.solve`` on a busy 2-core machine), so the IK cost 1-3 ms of
a 7-9 ms step. This kernel runs the same loop (same joint freezing, step clamp, stop rules and
orientation error through the same quaternion formulas as ``geometry.so3``) with MuJoCo's C
``mj_kinematics`` / ``mj_comPos`` / ``mj_jacSite`` called from numba (``sim.native``) and a Cholesky
solve of the (symmetric positive definite) normal matrix; it agrees with the numpy reference to
~1e-12 (``tests/sim/test_bigym_ik_kernel.py``). Its own module, so that editing the adapter or
``bigym_ik`` does not invalidate numba's on-disk cache.

Two more kernels keep the adapter's per-step cost small (each is the Python it replaces, element
by element, so the same bits; both tested on BiGym in the slow tier): ``pose_joint_action``, the
whole pose-to-joint conversion around ``solve``, and ``readout``, a step's observation additions
and contact facts. Right after BiGym's step every separate numpy or MuJoCo call of ours paid
cache misses (reading ``data.ncon`` took 6.6 us there, 0.16 us warm), so one call beats many.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from dexmg_bench.sim.ik_kernel import _cholesky_solve
from dexmg_bench.sim.native import address, binding, ccall

_SMALL_ANGLE = 1e-2  # geometry.so3's switch to the series form of atan(x)/x

# Addresses of the C functions the kernel calls, in this order.
FUNCTIONS = np.array(
    [address(f) for f in ("mj_kinematics", "mj_comPos", "mj_jacSite")], dtype=np.uint64
)


@numba.njit(cache=True, nogil=True)
def _mat_to_axis_angle(r):
    """``geometry.so3.mat_to_axis_angle`` of one 3x3 matrix (same pivot rule and series)."""
    r00, r01, r02 = r[0, 0], r[0, 1], r[0, 2]
    r10, r11, r12 = r[1, 0], r[1, 1], r[1, 2]
    r20, r21, r22 = r[2, 0], r[2, 1], r[2, 2]
    trace = r00 + r11 + r22
    q = np.empty(4)
    k = 0
    best = trace
    if r00 > best:
        k, best = 1, r00
    if r11 > best:
        k, best = 2, r11
    if r22 > best:
        k = 3
    if k == 0:
        q[0], q[1], q[2], q[3] = 1 + trace, r21 - r12, r02 - r20, r10 - r01
    elif k == 1:
        q[0], q[1], q[2], q[3] = r21 - r12, 1 + r00 - r11 - r22, r01 + r10, r02 + r20
    elif k == 2:  # noqa: PLR2004
        q[0], q[1], q[2], q[3] = r02 - r20, r01 + r10, 1 - r00 + r11 - r22, r12 + r21
    else:
        q[0], q[1], q[2], q[3] = r10 - r01, r02 + r20, r12 + r21, 1 - r00 - r11 + r22
    norm = np.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    sign = -1.0 if q[0] < 0 else 1.0
    q = sign * q / norm
    # quat_to_axis_angle: normalise again, w >= 0, angle 2 atan2(|xyz|, w).
    q = q / np.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    if q[0] < 0:
        q = -q
    w = q[0]
    s = np.sqrt(q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    if s < _SMALL_ANGLE:
        r2 = (s / w) ** 2
        scale = (2 / w) * (1 - r2 / 3 + r2 * r2 / 5)
    else:
        scale = 2 * np.arctan2(s, w) / s
    return scale * q[1:]


@numba.njit(cache=True, nogil=True)
def _norm3(v):
    return np.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])


@numba.njit(cache=True, nogil=True)
def _forward(fns, m_ptr, d_ptr, qpos, qadr, q, with_jacobian):  # noqa: PLR0917
    for k in range(q.shape[0]):
        qpos[qadr[k]] = q[k]
    ccall(fns[0], (m_ptr, d_ptr))
    if with_jacobian:
        ccall(fns[1], (m_ptr, d_ptr))


@numba.njit(cache=True, nogil=True)
def _errors(site_xpos, site_xmat, sites, targets, dpos, drot):  # noqa: PLR0917
    """``pose_errors``: position and world axis-angle error (target - pose) per arm."""
    for i in range(sites.shape[0]):
        s = sites[i]
        pose_rot = site_xmat[s].reshape(3, 3)
        for r in range(3):
            dpos[i, r] = targets[i, r, 3] - site_xpos[s, r]
        rel = np.empty((3, 3))
        for r in range(3):
            for c in range(3):
                rel[r, c] = (
                    targets[i, r, 0] * pose_rot[c, 0]
                    + targets[i, r, 1] * pose_rot[c, 1]
                    + targets[i, r, 2] * pose_rot[c, 2]
                )
        drot[i] = _mat_to_axis_angle(rel)


@numba.njit(cache=True, nogil=True)
def solve(kin, qadr, dadr, sites, q0, targets, bounds, cost, gains, out):  # noqa: PLR0912, PLR0913, PLR0917
    """``solve_ik``'s loop on scratch data (``qpos`` already the scene's); returns iterations run.

    ``kin`` is ``native.binding(FUNCTIONS, ...)`` of the scratch data; ``bounds`` is
    ``(lower, upper)``; ``gains`` is ``(rot_weight, damping, iterations, max_joint_step,
    min_joint_step, tolerance, rot_tolerance)``; ``out`` is ``(q, err)``, written: the
    configuration and the remaining position error per arm (m).
    """
    fns, m_ptr, d_ptr, qpos, site_xpos, site_xmat, jacp, jacr = kin
    lower, upper = bounds
    rot_weight, damping, iterations, max_joint_step, min_joint_step, tolerance, rot_tolerance = (
        gains
    )
    out_q, out_err = out
    n = q0.shape[0]
    n_arms = sites.shape[0]
    m = 6 * n_arms
    q = np.minimum(np.maximum(q0, lower), upper)
    free = np.ones(n, dtype=np.bool_)
    dpos = np.empty((n_arms, 3))
    drot = np.empty((n_arms, 3))
    rows = np.empty((m, n))
    err = np.empty(m)
    jw = np.empty((m, n))
    a = np.empty((m, m))
    dq = np.empty(n)
    it = 0
    converged = False
    while it < iterations:
        _forward(fns, m_ptr, d_ptr, qpos, qadr, q, True)
        _errors(site_xpos, site_xmat, sites, targets, dpos, drot)
        pos_max = 0.0
        rot_max = 0.0
        for i in range(n_arms):
            pos_max = max(pos_max, _norm3(dpos[i]))
            rot_max = max(rot_max, _norm3(drot[i]))
        if pos_max < tolerance and rot_max < rot_tolerance:
            converged = True
            break
        for i in range(n_arms):
            ccall(fns[2], (m_ptr, d_ptr, jacp.ctypes.data, jacr.ctypes.data, sites[i]))
            for r in range(3):
                err[6 * i + r] = dpos[i, r]
                err[6 * i + 3 + r] = rot_weight * drot[i, r]
                for k in range(n):
                    rows[6 * i + r, k] = jacp[r, dadr[k]]
                    rows[6 * i + 3 + r, k] = jacr[r, dadr[k]] * rot_weight
        for k in range(n):
            inv_cost = (1.0 if free[k] else 0.0) / cost[k]
            for r in range(m):
                jw[r, k] = rows[r, k] * inv_cost
        # A = Jw J' + damping^2 I (plain loops: no BLAS call, which threads, for 12 x 13).
        for r in range(m):
            for c in range(r + 1):
                acc = 0.0
                for k in range(n):
                    acc += jw[r, k] * rows[c, k]
                a[r, c] = acc
                a[c, r] = acc
            a[r, r] += damping * damping
        x = _cholesky_solve(a, err)
        big = 0.0
        for k in range(n):
            acc = 0.0
            for r in range(m):
                acc += jw[r, k] * x[r]
            dq[k] = acc
            big = max(big, abs(acc))
        if big > max_joint_step:
            dq *= max_joint_step / big
        moved = 0.0
        for k in range(n):
            new = min(max(q[k] + dq[k], lower[k]), upper[k])
            if (new <= lower[k] and dq[k] < 0) or (new >= upper[k] and dq[k] > 0):
                free[k] = False
            moved = max(moved, abs(new - q[k]))
            q[k] = new
        it += 1
        if moved < min_joint_step:  # at the least-squares optimum: the rest is unreachable
            break
    if not converged:
        _forward(fns, m_ptr, d_ptr, qpos, qadr, q, False)
        _errors(site_xpos, site_xmat, sites, targets, dpos, drot)
    out_q[:] = q
    for i in range(n_arms):
        out_err[i] = _norm3(dpos[i])
    return it


def solve_on(  # noqa: PLR0913, PLR0917 (bigym_ik.solve_ik's arguments + the model binding)
    model: Any,
    scratch: Any,
    scene_qpos: np.ndarray,
    qadr: np.ndarray,
    dadr: np.ndarray,
    sites: np.ndarray,
    q0: np.ndarray,
    targets: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    *,
    cost: np.ndarray,
    gains: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """``bigym_ik.solve_ik`` on ``model``: the solved joints and position error per site (m).

    ``scratch`` is an ``MjData`` of ``model`` that the kernel may overwrite; it starts from the
    scene's ``scene_qpos`` with the ``qadr`` joints (dofs ``dadr``) set from ``q``; ``sites`` are
    the pinch sites; ``bounds`` the joint limits ``(lower, upper)``; ``gains`` an ``IKGains``.
    """
    scratch.qpos[:] = scene_qpos
    out_q, out_err = np.empty(len(qadr)), np.empty(len(sites))
    jac = (np.empty((3, model.nv)), np.empty((3, model.nv)))
    g = gains
    settings = (
        float(g.rot_weight),
        float(g.damping),
        int(g.iterations),
        float(g.max_joint_step),
        float(g.min_joint_step),
        float(g.tolerance),
        float(g.rot_tolerance),
    )
    solve(
        binding(FUNCTIONS, model, scratch, jac),
        np.asarray(qadr, np.int64),
        np.asarray(dadr, np.int64),
        np.asarray(sites, np.int32),
        np.asarray(q0, np.float64),
        np.ascontiguousarray(targets, np.float64),
        (np.asarray(bounds[0], np.float64), np.asarray(bounds[1], np.float64)),
        np.asarray(cost, np.float64),
        settings,
        (out_q, out_err),
    )
    return out_q, out_err


@numba.njit(cache=True, nogil=True)
def pose_joint_action(kin, scene, ik, targets, hand, cost, gains, iterations, bounds, out):  # noqa: PLR0913, PLR0917
    """The pose action's whole conversion in one call: the adapter's numpy glue, then ``solve``.

    As ``BiGymAdapterEnv._pose_to_joint_action`` with the compiled ``solve``: the IK starts from
    the scene's ``IK_DOFS`` with the base at its servo targets (``scene_ctrl[base_ids]``); the
    joint action is the base delta clamped to ``base_step``, the arm joints plus the servo sag
    (``scene_bias / kp``), the grippers ``(hand + 1) / 2`` (left, right) and all of it clamped to
    ``[low, high]``, element by element the same IEEE operations (so the same bits); ``gains``
    holds ``rot_weight, damping, max_joint_step, min_joint_step, tolerance, rot_tolerance``.
    ``kin`` (``native.binding`` of the IK's scratch data), ``scene`` (``scene_qpos, scene_ctrl,
    scene_bias, base_ids, kp``) and ``ik`` (``qadr, dadr, sites, lower, upper``) are fixed per env
    (``RealBiGymIK._pose_binding``); ``bounds`` is ``(base_step, low, high)`` and ``out`` is
    ``(q, err, joint)``, written.
    """
    scene_qpos, scene_ctrl, scene_bias, base_ids, kp = scene
    qadr, dadr, sites, lower, upper = ik
    base_step, low, high = bounds
    out_q, out_err, out_joint = out
    qpos = kin[3]
    n = qadr.shape[0]
    nb = base_ids.shape[0]
    for i in range(scene_qpos.shape[0]):
        qpos[i] = scene_qpos[i]
    q0 = np.empty(n)
    for k in range(n):
        q0[k] = scene_qpos[qadr[k]]
    for k in range(nb):
        q0[k] = scene_ctrl[base_ids[k]]
    settings = (gains[0], gains[1], iterations, gains[2], gains[3], gains[4], gains[5])
    solve(kin, qadr, dadr, sites, q0, targets, (lower, upper), cost, settings, (out_q, out_err))
    m = out_joint.shape[0]
    joint = np.empty(m)
    # np.maximum(x, lo) is ``lo if x < lo else x`` and np.minimum(x, hi) ``hi if x > hi else x``
    # (a NaN x stays NaN in both).
    for k in range(nb):
        x = out_q[k] - scene_ctrl[base_ids[k]]
        lo = -base_step[k]
        x = lo if x < lo else x
        joint[k] = base_step[k] if x > base_step[k] else x
    for k in range(nb, n):
        joint[k] = out_q[k] + scene_bias[dadr[k]] / kp[k - nb]
    joint[m - 2] = (hand[1] + 1.0) / 2.0  # BiGym: ..., left, right gripper
    joint[m - 1] = (hand[0] + 1.0) / 2.0
    for k in range(m):
        x = joint[k]
        lo = np.float64(low[k])
        hi = np.float64(high[k])
        x = lo if x < lo else x
        out_joint[k] = hi if x > hi else x


# ``mju_mat2Quat``'s address, for ``readout``.
MAT2QUAT = np.uint64(address("mju_mat2Quat"))


@numba.njit(cache=True, nogil=True)
def readout(  # noqa: PLR0913, PLR0917 (a kernel: flat arrays)
    mat2quat,
    xpos,
    xquat,
    site_xpos,
    site_xmat,
    bodies,
    sites,
    labels,
    pairs,
    dist,
    geom1,
    geom2,
    out_pos,
    out_quat,
    out_site_pos,
    out_site_quat,
    out_touching,
):
    """A step's observation additions and contact facts in one call (``RealBiGym.readout``).

    Copies the ``bodies``' positions and quaternions and the ``sites``' positions, converts the
    sites' rotation matrices with MuJoCo's own ``mju_mat2Quat``, and sets ``out_touching[p]``
    when an active contact (``dist <= 1e-8``, BiGym's margin) joins a geom labelled
    ``pairs[p, 0]`` with one labelled ``pairs[p, 1]`` (either way round): BiGym's
    ``has_collided_collections`` for each pair of collider groups.
    """
    for i in range(bodies.shape[0]):
        b = bodies[i]
        for r in range(3):
            out_pos[i, r] = xpos[b, r]
        for r in range(4):
            out_quat[i, r] = xquat[b, r]
    for i in range(sites.shape[0]):
        s = sites[i]
        for r in range(3):
            out_site_pos[i, r] = site_xpos[s, r]
        ccall(mat2quat, (out_site_quat[i].ctypes.data, site_xmat[s].ctypes.data))
    out_touching[:] = False
    for c in range(dist.shape[0]):
        if not dist[c] <= 1e-8:  # (a NaN distance is no contact, as in ``RealBiGym._contacts``)
            continue
        l1 = labels[geom1[c]]
        l2 = labels[geom2[c]]
        if l1 == 0 or l2 == 0:
            continue
        for p in range(pairs.shape[0]):
            a, b = pairs[p, 0], pairs[p, 1]
            if (l1 == a and l2 == b) or (l1 == b and l2 == a):
                out_touching[p] = True
