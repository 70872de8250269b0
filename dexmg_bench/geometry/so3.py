"""Rotations in 3D: quaternion, matrix and rotation-vector conversions plus the ``SO3`` value type.

Quaternions are scalar-first ``wxyz`` (MuJoCo order). Functions broadcast over leading batch
dimensions, so ``(..., 4)`` quaternions map to ``(..., 3, 3)`` matrices and back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Below this angle (radians) closed forms lose precision to cancellation, so Taylor series are used.
_SMALL_ANGLE = 1e-2
# Unit-norm tolerance for quaternions handed to ``SO3``.
_UNIT_TOL = 1e-6


def _as_vectors(x: npt.ArrayLike, size: int, what: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim < 1 or arr.shape[-1] != size:
        raise ValueError(f"expected a (..., {size}) {what}, got shape {arr.shape}")
    return arr


def _as_quat(q: npt.ArrayLike) -> FloatArray:
    return _as_vectors(q, 4, "wxyz quaternion")


def _as_rotvec(v: npt.ArrayLike) -> FloatArray:
    return _as_vectors(v, 3, "rotation vector")


def _as_rotmat(r: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(r, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[-2:] != (3, 3):
        raise ValueError(f"expected a (..., 3, 3) rotation matrix, got shape {arr.shape}")
    return arr


def hat(v: npt.ArrayLike) -> FloatArray:
    """Skew-symmetric matrix ``[v]_x`` with ``hat(v) @ u == cross(v, u)``; the so(3) generator."""
    v = _as_vectors(v, 3, "vector")
    out = np.zeros((*v.shape[:-1], 3, 3))
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    out[..., 0, 1], out[..., 0, 2] = -z, y
    out[..., 1, 0], out[..., 1, 2] = z, -x
    out[..., 2, 0], out[..., 2, 1] = -y, x
    return out


def vee(m: npt.ArrayLike) -> FloatArray:
    """Inverse of :func:`hat`; uses the antisymmetric part, so near-skew input is tolerated."""
    m = _as_rotmat(m)
    return 0.5 * np.stack(
        [m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]],
        axis=-1,
    )


def quat_normalize(q: npt.ArrayLike) -> FloatArray:
    """Scale ``(..., 4)`` quaternions to unit norm.

    Raises:
        ValueError: If any quaternion has (near) zero norm, which has no rotation meaning.
    """
    q = _as_quat(q)
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    if np.any(norm < 1e-12):
        raise ValueError("cannot normalize a zero-norm quaternion")
    return q / norm


def quat_multiply(q1: npt.ArrayLike, q2: npt.ArrayLike) -> FloatArray:
    """Hamilton product ``q1 * q2`` (wxyz): rotating by ``q2`` first, then by ``q1``."""
    q1, q2 = _as_quat(q1), _as_quat(q2)
    w1, x1, y1, z1 = np.moveaxis(q1, -1, 0)
    w2, x2, y2, z2 = np.moveaxis(q2, -1, 0)
    return np.stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ],
        axis=-1,
    )


def quat_conjugate(q: npt.ArrayLike) -> FloatArray:
    """Conjugate ``(w, -x, -y, -z)``; the inverse rotation for unit quaternions."""
    return _as_quat(q) * np.array([1.0, -1.0, -1.0, -1.0])


def quat_to_mat(q: npt.ArrayLike) -> FloatArray:
    """Rotation matrices ``(..., 3, 3)`` from wxyz quaternions (normalized first; q, -q agree)."""
    w, x, y, z = np.moveaxis(quat_normalize(q), -1, 0)
    out = np.empty((*w.shape, 3, 3))
    out[..., 0, 0] = 1 - 2 * (y * y + z * z)
    out[..., 0, 1] = 2 * (x * y - w * z)
    out[..., 0, 2] = 2 * (x * z + w * y)
    out[..., 1, 0] = 2 * (x * y + w * z)
    out[..., 1, 1] = 1 - 2 * (x * x + z * z)
    out[..., 1, 2] = 2 * (y * z - w * x)
    out[..., 2, 0] = 2 * (x * z - w * y)
    out[..., 2, 1] = 2 * (y * z + w * x)
    out[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return out


def mat_to_quat(r: npt.ArrayLike) -> FloatArray:
    """Unit wxyz quaternions with ``w >= 0`` from rotation matrices (Shepperd's method).

    Each sample uses the largest of ``trace, R00, R11, R22`` as pivot, so no branch divides by
    a small number; this keeps angles near pi as accurate as angles near 0.
    """
    r = _as_rotmat(r)
    if r.shape == (3, 3):
        return _mat_to_quat_one(r)
    r00, r11, r22 = r[..., 0, 0], r[..., 1, 1], r[..., 2, 2]
    d10, d01 = r[..., 1, 0], r[..., 0, 1]
    d20, d02 = r[..., 2, 0], r[..., 0, 2]
    d21, d12 = r[..., 2, 1], r[..., 1, 2]
    trace = r00 + r11 + r22
    # Each candidate is 4 * q_pivot * q, for pivot component w, x, y, z respectively.
    cands = np.stack(
        [
            np.stack([1 + trace, d21 - d12, d02 - d20, d10 - d01], axis=-1),
            np.stack([d21 - d12, 1 + r00 - r11 - r22, d01 + d10, d02 + d20], axis=-1),
            np.stack([d02 - d20, d01 + d10, 1 - r00 + r11 - r22, d12 + d21], axis=-1),
            np.stack([d10 - d01, d02 + d20, d12 + d21, 1 - r00 - r11 + r22], axis=-1),
        ],
        axis=-2,
    )
    pivot = np.argmax(np.stack([trace, r00, r11, r22], axis=-1), axis=-1)
    q = np.take_along_axis(cands, pivot[..., None, None], axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def _mat_to_quat_one(r: FloatArray) -> FloatArray:
    """``mat_to_quat`` for one matrix with Python floats: 20x faster than the batched form.

    Env observations convert a few single matrices per step, where numpy's per-call overhead
    dominates. Same pivot rule and formulas as the batched form.
    """
    (r00, r01, r02), (r10, r11, r12), (r20, r21, r22) = r.tolist()
    trace = r00 + r11 + r22
    pivots = (trace, r00, r11, r22)
    k = pivots.index(max(pivots))
    if k == 0:
        q = (1 + trace, r21 - r12, r02 - r20, r10 - r01)
    elif k == 1:
        q = (r21 - r12, 1 + r00 - r11 - r22, r01 + r10, r02 + r20)
    elif k == 2:  # noqa: PLR2004
        q = (r02 - r20, r01 + r10, 1 - r00 + r11 - r22, r12 + r21)
    else:
        q = (r10 - r01, r02 + r20, r12 + r21, 1 - r00 - r11 + r22)
    norm = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    sign = -1.0 if q[0] < 0 else 1.0
    return np.array([sign * c / norm for c in q])


def _sinc_terms(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return ``sin(t)/t`` and ``(1-cos(t))/t^2`` with Taylor series near zero."""
    small = theta < _SMALL_ANGLE
    safe = np.where(small, 1.0, theta)
    t2 = theta * theta
    a = np.where(small, 1 - t2 / 6 + t2 * t2 / 120, np.sin(safe) / safe)
    b = np.where(small, 0.5 - t2 / 24 + t2 * t2 / 720, (1 - np.cos(safe)) / (safe * safe))
    return a, b


def axis_angle_to_mat(v: npt.ArrayLike) -> FloatArray:
    """Rodrigues' formula for rotation vectors ``v`` (angle ``|v|``, axis ``v/|v|``); exact at 0."""
    v = _as_rotvec(v)
    a, b = _sinc_terms(np.linalg.norm(v, axis=-1))
    k = hat(v)
    return np.eye(3) + a[..., None, None] * k + b[..., None, None] * (k @ k)


def axis_angle_to_quat(v: npt.ArrayLike) -> FloatArray:
    """Unit wxyz quaternions for rotation vectors; ``w >= 0`` whenever ``|v| <= pi``."""
    v = _as_rotvec(v)
    theta = np.linalg.norm(v, axis=-1)
    small = theta < _SMALL_ANGLE
    safe = np.where(small, 1.0, theta)
    t2 = theta * theta
    # sin(t/2)/t, Taylor-expanded near zero.
    half_sinc = np.where(small, 0.5 - t2 / 48 + t2 * t2 / 3840, np.sin(0.5 * safe) / safe)
    return np.concatenate([np.cos(0.5 * theta)[..., None], half_sinc[..., None] * v], axis=-1)


def quat_to_axis_angle(q: npt.ArrayLike) -> FloatArray:
    """Rotation vectors with angle in ``[0, pi]`` from wxyz quaternions (either sign of q).

    Uses ``2 * atan2(|xyz|, w)``, which is well conditioned at both 0 and pi, unlike ``acos(w)``.
    """
    q = quat_normalize(q)
    q = np.where(q[..., :1] < 0, -q, q)
    w, xyz = q[..., 0], q[..., 1:]
    s = np.linalg.norm(xyz, axis=-1)
    small = s < _SMALL_ANGLE
    safe_s = np.where(small, 1.0, s)
    # scale = 2*atan2(s, w)/s. For small s the unit norm forces w ~ 1, so use
    # atan(x)/x = 1 - x^2/3 + x^4/5 with x = s/w, i.e. scale = (2/w) * atan(x)/x.
    safe_w = np.where(small, w, 1.0)
    r2 = (s / safe_w) ** 2
    series = (2 / safe_w) * (1 - r2 / 3 + r2 * r2 / 5)
    scale = np.where(small, series, 2 * np.arctan2(s, w) / safe_s)
    return scale[..., None] * xyz


def mat_to_axis_angle(r: npt.ArrayLike) -> FloatArray:
    """Rotation vectors (angle in ``[0, pi]``) from matrices, robust near 0 and near pi."""
    return quat_to_axis_angle(mat_to_quat(r))


def mat_to_rot6d(r: npt.ArrayLike) -> FloatArray:
    """The first two columns of rotation matrices, ``(..., 3, 3) -> (..., 6)``.

    Continuous over all of SO(3), unlike quaternions (sign) and rotation vectors (wrap at pi),
    so a network can regress it (Zhou et al., CVPR 2019).
    """
    r = _as_rotmat(r)
    return np.concatenate([r[..., :, 0], r[..., :, 1]], axis=-1)


def rot6d_to_mat(v: npt.ArrayLike) -> FloatArray:
    """The nearest rotation to two (not necessarily orthonormal) columns, by Gram-Schmidt.

    The inverse of ``mat_to_rot6d`` on rotations; any other input with independent columns
    (a network's output) still maps to a proper rotation.
    """
    v = _as_vectors(v, 6, "rot6d vectors")
    a = v[..., :3] / np.linalg.norm(v[..., :3], axis=-1, keepdims=True)
    b = v[..., 3:] - np.sum(a * v[..., 3:], axis=-1, keepdims=True) * a
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.stack([a, b, np.cross(a, b)], axis=-1)


def _rot_about(axis: int, theta: npt.ArrayLike) -> FloatArray:
    theta = np.asarray(theta, dtype=np.float64)
    c, s = np.cos(theta), np.sin(theta)
    i, j = (axis + 1) % 3, (axis + 2) % 3  # cyclic order keeps every rotation right-handed
    out = np.zeros((*theta.shape, 3, 3))
    out[..., axis, axis] = 1.0
    out[..., i, i], out[..., j, j] = c, c
    out[..., i, j], out[..., j, i] = -s, s
    return out


def rot_x(theta: npt.ArrayLike) -> FloatArray:
    """Right-handed rotation about +x by ``theta`` radians (array theta gives ``(..., 3, 3)``)."""
    return _rot_about(0, theta)


def rot_y(theta: npt.ArrayLike) -> FloatArray:
    """Right-handed rotation about +y by ``theta`` radians (array theta gives ``(..., 3, 3)``)."""
    return _rot_about(1, theta)


def rot_z(theta: npt.ArrayLike) -> FloatArray:
    """Right-handed rotation about +z by ``theta`` radians (array theta gives ``(..., 3, 3)``)."""
    return _rot_about(2, theta)


def quat_slerp(q0: npt.ArrayLike, q1: npt.ArrayLike, t: npt.ArrayLike) -> FloatArray:
    """Shortest-path spherical interpolation ``q0 -> q1`` at fraction ``t``.

    Computed as ``q0 * exp(t * log(q0^-1 q1))``, so it is stable when ``q0 ~ q1`` and has constant
    angular speed. ``t`` broadcasts against the batch shape of ``q0``/``q1``; a ``(N,)`` ``t``
    with single quaternions gives ``(N, 4)``. The result is sign-normalized to ``w >= 0``.
    """
    q0, q1 = quat_normalize(q0), quat_normalize(q1)
    t = np.asarray(t, dtype=np.float64)
    rel = quat_to_axis_angle(quat_multiply(quat_conjugate(q0), q1))
    out = quat_multiply(q0, axis_angle_to_quat(t[..., None] * rel))
    return np.where(out[..., :1] < 0, -out, out)


def rotation_angle_between(r0: npt.ArrayLike, r1: npt.ArrayLike) -> FloatArray | float:
    """Geodesic distance in ``[0, pi]`` between rotation matrices (float for single inputs)."""
    rel = np.swapaxes(_as_rotmat(r0), -1, -2) @ _as_rotmat(r1)
    q = mat_to_quat(rel)
    angle = 2 * np.arctan2(np.linalg.norm(q[..., 1:], axis=-1), q[..., 0])
    return float(angle) if angle.ndim == 0 else angle


def _readonly(arr: FloatArray) -> FloatArray:
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class SO3:
    """A single 3D rotation stored as a unit wxyz quaternion.

    ``eq=False`` because ``q`` and ``-q`` are the same rotation and array fields make the
    generated ``__eq__`` ambiguous; compare ``as_matrix()`` with ``np.allclose`` instead.

    Attributes:
        wxyz: Unit quaternion, shape ``(4,)``, scalar first.
    """

    wxyz: FloatArray

    def __post_init__(self) -> None:
        q = np.asarray(self.wxyz)
        if q.shape != (4,):
            raise ValueError(f"expected a (4,) wxyz quaternion, got shape {q.shape}")
        if not np.all(np.isfinite(q)) or abs(np.linalg.norm(q) - 1.0) > _UNIT_TOL:
            raise ValueError(f"SO3 needs a finite unit quaternion (see quat_normalize), got {q}")

    @classmethod
    def identity(cls) -> SO3:
        """The identity rotation."""
        return cls(_readonly(np.array([1.0, 0.0, 0.0, 0.0])))

    @classmethod
    def from_matrix(cls, r: npt.ArrayLike) -> SO3:
        """From a ``(3, 3)`` rotation matrix."""
        r = _as_rotmat(r)
        if r.shape != (3, 3):
            raise ValueError(f"expected a (3, 3) rotation matrix, got shape {r.shape}")
        return cls(_readonly(mat_to_quat(r)))

    @classmethod
    def from_axis_angle(cls, v: npt.ArrayLike) -> SO3:
        """From a ``(3,)`` rotation vector (angle ``|v|`` radians about ``v/|v|``)."""
        v = _as_rotvec(v)
        if v.shape != (3,):
            raise ValueError(f"expected a (3,) rotation vector, got shape {v.shape}")
        return cls(_readonly(axis_angle_to_quat(v)))

    @classmethod
    def from_z_rotation(cls, theta: float) -> SO3:
        """Rotation about +z by ``theta`` radians (the usual yaw randomization)."""
        return cls.from_axis_angle(np.array([0.0, 0.0, float(theta)]))

    @classmethod
    def sample_uniform(cls, rng: np.random.Generator) -> SO3:
        """Haar-uniform random rotation; all randomness comes from ``rng``."""
        q = rng.standard_normal(4)
        q = quat_normalize(q)
        return cls(_readonly(np.where(q[0] < 0, -q, q)))

    @classmethod
    def exp(cls, v: npt.ArrayLike) -> SO3:
        """Exponential map from the tangent space (a rotation vector)."""
        return cls.from_axis_angle(v)

    def log(self) -> FloatArray:
        """Logarithm map: the rotation vector with angle in ``[0, pi]``."""
        return quat_to_axis_angle(self.wxyz)

    def as_matrix(self) -> FloatArray:
        """The ``(3, 3)`` rotation matrix."""
        return quat_to_mat(self.wxyz)

    def inverse(self) -> SO3:
        """The inverse rotation."""
        return SO3(_readonly(quat_conjugate(self.wxyz)))

    @overload
    def __matmul__(self, other: SO3) -> SO3: ...
    @overload
    def __matmul__(self, other: npt.ArrayLike) -> FloatArray: ...
    def __matmul__(self, other: SO3 | npt.ArrayLike) -> SO3 | FloatArray:
        """Compose with another ``SO3``, or rotate ``(3,)``/``(..., 3)`` vectors."""
        if isinstance(other, SO3):
            return SO3(_readonly(quat_normalize(quat_multiply(self.wxyz, other.wxyz))))
        vec = _as_vectors(other, 3, "vector")
        return vec @ self.as_matrix().T
