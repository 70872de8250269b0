"""Two Panda arms with 6-DoF Inspire dexterous hands, the embodiment of the dexterous-hand tasks.

The robots are robosuite 1.5.2's ``PandaDexRH`` (right arm, ``robot0``, at -y) and ``PandaDexLH``
(left arm, ``robot1``, at +y): Pandas that mount the ``InspireRightHand`` and ``InspireLeftHand``
models with robosuite's own mount rotations. These are the right-hand and left-hand models the
public DexMimicGen environments put on their two Pandas. Each hand has 12 joints driven by 12
position actuators (the model's gains: kp 2, thumb rotation 4); as in robosuite, 6 commands drive
them (paper assumption A1: "6-D joint commands for a dexterous hand"): the thumb bend drives the
thumb's three bending joints together, each other finger drives its two joints together.

Hand action (per arm, 6 values in [-1, 1], **robosuite's order**)::

    0 pinky, 1 ring, 2 middle, 3 index, 4 thumb bend, 5 thumb rotation (swing across the palm)

-1 is the joints' lower limit (finger straight, thumb in the palm plane) and +1 the upper one
(curled; thumb swung in front of the palm), mapped linearly to each actuator's ``ctrlrange`` as
robosuite's gripper controller does. The arm part of the action is the one of every DexMG task
(see ``envs/base.py``), tracked at the hand's ``grip_site``, which sits at the wrist flange.

Hand frame (``grip_site``): the fingers extend along -y (tips 18 cm from the site), the palm faces
+z (the fingers curl towards it), the thumb sits on the -x side (right hand) or +x side (left hand,
a mirrored model). At the arms' rest posture both hands point down, palms facing each other,
thumbs forward (``PALM_INWARD``).
"""

from __future__ import annotations

import numpy as np

from dexmg_bench.envs.base import Embodiment
from dexmg_bench.envs.robots import panda_gripper as panda
from dexmg_bench.sim.scene import ArmMount

ARMS = panda.ARMS
ROBOT_PREFIX = panda.ROBOT_PREFIX
HAND_PREFIX = {"right": "gripper0_right", "left": "gripper1_right"}
HAND_MODEL = {"right": "InspireRightHand", "left": "InspireLeftHand"}
# robosuite 1.5.2 Panda variants that mount these hands (the reference robots, with their offsets).
ROBOT_MODEL = {"right": "PandaDexRH", "left": "PandaDexLH"}
SIDE = {"right": "r", "left": "l"}  # the hand models' own joint/body prefix

ARM_JOINTS = panda.ARM_JOINTS
ARM_ACTUATORS = panda.ARM_ACTUATORS
EEF_SITE = {arm: f"{p}_grip_site" for arm, p in HAND_PREFIX.items()}
WRIST_CAMERA = panda.WRIST_CAMERA
REST_QPOS = panda.REST_QPOS
BASE_X = panda.BASE_X
BASE_Y = panda.BASE_Y
# Both arms with their hands at the gripper tasks' base positions: every Inspire task's robots.
ARM_MOUNTS = tuple(ArmMount(ROBOT_MODEL[a], HAND_MODEL[a], (BASE_X, BASE_Y[a], 0.0)) for a in ARMS)

_FINGERS = ("thumb", "index", "middle", "ring", "pinky")
_JOINTS = (
    "thumb_proximal_1",
    "thumb_proximal_2",
    "thumb_middle",
    "thumb_distal",
    "index_proximal",
    "index_distal",
    "middle_proximal",
    "middle_distal",
    "ring_proximal",
    "ring_distal",
    "pinky_proximal",
    "pinky_distal",
)
HAND_JOINTS = {
    arm: tuple(f"{p}_joint_{SIDE[arm]}_{j}" for j in _JOINTS) for arm, p in HAND_PREFIX.items()
}
# Actuators in the models' order; COMMAND_OF_ACTUATOR picks the hand command each one follows.
_ACTUATORS = (
    "pinky_distal",
    "pinky_proximal",
    "ring_distal",
    "ring_proximal",
    "middle_distal",
    "middle_proximal",
    "index_distal",
    "index_proximal",
    "thumb_distal",
    "thumb_middle",
    "thumb_proximal_2",
    "thumb_proximal_1",
)
HAND_ACTUATORS = {
    arm: tuple(f"{p}_{a}_drive" for a in _ACTUATORS) for arm, p in HAND_PREFIX.items()
}
COMMAND_OF_ACTUATOR = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5])
# The actuators' ctrlrange (rad), identical in both hand models; lower bounds are all 0.
CTRL_HIGH = np.array([1.87, 1.62, 1.75, 1.62, 1.82, 1.62, 1.82, 1.62, 0.77, 0.68, 0.68, 1.3])
CTRL_LOW = np.zeros(12)
HAND_DIM = 6
COMMAND_NAMES = ("pinky", "ring", "middle", "index", "thumb_bend", "thumb_rotation")

# Named hand commands (6-D, robosuite order) used by the scripted experts.
OPEN = np.array([-1.0, -1.0, -1.0, -1.0, -1.0, -1.0])
# Fingers curled, thumb swung under the palm and bent against them: a power grasp.
CLOSED = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])


def hand_ctrl(cmd: np.ndarray) -> np.ndarray:
    """Hand commands (n_arms, 6) in [-1, 1] -> position targets (n_arms, 12), robosuite's map."""
    expanded = np.asarray(cmd, dtype=np.float64)[:, COMMAND_OF_ACTUATOR]
    return CTRL_LOW + (expanded + 1.0) / 2.0 * (CTRL_HIGH - CTRL_LOW)


def _finger_bodies(arm: str, fingers: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{HAND_PREFIX[arm]}_{SIDE[arm]}_{f}" for f in fingers)


PANDA_INSPIRE = Embodiment(
    arm_joints=ARM_JOINTS,
    arm_actuators=ARM_ACTUATORS,
    eef_site=EEF_SITE,
    rest_qpos=REST_QPOS,
    hand_dim=HAND_DIM,
    hand_joints=HAND_JOINTS,
    hand_actuators=HAND_ACTUATORS,
    hand_open_qpos=(0.0,) * 12,
    hand_ctrl=hand_ctrl,
    contact_bodies={
        arm: (_finger_bodies(arm, ("thumb",)), _finger_bodies(arm, _FINGERS[1:])) for arm in ARMS
    },
    max_dpos=panda.MAX_DPOS,
    max_drot=panda.MAX_DROT,
)
EMBODIMENT_NAME = "two Panda arms, Inspire hands"

# Hand pointing down, palm facing the other arm (the rest orientation of both arms, squared up):
# grip-site axes in the world. Rotate about world z to turn the hand.
PALM_INWARD = {
    "right": np.stack([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]], axis=1),
    "left": np.stack([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]], axis=1),
}
# Where a bar (along the world x axis) lies in the grip-site frame of a PALM_INWARD hand for a
# hook grasp: 14 cm down the fingers, 2 cm in front of the palm; closing curls the fingers under
# it. Measured: lifting a 0.5 kg lid by two such bars tilts it under 5 degrees. The left hand's
# model is mirrored, so its x is negated.
HOOK_BAR = {"right": np.array([0.0, -0.14, 0.02]), "left": np.array([0.0, -0.14, 0.02])}
