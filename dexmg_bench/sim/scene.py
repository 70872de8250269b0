"""Build MuJoCo models from robosuite's packaged robots and arena plus our own MJCF objects.

robosuite is used here only as a library of models (Panda arm, grippers, mounts, table arena). The
merged XML is compiled once per env; resets then only write ``qpos``, so no model is rebuilt.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import mujoco
import numpy as np


@dataclass(frozen=True)
class ArmMount:
    """One arm in the scene: robosuite robot and gripper model names and the base position."""

    robot: str
    gripper: str
    base_xyz: tuple[float, float, float]
    base_yaw: float = 0.0


def look_at_camera(
    name: str, pos: tuple[float, float, float], target: tuple[float, float, float], fovy: float = 45
) -> str:
    """A ``<camera>`` at ``pos`` looking at ``target`` with world z up in the image."""
    eye, tgt = np.asarray(pos, float), np.asarray(target, float)
    back = (eye - tgt) / np.linalg.norm(eye - tgt)  # MuJoCo cameras look along their -z axis
    right = np.cross([0.0, 0.0, 1.0], back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    axes = " ".join(f"{v:.6g}" for v in (*right, *up))
    return f'<camera name="{name}" pos="{eye[0]} {eye[1]} {eye[2]}" xyaxes="{axes}" fovy="{fovy}"/>'


# The camera the tabletop tasks render videos from: both arms from base to top, their hands
# wherever the tasks take them, and the table's objects, seen from the front and above.
OVERVIEW_CAMERA = look_at_camera("overview", (1.2, 0.0, 1.65), (-0.3, 0.0, 1.03), fovy=46)


def hide_collision_geoms(world: ET.Element) -> None:
    """Make every group-0 geom under ``world`` fully transparent, so MuJoCo never draws it.

    robosuite paints the collision geoms (group 0) of its robots green, grippers and hands blue,
    mounts and the table yellow, and leaves them out of its images by hiding group 0; the meshes it
    shows are the group-1 visual geoms with their materials. Our objects are group-0 geoms that
    must be drawn, so group 0 stays visible and robosuite's collision geoms get alpha 0 instead
    (MuJoCo skips such geoms in colour and segmentation renders). They keep their group: the
    compiler's ``inertiagrouprange="0 0"`` makes group-0 geoms count towards inertias, and colour
    has no effect on physics. Apply to robosuite's part of the scene only, before adding objects.
    """
    for geom in world.iter("geom"):
        if geom.get("group", "0") == "0":
            rgb = (geom.get("rgba") or "0.5 0.5 0.5 1").split()[:3]
            geom.set("rgba", " ".join([*rgb, "0"]))


@functools.lru_cache(maxsize=32)
def compile_model(xml: str) -> mujoco.MjModel:
    """Compile MJCF text once per process; envs of the same task share the (read-only) model."""
    return mujoco.MjModel.from_xml_string(xml)


def tabletop_xml(
    *,
    arms: tuple[ArmMount, ...],
    tables: tuple[tuple[tuple[float, float, float], tuple[float, float, float]], ...],
    objects_xml: str,
    assets_xml: str = "",
    cameras_xml: str = OVERVIEW_CAMERA,
) -> str:
    """MJCF text of arms on mounts around one or more tables, plus our objects as MJCF bodies.

    Args:
        arms: robots in order; robosuite names them ``robot0``, ``robot1``... and their grippers
            ``gripper0_right``, ``gripper1_right``...
        tables: ``(full_size, top_center)`` per table. The first is robosuite's ``TableArena``
            (floor, lights, cameras); the others are added as plain boxes.
        objects_xml: ``<body>`` elements (with their joints) appended to the world body.
        assets_xml: ``<texture>``/``<material>``/``<mesh>`` elements appended to the assets.
        cameras_xml: extra ``<camera>`` elements appended to the world body (default: the
            ``overview`` camera).
    """
    import robosuite.models.bases as rs_bases
    import robosuite.models.grippers as rs_grippers
    import robosuite.models.robots as rs_robots
    from robosuite.models.arenas import TableArena
    from robosuite.models.tasks import ManipulationTask

    robots = []
    for i, arm in enumerate(arms):
        robot = getattr(rs_robots, arm.robot)(idn=i)
        robot.add_base(rs_bases.RethinkMount(idn=i))
        gripper = getattr(rs_grippers, arm.gripper)(idn=f"{i}_right")
        # Robots such as PandaDexRH/LH mount their hand with an offset; robosuite's ``Robot``
        # (not the model) applies it to the hand's first body, so we do the same here.
        mount = gripper.worldbody.find("body")
        for key, offsets in (
            ("pos", robot.gripper_mount_pos_offset),
            ("quat", robot.gripper_mount_quat_offset),
        ):
            if "right" in offsets:
                mount.attrib[key] = " ".join(str(v) for v in offsets["right"])
        robot.add_gripper(gripper)
        robot.set_base_xpos(list(arm.base_xyz))
        if arm.base_yaw:
            robot.set_base_ori([0.0, 0.0, arm.base_yaw])
        robots.append(robot)
    (size, top), *extra_tables = tables
    arena = TableArena(
        table_full_size=size,
        table_offset=(top[0], top[1], top[2]),
        has_legs=True,
    )
    task = ManipulationTask(mujoco_arena=arena, mujoco_robots=robots, mujoco_objects=[])
    root = ET.fromstring(task.get_xml())
    world = root.find("worldbody")
    asset = root.find("asset")
    assert world is not None and asset is not None
    hide_collision_geoms(world)
    for k, (tsize, ttop) in enumerate(extra_tables):
        half = (tsize[0] / 2, tsize[1] / 2, tsize[2] / 2)
        world.append(
            ET.fromstring(
                f'<body name="table{k + 1}" pos="{ttop[0]} {ttop[1]} {ttop[2] - half[2]}">'
                f'<geom name="table{k + 1}_collision" type="box"'
                f' size="{half[0]} {half[1]} {half[2]}"'
                ' friction="1 0.005 0.0001" rgba="0.5 0.5 0.5 1"/></body>'
            )
        )
    for xml_text, parent in ((objects_xml, world), (cameras_xml, world), (assets_xml, asset)):
        if xml_text.strip():
            for element in ET.fromstring(f"<root>{xml_text}</root>"):
                parent.append(element)
    return ET.tostring(root, encoding="unicode")
