"""Tests for pose interpolation and pose distances."""

import numpy as np
import pytest

from dexmg_bench.geometry import (
    SE3,
    interpolate_poses,
    make_pose,
    pose_distance,
    rot_z,
    rotation_angle_between,
)

SEEDS = [0, 1, 2, 3]
LOW, HIGH = -np.ones(3), np.ones(3)


def _pose_pair(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two random poses from one seed."""
    rng = np.random.default_rng(seed)
    return tuple(SE3.sample_uniform(rng, LOW, HIGH).as_matrix() for _ in range(2))


@pytest.mark.parametrize("num_steps", [1, 2, 5, 17])
@pytest.mark.parametrize("seed", SEEDS)
def test_ends_exactly_at_t1_and_excludes_t0(seed: int, num_steps: int) -> None:
    """Output has ``num_steps`` poses, starts a step past ``t0``, ends bit-exactly at ``t1``."""
    t0, t1 = _pose_pair(seed)
    out = interpolate_poses(t0, t1, num_steps)
    assert out.shape == (num_steps, 4, 4)
    np.testing.assert_array_equal(out[-1], t1)
    assert not np.allclose(out[0], t0)
    pos_step, angle_step = pose_distance(t0, out[0])
    pos_total, angle_total = pose_distance(t0, t1)
    np.testing.assert_allclose(pos_step, pos_total / num_steps, atol=1e-12)
    np.testing.assert_allclose(angle_step, angle_total / num_steps, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_position_and_constant_angular_speed(seed: int) -> None:
    """Positions are evenly spaced on the segment and rotation advances by equal geodesic steps."""
    t0, t1 = _pose_pair(seed)
    n = 10
    out = interpolate_poses(t0, t1, n)
    full = np.concatenate([t0[None], out])
    alphas = np.arange(n + 1) / n
    expected_pos = t0[:3, 3] + alphas[:, None] * (t1[:3, 3] - t0[:3, 3])
    np.testing.assert_allclose(full[:, :3, 3], expected_pos, atol=1e-12)
    steps = rotation_angle_between(full[:-1, :3, :3], full[1:, :3, :3])
    total = rotation_angle_between(t0[:3, :3], t1[:3, :3])
    np.testing.assert_allclose(steps, total / n, atol=1e-10)
    rots = out[:, :3, :3]
    np.testing.assert_allclose(
        np.swapaxes(rots, -1, -2) @ rots, np.broadcast_to(np.eye(3), rots.shape), atol=1e-12
    )
    np.testing.assert_array_equal(out[:, 3], np.tile([0.0, 0.0, 0.0, 1.0], (n, 1)))


def test_shortest_rotation_path() -> None:
    """A 270 degree yaw is reached by turning -90 degrees, not +270."""
    t0 = np.eye(4)
    t1 = make_pose(np.zeros(3), rot_z(1.5 * np.pi))
    mid = interpolate_poses(t0, t1, 2)[0]
    np.testing.assert_allclose(mid[:3, :3], rot_z(-0.25 * np.pi), atol=1e-12)


def test_identical_poses() -> None:
    """Interpolating a pose to itself repeats it."""
    t0, _ = _pose_pair(0)
    np.testing.assert_allclose(interpolate_poses(t0, t0, 4), np.tile(t0, (4, 1, 1)), atol=1e-12)


@pytest.mark.parametrize("num_steps", [0, -3, 1.5, 2.0, True, "3"])
def test_bad_num_steps_raise(num_steps: object) -> None:
    """Non-integer or non-positive ``num_steps`` raise ``ValueError``."""
    with pytest.raises(ValueError, match="num_steps must be an integer >= 1"):
        interpolate_poses(np.eye(4), np.eye(4), num_steps)  # type: ignore[arg-type]


def test_numpy_integer_num_steps() -> None:
    """NumPy integers are accepted for ``num_steps``."""
    assert interpolate_poses(np.eye(4), np.eye(4), np.int64(3)).shape == (3, 4, 4)


@pytest.mark.parametrize(
    ("t0", "t1", "match"),
    [
        (np.eye(3), np.eye(4), "homogeneous pose"),
        (np.eye(4)[None], np.eye(4), r"two \(4, 4\) poses"),
    ],
)
def test_bad_pose_shapes_raise(t0: np.ndarray, t1: np.ndarray, match: str) -> None:
    """Non-``(4, 4)`` poses raise ``ValueError``."""
    with pytest.raises(ValueError, match=match):
        interpolate_poses(t0, t1, 3)


@pytest.mark.parametrize("seed", SEEDS)
def test_pose_distance(seed: int) -> None:
    """Distances are zero on the diagonal, symmetric, exact on known poses, and batch."""
    t0, t1 = _pose_pair(seed)
    assert pose_distance(t0, t0) == (0.0, 0.0)
    d01, d10 = pose_distance(t0, t1), pose_distance(t1, t0)
    assert isinstance(d01[0], float) and isinstance(d01[1], float)
    np.testing.assert_allclose(d01, d10, atol=1e-12)
    known = pose_distance(np.eye(4), make_pose([3.0, 4.0, 0.0], rot_z(0.25)))
    np.testing.assert_allclose(known, (5.0, 0.25), atol=1e-12)
    pos, ang = pose_distance(np.stack([t0, t1]), t1)
    np.testing.assert_allclose(pos, [d01[0], 0.0], atol=1e-12)
    np.testing.assert_allclose(ang, [d01[1], 0.0], atol=1e-12)
    with pytest.raises(ValueError, match="homogeneous pose"):
        pose_distance(np.eye(3), t1)


def test_resample_linear_reads_samples_and_midpoints():
    """Integer times give the samples, half times the means; extra axes ride along."""
    from dexmg_bench.geometry import resample_linear

    values = np.arange(12.0).reshape(4, 3) ** 2
    out = resample_linear(values, np.array([0.0, 1.5, 3.0]))
    np.testing.assert_array_equal(out[0], values[0])
    np.testing.assert_array_equal(out[1], (values[1] + values[2]) / 2)
    np.testing.assert_array_equal(out[2], values[3])
    assert resample_linear(values[:1], np.zeros(2)).shape == (2, 3)  # one sample: held
    with pytest.raises(ValueError, match="within"):
        resample_linear(values, np.array([-0.5]))
