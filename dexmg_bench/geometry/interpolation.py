"""Pose interpolation and distances, as used to bridge the current EEF pose to a new segment.

Positions interpolate linearly and rotations by shortest-path slerp, which is MimicGen's
interpolation between the current end-effector pose and the start of a transformed segment.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dexmg_bench.geometry.se3 import _as_pose, make_pose, pose_to_pos_quat
from dexmg_bench.geometry.so3 import FloatArray, quat_slerp, quat_to_mat, rotation_angle_between


def interpolate_poses(t0: npt.ArrayLike, t1: npt.ArrayLike, num_steps: int) -> FloatArray:
    """Poses from ``t0`` towards ``t1`` in ``num_steps`` equal steps, excluding ``t0``.

    Step ``k`` (1-based) sits at fraction ``k / num_steps``; the last pose is ``t1`` exactly, so
    the result can be appended after the current pose without repeating it.

    Args:
        t0: Start pose ``(4, 4)``, not included in the output.
        t1: End pose ``(4, 4)``, returned bit-for-bit as the last element.
        num_steps: Number of poses to return, at least 1.

    Returns:
        Array of shape ``(num_steps, 4, 4)``.

    Raises:
        ValueError: If ``num_steps`` is not an integer >= 1 or a pose is not ``(4, 4)``.
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, (int, np.integer)):
        raise ValueError(f"num_steps must be an integer >= 1, got {num_steps!r}")
    if num_steps < 1:
        raise ValueError(f"num_steps must be an integer >= 1, got {num_steps}")
    t0, t1 = _as_pose(t0), _as_pose(t1)
    if t0.shape != (4, 4) or t1.shape != (4, 4):
        raise ValueError(f"expected two (4, 4) poses, got shapes {t0.shape} and {t1.shape}")
    p0, q0 = pose_to_pos_quat(t0)
    p1, q1 = pose_to_pos_quat(t1)
    alphas = np.arange(1, num_steps + 1, dtype=np.float64) / num_steps
    pos = p0 + alphas[:, None] * (p1 - p0)
    out = make_pose(pos, quat_to_mat(quat_slerp(q0, q1, alphas)))
    out[-1] = t1
    return out


def _bracket(times: npt.ArrayLike, num: int) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """For fractional indices into ``num`` samples: the samples either side and the fraction."""
    t = np.asarray(times, dtype=np.float64)
    if num < 1:
        raise ValueError(f"need at least one sample to resample, got {num}")
    if (
        t.ndim != 1
        or not np.all(np.isfinite(t))
        or t.min(initial=0) < 0
        or t.max(initial=0) > num - 1
    ):
        raise ValueError(f"times must be a 1-D array within [0, {num - 1}]")
    lo = np.minimum(np.floor(t).astype(np.int64), max(num - 2, 0))
    hi = np.minimum(lo + 1, num - 1)
    return lo, hi, t - lo


def resample_linear(values: npt.ArrayLike, times: npt.ArrayLike) -> FloatArray:
    """A sequence ``(T, ...)`` read at fractional indices ``times`` by linear interpolation."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi, w = _bracket(times, v.shape[0] if v.ndim else 0)
    w = w.reshape(w.shape + (1,) * (v.ndim - 1))
    return v[lo] + w * (v[hi] - v[lo])


def resample_poses(poses: npt.ArrayLike, times: npt.ArrayLike) -> FloatArray:
    """A pose sequence read at fractional indices (linear positions, slerp between neighbours).

    Used to time-warp a recorded path: ``times`` are positions along the sequence's own index
    (``0 <= t <= T - 1``); an integer time returns its stored pose bit for bit.

    Args:
        poses: ``(T, ..., 4, 4)`` poses, ``T >= 1`` (extra axes, e.g. one per arm, ride along).
        times: ``(n,)`` fractional indices.

    Returns:
        ``(n, ..., 4, 4)`` poses.

    Raises:
        ValueError: If the shapes are wrong or a time is outside ``[0, T - 1]``.
    """
    p = _as_pose(poses)
    if p.ndim < 3:
        raise ValueError(f"poses must have shape (T >= 1, ..., 4, 4), got {p.shape}")
    i0, i1, w = _bracket(times, p.shape[0])
    w = w.reshape(w.shape + (1,) * (p.ndim - 3))  # broadcast over the extra axes
    pos0, q0 = pose_to_pos_quat(p[i0])
    pos1, q1 = pose_to_pos_quat(p[i1])
    out = make_pose(pos0 + w[..., None] * (pos1 - pos0), quat_to_mat(quat_slerp(q0, q1, w)))
    t = np.asarray(times, dtype=np.float64)
    at0, at1 = t == i0, t == i1  # integer times: the stored poses themselves
    out[at1] = p[i1[at1]]
    out[at0] = p[i0[at0]]
    return out


def pose_distance(
    t0: npt.ArrayLike, t1: npt.ArrayLike
) -> tuple[float | FloatArray, float | FloatArray]:
    """Translation distance and geodesic rotation angle (radians, ``[0, pi]``) between poses.

    Batch dimensions broadcast; single ``(4, 4)`` poses give Python floats.
    """
    t0, t1 = _as_pose(t0), _as_pose(t1)
    pos_dist = np.linalg.norm(t1[..., :3, 3] - t0[..., :3, 3], axis=-1)
    angle = rotation_angle_between(t0[..., :3, :3], t1[..., :3, :3])
    return (float(pos_dist) if pos_dist.ndim == 0 else pos_dist), angle
