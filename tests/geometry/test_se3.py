"""Axiom and property tests for ``dexmg_bench.geometry.se3``."""

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from dexmg_bench.geometry import (
    SE3,
    SO3,
    axis_angle_to_mat,
    hat,
    make_pose,
    mat_to_quat,
    pose_from_pos_quat,
    pose_inv,
    pose_to_pos_quat,
    pose_to_pos_rot,
    quat_to_mat,
    transform_points,
)

SEEDS = [0, 1, 2, 3, 4]
LOW, HIGH = np.array([-1.0, -2.0, 0.0]), np.array([1.0, 2.0, 3.0])


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


def _twist_hat(twist: np.ndarray) -> np.ndarray:
    """The 4x4 se(3) generator of a ``(v, w)`` twist."""
    out = np.zeros((4, 4))
    out[:3, :3] = hat(twist[3:])
    out[:3, 3] = twist[:3]
    return out


def _random_poses(rng: np.random.Generator, n: int) -> np.ndarray:
    """A ``(n, 4, 4)`` batch of random rigid poses."""
    return np.stack([SE3.sample_uniform(rng, LOW, HIGH).as_matrix() for _ in range(n)])


def _assert_se3_close(a: SE3, b: SE3) -> None:
    """Compare two transforms through their matrices."""
    np.testing.assert_allclose(a.as_matrix(), b.as_matrix(), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_identity(seed: int) -> None:
    """Composing with the identity on either side is a no-op."""
    g = SE3.sample_uniform(np.random.default_rng(seed), LOW, HIGH)
    _assert_se3_close(SE3.identity() @ g, g)
    _assert_se3_close(g @ SE3.identity(), g)
    np.testing.assert_array_equal(SE3.identity().as_matrix(), np.eye(4))


@pytest.mark.parametrize("seed", SEEDS)
def test_inverse(seed: int) -> None:
    """``g @ g^-1 = I``, ``(g^-1)^-1 = g`` and the inverse matches ``pose_inv``."""
    g = SE3.sample_uniform(np.random.default_rng(seed), LOW, HIGH)
    _assert_se3_close(g @ g.inverse(), SE3.identity())
    _assert_se3_close(g.inverse() @ g, SE3.identity())
    _assert_se3_close(g.inverse().inverse(), g)
    np.testing.assert_allclose(g.inverse().as_matrix(), pose_inv(g.as_matrix()), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_associativity(seed: int) -> None:
    """``(a @ b) @ c == a @ (b @ c)``."""
    rng = np.random.default_rng(seed)
    a, b, c = (SE3.sample_uniform(rng, LOW, HIGH) for _ in range(3))
    _assert_se3_close((a @ b) @ c, a @ (b @ c))


@pytest.mark.parametrize("seed", SEEDS)
def test_closure_and_matrix_product(seed: int) -> None:
    """Composition is the 4x4 matrix product and stays a rigid transform."""
    rng = np.random.default_rng(seed)
    a, b = SE3.sample_uniform(rng, LOW, HIGH), SE3.sample_uniform(rng, LOW, HIGH)
    m = (a @ b).as_matrix()
    np.testing.assert_allclose(m, a.as_matrix() @ b.as_matrix(), atol=1e-12)
    np.testing.assert_allclose(m[:3, :3].T @ m[:3, :3], np.eye(3), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(m[:3, :3]), 1.0, atol=1e-12)
    np.testing.assert_array_equal(m[3], [0.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("seed", SEEDS)
def test_exp_log(seed: int) -> None:
    """``exp(log(g)) == g``."""
    g = SE3.sample_uniform(np.random.default_rng(seed), LOW, HIGH)
    twist = g.log()
    assert twist.shape == (6,)
    _assert_se3_close(SE3.exp(twist), g)


@pytest.mark.parametrize("seed", SEEDS)
def test_log_exp(seed: int) -> None:
    """``log(exp(xi)) == xi`` for rotation angles below pi."""
    rng = np.random.default_rng(seed)
    for _ in range(50):
        twist = rng.uniform(-1.5, 1.5, size=6)
        twist[3:] *= min(1.0, (np.pi - 1e-6) / np.linalg.norm(twist[3:]))
        np.testing.assert_allclose(SE3.exp(twist).log(), twist, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_exp_against_reference_expm(seed: int) -> None:
    """``exp`` matches the generic matrix exponential of the 4x4 generator (checks ``V``)."""
    twist = np.random.default_rng(seed).standard_normal(6) * 2.0
    np.testing.assert_allclose(SE3.exp(twist).as_matrix(), _expm(_twist_hat(twist)), atol=1e-12)


@pytest.mark.parametrize("angle", [0.0, 1e-14, 1e-9, 1e-4, 1e-2 - 1e-12, 1e-2, 1.0, np.pi - 1e-9])
def test_exp_log_rotation_edge_cases(angle: float) -> None:
    """Near-zero and near-pi rotations keep exp/log finite, accurate and inverse of each other."""
    w = angle * np.array([0.0, 0.6, 0.8])
    twist = np.concatenate([[0.3, -0.2, 0.5], w])
    g = SE3.exp(twist)
    np.testing.assert_allclose(g.as_matrix(), _expm(_twist_hat(twist)), atol=1e-12)
    np.testing.assert_allclose(g.log(), twist, atol=1e-8)


def test_pure_translation_and_half_turn() -> None:
    """A zero-rotation twist is a translation; log at exactly pi is finite and round-trips."""
    g = SE3.exp(np.array([1.0, 2.0, 3.0, 0.0, 0.0, 0.0]))
    np.testing.assert_array_equal(g.as_matrix()[:3, 3], [1.0, 2.0, 3.0])
    half = SE3.from_rotation_and_translation(SO3.from_axis_angle([0, 0, np.pi]), [1.0, 0.0, 0.0])
    twist = half.log()
    assert np.all(np.isfinite(twist))
    _assert_se3_close(SE3.exp(twist), half)


@pytest.mark.parametrize("seed", SEEDS)
def test_exp_derivative_is_generator(seed: int) -> None:
    """Central finite difference of ``exp(t xi)`` at ``t = 0`` equals the 4x4 generator."""
    twist = np.random.default_rng(seed).standard_normal(6)
    h = 1e-6
    deriv = (SE3.exp(h * twist).as_matrix() - SE3.exp(-h * twist).as_matrix()) / (2 * h)
    np.testing.assert_allclose(deriv, _twist_hat(twist), atol=1e-8)


@pytest.mark.parametrize("seed", SEEDS)
def test_matrix_and_pos_quat_round_trips(seed: int) -> None:
    """``from_matrix``/``as_matrix`` and pos-quat conversions round-trip."""
    poses = _random_poses(np.random.default_rng(seed), 20)
    for t in poses:
        np.testing.assert_allclose(SE3.from_matrix(t).as_matrix(), t, atol=1e-12)
    pos, quat = pose_to_pos_quat(poses)
    assert pos.shape == (20, 3) and quat.shape == (20, 4)
    assert np.all(quat[:, 0] >= 0)
    np.testing.assert_allclose(pose_from_pos_quat(pos, quat), poses, atol=1e-12)
    np.testing.assert_allclose(pose_from_pos_quat(pos, -quat), poses, atol=1e-12)
    p, r = pose_to_pos_rot(poses)
    np.testing.assert_array_equal(make_pose(p, r), poses)


@pytest.mark.parametrize("seed", SEEDS)
def test_pose_inv_batched(seed: int) -> None:
    """Batched ``pose_inv`` matches ``np.linalg.inv`` per pose and gives ``T^-1 T = I``."""
    poses = _random_poses(np.random.default_rng(seed), 12).reshape(3, 4, 4, 4)
    inv = pose_inv(poses)
    for idx in np.ndindex(3, 4):
        np.testing.assert_allclose(inv[idx], np.linalg.inv(poses[idx]), atol=1e-12)
        np.testing.assert_allclose(inv[idx], pose_inv(poses[idx]), atol=0)
    np.testing.assert_allclose(inv @ poses, np.broadcast_to(np.eye(4), poses.shape), atol=1e-12)


def test_make_pose_broadcasts() -> None:
    """One rotation with ``N`` positions gives ``N`` poses."""
    r = axis_angle_to_mat([0.0, 0.0, 0.5])
    out = make_pose(np.arange(15.0).reshape(5, 3), r)
    assert out.shape == (5, 4, 4)
    np.testing.assert_array_equal(out[:, :3, :3], np.broadcast_to(r, (5, 3, 3)))
    np.testing.assert_array_equal(out[:, 3], np.tile([0.0, 0.0, 0.0, 1.0], (5, 1)))


@pytest.mark.parametrize("seed", SEEDS)
def test_transform_points(seed: int) -> None:
    """``transform_points`` equals homogeneous multiplication and ``SE3 @ point``."""
    rng = np.random.default_rng(seed)
    g = SE3.sample_uniform(rng, LOW, HIGH)
    t = g.as_matrix()
    pts = rng.standard_normal((7, 3))
    homog = (t @ np.concatenate([pts, np.ones((7, 1))], axis=1).T).T[:, :3]
    np.testing.assert_allclose(transform_points(t, pts), homog, atol=1e-12)
    np.testing.assert_allclose(g @ pts, homog, atol=1e-12)
    np.testing.assert_allclose(g @ pts[0], homog[0], atol=1e-12)
    poses = _random_poses(rng, 4)
    paired = transform_points(poses[:, None], pts[None])
    assert paired.shape == (4, 7, 3)
    np.testing.assert_allclose(paired[2], transform_points(poses[2], pts), atol=1e-12)
    # Frame naming: world_T_obj = world_T_eef @ eef_T_obj maps obj-frame points to the world.
    eef_t_obj = _random_poses(rng, 1)[0]
    np.testing.assert_allclose(
        transform_points(t @ eef_t_obj, pts),
        transform_points(t, transform_points(eef_t_obj, pts)),
        atol=1e-12,
    )


def test_sample_uniform() -> None:
    """Sampling is seeded, respects the box, and rejects inverted bounds."""
    a = SE3.sample_uniform(np.random.default_rng(3), LOW, HIGH)
    b = SE3.sample_uniform(np.random.default_rng(3), LOW, HIGH)
    np.testing.assert_array_equal(a.as_matrix(), b.as_matrix())
    rng = np.random.default_rng(0)
    trans = np.stack([SE3.sample_uniform(rng, LOW, HIGH).translation for _ in range(200)])
    assert np.all(trans >= LOW) and np.all(trans < HIGH)
    with pytest.raises(ValueError, match="pos_high must be >= pos_low"):
        SE3.sample_uniform(rng, HIGH, LOW)


def test_frozen() -> None:
    """``SE3`` fields cannot be reassigned."""
    g = SE3.identity()
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.translation = np.ones(3)  # type: ignore[misc]
    assert mat_to_quat(quat_to_mat(g.rotation.wxyz))[0] == 1.0


@pytest.mark.parametrize(
    ("fn", "args", "match"),
    [
        (pose_inv, (np.eye(3),), r"\(\.\.\., 4, 4\) homogeneous pose, got shape \(3, 3\)"),
        (pose_to_pos_rot, (np.ones(16),), "homogeneous pose"),
        (make_pose, (np.ones(2), np.eye(3)), r"\(\.\.\., 3\) position"),
        (make_pose, (np.ones(3), np.eye(4)), "rotation matrix"),
        (pose_from_pos_quat, (np.ones(3), np.ones(3)), "wxyz quaternion"),
        (transform_points, (np.eye(4), np.ones((5, 4))), "point"),
        (SE3.from_matrix, (np.eye(4)[None],), r"\(4, 4\) homogeneous pose"),
        (SE3.exp, (np.ones(5),), "twist"),
        (SE3.from_rotation_and_translation, (SO3.identity(), np.ones(4)), r"\(3,\) translation"),
        (SE3, (np.eye(3), np.ones(3)), "rotation must be an SO3"),
        (SE3.sample_uniform, (np.random.default_rng(0), np.ones(2), np.ones(2)), "position"),
    ],
)
def test_bad_shapes_raise(fn: Callable[..., object], args: tuple, match: str) -> None:
    """Malformed inputs raise ``ValueError`` naming the expected shape."""
    with pytest.raises(ValueError, match=match):
        fn(*args)
