"""The compiled whole-body IK solve: ``WholeBodyIK.reference_solve``'s iteration without Python.

Per Gauss-Newton step it builds the same QP as mink 0.0.5 (one ``FrameTask`` per hand with its
SE(3) log error, right-Jacobian inverse and Levenberg-Marquardt damping; a ``PostureTask``;
``ConfigurationLimit`` as bounds on the step; ``solve_ik``'s damping) and solves it exactly with a
primal active-set method for box constraints, the only constraints the QP has. Forward kinematics
and site Jacobians are MuJoCo's C functions called from numba (``sim/native``). It lives in its own
module so that editing ``ik.py`` does not invalidate numba's on-disk cache of these kernels.
"""

from __future__ import annotations

import numba
import numpy as np

from dexmg_bench.sim.native import address, ccall

_EPS = 1e-10  # mink's get_epsilon(float64)
_LIMIT_GAIN = 0.95  # mink.ConfigurationLimit's default gain
_QP_DAMPING = 1e-9  # the damping argument of solve_ik in reference_solve
_QP_TOL = 1e-12  # relative size of a gradient that counts as pushing off a bound

# Addresses of the C functions the kernel calls, in this order.
FUNCTIONS = np.array(
    [address(f) for f in ("mj_kinematics", "mj_comPos", "mj_jacSite", "mju_mat2Quat")],
    dtype=np.uint64,
)


@numba.njit(cache=True, nogil=True)
def _skew(v):
    return np.array(
        [[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]],
    )


@numba.njit(cache=True, nogil=True)
def _mul_quat(a, b):
    """Quaternion product (wxyz), as ``mju_mulQuat``."""
    return np.array(
        [
            a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
            a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
            a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
            a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
        ]
    )


@numba.njit(cache=True, nogil=True)
def _so3_log(q):
    """``mink.SO3.log`` of a unit quaternion (wxyz)."""
    w = q[0]
    norm_sq = q[1] * q[1] + q[2] * q[2] + q[3] * q[3]
    if norm_sq < _EPS:
        factor = 2.0 / w - 2.0 / 3.0 * norm_sq / w**3
    else:
        norm = np.sqrt(norm_sq)
        if abs(w) < _EPS:
            factor = (1.0 if w > 0.0 else -1.0) * np.pi / norm
        else:
            factor = 2.0 * np.arctan2(-norm if w < 0 else norm, abs(w)) / norm
    return factor * q[1:]


@numba.njit(cache=True, nogil=True)
def _se3_log(q, t):
    """``mink.SE3.log`` of the transform (rotation ``q`` wxyz, translation ``t``)."""
    omega = _so3_log(q)
    theta_sq = omega @ omega
    s = _skew(omega)
    s2 = s @ s
    if theta_sq < _EPS:
        v_inv = np.eye(3) - 0.5 * s + s2 / 12.0
    else:
        theta = np.sqrt(theta_sq)
        half = 0.5 * theta
        v_inv = (
            np.eye(3)
            - 0.5 * s
            + (1.0 - theta * np.cos(half) / (2.0 * np.sin(half))) / (theta_sq) * s2
        )
    out = np.empty(6)
    out[:3] = v_inv @ t
    out[3:] = omega
    return out


@numba.njit(cache=True, nogil=True)
def _so3_ljacinv(w):
    theta = np.sqrt(w @ w)
    if theta < _EPS:
        t2 = theta**2
        a = (1.0 / 12.0) * (1.0 + t2 / 60.0 * (1.0 + t2 / 42.0 * (1.0 + t2 / 40.0)))
    else:
        a = (1.0 / theta**2) * (1.0 - (theta * np.sin(theta) / (2.0 * (1.0 - np.cos(theta)))))
    s = _skew(w)
    return np.eye(3) - 0.5 * s + a * (s @ s)


@numba.njit(cache=True, nogil=True)
def _se3_q(c):
    """``mink.lie.se3._getQ`` (the off-diagonal block of the SE(3) left Jacobian)."""
    theta_sq = c[3:] @ c[3:]
    a = 0.5
    if theta_sq < _EPS:
        b = (1.0 / 6.0) + (1.0 / 120.0) * theta_sq
        cc = -(1.0 / 24.0) + (1.0 / 720.0) * theta_sq
        d = -(1.0 / 60.0)
    else:
        theta = np.sqrt(theta_sq)
        sin_t, cos_t = np.sin(theta), np.cos(theta)
        b = (theta - sin_t) / (theta_sq * theta)
        cc = (1.0 - theta_sq / 2.0 - cos_t) / (theta_sq * theta_sq)
        d = (2.0 * theta - 3.0 * sin_t + theta * cos_t) / (2.0 * theta_sq * theta_sq * theta)
    v = _skew(c[:3])
    w = _skew(c[3:])
    vw = v @ w
    wv = vw.T.copy()
    wvw = wv @ w
    vww = vw @ w
    return a * v + b * (wv + vw + wvw) - cc * (vww - vww.T - 3.0 * wvw) + d * (wvw @ w + w @ wvw)


