"""Object-centric segment transforms and subtask path planning."""

import numpy as np
import pytest

from dexmg_bench.generators.transform import (
    plan_subtask,
    prefix_length,
    segment_transform,
    transform_segment,
)
from dexmg_bench.geometry import make_pose, pose_from_pos_quat, pose_inv, quat_normalize, rot_z


def _random_pose(rng: np.random.Generator) -> np.ndarray:
    return pose_from_pos_quat(rng.normal(size=3), quat_normalize(rng.normal(size=4)))


def test_transform_preserves_object_relative_poses(rng) -> None:
    """inv(new_obj) @ new_target == inv(src_obj) @ src_target for every pose of the segment."""
    src_obj, new_obj = _random_pose(rng), _random_pose(rng)
    src = np.stack([_random_pose(rng) for _ in range(7)])
    out = transform_segment(src, src_obj, new_obj)
    assert out.shape == (7, 4, 4)
    np.testing.assert_allclose(pose_inv(new_obj) @ out, pose_inv(src_obj) @ src, atol=1e-12)


def test_transform_identity_when_object_unmoved(rng) -> None:
    """An object at its source pose leaves the segment unchanged."""
    obj = _random_pose(rng)
    src = np.stack([_random_pose(rng) for _ in range(3)])
    np.testing.assert_allclose(transform_segment(src, obj, obj), src, atol=1e-12)
    np.testing.assert_allclose(segment_transform(obj, obj), np.eye(4), atol=1e-12)


def test_transform_rejects_bad_shapes() -> None:
    """Shapes are checked with the argument's name in the error."""
    with pytest.raises(ValueError, match="src_targets"):
        transform_segment(np.eye(4), np.eye(4), np.eye(4))


@pytest.mark.parametrize(("interp", "fixed"), [(0, 0), (1, 0), (5, 0), (5, 3), (0, 2)])
def test_plan_subtask_layout(interp: int, fixed: int) -> None:
    """Hold, then interpolate to the segment's first pose (ending exactly on it), then follow it."""
    current = make_pose([0.0, 0.0, 0.0], np.eye(3))
    seg = make_pose(np.stack([[1.0 + k, 0.0, 0.0] for k in range(4)]), rot_z(0.3))
    path = plan_subtask(current, seg, interp, fixed)
    pre = prefix_length(interp, fixed)
    assert len(path) == pre + len(seg)
    np.testing.assert_array_equal(path[pre:], seg)
    for k in range(fixed):
        np.testing.assert_array_equal(path[k], current)
    if interp > 1:
        assert 0.0 < path[fixed, 0, 3] < 1.0


def test_plan_subtask_rejects_negative_steps() -> None:
    """Negative step counts are refused."""
    with pytest.raises(ValueError, match="fixed_steps"):
        plan_subtask(np.eye(4), np.eye(4)[None], 1, -1)
