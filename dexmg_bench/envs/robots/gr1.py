"""The Fourier GR-1 humanoid with Fourier dexterous hands, the embodiment of the humanoid tasks.

robosuite 1.5.2 ships the GR-1 (``GR1ArmsOnly`` and ``GR1FixedLowerBody``) and, as its default
hands, ``FourierRightHand`` / ``FourierLeftHand``: the models the public DexMimicGen GR-1 tasks use
(the paper's *real* robot carries 6-DoF Inspire hands; the simulated tasks use these). Each hand
has 11 joints and 11 position actuators; as in robosuite, 6 commands drive them (paper assumption
A1, "6-D joint commands for a dexterous hand"): each finger drives its two joints together, the
thumb bend drives the thumb's pitch and distal joints, and the thumb rotation its yaw joint.

Hand command (per arm, 6 values in [-1, 1], **robosuite's order**)::

    0 pinky, 1 ring, 2 middle, 3 index, 4 thumb bend, 5 thumb rotation (swing across the palm)

-1 is each joint's lower limit (finger straight, thumb out) and +1 its upper limit (curled,
thumb swung in front of the palm), mapped linearly to each actuator's ``ctrlrange``.

Hand frame (``grip_site``, the frame the IK tracks): the fingers extend along its -y axis, the
palm faces its +z axis, and the thumb sits on its -x side (right hand) or +x side (left hand).
At the rest posture both forearms point forward (+x), palms facing each other.
"""

from __future__ import annotations

import numpy as np

ARMS = ("right", "left")
SIDE = {"right": "r", "left": "l"}
HAND_PREFIX = {"right": "gripper0_right", "left": "gripper0_left"}
_HAND_SIDE = {"right": "R", "left": "L"}

TORSO_JOINTS = ("robot0_torso_waist_yaw", "robot0_torso_waist_pitch", "robot0_torso_waist_roll")
_ARM = ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow_pitch", "wrist_yaw")
_ARM += ("wrist_roll", "wrist_pitch")
ARM_JOINTS = {arm: tuple(f"robot0_{s}_{j}" for j in _ARM) for arm, s in SIDE.items()}
# robosuite's GR-1 init_qpos per arm: elbows bent 90 degrees, forearms forward.
ARM_REST = {
    "right": (0.0, -0.1, 0.0, -1.57, 0.0, 0.0, 0.0),
    "left": (0.0, 0.1, 0.0, -1.57, 0.0, 0.0, 0.0),
}
EEF_SITE = {arm: f"{p}_grip_site" for arm, p in HAND_PREFIX.items()}
WRIST_CAMERA = {"right": "robot0_eye_in_right_hand", "left": "robot0_eye_in_left_hand"}
HEAD_CAMERA = "robot0_robotview"

_FINGER_JOINTS = (
    "thumb_proximal_yaw",
    "thumb_proximal_pitch",
    "thumb_distal",
    "index_proximal",
    "index_intermediate",
    "middle_proximal",
    "middle_intermediate",
    "ring_proximal",
    "ring_intermediate",
    "pinky_proximal",
    "pinky_intermediate",
)
HAND_JOINTS = {
    arm: tuple(f"{p}_{_HAND_SIDE[arm]}_{j}_joint" for j in _FINGER_JOINTS)
    for arm, p in HAND_PREFIX.items()
}
_ACTUATORS = (
    "pinky_intermediate",
    "pinky_proximal",
    "ring_intermediate",
    "ring_proximal",
    "middle_intermediate",
    "middle_proximal",
    "index_intermediate",
    "index_proximal",
    "thumb_distal",
    "thumb_proximal_pitch",
    "thumb_proximal_yaw",
)
HAND_ACTUATORS = {
    arm: tuple(f"{p}_{_HAND_SIDE[arm]}_{a}_joint_drive" for a in _ACTUATORS)
    for arm, p in HAND_PREFIX.items()
}
COMMAND_OF_ACTUATOR = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5])
# The actuators' ctrlrange (rad) in the order above, identical in both hand models; lows are 0.
CTRL_HIGH = np.array([1.74, 1.57, 1.74, 1.57, 1.74, 1.57, 1.74, 1.57, 1.23, 1.22, 1.74])
HAND_DIM = 6
COMMAND_NAMES = ("pinky", "ring", "middle", "index", "thumb_bend", "thumb_rotation")

# Bodies whose contacts make a grasp: the thumb (or the palm) against any other finger.
THUMB_BODIES = {
    arm: tuple(
        f"{p}_{_HAND_SIDE[arm]}_{b}"
        for b in ("thumb_proximal_base_link", "thumb_proximal_link", "thumb_distal_link")
    )
    for arm, p in HAND_PREFIX.items()
}
FINGER_BODIES = {
    arm: tuple(
        f"{p}_{_HAND_SIDE[arm]}_{f}_{k}_link"
        for f in ("index", "middle", "ring", "pinky")
        for k in ("proximal", "intermediate")
    )
    for arm, p in HAND_PREFIX.items()
}
PALM_BODY = {arm: f"{p}_{SIDE[arm]}_palm" for arm, p in HAND_PREFIX.items()}

BASE_XYZ = (-0.55, 0.0, 0.95)  # the reference's base position for a 0.8 m deep table
# Absolute pose actions: position in the robot base frame, [-1, 1] -> +-POS_RANGE metres;
# axis-angle rotation (world axes), [-1, 1] -> +-pi rad per component.
POS_RANGE = 1.0
ROT_RANGE = np.pi

# Named hand commands used by the scripted experts.
OPEN = np.array([-1.0, -1.0, -1.0, -1.0, -1.0, 1.0])  # fingers straight, thumb across the palm
CLOSED = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])


def hand_ctrl(cmd: np.ndarray) -> np.ndarray:
    """Hand commands (n_arms, 6) in [-1, 1] -> position targets (n_arms, 11), robosuite's map."""
    expanded = np.asarray(cmd, dtype=np.float64)[:, COMMAND_OF_ACTUATOR]
    return (expanded + 1.0) / 2.0 * CTRL_HIGH