@numba.njit(cache=True, nogil=True)
def _se3_ljacinv(c):
    out = np.eye(6)
    if c[3:] @ c[3:] < _EPS:
        return out
    q = _se3_q(c)
    j_inv = _so3_ljacinv(c[3:].copy())
    out[:3, :3] = j_inv
    out[3:, 3:] = j_inv
    out[:3, 3:] = -(j_inv @ q @ j_inv)
    return out


@numba.njit(cache=True, nogil=True)
def _free_minimiser(h, c, x, state):
    """Minimise over the free variables with the bound ones held: H_FF x_F = -(c_F + H_FB x_B)."""
    free = np.flatnonzero(state == 0)
    target = x.copy()
    if free.size == 0:
        return target
    h_ff = np.empty((free.size, free.size))
    rhs = -c[free] - h[free] @ np.where(state == 0, 0.0, x)
    for a in range(free.size):
        for b in range(free.size):
            h_ff[a, b] = h[free[a], free[b]]
    target[free] = _cholesky_solve(h_ff, rhs)
    return target


@numba.njit(cache=True, nogil=True)
def _cholesky_solve(a, b):
    """Solve A x = b for a symmetric positive definite A (small: plain loops compile fast)."""
    n = b.shape[0]
    low = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            s = a[i, j]
            for k in range(j):
                s -= low[i, k] * low[j, k]
            low[i, j] = np.sqrt(s) if i == j else s / low[j, j]
    y = np.empty(n)
    for i in range(n):
        s = b[i]
        for k in range(i):
            s -= low[i, k] * y[k]
        y[i] = s / low[i, i]
    x = np.empty(n)
    for i in range(n - 1, -1, -1):
        s = y[i]
        for k in range(i + 1, n):
            s -= low[k, i] * x[k]
        x[i] = s / low[i, i]
    return x


@numba.njit(cache=True, nogil=True)
def _box_qp(h, c, lb, ub):
    """Minimiser of 1/2 x'Hx + c'x subject to lb <= x <= ub (H positive definite, lb <= 0 <= ub).

    A primal active-set method started from the feasible x = 0: it finds the QP's unique minimiser
    (the one quadprog finds) in a few linear solves of at most n x n.
    """
    n = c.shape[0]
    x = np.zeros(n)
    state = np.zeros(n, dtype=np.int64)  # 0 free, -1 held at the lower bound, +1 at the upper
    for _ in range(10 * n + 10):
        target = _free_minimiser(h, c, x, state)
        # Walk toward the free minimiser until the first bound blocks the way.
        alpha, block, side = 1.0, -1, 0
        for i in range(n):
            p = target[i] - x[i]
            if state[i] == 0 and target[i] < lb[i] and (lb[i] - x[i]) / p < alpha:
                alpha, block, side = (lb[i] - x[i]) / p, i, -1
            elif state[i] == 0 and target[i] > ub[i] and (ub[i] - x[i]) / p < alpha:
                alpha, block, side = (ub[i] - x[i]) / p, i, 1
        if block >= 0:
            x += max(alpha, 0.0) * (target - x)
            state[block] = side
            x[block] = lb[block] if side < 0 else ub[block]
            continue
        x = target
        # Optimal unless the gradient pulls a held variable off its bound: release the worst one.
        g = c + h @ x
        pull = g * state
        drop = np.argmax(pull)
        if pull[drop] <= _QP_TOL * (1.0 + np.abs(g).max()):
            return x
        state[drop] = 0
    return x


@numba.njit(cache=True, nogil=True)
def _frame_errors(site_ids, site_xpos, site_xmat, target_pos, target_rot, pos_err, rot_err):  # noqa: PLR0917
    for i in range(site_ids.shape[0]):
        s = site_ids[i]
        d = 0.0
        tr = 0.0
        for r in range(3):
            d += (site_xpos[s, r] - target_pos[i, r]) ** 2
            for k in range(3):
                tr += site_xmat[s, 3 * r + k] * target_rot[i, r, k]
        pos_err[i] = np.sqrt(d)
        rot_err[i] = np.arccos(min(1.0, max(-1.0, (tr - 1.0) / 2.0)))


