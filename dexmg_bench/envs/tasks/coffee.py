"""Coffee: one hand puts a coffee pod into the machine's pod holder, then the other closes the lid.

**Task.** The Fourier GR-1 humanoid (arms and waist; head and legs fixed) with two Fourier hands,
base at (-0.45, 0, 0.95) (10 cm closer than the reference's -0.55, as in Can Sorting, for reach),
at a 0.8 x 1.2 m table whose top is at z = 0.9. A coffee machine built from our own primitives
stands at (0, -0.10), turned -pi/6 about z (D0 and D1; D2 turns it the other way): a base
plate, a pod holder (a cup of 12 box walls, inner radius 2.9 cm, 2 cm deep, with a 1.2 cm
funnel flaring 40 degrees above its rim), a tower on the machine's right and a lid
(11 x 10 cm plate) on a hinge along the tower's top edge. The lid starts open at 2 pi / 3 (its
upper limit; past vertical, gravity holds it there) and leans out towards the robot's right
hand. The pod is a cylinder (radius 2.2 cm, height 8 cm) standing on the robot's left. The left
hand grasps the pod and lowers it into the holder; then the right hand pushes the lid over, and
it falls shut.

**Randomisations** (offsets from the table-top centre, metres):

* D0 (the reference's ranges): pod x in [-0.13, -0.07], y in [0.17, 0.23], upright; machine fixed.
  Arm rest postures get N(0, 0.02 rad) joint noise.
* D1 (broader): pod x in [-0.18, -0.02], y in [0.14, 0.26].
* D2 (a different layout, outside D0's support): the machine is turned the other way, yaw
  +pi/6 at (0, -0.06): its front faces the robot's right instead of its left, and the open lid
  leans out away from the robot instead of toward it, so the right hand pushes it shut toward
  the robot rather than away from it; the pod as in D0.

**Success.** The pod is in the holder (its centre within the holder's clearance + 6 mm of the
holder's axis, its bottom within 1.5 cm of the holder's floor, tilted < 25 degrees) and the lid
is closed (hinge angle < 15 degrees), the reference's two conditions. Partial terms:
``pod_grasped`` (left hand), ``pod_inserted``, ``lid_closed``; ``lid_angle`` is an observation.

**Subtasks per arm** (termination signals in ``info["subtask_signals"]``):

* left: ``grasp`` (object ``pod``: held by the left hand 3 cm above the table) -> ``insert``
  (object ``machine``: pod in the holder, left hand off it).
* right: ``approach_lid`` (object ``machine``: right hand within 10 cm of the open lid's tip) ->
  ``close_lid`` (object ``machine``; **sequential** after left ``insert``: the lid may only close
  over an inserted pod; ends with success).

**Scripted expert success** (``dexmg expert-rate``, seeds 0..n-1): D0 50/50 = 100%, D1 50/50
= 100%, D2 47/50 = 94% (264 steps per episode). The expert works in the machine's frame, so it
runs unchanged on D2. There the left hand's fingers, which point forward (+x), point toward the
lid's side of the turned machine: in 2 of the 3 D2 failures they catch the open lid while
lowering the pod, and the pod ends outside the holder; in the third the arms touch as the left
arm crosses to the holder, and the pod drops.
The geometry avoids two failures: a short pod dropped from above the rim pops out of the opening
hand, and a lid hinged behind the holder blocks the left hand's fingers; hence the tall pod
lowered in place and the side hinge.

## Version History
* v0: initial release (D0, D1); D2 (the machine turned) added as a new id, D0 and D1 unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from dexmg_bench.envs import mjcf
from dexmg_bench.envs.config import TaskConfig, check_range
from dexmg_bench.envs.humanoid import HumanoidEnv
from dexmg_bench.envs.robots import gr1
from dexmg_bench.sim.humanoid_scene import HUMANOID_CAMERA, humanoid_xml

TABLE_TOP_Z = 0.9
TABLE_SIZE = (0.8, 1.2, 0.05)
BASE_XYZ = (-0.45, 0.0, 0.95)
# The machine, in its own frame (origin on the table under the holder's centre, front = -x).
MACHINE_XY = (0.0, -0.10)  # D0's place and heading
MACHINE_YAW = -np.pi / 6
MACHINE_REACH = 0.13  # the machine and its open lid stay within this radius of its origin (m)
POD_CLEARANCE = 0.18  # the pod's range starts this far left (+y) of the machine's origin (m)
BASE_PLATE = 0.02  # thickness of the machine's base plate; the holder's floor sits on it
HOLDER_RADIUS = 0.029  # inner radius of the pod holder (m)
HOLDER_WALL = 0.008
HOLDER_DEPTH = 0.02  # rim height above the holder's floor
HOLDER_SEGMENTS = 12
FUNNEL_HEIGHT = 0.012  # a chamfer above the rim, flaring outwards, guides a dropped pod in
FUNNEL_TILT = np.deg2rad(40.0)
POD_RADIUS = 0.022
POD_HALF_HEIGHT = 0.04
# The lid's hinge runs along the machine's x axis on its right (-y) side, at the top inner edge of
# a tower there: the open lid leans out towards the robot's right hand, which pushes it over.
HINGE_Y = -0.05
HINGE_Z = BASE_PLATE + 2 * POD_HALF_HEIGHT + 0.016
LID_LENGTH = 0.11
LID_HALF_WIDTH = 0.05
LID_HALF_THICKNESS = 0.006
LID_OPEN = 2 * np.pi / 3  # the hinge's angle at reset (and its upper limit)
LID_CLOSED = np.deg2rad(15.0)  # below this the lid counts as closed
GREY, DARK = "0.55 0.55 0.58 1", "0.2 0.2 0.22 1"


@dataclass(frozen=True, kw_only=True)
class CoffeeConfig(TaskConfig):
    """Reset ranges of the pod and the machine's fixed pose (see the module docstring)."""

    pod_x: tuple[float, float] = (-0.13, -0.07)
    pod_y: tuple[float, float] = (0.17, 0.23)
    machine_xy: tuple[float, float] = MACHINE_XY
    machine_yaw: float = MACHINE_YAW
    cameras: tuple[str, ...] = ("overview", gr1.WRIST_CAMERA["right"], gr1.WRIST_CAMERA["left"])

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range("pod_x", self.pod_x)
        check_range("pod_y", self.pod_y)
        hx, hy = TABLE_SIZE[0] / 2 - POD_RADIUS, TABLE_SIZE[1] / 2 - POD_RADIUS
        if not (-hx <= self.pod_x[0] and self.pod_x[1] <= hx):
            raise ValueError(f"`pod_x` must lie on the table (|x| <= {hx}). Got {self.pod_x}.")
        if len(self.machine_xy) != 2:
            raise ValueError(f"`machine_xy` must be (x, y). Got {self.machine_xy}.")
        mx, my = TABLE_SIZE[0] / 2 - MACHINE_REACH, TABLE_SIZE[1] / 2 - MACHINE_REACH
        if not (abs(self.machine_xy[0]) <= mx and abs(self.machine_xy[1]) <= my):
            raise ValueError(
                f"`machine_xy` must keep the machine on the table (|x| <= {mx:.2f}, "
                f"|y| <= {my:.2f}). Got {self.machine_xy}."
            )
        if not abs(self.machine_yaw) <= np.pi:
            raise ValueError(f"`machine_yaw` must be in [-pi, pi]. Got {self.machine_yaw}.")
        lo = self.machine_xy[1] + POD_CLEARANCE
        if not (lo <= self.pod_y[0] and self.pod_y[1] <= hy):
            raise ValueError(
                f"`pod_y` must lie on the table left of the machine ({lo:.2f} <= y <= {hy}). "
                f"Got {self.pod_y}."
            )


