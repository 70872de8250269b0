"""Drawer Cleanup: one hand opens a drawer, the other puts a cube in, then the drawer is closed.

**Task.** Two Panda arms with Inspire dexterous hands (``robots/panda_inspire.py``). A small
cabinet with one drawer stands on the right half of the table, its drawer front facing the arms;
a small cube lies on the left half. The right hand hooks its fingers behind the drawer's bar
handle and pulls the drawer open; the left hand picks up the cube, puts it into the open drawer
and lifts clear; the right hand then pushes the drawer shut.

Geometry (metres, full sizes; our own MJCF primitives): cabinet 0.24 (depth, x) x 0.24 x 0.15
with 1 cm walls, open at its front (-x in its frame), about 20 kg and free-standing; drawer
0.20 x 0.20 with 9 cm walls on a slide joint along the cabinet's x axis (range [-0.16, 0]; 0 is
closed, negative is open, as in the reference), a front plate 0.24 x 0.15 and a 0.12 m bar
handle (1.6 cm square) 4 cm in front of the plate, 8.5 cm above the table. The object is a
3 cm cube (27 g), the Tray Lift cube, picked with the same pinch. The reference's object is a mug;
a 3 cm cylinder cup was tried first and slipped out of the pinch (it rolls about the pinch axis)
in 2 of 4 D0 episodes, the cube in none. The table is 0.8 x 0.8 (the reference's 1.5 x 1.5 would
reach under the arm mounts).

**Randomisations** (offsets from the table-top centre, metres; yaw about +z, radians):

* D0 (the paper's default, ranges of the reference environment): cabinet fixed at (0.10, -0.15),
  yaw 0 (drawer front facing the arms), drawer closed; cube x in [-0.30, -0.15],
  y in [0.20, 0.40], any yaw (the reference's; a cube repeats every quarter turn, so yaw in
  [-pi/4, pi/4] covers every orientation and keeps its frame near the grasp's). Arm rest
  postures get N(0, 0.02 rad) joint noise.
* D1 (broader): cabinet x in [0.05, 0.15], y in [-0.20, -0.10], yaw +- pi/12; cube x in
  [-0.33, -0.10], y in [0.15, 0.40].
* D2 (a different layout, outside D0's support): the cube starts beside the cabinet, further
  from the arms than the drawer front: cube x in [0.02, 0.12], y in [0.15, 0.30] (cabinet and
  yaw as in D0). A layout with the cabinet 10 cm further away (x = 0.2) was tried first and
  dropped: the left hand's carry then hits the drawer front (0/3 episodes).

**Success** (the reference's check). The drawer is closed (slide joint > -0.01) and the cube
touches the drawer's floor. Partial terms: ``drawer_open`` (slide < -0.12), ``cube_in_drawer``
(the cube touches the drawer floor), ``cube_grasped`` (thumb and a finger of the left hand touch
the cube), ``drawer_closed``.

**Subtasks per arm** (termination signals in ``info["subtask_signals"]``):

* right: ``open_drawer`` (object ``drawer``, parallel; ``drawer_open``) -> ``close_drawer``
  (object ``drawer``, sequential: after left ``place_cube``, since the left hand must be out of
  the drawer before it closes; the task's success).
* left: ``grasp_cube`` (object ``cube``, parallel; held 3 cm up by thumb and a finger) ->
  ``place_cube`` (object ``drawer``, sequential: after right ``open_drawer``; the cube rests on the
  drawer floor, released, and every part of the left hand is above the drawer front's top).

**Scripted expert success** (``dexmg expert-rate``, seeds 0-49): D0 100% (50/50), D1 92%
(46/50), D2 100% (50/50); 419 steps. DexMimicGen from the 5 shipped scripted demos
(``dexmg generate --workers 1 --seed 0``, 50 D0 attempts): 41/50 succeed; failures: 7 at left
``grasp_cube``, 1 at left ``place_cube``, 1 with every signal on but the task unsolved.

## Version History
* v0: initial release.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dexmg_bench.envs import mjcf
from dexmg_bench.envs.base import BimanualEnv, Embodiment
from dexmg_bench.envs.config import TaskConfig, check_range
from dexmg_bench.envs.robots import panda_inspire as inspire
from dexmg_bench.sim.scene import tabletop_xml

TABLE_TOP_Z = 0.7
CAB_DEPTH, CAB_WIDTH, CAB_HEIGHT = 0.24, 0.24, 0.15
WALL = 0.01
DRAWER_LEN, DRAWER_WIDTH, DRAWER_WALL_H = 0.20, 0.20, 0.09
DRAWER_LIFT = 0.002  # drawer floor above the cabinet's bottom plate (it hangs on its joint)
PLATE = 0.015  # drawer front plate thickness
PLATE_GAP = 0.001  # front plate in front of the cabinet's front edge when closed
HANDLE_OUT = 0.04  # handle axis in front of the plate's front face
HANDLE_Z = 0.085  # handle axis above the table
HANDLE_HALF_LEN = 0.06
HANDLE_HALF = 0.008
SLIDE_RANGE = (-0.16, 0.0)
CUBE_HALF = 0.015
OPENED = -0.12  # slide position that counts as open
CLOSED = -0.01  # the reference's closed threshold
CUBE_LIFT = 0.03
FLOOR_TOP = WALL + DRAWER_LIFT + WALL  # drawer floor's top above the table


@dataclass(frozen=True, kw_only=True)
class DrawerCleanupConfig(TaskConfig):
    """Reset ranges of the cabinet and the cube (see the module docstring)."""

    cabinet_x: tuple[float, float] = (0.10, 0.10)
    cabinet_y: tuple[float, float] = (-0.15, -0.15)
    cabinet_yaw: tuple[float, float] = (0.0, 0.0)
    cube_x: tuple[float, float] = (-0.30, -0.15)
    cube_y: tuple[float, float] = (0.20, 0.40)
    cube_yaw: tuple[float, float] = (-np.pi / 4, np.pi / 4)

    def __post_init__(self) -> None:
        super().__post_init__()
        for f in dataclasses.fields(self):
            if f.name.startswith(("cabinet_", "cube_")):
                check_range(f.name, getattr(self, f.name))


D0 = DrawerCleanupConfig()
VARIANTS = {
    "D0": D0,
    "D1": dataclasses.replace(
        D0,
        variant="D1",
        cabinet_x=(0.05, 0.15),
        cabinet_y=(-0.20, -0.10),
        cabinet_yaw=(-np.pi / 12, np.pi / 12),
        cube_x=(-0.33, -0.10),
        cube_y=(0.15, 0.40),
    ),
    "D2": dataclasses.replace(D0, variant="D2", cube_x=(0.02, 0.12), cube_y=(0.15, 0.30)),
}


def _drawer_xml() -> str:
    """The drawer: floor, three walls, front plate and bar handle, on a slide joint."""
    rgba, handle_rgba = "0.75 0.6 0.4 1", "0.3 0.3 0.35 1"
    front = -CAB_DEPTH / 2  # the cabinet's open front, in its frame
    hx, hy = DRAWER_LEN / 2, DRAWER_WIDTH / 2
    cx = front + hx  # drawer box centre (x) when closed
    z0 = WALL + DRAWER_LIFT
    wall_hz = DRAWER_WALL_H / 2
    geoms = mjcf.box("drawer_floor", (hx, hy, WALL / 2), (cx, 0, z0 + WALL / 2), rgba=rgba)
    for k, s in enumerate((1, -1)):
        geoms += mjcf.box(
            f"drawer_side{k}",
            (hx, WALL / 2, wall_hz),
            (cx, s * (hy - WALL / 2), z0 + wall_hz),
            rgba=rgba,
        )
    geoms += mjcf.box(
        "drawer_back", (WALL / 2, hy, wall_hz), (front + DRAWER_LEN - WALL / 2, 0, z0 + wall_hz)
    )
    plate_x = front - PLATE_GAP - PLATE / 2
    geoms += mjcf.box(
        "drawer_front",
        (PLATE / 2, CAB_WIDTH / 2, CAB_HEIGHT / 2 - 0.002),
        (plate_x, 0, CAB_HEIGHT / 2),
        rgba=rgba,
    )
    bar_x = front - PLATE_GAP - PLATE - HANDLE_OUT
    geoms += mjcf.box(
        "drawer_handle",
        (HANDLE_HALF, HANDLE_HALF_LEN, HANDLE_HALF),
        (bar_x, 0, HANDLE_Z),
        rgba=handle_rgba,
    )
    post_half = (HANDLE_OUT - HANDLE_HALF) / 2
    for j, py in enumerate((1, -1)):
        geoms += mjcf.box(
            f"drawer_post{j}",
            (post_half, HANDLE_HALF * 0.8, HANDLE_HALF * 0.8),
            (bar_x + HANDLE_HALF + post_half, py * (HANDLE_HALF_LEN - HANDLE_HALF), HANDLE_Z),
            rgba=handle_rgba,
        )
    joint = (
        f'<joint name="drawer_slide" type="slide" axis="1 0 0" limited="true"'
        f' range="{mjcf.fmt(*SLIDE_RANGE)}" damping="10" frictionloss="0.5" armature="0.1"/>'
    )
    site = mjcf.site("drawer_handle_site", (bar_x, 0, HANDLE_Z))
    return f'<body name="drawer" pos="0 0 0">{joint}{geoms}{site}</body>'


def _cabinet_xml() -> str:
    """A free-standing cabinet (open at -x) holding the drawer."""
    rgba = "0.45 0.5 0.55 1"
    hd, hw, h = CAB_DEPTH / 2, CAB_WIDTH / 2, CAB_HEIGHT
    dense = 10000.0  # about 20 kg: pulling the drawer open does not drag the cabinet along
    inner_hz = (h - 2 * WALL) / 2
    geoms = mjcf.box(
        "cabinet_bottom", (hd, hw, WALL / 2), (0, 0, WALL / 2), rgba=rgba, density=dense
    )
    geoms += mjcf.box(
        "cabinet_top", (hd, hw, WALL / 2), (0, 0, h - WALL / 2), rgba=rgba, density=dense
    )
    for k, s in enumerate((1, -1)):
        geoms += mjcf.box(
            f"cabinet_side{k}",
            (hd, WALL / 2, inner_hz),
            (0, s * (hw - WALL / 2), WALL + inner_hz),
            rgba=rgba,
            density=dense,
        )
    geoms += mjcf.box(
        "cabinet_back",
        (WALL / 2, hw - WALL, inner_hz),
        (hd - WALL / 2, 0, WALL + inner_hz),
        rgba=rgba,
        density=dense,
    )
    return mjcf.free_body("cabinet", geoms + _drawer_xml())


def _cube_xml() -> str:
    geom = mjcf.box("cube_geom", (CUBE_HALF,) * 3, rgba="0.85 0.25 0.2 1", density=1000)
    return mjcf.free_body("cube", geom)


def yaw_quat(yaw: float) -> np.ndarray:
    """The wxyz quaternion of a rotation by ``yaw`` about +z."""
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


def handle_pose(drawer: np.ndarray) -> np.ndarray:
    """World pose (drawer axes) of the handle bar's centre, from the drawer body's pose."""
    local = np.array([-CAB_DEPTH / 2 - PLATE_GAP - PLATE - HANDLE_OUT, 0.0, HANDLE_Z])
    out = drawer.copy()
    out[:3, 3] = drawer[:3, :3] @ local + drawer[:3, 3]
    return out


def slot_pose(drawer: np.ndarray, inset: float = 0.07) -> np.ndarray:
    """World pose (drawer axes) of a point on the drawer floor ``inset`` behind the front plate."""
    local = np.array([-CAB_DEPTH / 2 + inset, 0.0, FLOOR_TOP])
    out = drawer.copy()
    out[:3, 3] = drawer[:3, :3] @ local + drawer[:3, 3]
    return out


class DrawerCleanupEnv(BimanualEnv):
    """Open a drawer, put a cube in, close it, with two Inspire hands (see the module docstring)."""

    config_cls: ClassVar[type[TaskConfig]] = DrawerCleanupConfig
    variants: ClassVar[dict[str, TaskConfig]] = VARIANTS  # type: ignore[assignment]
    embodiment: ClassVar[str] = inspire.EMBODIMENT_NAME
    robots: ClassVar[Embodiment] = inspire.PANDA_INSPIRE
    object_names = ("drawer", "cube")
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {
        "right": ("open_drawer", "close_drawer"),
        "left": ("grasp_cube", "place_cube"),
    }

    def __init__(self, variant: str = "D0", render_mode: str | None = None, **overrides: object):
        super().__init__(variant, render_mode, **overrides)
        p = self.physics
        self._slide_adr = p.joint_qpos_adr("drawer_slide")
        self._floor_geom = frozenset({p.id("geom", "drawer_floor")})
        self._left_hand_geoms = sorted(p.body_geoms(f"{inspire.HAND_PREFIX['left']}_left_hand"))
        self._cabinet_id = p.id("body", "cabinet")

    def _scene_xml(self) -> str:
        return tabletop_xml(
            arms=inspire.ARM_MOUNTS,
            tables=(((0.8, 0.8, 0.05), (0.0, 0.0, TABLE_TOP_Z)),),
            objects_xml=_cabinet_xml() + _cube_xml(),
        )

    def _reset_objects(self, rng: np.random.Generator) -> None:
        c = self.config
        assert isinstance(c, DrawerCleanupConfig)
        cab = np.array([rng.uniform(*c.cabinet_x), rng.uniform(*c.cabinet_y), TABLE_TOP_Z])
        self.physics.set_free_joint("cabinet_joint", cab, yaw_quat(rng.uniform(*c.cabinet_yaw)))
        self.physics.data.qpos[self._slide_adr] = 0.0
        cube = np.array([rng.uniform(*c.cube_x), rng.uniform(*c.cube_y), TABLE_TOP_Z + CUBE_HALF])
        self.physics.set_free_joint("cube_joint", cube, yaw_quat(rng.uniform(*c.cube_yaw)))

    def drawer_slide(self) -> float:
        """The drawer's slide position (0 closed, negative open), metres."""
        return float(self.physics.data.qpos[self._slide_adr])

    def _left_hand_clear(self) -> bool:
        """Every geom of the left hand is above the top of the drawer front (out of its path)."""
        top = self.physics.data.xpos[self._cabinet_id][2] + CAB_HEIGHT
        zs = self.physics.data.geom_xpos[self._left_hand_geoms, 2]
        return bool(np.min(zs) > top + 0.02)

    def evaluate(self) -> dict[str, bool]:
        """Success: drawer closed (slide > -0.01) with the cube touching the drawer floor."""
        slide = self.drawer_slide()
        in_drawer = self.physics.contact_between(self._object_geoms["cube"], self._floor_geom)
        closed = slide > CLOSED
        return {
            "success": bool(closed and in_drawer),
            "drawer_open": slide < OPENED,
            "drawer_closed": closed,
            "cube_in_drawer": in_drawer,
            "cube_grasped": self.grasped("left", "cube"),
        }

    def subtask_signals(self) -> dict[str, dict[str, bool]]:
        """Open: slide past -0.12; grasp: cube held 3 cm up; place: in, released, hand clear."""
        terms = self.evaluate()
        cube_z = self.object_poses()["cube"][2, 3]
        hand = self._pad_geoms["left"][0] | self._pad_geoms["left"][1]
        released = not self.physics.contact_between(hand, self._object_geoms["cube"])
        return {
            "right": {"open_drawer": terms["drawer_open"], "close_drawer": terms["success"]},
            "left": {
                "grasp_cube": bool(
                    terms["cube_grasped"] and cube_z > TABLE_TOP_Z + CUBE_HALF + CUBE_LIFT
                ),
                "place_cube": bool(
                    terms["cube_in_drawer"] and released and self._left_hand_clear()
                ),
            },
        }