@numba.njit(cache=True, nogil=True)
def solve(kin, site_ids, q0, targets, rots, rest, bounds, gains, out):  # noqa: PLR0913, PLR0917
    """The Gauss-Newton loop of ``reference_solve``; returns the number of iterations taken.

    ``kin`` is ``native.binding(FUNCTIONS, ...)`` of the IK's scratch data; ``bounds`` is
    ``(lower, upper)``; ``gains`` is ``(cost, posture_cost, lm_damping, iterations, tolerance,
    max_step)``; ``out`` is ``(q, pos_err, rot_err)``, written.
    """
    fns, m_ptr, d_ptr, qpos, site_xpos, site_xmat, jacp, jacr = kin
    lower, upper = bounds
    cost, posture_cost, lm_damping, iterations, tolerance, max_step = gains
    out_q, pos_err, rot_err = out
    n_f = site_ids.shape[0]
    nv = q0.shape[0]
    target_pos = np.empty((n_f, 3))
    target_quat = np.empty((n_f, 4))
    frame_quat = np.empty(4)
    rot_c = np.empty(9)
    for i in range(n_f):
        target_pos[i] = targets[i, :3, 3]
        for r in range(3):
            for k in range(3):
                rot_c[3 * r + k] = rots[i, r, k]
        ccall(fns[3], (target_quat[i].ctypes.data, rot_c.ctypes.data))
    q = np.minimum(np.maximum(q0, lower), upper)
    qpos[:] = q
    ccall(fns[0], (m_ptr, d_ptr))
    ccall(fns[1], (m_ptr, d_ptr))
    _frame_errors(site_ids, site_xpos, site_xmat, target_pos, rots, pos_err, rot_err)
    h = np.empty((nv, nv))
    c = np.empty(nv)
    jac = np.empty((6, nv))
    it = 0
    while it < iterations and max(pos_err.max(), rot_err.max()) > tolerance:
        # Posture task (J = -I, error rest - q) and the QP's own damping.
        h[:] = 0.0
        for k in range(nv):
            h[k, k] = posture_cost * posture_cost + _QP_DAMPING
            c[k] = posture_cost * posture_cost * (q[k] - rest[k])
        for i in range(n_f):
            s = site_ids[i]
            ccall(fns[2], (m_ptr, d_ptr, jacp.ctypes.data, jacr.ctypes.data, s))
            r_wb = site_xmat[s].reshape(3, 3)
            ccall(fns[3], (frame_quat.ctypes.data, site_xmat[s].ctypes.data))
            p_b = site_xpos[s]
            p_t = target_pos[i]
            q_t = target_quat[i]
            conj_b = frame_quat * np.array([1.0, -1.0, -1.0, -1.0])
            conj_t = q_t * np.array([1.0, -1.0, -1.0, -1.0])
            r_wt = rots[i]
            # Error: log(T_bt), the body twist from the frame to its target.
            err = _se3_log(_mul_quat(conj_b, q_t), r_wb.T @ (p_t - p_b))
            # Jacobian: -jlog(T_tb) times the body-frame Jacobian of the site.
            log_tb = _se3_log(_mul_quat(conj_t, frame_quat), r_wt.T @ (p_b - p_t))
            jlog = _se3_ljacinv(-log_tb)
            jac[:3] = r_wb.T @ jacp
            jac[3:] = r_wb.T @ jacr
            jac_task = -(jlog @ jac)
            for r in range(6):
                jac_task[r] *= cost[r]
            werr = -cost * err
            mu = lm_damping * (werr @ werr)
            h += jac_task.T @ jac_task
            for k in range(nv):
                h[k, k] += mu
            c -= werr @ jac_task
        lb = _LIMIT_GAIN * (lower - q)
        ub = _LIMIT_GAIN * (upper - q)
        v = _box_qp(h, c, lb, ub)
        scale = min(1.0, max_step / max(np.abs(v).max(), 1e-12))
        q = np.minimum(np.maximum(q + v * scale, lower), upper)
        qpos[:] = q
        ccall(fns[0], (m_ptr, d_ptr))
        ccall(fns[1], (m_ptr, d_ptr))
        it += 1
        _frame_errors(site_ids, site_xpos, site_xmat, target_pos, rots, pos_err, rot_err)
    out_q[:] = q
    return it
