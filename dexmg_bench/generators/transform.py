"""Object-centric transforms of source segments and the path that bridges to them (pure numpy).

A source segment recorded relative to object pose ``world_T_obj_src`` is replayed relative to the
object's new pose ``world_T_obj_new`` with the constant transform
``world_T_obj_new @ inv(world_T_obj_src)`` (MimicGen, DexMimicGen Sec. III), which preserves every
end-effector pose relative to the object.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dexmg_bench.geometry import interpolate_poses, pose_inv


def _poses(x: npt.ArrayLike, what: str, batch: bool) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    want = 3 if batch else 2
    if arr.ndim != want or arr.shape[-2:] != (4, 4) or (batch and arr.shape[0] == 0):
        shape = "(n >= 1, 4, 4)" if batch else "(4, 4)"
        raise ValueError(f"{what} must have shape {shape}, got {arr.shape}")
    return arr


def segment_transform(src_object_pose: npt.ArrayLike, new_object_pose: npt.ArrayLike) -> np.ndarray:
    """The world-frame transform ``world_T_obj_new @ inv(world_T_obj_src)`` (4, 4)."""
    src = _poses(src_object_pose, "src_object_pose", batch=False)
    new = _poses(new_object_pose, "new_object_pose", batch=False)
    return new @ pose_inv(src)


def transform_segment(
    src_targets: npt.ArrayLike, src_object_pose: npt.ArrayLike, new_object_pose: npt.ArrayLike
) -> np.ndarray:
    """Move a source segment's target poses with its reference object.

    Args:
        src_targets: Source end-effector targets ``(n, 4, 4)`` in the world frame.
        src_object_pose: The reference object's world pose in the source demo ``(4, 4)``.
        new_object_pose: The reference object's world pose now ``(4, 4)``.

    Returns:
        ``(n, 4, 4)`` targets with ``inv(new_obj) @ out[k] == inv(src_obj) @ src_targets[k]``.
    """
    targets = _poses(src_targets, "src_targets", batch=True)
    return segment_transform(src_object_pose, new_object_pose) @ targets


def plan_subtask(
    current_eef_pose: npt.ArrayLike,
    segment_targets: npt.ArrayLike,
    interpolation_steps: int,
    fixed_steps: int,
) -> np.ndarray:
    """The full pose path for one subtask: hold, bridge to the segment, then follow it.

    The path is ``fixed_steps`` copies of the current pose, then ``interpolation_steps`` poses
    interpolated from the current pose to the segment's first pose (the last of them *is* that
    first pose), then the rest of the segment. With ``interpolation_steps == 0`` the segment's
    first pose is commanded directly, which is the same path as ``interpolation_steps == 1``.

    Args:
        current_eef_pose: Where the end effector is now ``(4, 4)``.
        segment_targets: The (already transformed) segment ``(n, 4, 4)``.
        interpolation_steps: Number of bridging poses, >= 0.
        fixed_steps: Number of hold steps before bridging, >= 0.

    Returns:
        ``(fixed_steps + max(interpolation_steps, 1) + n - 1, 4, 4)`` poses; see
        ``prefix_length`` for where the segment itself starts.
    """
    current = _poses(current_eef_pose, "current_eef_pose", batch=False)
    seg = _poses(segment_targets, "segment_targets", batch=True)
    for name, value in (("interpolation_steps", interpolation_steps), ("fixed_steps", fixed_steps)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    hold = np.repeat(current[None], fixed_steps, axis=0)
    if interpolation_steps > 0:
        bridge = interpolate_poses(current, seg[0], int(interpolation_steps))
        return np.concatenate([hold, bridge, seg[1:]])
    return np.concatenate([hold, seg])


def prefix_length(interpolation_steps: int, fixed_steps: int) -> int:
    """Steps of a planned path before the step that commands the segment's first pose."""
    return fixed_steps + max(interpolation_steps, 1) - 1
