"""Rigid transforms: 4x4 homogeneous pose helpers and the ``SE3`` value type.

Poses are float64 ``(..., 4, 4)`` matrices read as ``a_T_b`` (maps points in frame ``b`` to
frame ``a``), so ``world_T_obj = world_T_eef @ eef_T_obj``. Quaternions are wxyz.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

from dexmg_bench.geometry.so3 import (
    SO3,
    FloatArray,
    _as_rotmat,
    _as_vectors,
    _readonly,
    _sinc_terms,
    hat,
    mat_to_quat,
    quat_to_axis_angle,
    quat_to_mat,
)

_SMALL_ANGLE = 1e-2


def _as_pose(t: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(t, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[-2:] != (4, 4):
        raise ValueError(f"expected a (..., 4, 4) homogeneous pose, got shape {arr.shape}")
    return arr


def make_pose(pos: npt.ArrayLike, rot_mat: npt.ArrayLike) -> FloatArray:
    """Homogeneous poses ``(..., 4, 4)`` from positions ``(..., 3)`` and rotations ``(..., 3, 3)``.

    Batch dimensions broadcast, e.g. one rotation with ``(N, 3)`` positions gives ``N`` poses.
    """
    pos = _as_vectors(pos, 3, "position")
    rot = _as_rotmat(rot_mat)
    batch = np.broadcast_shapes(pos.shape[:-1], rot.shape[:-2])
    out = np.zeros((*batch, 4, 4))
    out[..., :3, :3] = rot
    out[..., :3, 3] = pos
    out[..., 3, 3] = 1.0
    return out


def pose_to_pos_rot(t: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Split poses into positions ``(..., 3)`` and rotation matrices ``(..., 3, 3)`` (copies)."""
    t = _as_pose(t)
    return t[..., :3, 3].copy(), t[..., :3, :3].copy()


def pose_from_pos_quat(pos: npt.ArrayLike, wxyz: npt.ArrayLike) -> FloatArray:
    """Homogeneous poses from positions and wxyz quaternions (MuJoCo ``xpos``/``xquat`` order)."""
    return make_pose(pos, quat_to_mat(wxyz))


