"""Box Cleanup: both hands pick up a lid by its two handles and put it on a box.

**Task.** Two Panda arms with Inspire dexterous hands (``robots/panda_inspire.py``). An open box
stands on the right half of the table and its lid lies on the left half. The lid has a bar
handle along each of its y edges. Each hand hooks its fingers under its handle (right hand the
-y handle, left hand the +y handle); together they lift the lid, carry it over the box and set it
down on the box's rim, then let go.

Geometry (metres, full sizes): box 0.20 x 0.20 x 0.15, 1 cm walls and floor (table top at
z = 0.7, so the rim is at 0.85); lid plate 0.22 x 0.22 x 0.012 with a 1 cm skirt underneath
(0.17 x 0.17 outside, 1 cm thick) that centres it in the box opening; handles are 0.12 m bars
(1.6 cm square) along x, 6.5 cm above the plate's top, on two posts, 2 cm inside the plate's y
edges (lid about 0.5 kg).

**Randomisations** (offsets from the table-top centre, metres; yaw about +z, radians):

* D0 (the paper's default, ranges of the reference environment): lid x in [-0.05, 0.05],
  y = 0.20, yaw 0; box x in [-0.05, 0.05], y = -0.15, yaw 0. Arm rest postures get
  N(0, 0.02 rad) joint noise.
* D1 (broader; the paper's Table II evaluates Box Cleanup D1 and D2 but does not give their
  ranges, so these are ours): lid x in [-0.08, 0.08], y in [0.17, 0.23], yaw +- pi/12; box
  x in [-0.08, 0.08], y in [-0.18, -0.12], yaw +- pi/12.
* D2 (a different layout, outside D0's support): box and lid swap sides (lid y = -0.20,
  box y = 0.15), with D1's x ranges and yaws.

**Success.** The lid is within 0.03 m of the box in xy and rests at the box's top height (its
plate within 1.5 cm of sitting on the rim), and no finger of either hand touches it (released).
Partial terms: ``lid_on_box`` (placed, maybe still held), ``lid_lifted`` (5 cm above the table),
``lid_grasped_right`` and ``lid_grasped_left`` (a finger or the thumb of that hand touches the
lid; a hook grasp holds the lid on the fingers alone, so thumb-and-finger contact is not asked).

**Subtasks per arm** (termination signals in ``info["subtask_signals"]``):

* right: ``grasp_lid`` (object ``lid``, parallel; the right hand touches the lid with its
  fingers closed) -> ``place_lid`` (object ``box``, coordination with left ``place_lid``; the
  task's success).
* left: ``grasp_lid`` (object ``lid``, parallel) -> ``place_lid`` (object ``box``, coordination
  with right ``place_lid``).

**Scripted expert success** (50 seeded resets each): D0 100%, D1 100%, D2 100% (261 steps).

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
BOX_HALF = (0.10, 0.10)
BOX_HEIGHT = 0.15
WALL = 0.01
LID_HALF = (0.11, 0.11)
LID_PLATE = 0.012
SKIRT_HALF = 0.085  # outer half side of the skirt under the plate
SKIRT_HEIGHT = 0.01
HANDLE_HALF_LEN = 0.06
HANDLE_HALF = 0.008
HANDLE_INSET = 0.02  # handle axis inside the plate's y edge
HANDLE_UP = 0.065  # handle axis above the plate's top
XY_TOLERANCE = 0.03
Z_TOLERANCE = 0.015
LIFTED = 0.05


@dataclass(frozen=True, kw_only=True)
class BoxCleanupConfig(TaskConfig):
    """Reset ranges of the lid and the box (see the module docstring)."""

    lid_x: tuple[float, float] = (-0.05, 0.05)
    lid_y: tuple[float, float] = (0.20, 0.20)
    lid_yaw: tuple[float, float] = (0.0, 0.0)
    box_x: tuple[float, float] = (-0.05, 0.05)
    box_y: tuple[float, float] = (-0.15, -0.15)
    box_yaw: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        for f in dataclasses.fields(self):
            if f.name.startswith(("lid_", "box_")):
                check_range(f.name, getattr(self, f.name))


D0 = BoxCleanupConfig()
_D1 = dataclasses.replace(
    D0,
    variant="D1",
    lid_x=(-0.08, 0.08),
    lid_y=(0.17, 0.23),
    lid_yaw=(-np.pi / 12, np.pi / 12),
    box_x=(-0.08, 0.08),
    box_y=(-0.18, -0.12),
    box_yaw=(-np.pi / 12, np.pi / 12),
)
VARIANTS = {
    "D0": D0,
    "D1": _D1,
    "D2": dataclasses.replace(_D1, variant="D2", lid_y=(-0.20, -0.20), box_y=(0.15, 0.15)),
}


def _box_xml() -> str:
    rgba, hx, hy = "0.35 0.5 0.75 1", *BOX_HALF
    wall_hz = (BOX_HEIGHT - WALL) / 2
    wall_z = WALL + wall_hz
    geoms = mjcf.box("box_floor", (hx, hy, WALL / 2), (0, 0, WALL / 2), rgba=rgba)
    for k, s in enumerate((1, -1)):
        geoms += mjcf.box(
            f"box_wall_x{k}", (WALL / 2, hy, wall_hz), (s * (hx - WALL / 2), 0, wall_z), rgba=rgba
        )
        geoms += mjcf.box(
            f"box_wall_y{k}",
            (hx - WALL, WALL / 2, wall_hz),
            (0, s * (hy - WALL / 2), wall_z),
            rgba=rgba,
        )
    return mjcf.free_body("box", geoms)


def _lid_xml() -> str:
    rgba, handle_rgba = "0.8 0.65 0.3 1", "0.3 0.3 0.35 1"
    hx, hy = LID_HALF
    plate_z = SKIRT_HEIGHT + LID_PLATE / 2
    geoms = mjcf.box("lid_plate", (hx, hy, LID_PLATE / 2), (0, 0, plate_z), rgba=rgba)
    s_in = SKIRT_HALF - WALL / 2
    for k, s in enumerate((1, -1)):
        geoms += mjcf.box(
            f"lid_skirt_x{k}",
            (WALL / 2, SKIRT_HALF, SKIRT_HEIGHT / 2),
            (s * s_in, 0, SKIRT_HEIGHT / 2),
            rgba=rgba,
        )
        geoms += mjcf.box(
            f"lid_skirt_y{k}",
            (SKIRT_HALF - WALL, WALL / 2, SKIRT_HEIGHT / 2),
            (0, s * s_in, SKIRT_HEIGHT / 2),
            rgba=rgba,
        )
        y = s * (hy - HANDLE_INSET)
        top = SKIRT_HEIGHT + LID_PLATE
        geoms += mjcf.box(
            f"lid_handle{k}",
            (HANDLE_HALF_LEN, HANDLE_HALF, HANDLE_HALF),
            (0, y, top + HANDLE_UP),
            rgba=handle_rgba,
        )
        for j, px in enumerate((1, -1)):
            geoms += mjcf.box(
                f"lid_post{k}{j}",
                (HANDLE_HALF, HANDLE_HALF, HANDLE_UP / 2),
                (px * (HANDLE_HALF_LEN - HANDLE_HALF), y, top + HANDLE_UP / 2),
                rgba=handle_rgba,
            )
    return mjcf.free_body("lid", geoms)


def yaw_quat(yaw: float) -> np.ndarray:
    """The wxyz quaternion of a rotation by ``yaw`` about +z."""
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


def handle_pose(lid: np.ndarray, arm: str) -> np.ndarray:
    """World pose of ``arm``'s handle axis centre (lid frame axes), from the lid's pose."""
    sign = -1.0 if arm == "right" else 1.0
    local = np.array(
        [0.0, sign * (LID_HALF[1] - HANDLE_INSET), SKIRT_HEIGHT + LID_PLATE + HANDLE_UP]
    )
    out = lid.copy()
    out[:3, 3] = lid[:3, :3] @ local + lid[:3, 3]
    return out


class BoxCleanupEnv(BimanualEnv):
    """Bimanual lid placement with two Inspire hands (see the module docstring)."""

    config_cls: ClassVar[type[TaskConfig]] = BoxCleanupConfig
    variants: ClassVar[dict[str, TaskConfig]] = VARIANTS  # type: ignore[assignment]
    embodiment: ClassVar[str] = inspire.EMBODIMENT_NAME
    robots: ClassVar[Embodiment] = inspire.PANDA_INSPIRE
    object_names = ("lid", "box")
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {
        "right": ("grasp_lid", "place_lid"),
        "left": ("grasp_lid", "place_lid"),
    }

    def _scene_xml(self) -> str:
        return tabletop_xml(
            arms=inspire.ARM_MOUNTS,
            tables=(((0.8, 0.8, 0.05), (0.0, 0.0, TABLE_TOP_Z)),),
            objects_xml=_lid_xml() + _box_xml(),
        )

    def _reset_objects(self, rng: np.random.Generator) -> None:
        c = self.config
        assert isinstance(c, BoxCleanupConfig)
        for name, xr, yr, yawr in (
            ("lid", c.lid_x, c.lid_y, c.lid_yaw),
            ("box", c.box_x, c.box_y, c.box_yaw),
        ):
            pos = np.array([rng.uniform(*xr), rng.uniform(*yr), TABLE_TOP_Z])
            self.physics.set_free_joint(f"{name}_joint", pos, yaw_quat(rng.uniform(*yawr)))

    def _touching(self, arm: str, obj: str) -> bool:
        hand = self._pad_geoms[arm][0] | self._pad_geoms[arm][1]
        return self.physics.contact_between(hand, self._object_geoms[obj])

    def evaluate(self) -> dict[str, bool]:
        """Success: lid centred on the box (3 cm) resting on its rim, released by both hands."""
        poses = self.object_poses()
        lid, box = poses["lid"], poses["box"]
        xy = np.linalg.norm(lid[:2, 3] - box[:2, 3])
        seated_z = box[2, 3] + BOX_HEIGHT - SKIRT_HEIGHT  # plate on the rim, skirt inside
        on_box = bool(xy < XY_TOLERANCE and abs(lid[2, 3] - seated_z) < Z_TOLERANCE)
        touched = {arm: self._touching(arm, "lid") for arm in inspire.ARMS}
        return {
            "success": on_box and not any(touched.values()),
            "lid_on_box": on_box,
            "lid_lifted": bool(lid[2, 3] > TABLE_TOP_Z + LIFTED),
            "lid_grasped_right": touched["right"],
            "lid_grasped_left": touched["left"],
        }

    def subtask_signals(self) -> dict[str, dict[str, bool]]:
        """Grasp: the hand touches the lid with its fingers closed; place: the task's success."""
        terms = self.evaluate()
        out = {}
        for i, arm in enumerate(inspire.ARMS):
            closed = bool(np.mean(self.hand_command()[i]) > 0.5)
            out[arm] = {
                "grasp_lid": bool(terms[f"lid_grasped_{arm}"] and closed),
                "place_lid": terms["success"],
            }
        return out
