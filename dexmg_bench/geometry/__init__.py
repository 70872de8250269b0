"""Pure-numpy rigid-body geometry: rotations, poses, and their interpolation.

This subpackage imports only numpy and the standard library (never mujoco or robosuite), so the
data-generation math can be tested without a simulator. Quaternions are scalar-first ``wxyz``
(MuJoCo order) everywhere; poses are float64 ``(..., 4, 4)`` homogeneous matrices ``a_T_b``.
"""

from dexmg_bench.geometry.interpolation import (
    interpolate_poses,
    pose_distance,
    resample_linear,
    resample_poses,
)
from dexmg_bench.geometry.se3 import (
    SE3,
    make_pose,
    pose_from_pos_quat,
    pose_inv,
    pose_to_pos_quat,
    pose_to_pos_rot,
    transform_points,
)
from dexmg_bench.geometry.so3 import (
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

__all__ = [
    "SE3",
    "SO3",
    "axis_angle_to_mat",
    "axis_angle_to_quat",
    "hat",
    "interpolate_poses",
    "make_pose",
    "mat_to_axis_angle",
    "mat_to_quat",
    "mat_to_rot6d",
    "pose_distance",
    "pose_from_pos_quat",
    "pose_inv",
    "pose_to_pos_quat",
    "pose_to_pos_rot",
    "resample_linear",
    "resample_poses",
    "quat_conjugate",
    "quat_multiply",
    "quat_normalize",
    "quat_slerp",
    "quat_to_axis_angle",
    "quat_to_mat",
    "rot_x",
    "rot6d_to_mat",
    "rot_y",
    "rot_z",
    "rotation_angle_between",
    "transform_points",
    "vee",
]