def pose_to_pos_quat(t: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Split poses into positions and unit wxyz quaternions with ``w >= 0``."""
    pos, rot = pose_to_pos_rot(t)
    return pos, mat_to_quat(rot)


def pose_inv(t: npt.ArrayLike) -> FloatArray:
    """Invert rigid poses in closed form ``(R^T, -R^T p)``: exact, unlike a general inverse."""
    t = _as_pose(t)
    rot_t = np.swapaxes(t[..., :3, :3], -1, -2)
    out = np.zeros_like(t)
    out[..., :3, :3] = rot_t
    out[..., :3, 3] = -(rot_t @ t[..., :3, 3:4])[..., 0]
    out[..., 3, 3] = 1.0
    return out


def transform_points(t: npt.ArrayLike, pts: npt.ArrayLike) -> FloatArray:
    """Apply ``a_T_b`` to points ``(..., 3)`` expressed in frame ``b``.

    Batch dimensions of ``t`` (``(..., 4, 4)``) and ``pts`` broadcast; add axes yourself to pair
    several poses with several point clouds, e.g. ``transform_points(T[:, None], pts[None])``.
    """
    t = _as_pose(t)
    pts = _as_vectors(pts, 3, "point")
    return np.einsum("...ij,...j->...i", t[..., :3, :3], pts) + t[..., :3, 3]


def _left_jacobian_terms(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return ``B = (1-cos t)/t^2`` and ``C = (t - sin t)/t^3`` of the SO(3) left Jacobian ``V``."""
    _, b = _sinc_terms(theta)
    small = theta < _SMALL_ANGLE
    safe = np.where(small, 1.0, theta)
    t2 = theta * theta
    c = np.where(small, 1 / 6 - t2 / 120 + t2 * t2 / 5040, (safe - np.sin(safe)) / safe**3)
    return b, c


def _inv_left_jacobian_coeff(theta: FloatArray) -> FloatArray:
    """``D`` in ``V^-1 = I - hat(w)/2 + D hat(w)^2``, i.e. ``(1 - (t/2) cot(t/2)) / t^2``.

    The half-angle form stays finite at ``t = pi`` (where ``D = 1/pi^2``).
    """
    small = theta < _SMALL_ANGLE
    safe = np.where(small, 1.0, theta)
    t2 = theta * theta
    half = 0.5 * safe
    exact = (1 - half * np.cos(half) / np.sin(half)) / (safe * safe)
    return np.where(small, 1 / 12 + t2 / 720 + t2 * t2 / 30240, exact)


@dataclass(frozen=True, eq=False)
class SE3:
    """A single rigid transform ``a_T_b`` (rotation then translation).

    ``eq=False`` for the same reason as :class:`SO3`; compare ``as_matrix()`` numerically.

    Attributes:
        rotation: Rotation part.
        translation: Translation part, shape ``(3,)``.
    """

    rotation: SO3
    translation: FloatArray

    def __post_init__(self) -> None:
        if not isinstance(self.rotation, SO3):
            raise ValueError(f"rotation must be an SO3, got {type(self.rotation).__name__}")
        shape = np.shape(self.translation)
        if shape != (3,):
            raise ValueError(f"expected a (3,) translation, got shape {shape}")

    @classmethod
    def identity(cls) -> SE3:
        """The identity transform."""
        return cls(SO3.identity(), _readonly(np.zeros(3)))

    @classmethod
    def from_rotation_and_translation(cls, rotation: SO3, translation: npt.ArrayLike) -> SE3:
        """From an ``SO3`` and a ``(3,)`` translation."""
        return cls(rotation, _readonly(np.array(translation, dtype=np.float64)))

    @classmethod
    def from_matrix(cls, t: npt.ArrayLike) -> SE3:
        """From a ``(4, 4)`` homogeneous matrix (the bottom row is not checked)."""
        t = _as_pose(t)
        if t.shape != (4, 4):
            raise ValueError(f"expected a (4, 4) homogeneous pose, got shape {t.shape}")
        return cls(SO3.from_matrix(t[:3, :3]), _readonly(t[:3, 3].copy()))

    @classmethod
    def sample_uniform(
        cls, rng: np.random.Generator, pos_low: npt.ArrayLike, pos_high: npt.ArrayLike
    ) -> SE3:
        """Uniform rotation and a translation uniform in the box ``[pos_low, pos_high)``."""
        low = _as_vectors(pos_low, 3, "position bound")
        high = _as_vectors(pos_high, 3, "position bound")
        if low.shape != (3,) or high.shape != (3,):
            raise ValueError(f"position bounds must be (3,), got {low.shape} and {high.shape}")
        if np.any(high < low):
            raise ValueError(f"pos_high must be >= pos_low, got {low} and {high}")
        rotation = SO3.sample_uniform(rng)
        return cls(rotation, _readonly(rng.uniform(low, high)))

    @classmethod
    def exp(cls, twist: npt.ArrayLike) -> SE3:
        """Exponential map of a twist ``(v, w)`` (translation part first, as in mink).

        ``w`` is the rotation vector; the translation is ``V(w) v`` with the SO(3) left
        Jacobian ``V``, so a constant twist traces a screw motion.
        """
        twist = _as_vectors(twist, 6, "(v, w) twist")
        if twist.shape != (6,):
            raise ValueError(f"expected a (6,) (v, w) twist, got shape {twist.shape}")
        v, w = twist[:3], twist[3:]
        b, c = _left_jacobian_terms(np.linalg.norm(w))
        k = hat(w)
        jac = np.eye(3) + b * k + c * (k @ k)
        return cls(SO3.exp(w), _readonly(jac @ v))

    def log(self) -> FloatArray:
        """Logarithm map: the ``(6,)`` twist ``(v, w)`` with rotation angle in ``[0, pi]``."""
        w = quat_to_axis_angle(self.rotation.wxyz)
        d = _inv_left_jacobian_coeff(np.linalg.norm(w))
        k = hat(w)
        jac_inv = np.eye(3) - 0.5 * k + d * (k @ k)
        return np.concatenate([jac_inv @ self.translation, w])

    def as_matrix(self) -> FloatArray:
        """The ``(4, 4)`` homogeneous matrix."""
        return make_pose(self.translation, self.rotation.as_matrix())

    def inverse(self) -> SE3:
        """The inverse transform ``b_T_a``."""
        rot_inv = self.rotation.inverse()
        return SE3(rot_inv, _readonly(-(rot_inv @ self.translation)))

    @overload
    def __matmul__(self, other: SE3) -> SE3: ...
    @overload
    def __matmul__(self, other: npt.ArrayLike) -> FloatArray: ...
    def __matmul__(self, other: SE3 | npt.ArrayLike) -> SE3 | FloatArray:
        """Compose with another ``SE3``, or map ``(3,)``/``(..., 3)`` points."""
        if isinstance(other, SE3):
            rotation = self.rotation @ other.rotation
            translation = self.rotation @ other.translation + self.translation
            return SE3(rotation, _readonly(translation))
        return self.rotation @ _as_vectors(other, 3, "point") + self.translation
