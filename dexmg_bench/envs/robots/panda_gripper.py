"""Two Panda arms with parallel-jaw Panda grippers, the embodiment of the gripper tasks.

Names follow robosuite's model prefixes: ``robot0`` is the **right** arm (at -y), ``robot1`` the
**left** arm (at +y). Both face +x, mounted on robosuite's Rethink mounts.
"""

from __future__ import annotations

import numpy as np

ARMS = ("right", "left")
ROBOT_PREFIX = {"right": "robot0", "left": "robot1"}
GRIPPER_PREFIX = {"right": "gripper0_right", "left": "gripper1_right"}

ARM_JOINTS = {arm: tuple(f"{p}_joint{j}" for j in range(1, 8)) for arm, p in ROBOT_PREFIX.items()}
ARM_ACTUATORS = {
    arm: tuple(f"{p}_torq_j{j}" for j in range(1, 8)) for arm, p in ROBOT_PREFIX.items()
}
FINGER_JOINTS = {
    arm: (f"{p}_finger_joint1", f"{p}_finger_joint2") for arm, p in GRIPPER_PREFIX.items()
}
FINGER_ACTUATORS = {
    arm: (f"{p}_gripper_finger_joint1", f"{p}_gripper_finger_joint2")
    for arm, p in GRIPPER_PREFIX.items()
}
EEF_SITE = {arm: f"{p}_grip_site" for arm, p in GRIPPER_PREFIX.items()}
WRIST_CAMERA = {arm: f"{p}_eye_in_hand" for arm, p in ROBOT_PREFIX.items()}
# Every body of the gripper (fingers, pads) hangs under this one; used for grasp checks.
GRIPPER_ROOT_BODY = {arm: f"{p}_right_gripper" for arm, p in GRIPPER_PREFIX.items()}
LEFT_PAD_BODY = {arm: f"{p}_leftfinger" for arm, p in GRIPPER_PREFIX.items()}
RIGHT_PAD_BODY = {arm: f"{p}_rightfinger" for arm, p in GRIPPER_PREFIX.items()}

# robosuite's Panda init_qpos: elbow bent, gripper pointing down above the table.
REST_QPOS = (0.0, np.pi / 16.0, 0.0, -np.pi / 2.0 - np.pi / 3.0, 0.0, np.pi - 0.2, np.pi / 4)
# Mount positions around a 0.8 m table centred at the origin (robosuite's "parallel" layout).
BASE_X = -0.56
BASE_Y = {"right": -0.25, "left": 0.25}

# Action scaling, robosuite's OSC_POSE defaults: [-1, 1] maps to +-5 cm and +-0.5 rad per step.
MAX_DPOS = 0.05
MAX_DROT = 0.5
# Finger opening per jaw (m); gripper command -1 = open, +1 = closed.
FINGER_OPEN = 0.04
