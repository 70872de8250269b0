"""Axiom, round-trip, and numerical-edge tests for ``dexmg_bench.geometry.so3``."""

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from dexmg_bench.geometry import (
    SO3,
    axis_angle_to_mat,
    axis_angle_to_quat,
    hat,
    mat_to_axis_angle,
    mat_to_quat,
    mat_to_rot6d,
    quat_conjugate,
    quat_multiply,
    quat_normalize,
    quat_slerp,
    quat_to_axis_angle,
    quat_to_mat,
    rot6d_to_mat,
    rot_x,
    rot_y,
    rot_z,
    rotation_angle_between,
    vee,
)

SEEDS = [0, 1, 2, 3, 4]
N = 500


def _expm(m: np.ndarray) -> np.ndarray:
    """Reference matrix exponential: scaling and squaring with a long Taylor series."""
    k = max(0, int(np.ceil(np.log2(max(np.linalg.norm(m), 1e-300)))) + 4)
    a = m / 2.0**k
    out, term = np.eye(len(m)), np.eye(len(m))
    for i in range(1, 25):
        term = term @ a / i
        out = out + term
    for _ in range(k):
        out = out @ out
    return out


def _random_rotvecs(rng: np.random.Generator, n: int, max_angle: float = np.pi) -> np.ndarray:
    """Rotation vectors with random axes and angles uniform in ``[0, max_angle)``."""
    axes = rng.standard_normal((n, 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    return axes * rng.uniform(0.0, max_angle, size=(n, 1))


def _random_quats(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform random unit quaternions of both signs."""
    q = rng.standard_normal((n, 4))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _assert_rotation(r: np.ndarray) -> None:
    """Check ``R^T R = I`` and ``det R = 1`` over a batch."""
    eye = np.broadcast_to(np.eye(3), r.shape)
    np.testing.assert_allclose(np.swapaxes(r, -1, -2) @ r, eye, atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_identity(seed: int) -> None:
    """Composing with the identity on either side is a no-op."""
    g = SO3.sample_uniform(np.random.default_rng(seed))
    ident = SO3.identity()
    np.testing.assert_allclose((ident @ g).as_matrix(), g.as_matrix(), atol=1e-12)
    np.testing.assert_allclose((g @ ident).as_matrix(), g.as_matrix(), atol=1e-12)
    np.testing.assert_array_equal(ident.as_matrix(), np.eye(3))


@pytest.mark.parametrize("seed", SEEDS)
def test_inverse(seed: int) -> None:
    """``g @ g^-1 = g^-1 @ g = I`` and ``(g^-1)^-1 = g``."""
    g = SO3.sample_uniform(np.random.default_rng(seed))
    np.testing.assert_allclose((g @ g.inverse()).as_matrix(), np.eye(3), atol=1e-12)
    np.testing.assert_allclose((g.inverse() @ g).as_matrix(), np.eye(3), atol=1e-12)
    np.testing.assert_allclose(g.inverse().inverse().as_matrix(), g.as_matrix(), atol=1e-12)
    np.testing.assert_allclose(g.inverse().as_matrix(), g.as_matrix().T, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_associativity(seed: int) -> None:
    """``(a @ b) @ c == a @ (b @ c)``."""
    rng = np.random.default_rng(seed)
    a, b, c = (SO3.sample_uniform(rng) for _ in range(3))
    np.testing.assert_allclose(((a @ b) @ c).as_matrix(), (a @ (b @ c)).as_matrix(), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_closure_and_composition_matches_matrices(seed: int) -> None:
    """Products are valid rotations and match the matrix product (rotate by b, then a)."""
    rng = np.random.default_rng(seed)
    a, b = SO3.sample_uniform(rng), SO3.sample_uniform(rng)
    _assert_rotation((a @ b).as_matrix())
    np.testing.assert_allclose((a @ b).as_matrix(), a.as_matrix() @ b.as_matrix(), atol=1e-12)
    q = quat_multiply(_random_quats(rng, N), _random_quats(rng, N))
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-12)
    _assert_rotation(quat_to_mat(q))


@pytest.mark.parametrize("seed", SEEDS)
def test_exp_log(seed: int) -> None:
    """``exp(log(g)) == g`` and ``log`` returns an angle in ``[0, pi]``."""
    g = SO3.sample_uniform(np.random.default_rng(seed))
    assert 0.0 <= np.linalg.norm(g.log()) <= np.pi
    np.testing.assert_allclose(SO3.exp(g.log()).as_matrix(), g.as_matrix(), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_log_exp(seed: int) -> None:
    """``log(exp(v)) == v`` for rotation angles below pi."""
    for v in _random_rotvecs(np.random.default_rng(seed), 50, max_angle=np.pi - 1e-6):
        np.testing.assert_allclose(SO3.exp(v).log(), v, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_round_trips(seed: int) -> None:
    """Quaternion <-> matrix <-> axis-angle round trips agree on many random samples."""
    rng = np.random.default_rng(seed)
    q = _random_quats(rng, N)
    q_pos = np.where(q[:, :1] < 0, -q, q)
    np.testing.assert_allclose(mat_to_quat(quat_to_mat(q)), q_pos, atol=1e-12)
    r = quat_to_mat(q)
    np.testing.assert_allclose(axis_angle_to_mat(mat_to_axis_angle(r)), r, atol=1e-12)
    v = _random_rotvecs(rng, N, max_angle=np.pi - 1e-6)
    np.testing.assert_allclose(quat_to_axis_angle(axis_angle_to_quat(v)), v, atol=1e-10)
    np.testing.assert_allclose(mat_to_axis_angle(axis_angle_to_mat(v)), v, atol=1e-10)
    np.testing.assert_allclose(quat_to_mat(axis_angle_to_quat(v)), axis_angle_to_mat(v), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_rot6d_round_trip_and_projection(seed: int) -> None:
    """rot6d -> matrix inverts matrix -> rot6d, and maps any independent pair to a rotation.

    A perturbed pair lands on the rotation whose first column is the first vector's direction
    and whose second column lies in the plane of both (Gram-Schmidt).
    """
    rng = np.random.default_rng(seed)
    r = quat_to_mat(_random_quats(rng, N))
    np.testing.assert_allclose(rot6d_to_mat(mat_to_rot6d(r)), r, atol=1e-12)
    np.testing.assert_allclose(mat_to_rot6d(r), np.concatenate([r[..., 0], r[..., 1]], -1))
    v = mat_to_rot6d(r) * rng.uniform(0.5, 2.0, (N, 1)) + 0.05 * rng.standard_normal((N, 6))
    out = rot6d_to_mat(v)
    _assert_rotation(out)
    a = v[:, :3] / np.linalg.norm(v[:, :3], axis=-1, keepdims=True)
    np.testing.assert_allclose(out[..., 0], a, atol=1e-12)
    normal = np.cross(v[:, :3], v[:, 3:])
    np.testing.assert_allclose(np.sum(out[..., 1] * normal, -1), 0.0, atol=1e-9)
    assert np.all(np.sum(out[..., 1] * v[:, 3:], -1) > 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_against_reference_expm(seed: int) -> None:
    """Rodrigues' formula matches a generic matrix exponential of ``hat(v)``."""
    for v in _random_rotvecs(np.random.default_rng(seed), 20, max_angle=3 * np.pi):
        np.testing.assert_allclose(axis_angle_to_mat(v), _expm(hat(v)), atol=1e-12)


def test_batch_matches_loop() -> None:
    """Batched calls over ``(2, 50, ...)`` agree with per-sample calls."""
    rng = np.random.default_rng(7)
    q = _random_quats(rng, 100).reshape(2, 50, 4)
    q2 = _random_quats(rng, 100).reshape(2, 50, 4)
    v = _random_rotvecs(rng, 100).reshape(2, 50, 3)
    r = quat_to_mat(q)
    assert r.shape == (2, 50, 3, 3)
    cases = [
        (quat_to_mat, (q,)),
        (mat_to_quat, (r,)),
        (axis_angle_to_mat, (v,)),
        (axis_angle_to_quat, (v,)),
        (quat_to_axis_angle, (q,)),
        (mat_to_axis_angle, (r,)),
        (quat_multiply, (q, q2)),
        (quat_slerp, (q, q2, np.full((2, 50), 0.3))),
        (rotation_angle_between, (r, quat_to_mat(q2))),
    ]
    for fn, args in cases:
        batched = fn(*args)
        for i in range(2):
            for j in range(50):
                single = fn(*(a[i, j] for a in args))
                np.testing.assert_allclose(batched[i, j], single, atol=1e-13, err_msg=fn.__name__)


@pytest.mark.parametrize("seed", SEEDS)
def test_double_cover(seed: int) -> None:
    """``q`` and ``-q`` give the same matrix, axis-angle and slerp results."""
    q = _random_quats(np.random.default_rng(seed), N)
    np.testing.assert_allclose(quat_to_mat(q), quat_to_mat(-q), atol=1e-15)
    np.testing.assert_allclose(quat_to_axis_angle(q), quat_to_axis_angle(-q), atol=1e-15)
    assert np.all(mat_to_quat(quat_to_mat(q))[:, 0] >= 0)


@pytest.mark.parametrize("eps", [0.0, 1e-15, 1e-12, 1e-8, 1e-5, 1e-3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_angle_near_pi(eps: float, seed: int) -> None:
    """Angles at and just below pi survive matrix -> axis-angle -> matrix."""
    axis = np.random.default_rng(seed).standard_normal(3)
    axis /= np.linalg.norm(axis)
    v = (np.pi - eps) * axis
    r = axis_angle_to_mat(v)
    back = mat_to_axis_angle(r)
    np.testing.assert_allclose(np.linalg.norm(back), np.pi - eps, atol=1e-12)
    np.testing.assert_allclose(axis_angle_to_mat(back), r, atol=1e-12)
    if eps >= 1e-8:  # Away from exactly pi the sign of the axis is determined.
        np.testing.assert_allclose(back, v, atol=1e-7)
    np.testing.assert_allclose(rotation_angle_between(np.eye(3), r), np.pi - eps, atol=1e-12)


@pytest.mark.parametrize("angle", [0.0, 1e-300, 1e-15, 1e-10, 1e-6, 1e-3, 1e-2 - 1e-12, 1e-2])
@pytest.mark.parametrize("seed", [0, 1])
def test_angle_near_zero(angle: float, seed: int) -> None:
    """Tiny rotations round-trip with relative precision and Taylor branches are continuous."""
    axis = np.random.default_rng(seed).standard_normal(3)
    axis /= np.linalg.norm(axis)
    v = angle * axis
    r = axis_angle_to_mat(v)
    assert np.all(np.isfinite(r))
    np.testing.assert_allclose(r, _expm(hat(v)), atol=1e-15)
    np.testing.assert_allclose(mat_to_axis_angle(r), v, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(quat_to_axis_angle(axis_angle_to_quat(v)), v, rtol=1e-12, atol=0)
    q = axis_angle_to_quat(v)
    np.testing.assert_allclose(q[1:], np.sin(angle / 2) * axis, rtol=1e-14, atol=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_exp_derivative_is_hat(seed: int) -> None:
    """Central finite difference of ``exp(t v)`` at ``t = 0`` equals ``hat(v)``."""
    v = np.random.default_rng(seed).standard_normal(3)
    h = 1e-6
    deriv = (SO3.exp(h * v).as_matrix() - SO3.exp(-h * v).as_matrix()) / (2 * h)
    np.testing.assert_allclose(deriv, hat(v), atol=1e-8)
    t0 = 0.7  # Away from zero the derivative is R(t0) hat(v).
    deriv = (axis_angle_to_mat((t0 + h) * v) - axis_angle_to_mat((t0 - h) * v)) / (2 * h)
    np.testing.assert_allclose(deriv, axis_angle_to_mat(t0 * v) @ hat(v), atol=1e-7)


@pytest.mark.parametrize("seed", SEEDS)
def test_hat_vee(seed: int) -> None:
    """``hat(v) @ u == v x u`` and ``vee`` inverts ``hat``."""
    rng = np.random.default_rng(seed)
    v, u = rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(hat(v) @ u, np.cross(v, u), atol=1e-15)
    np.testing.assert_array_equal(vee(hat(v)), v)


@pytest.mark.parametrize("theta", [-2.0, 0.0, 0.3, np.pi / 2, np.pi])
def test_elementary_rotations(theta: float) -> None:
    """``rot_x/y/z`` match the axis-angle map, quaternions and the right-hand rule."""
    for fn, axis in ((rot_x, 0), (rot_y, 1), (rot_z, 2)):
        v = np.zeros(3)
        v[axis] = theta
        np.testing.assert_allclose(fn(theta), axis_angle_to_mat(v), atol=1e-15)
    q = np.array([np.cos(theta / 2), 0.0, 0.0, np.sin(theta / 2)])
    np.testing.assert_allclose(quat_to_mat(q), rot_z(theta), atol=1e-15)
    np.testing.assert_allclose(SO3.from_z_rotation(theta).as_matrix(), rot_z(theta), atol=1e-15)
    np.testing.assert_allclose(rot_z(np.pi / 2) @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-15)
    assert rot_z(np.array([theta, theta])).shape == (2, 3, 3)


@pytest.mark.parametrize("seed", SEEDS)
def test_quat_algebra(seed: int) -> None:
    """Quaternion product matches the matrix product; conjugate is the inverse."""
    rng = np.random.default_rng(seed)
    a, b = _random_quats(rng, 2)
    np.testing.assert_allclose(
        quat_to_mat(quat_multiply(a, b)), quat_to_mat(a) @ quat_to_mat(b), atol=1e-12
    )
    np.testing.assert_allclose(quat_multiply(a, quat_conjugate(a)), [1, 0, 0, 0], atol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(quat_normalize(3.0 * a)), 1.0, atol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_vector_action(seed: int) -> None:
    """``SO3 @ vector`` rotates single and batched vectors like the matrix does."""
    rng = np.random.default_rng(seed)
    g = SO3.sample_uniform(rng)
    p = rng.standard_normal((10, 3))
    np.testing.assert_allclose(g @ p[0], g.as_matrix() @ p[0], atol=1e-12)
    np.testing.assert_allclose(g @ p, p @ g.as_matrix().T, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_slerp_endpoints_and_constant_speed(seed: int) -> None:
    """Slerp hits both ends, moves at constant angular speed, and takes the short way."""
    rng = np.random.default_rng(seed)
    q0, q1 = _random_quats(rng, 2)
    ts = np.linspace(0.0, 1.0, 11)
    qs = quat_slerp(q0, q1, ts)
    assert qs.shape == (11, 4)
    np.testing.assert_allclose(quat_to_mat(qs[0]), quat_to_mat(q0), atol=1e-12)
    np.testing.assert_allclose(quat_to_mat(qs[-1]), quat_to_mat(q1), atol=1e-12)
    mats = quat_to_mat(qs)
    steps = rotation_angle_between(mats[:-1], mats[1:])
    total = rotation_angle_between(quat_to_mat(q0), quat_to_mat(q1))
    np.testing.assert_allclose(steps, total / 10, atol=1e-10)
    np.testing.assert_allclose(quat_slerp(q0, -q1, ts), qs, atol=1e-12)


def test_slerp_identical_inputs() -> None:
    """Slerp between equal quaternions is constant and finite."""
    q = axis_angle_to_quat([0.1, 0.2, 0.3])
    np.testing.assert_allclose(quat_slerp(q, q, np.linspace(0, 1, 5)), np.tile(q, (5, 1)))


@pytest.mark.parametrize("seed", SEEDS)
def test_rotation_angle_between(seed: int) -> None:
    """The geodesic angle is symmetric and recovers ``|v|`` for ``R1 = R0 exp(v)``."""
    rng = np.random.default_rng(seed)
    r0 = SO3.sample_uniform(rng).as_matrix()
    v = _random_rotvecs(rng, 1)[0]
    r1 = r0 @ axis_angle_to_mat(v)
    angle = rotation_angle_between(r0, r1)
    assert isinstance(angle, float)
    np.testing.assert_allclose(angle, np.linalg.norm(v), atol=1e-12)
    np.testing.assert_allclose(rotation_angle_between(r1, r0), angle, atol=1e-12)


def test_sample_uniform_is_seeded_and_haar() -> None:
    """Same seed gives the same rotation; the sample mean of Haar rotations is ~0."""
    a = SO3.sample_uniform(np.random.default_rng(42))
    b = SO3.sample_uniform(np.random.default_rng(42))
    np.testing.assert_array_equal(a.wxyz, b.wxyz)
    rng = np.random.default_rng(0)
    mats = np.stack([SO3.sample_uniform(rng).as_matrix() for _ in range(4000)])
    assert np.abs(mats.mean(axis=0)).max() < 0.05


def test_frozen_and_readonly() -> None:
    """``SO3`` cannot be reassigned and its constructed quaternion is read-only."""
    g = SO3.from_axis_angle([0.1, 0.0, 0.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.wxyz = np.array([1.0, 0.0, 0.0, 0.0])  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        g.wxyz[0] = 2.0


@pytest.mark.parametrize(
    ("fn", "arg", "match"),
    [
        (quat_to_mat, np.zeros(3), r"\(\.\.\., 4\) wxyz quaternion, got shape \(3,\)"),
        (quat_normalize, np.zeros(4), "zero-norm"),
        (quat_to_axis_angle, np.ones((2, 5)), "wxyz quaternion"),
        (mat_to_quat, np.eye(4), r"\(\.\.\., 3, 3\) rotation matrix"),
        (mat_to_axis_angle, np.ones(3), "rotation matrix"),
        (axis_angle_to_mat, np.ones(4), r"\(\.\.\., 3\) rotation vector"),
        (axis_angle_to_quat, 1.0, "rotation vector"),
        (hat, np.ones(2), "vector"),
        (SO3, np.ones(3), r"\(4,\) wxyz"),
        (SO3, np.ones(4), "unit quaternion"),
        (SO3, np.ones((2, 4)) / 2, r"\(4,\) wxyz"),
        (SO3.from_matrix, np.eye(3)[None], r"\(3, 3\) rotation matrix"),
        (SO3.from_axis_angle, np.ones((2, 3)), r"\(3,\) rotation vector"),
    ],
)
def test_bad_shapes_raise(fn: Callable[[object], object], arg: object, match: str) -> None:
    """Malformed inputs raise ``ValueError`` naming the expected shape."""
    with pytest.raises(ValueError, match=match):
        fn(arg)


@pytest.mark.parametrize("seed", range(3))
def test_mat_to_quat_single_matrix_path_agrees_with_batched(seed: int) -> None:
    """The scalar fast path (one matrix) gives the batched result, near pi and identity too."""
    rng = np.random.default_rng(seed)
    v = _random_rotvecs(rng, 200)
    axes = v / np.linalg.norm(v, axis=-1, keepdims=True)
    v = np.concatenate([v, axes * (np.pi - 1e-9), axes[:5] * 1e-12, -axes[:5] * np.pi])
    mats = axis_angle_to_mat(v)
    batched = mat_to_quat(mats)
    single = np.stack([mat_to_quat(m) for m in mats])
    np.testing.assert_allclose(single, batched, atol=1e-12)
    assert np.all(single[:, 0] >= 0)