D0 = CoffeeConfig()
VARIANTS = {
    "D0": D0,
    "D1": dataclasses.replace(D0, variant="D1", pod_x=(-0.18, -0.02), pod_y=(0.14, 0.26)),
    "D2": dataclasses.replace(D0, variant="D2", machine_xy=(0.0, -0.06), machine_yaw=np.pi / 6),
}


def _quat_zy(yaw: float, pitch: float) -> tuple[float, float, float, float]:
    """Quaternion (w, x, y, z) of a rotation about z by ``yaw`` after one about y by ``pitch``."""
    cz, sz, cy, sy = np.cos(yaw / 2), np.sin(yaw / 2), np.cos(pitch / 2), np.sin(pitch / 2)
    return (cz * cy, -sz * sy, cz * sy, sz * cy)


def _machine_xml(xy: tuple[float, float], yaw: float) -> str:
    """Base plate, pod holder (a cup of boxes), back tower and the hinged lid, in local frame."""
    geoms = mjcf.box("machine_base", (0.06, 0.075, BASE_PLATE / 2), (0, -0.015, BASE_PLATE / 2))
    r_mid = HOLDER_RADIUS + HOLDER_WALL / 2
    half_len = r_mid * np.tan(np.pi / HOLDER_SEGMENTS) * 1.05
    for k in range(HOLDER_SEGMENTS):
        a = 2 * np.pi * k / HOLDER_SEGMENTS
        geoms += mjcf.box(
            f"holder_wall{k}",
            (HOLDER_WALL / 2, half_len, HOLDER_DEPTH / 2),
            (r_mid * np.cos(a), r_mid * np.sin(a), BASE_PLATE + HOLDER_DEPTH / 2),
            euler=(0.0, 0.0, a),
            rgba=DARK,
        )
    # The funnel: the same ring, each wall tilted outwards about its tangent, on top of the rim.
    f_half = FUNNEL_HEIGHT / 2 / np.cos(FUNNEL_TILT)
    for k in range(HOLDER_SEGMENTS):
        a = 2 * np.pi * k / HOLDER_SEGMENTS
        r = r_mid + FUNNEL_HEIGHT / 2 * np.tan(FUNNEL_TILT)
        quat = _quat_zy(a, -FUNNEL_TILT)
        pos = (r * np.cos(a), r * np.sin(a), BASE_PLATE + HOLDER_DEPTH + FUNNEL_HEIGHT / 2)
        geoms += (
            f'<geom name="funnel{k}" type="box"'
            f' size="{mjcf.fmt(HOLDER_WALL / 2, half_len * 1.1, f_half)}"'
            f' pos="{mjcf.fmt(*pos)}" quat="{mjcf.fmt(*quat)}" rgba="{DARK}" condim="4"'
            ' friction="0.3 0.005 0.0001" solref="0.01 1"/>'
        )
    tower_h = HINGE_Z - LID_HALF_THICKNESS
    geoms += mjcf.box(
        "machine_tower", (0.05, 0.02, tower_h / 2), (0, HINGE_Y - 0.02, tower_h / 2), rgba=GREY
    )
    lid = (
        f'<body name="lid" pos="{mjcf.fmt(0, HINGE_Y, HINGE_Z)}">'
        f'<joint name="lid_hinge" type="hinge" axis="1 0 0" range="0 {LID_OPEN:.6f}"'
        ' limited="true" damping="0.02" armature="0.001"/>'
        + mjcf.box(
            "lid_plate",
            (LID_HALF_WIDTH, LID_LENGTH / 2, LID_HALF_THICKNESS),
            (0, LID_LENGTH / 2, 0),
            rgba=GREY,
            density=400.0,
        )
        + "</body>"
    )
    quat = (np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2))
    return (
        f'<body name="machine" pos="{mjcf.fmt(*xy, TABLE_TOP_Z)}" quat="{mjcf.fmt(*quat)}">'
        f"{geoms}{lid}</body>"
    )


