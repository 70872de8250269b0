"""The Fourier GR-1 humanoid at a table: MJCF text for the simulation and for its IK model.

robosuite 1.5.2 is used only as a model library (``GR1ArmsOnly`` / ``GR1FixedLowerBody`` with its
default ``FourierRightHand`` / ``FourierLeftHand``, the hands the public DexMimicGen GR-1 tasks
mount). robosuite drives the arms with torque motors and a Python joint-position loop; we replace
those motors by MuJoCo ``<position>`` servos and give every robot body ``gravcomp`` so a whole
control step is one ``mj_step(nstep=25)`` call with no Python in the loop. The hands keep
robosuite's finger servos unchanged (kp 2): stiffer ones (10, 20) made released cans fly off.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dexmg_bench.sim.scene import hide_collision_geoms, look_at_camera

# Servo gains of the arm (and torso) joints: stiff enough to track IK targets within ~1 mm under
# the weight of a held object, damped near critically for the GR-1's link inertias.
ARM_KP = 800.0
ARM_KV = 60.0

# The humanoid tasks' ``overview`` camera: the GR-1 from head to waist and the table in front.
# It is wider than the tabletop one because the hands reach 0.6 m to either side (Pouring's pad,
# Can Sorting's bins).
HUMANOID_CAMERA = look_at_camera("overview", (1.0, 0.0, 1.9), (-0.2, 0.0, 1.0), fovy=55)


def humanoid_xml(
    *,
    torso: bool,
    base_xyz: tuple[float, float, float],
    table_size: tuple[float, float, float],
    table_top: tuple[float, float, float],
    objects_xml: str,
    assets_xml: str = "",
    cameras_xml: str = "",
) -> str:
    """MJCF of the GR-1 (arms, optionally the 3 waist joints) with both hands, a table, objects.

    Args:
        torso: keep the waist yaw/pitch/roll joints actuated (Pouring, Coffee) or weld them
            (Can Sorting, the reference's ``GR1ArmsOnly``). Legs and head are always welded.
        base_xyz: world position of the robot base (pelvis).
        table_size: full size of robosuite's ``TableArena`` table.
        table_top: centre of the table top.
        objects_xml: our own ``<body>`` elements, appended to the world body.
        assets_xml: our own assets.
        cameras_xml: extra ``<camera>`` elements.
    """
    import robosuite.models.grippers as rs_grippers
    import robosuite.models.robots as rs_robots
    from robosuite.models.arenas import TableArena
    from robosuite.models.tasks import ManipulationTask

    robot = rs_robots.GR1FixedLowerBody(idn=0) if torso else rs_robots.GR1ArmsOnly(idn=0)
    if torso:
        robot._remove_joint_actuation("head")
    robot.add_gripper(rs_grippers.FourierRightHand(idn="0_right"), robot.eef_name["right"])
    robot.add_gripper(rs_grippers.FourierLeftHand(idn="0_left"), robot.eef_name["left"])
    robot.set_base_xpos(list(base_xyz))
    arena = TableArena(table_full_size=table_size, table_offset=table_top, has_legs=True)
    task = ManipulationTask(mujoco_arena=arena, mujoco_robots=[robot], mujoco_objects=[])
    root = ET.fromstring(task.get_xml())
    world, asset, actuator = root.find("worldbody"), root.find("asset"), root.find("actuator")
    assert world is not None and asset is not None and actuator is not None
    hide_collision_geoms(world)
    robot_root = world.find("body[@name='robot0_base']")
    assert robot_root is not None
    for body in robot_root.iter("body"):
        body.set("gravcomp", "1")
    ranges = {j.get("name"): j.get("range") for j in robot_root.iter("joint")}
    for motor in list(actuator.findall("motor")):
        joint = motor.get("joint", "")
        actuator.remove(motor)
        if not joint.startswith("robot0_"):
            continue
        actuator.append(
            ET.Element(
                "position",
                name=f"{joint}_servo",
                joint=joint,
                kp=str(ARM_KP),
                kv=str(ARM_KV),
                ctrlrange=str(ranges[joint]),
                ctrllimited="true",
            )
        )
    for xml_text, parent in ((objects_xml, world), (cameras_xml, world), (assets_xml, asset)):
        if xml_text.strip():
            for element in ET.fromstring(f"<root>{xml_text}</root>"):
                parent.append(element)
    return ET.tostring(root, encoding="unicode")


def ik_model_xml(scene_xml: str, keep_joints: tuple[str, ...]) -> str:
    """The scene with every joint but ``keep_joints`` welded: the kinematic model IK solves over.

    Its ``nq == nv == len(keep_joints)`` in scene order, so IK never moves fingers or objects.
    Actuators, equalities, tendons and sensors go too (they may name removed joints).
    """
    root = ET.fromstring(scene_xml)
    world = root.find("worldbody")
    assert world is not None
    keep = set(keep_joints)
    for parent in world.iter():
        for child in list(parent):
            if child.tag == "freejoint" or (child.tag == "joint" and child.get("name") not in keep):
                parent.remove(child)
    for tag in ("actuator", "equality", "tendon", "sensor", "contact", "keyframe"):
        for el in root.findall(tag):
            root.remove(el)
    return ET.tostring(root, encoding="unicode")
