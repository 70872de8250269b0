"""Tray Lift: each hand puts a cube on a tray, then both hands lift the tray together.

**Task.** Two Panda arms with Inspire dexterous hands (``robots/panda_inspire.py``). A tray with
a bar handle on each side (along y) sits in front of the arms; a 3 cm cube lies on each side of
the table. The right hand picks its cube (at -y) and puts it on the tray, then the left hand does
the same with its cube (at +y); then each hand grasps its handle and both lift the tray, level,
with the cubes on it.

Geometry (metres, full sizes): tray base 0.20 x 0.20 x 0.012 with 2.5 cm rims (1 cm thick);
handles are 0.12 m bars (2 cm square) along x, 4.5 cm outside the rims and 6.5 cm above the table,
held by two posts each (tray about 0.4 kg). Cubes 0.03 m (27 g). The reference's object is a pot
with two handles; ours is our own MJCF of a tray of the same role.

**Randomisations** (offsets from the table-top centre, metres; yaw about +z, radians):

* D0 (the paper's default, ranges of the reference environment): tray x in [-0.20, -0.15],
  y in [-0.03, 0.03], yaw pi +- pi/8 (the tray is symmetric under a half turn, so this is the
  reference's pot rotation); right cube x in [0.00, 0.20], y in [-0.30, -0.20]; left cube
  x in [0.00, 0.20], y in [0.20, 0.30]; cube yaw pi/2 +- pi/6. Arm rest postures get
  N(0, 0.02 rad) joint noise.
* D1 (broader): tray x in [-0.22, -0.10], y in [-0.06, 0.06], yaw pi +- pi/6; cubes x in
  [-0.05, 0.22], |y| in [0.18, 0.32], yaw in [0, pi].
* D2 (a different layout, outside D0's support): the tray moves forward and the cubes back:
  tray x in [0.00, 0.08], cubes x in [-0.25, -0.12] (|y| and yaws as in D0).

**Success.** The tray and both cubes are more than 0.10 m above the table top, both cubes touch
the tray, and the tray is tilted less than 30 degrees (the reference's check). Partial terms:
``right_cube_on_tray`` and ``left_cube_on_tray`` (resting on the tray, not grasped),
``right_cube_grasped``, ``left_cube_grasped`` (thumb and another finger touch the cube).

**Subtasks per arm** (termination signals in ``info["subtask_signals"]``):

* right: ``grasp_cube`` (object ``right_cube``, parallel; held 3 cm up by thumb and a finger) ->
  ``place_cube`` (object ``tray``, parallel; ``right_cube_on_tray``) -> ``lift_tray`` (object
  ``tray``, coordination with left ``lift_tray``; the task's success).
* left: ``grasp_cube`` (object ``left_cube``, parallel) -> ``place_cube`` (object ``tray``,
  sequential: after right ``place_cube``, since the two forearms collide when both hands are over
  the tray) -> ``lift_tray`` (object ``tray``, coordination with right ``lift_tray``).

**Scripted expert success** (50 seeded resets each): D0 98%, D1 92%, D2 98% (482 steps).

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

TABLE_TOP_Z = 0.8
TRAY_HALF = (0.10, 0.10)
TRAY_FLOOR = 0.012
RIM_HEIGHT = 0.025
RIM = 0.01
HANDLE_HALF_LEN = 0.06  # along x
HANDLE_HALF = 0.01  # square bar
HANDLE_OUT = 0.045  # handle axis beyond the rim (y)
HANDLE_Z = 0.065  # handle axis above the table (fingertips of a hook grasp clear the table)
CUBE_HALF = 0.015
LIFT_HEIGHT = 0.10
MAX_TILT = np.deg2rad(30.0)
CUBE_LIFT = 0.03
CUBES = ("right_cube", "left_cube")


@dataclass(frozen=True, kw_only=True)
class TrayLiftConfig(TaskConfig):
    """Reset ranges of the tray and the two cubes (see the module docstring)."""

    tray_x: tuple[float, float] = (-0.20, -0.15)
    tray_y: tuple[float, float] = (-0.03, 0.03)
    tray_yaw: tuple[float, float] = (np.pi - np.pi / 8, np.pi + np.pi / 8)
    cube_x: tuple[float, float] = (0.0, 0.20)
    cube_abs_y: tuple[float, float] = (0.20, 0.30)
    cube_yaw: tuple[float, float] = (np.pi / 2 - np.pi / 6, np.pi / 2 + np.pi / 6)

    def __post_init__(self) -> None:
        super().__post_init__()
        for f in dataclasses.fields(self):
            if f.name.startswith(("tray_", "cube_")):
                check_range(f.name, getattr(self, f.name))


D0 = TrayLiftConfig()
VARIANTS = {
    "D0": D0,
    "D1": dataclasses.replace(
        D0,
        variant="D1",
        tray_x=(-0.22, -0.10),
        tray_y=(-0.06, 0.06),
        tray_yaw=(np.pi - np.pi / 6, np.pi + np.pi / 6),
        cube_x=(-0.05, 0.22),
        cube_abs_y=(0.18, 0.32),
        cube_yaw=(0.0, np.pi),
    ),
    "D2": dataclasses.replace(D0, variant="D2", tray_x=(0.0, 0.08), cube_x=(-0.25, -0.12)),
}


def _tray_xml() -> str:
    rgba = "0.55 0.35 0.2 1"
    hx, hy = TRAY_HALF
    geoms = mjcf.box("tray_floor", (hx, hy, TRAY_FLOOR / 2), (0, 0, TRAY_FLOOR / 2), rgba=rgba)
    rim_z = TRAY_FLOOR + RIM_HEIGHT / 2
    for k, s in enumerate((1, -1)):
        geoms += mjcf.box(
            f"tray_rim_x{k}",
            (RIM / 2, hy, RIM_HEIGHT / 2),
            (s * (hx - RIM / 2), 0, rim_z),
            rgba=rgba,
        )
        geoms += mjcf.box(
            f"tray_rim_y{k}",
            (hx - RIM, RIM / 2, RIM_HEIGHT / 2),
            (0, s * (hy - RIM / 2), rim_z),
            rgba=rgba,
        )
        y = s * (hy + HANDLE_OUT)
        geoms += mjcf.box(
            f"tray_handle{k}",
            (HANDLE_HALF_LEN, HANDLE_HALF, HANDLE_HALF),
            (0, y, HANDLE_Z),
            rgba="0.3 0.3 0.35 1",
        )
        for j, px in enumerate((1, -1)):
            post_len = HANDLE_OUT - HANDLE_HALF
            geoms += mjcf.box(
                f"tray_post{k}{j}",
                (HANDLE_HALF * 0.8, post_len / 2, HANDLE_HALF * 0.8),
                (px * (HANDLE_HALF_LEN - HANDLE_HALF), s * (hy + post_len / 2), HANDLE_Z),
                rgba="0.3 0.3 0.35 1",
            )
    sites = "".join(
        mjcf.site(f"tray_handle_site{k}", (0, s * (hy + HANDLE_OUT), HANDLE_Z))
        for k, s in enumerate((1, -1))
    )
    return mjcf.free_body("tray", geoms, sites)


def _cube_xml(name: str, rgba: str) -> str:
    return mjcf.free_body(name, mjcf.box(f"{name}_geom", (CUBE_HALF,) * 3, rgba=rgba, density=1000))


def handle_pose(tray: np.ndarray, arm: str) -> np.ndarray:
    """World pose (tray axes) of the handle on ``arm``'s side: the right arm's is at lower y."""
    out = []
    for s in (1.0, -1.0):
        local = np.array([0.0, s * (TRAY_HALF[1] + HANDLE_OUT), HANDLE_Z])
        pose = tray.copy()
        pose[:3, 3] = tray[:3, :3] @ local + tray[:3, 3]
        out.append(pose)
    out.sort(key=lambda p: p[1, 3])
    return out[0] if arm == "right" else out[1]


def yaw_quat(yaw: float) -> np.ndarray:
    """The wxyz quaternion of a rotation by ``yaw`` about +z."""
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


class TrayLiftEnv(BimanualEnv):
    """Bimanual tray lift with two Inspire hands (see the module docstring)."""

    config_cls: ClassVar[type[TaskConfig]] = TrayLiftConfig
    variants: ClassVar[dict[str, TaskConfig]] = VARIANTS  # type: ignore[assignment]
    embodiment: ClassVar[str] = inspire.EMBODIMENT_NAME
    robots: ClassVar[Embodiment] = inspire.PANDA_INSPIRE
    object_names = ("tray", "right_cube", "left_cube")
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {
        "right": ("grasp_cube", "place_cube", "lift_tray"),
        "left": ("grasp_cube", "place_cube", "lift_tray"),
    }

    def _scene_xml(self) -> str:
        return tabletop_xml(
            arms=inspire.ARM_MOUNTS,
            tables=(((0.8, 0.8, 0.05), (0.0, 0.0, TABLE_TOP_Z)),),
            objects_xml=_tray_xml()
            + _cube_xml("right_cube", "0.85 0.2 0.2 1")
            + _cube_xml("left_cube", "0.2 0.7 0.3 1"),
        )

    def _reset_objects(self, rng: np.random.Generator) -> None:
        c = self.config
        assert isinstance(c, TrayLiftConfig)
        tray_xy = np.array([rng.uniform(*c.tray_x), rng.uniform(*c.tray_y)])
        self.physics.set_free_joint(
            "tray_joint", np.array([*tray_xy, TABLE_TOP_Z]), yaw_quat(rng.uniform(*c.tray_yaw))
        )
        for name, sign in (("right_cube", -1.0), ("left_cube", 1.0)):
            xy = np.array([rng.uniform(*c.cube_x), sign * rng.uniform(*c.cube_abs_y)])
            self.physics.set_free_joint(
                f"{name}_joint",
                np.array([*xy, TABLE_TOP_Z + CUBE_HALF]),
                yaw_quat(rng.uniform(*c.cube_yaw)),
            )

    def _cube_on_tray(self, cube: str, poses: dict[str, np.ndarray]) -> bool:
        """Resting in the tray: inside its rims, near its floor, touching it, held by no hand."""
        local = poses["tray"][:3, :3].T @ (poses[cube][:3, 3] - poses["tray"][:3, 3])
        inside = bool(np.all(np.abs(local[:2]) < np.array(TRAY_HALF) - RIM))
        low = bool(local[2] < TRAY_FLOOR + 2.5 * CUBE_HALF)
        return inside and low and self._touching(cube, "tray") and not self._held(cube)

    def _touching(self, a: str, b: str) -> bool:
        return self.physics.contact_between(self._object_geoms[a], self._object_geoms[b])

    def _held(self, obj: str) -> bool:
        return any(self.grasped(arm, obj) for arm in inspire.ARMS)

    def evaluate(self) -> dict[str, bool]:
        """Success: tray and cubes 10 cm up, cubes touching the tray, tray tilted < 30 deg."""
        poses = self.object_poses()
        up = all(poses[n][2, 3] > TABLE_TOP_Z + LIFT_HEIGHT for n in self.object_names)
        level = bool(poses["tray"][2, 2] > np.cos(MAX_TILT))
        touching = all(self._touching(c, "tray") for c in CUBES)
        return {
            "success": bool(up and level and touching),
            "right_cube_on_tray": self._cube_on_tray("right_cube", poses),
            "left_cube_on_tray": self._cube_on_tray("left_cube", poses),
            "right_cube_grasped": self.grasped("right", "right_cube"),
            "left_cube_grasped": self.grasped("left", "left_cube"),
        }

    def subtask_signals(self) -> dict[str, dict[str, bool]]:
        """Grasp: cube held 3 cm up; place: cube resting on the tray; lift: the task's success."""
        poses = self.object_poses()
        terms = self.evaluate()
        out = {}
        for arm, cube in zip(inspire.ARMS, CUBES, strict=True):
            up = poses[cube][2, 3] > TABLE_TOP_Z + CUBE_HALF + CUBE_LIFT
            out[arm] = {
                "grasp_cube": bool(up and terms[f"{cube}_grasped"]),
                "place_cube": terms[f"{cube}_on_tray"],
                "lift_tray": terms["success"],
            }
        return out