def _objects_xml(machine_xy: tuple[float, float], machine_yaw: float) -> str:
    pod = mjcf.free_body(
        "pod",
        f'<geom name="pod_body" type="cylinder" size="{POD_RADIUS} {POD_HALF_HEIGHT}"'
        ' rgba="0.75 0.45 0.15 1" density="300" friction="1.5 0.01 0.001" condim="4"'
        ' solref="0.01 1"/>',
    )
    return pod + _machine_xml(machine_xy, machine_yaw)


class CoffeeEnv(HumanoidEnv):
    """Pod insertion and lid closing with the GR-1 (see the module docstring)."""

    config_cls: ClassVar[type[TaskConfig]] = CoffeeConfig
    variants: ClassVar[dict[str, TaskConfig]] = VARIANTS  # type: ignore[assignment]
    object_names = ("pod", "machine")
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {
        "right": ("approach_lid", "close_lid"),
        "left": ("grasp", "insert"),
    }
    torso = True
    base_xyz = BASE_XYZ

    def __init__(self, variant: str = "D0", render_mode: str | None = None, **overrides: object):
        super().__init__(variant, render_mode, **overrides)
        p = self.physics
        self._hinge = p.joint_qpos_adr("lid_hinge")
        self._hinge_dof = p.joint_dof_adr("lid_hinge")
        self._lid = p.id("body", "lid")
        self._lid_geoms = p.body_geoms("lid")

    def _scene_xml(self) -> str:
        c = self.config
        assert isinstance(c, CoffeeConfig)
        return humanoid_xml(
            torso=True,
            base_xyz=BASE_XYZ,
            table_size=TABLE_SIZE,
            table_top=(0.0, 0.0, TABLE_TOP_Z),
            objects_xml=_objects_xml(c.machine_xy, c.machine_yaw),
            cameras_xml=HUMANOID_CAMERA,
        )

    def _reset_objects(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        if options:
            raise ValueError(f"Coffee takes no reset options. Got {sorted(options)}.")
        c = self.config
        assert isinstance(c, CoffeeConfig)
        x, y = rng.uniform(*c.pod_x), rng.uniform(*c.pod_y)
        self.physics.set_free_joint(
            "pod_joint", np.array([x, y, TABLE_TOP_Z + POD_HALF_HEIGHT]), np.array([1.0, 0, 0, 0])
        )
        self.physics.data.qpos[self._hinge] = LID_OPEN
        self.physics.data.qvel[self._hinge_dof] = 0.0

    @property
    def lid_angle(self) -> float:
        """The lid hinge's angle (rad): 0 closed, ``2 pi / 3`` fully open."""
        return float(self.physics.data.qpos[self._hinge])

    def _task_observation_space(self) -> dict[str, gym.spaces.Space]:
        return {"lid_angle": gym.spaces.Box(-np.inf, np.inf, shape=(1,), dtype=np.float64)}

    def _task_observation(self) -> dict[str, np.ndarray]:
        return {"lid_angle": np.array([self.lid_angle])}

    def pod_in_holder(self) -> bool:
        """The pod stands in the holder: centre over the cup, bottom near its floor, upright."""
        machine = self.physics.body_pose(self._object_ids["machine"])
        pod = self.physics.body_pose(self._object_ids["pod"])
        local = machine[:3, :3].T @ (pod[:3, 3] - machine[:3, 3])
        radial = float(np.hypot(local[0], local[1]))
        return bool(
            radial < HOLDER_RADIUS - POD_RADIUS + 0.006
            and local[2] < BASE_PLATE + POD_HALF_HEIGHT + 0.015
            and abs(pod[2, 2]) > np.cos(np.deg2rad(25.0))
        )

    def evaluate(self) -> dict[str, bool]:
        """Success: the pod is in the holder and the lid is closed (hinge below 15 degrees)."""
        inserted = self.pod_in_holder()
        closed = self.lid_angle < LID_CLOSED
        return {
            "success": inserted and closed,
            "pod_grasped": self.grasped("left", "pod"),
            "pod_inserted": inserted,
            "lid_closed": closed,
        }

    def _near_lid(self) -> bool:
        """The right hand is at its pre-closing pose: within 10 cm of the open lid's tip."""
        eef = self.eef_poses()[0][:3, 3]
        lid = self.physics.body_pose(self._lid)
        tip = lid[:3, :3] @ np.array([0.0, LID_LENGTH, 0.0]) + lid[:3, 3]
        return bool(np.linalg.norm(eef - tip) < 0.10)

    def subtask_signals(self) -> dict[str, dict[str, bool]]:
        """Grasp: pod lifted in the left hand; insert: pod in the holder, released; lid: success."""
        pod_z = self.physics.data.xpos[self._object_ids["pod"]][2]
        lifted = pod_z > TABLE_TOP_Z + POD_HALF_HEIGHT + 0.03
        inserted = self.pod_in_holder() and not self.touching("left", "pod")
        return {
            "right": {
                "approach_lid": self._near_lid(),
                "close_lid": bool(self.evaluate()["success"]),
            },
            "left": {
                "grasp": bool(lifted and self.grasped("left", "pod")),
                "insert": bool(inserted),
            },
        }
