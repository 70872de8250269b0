"""What images show: robots drawn as robosuite draws them, and framing that keeps arms in view.

robosuite paints every collision geom (group 0) of a robot, gripper or mount in a flat debug
colour (green, blue, yellow) and leaves group 0 out of its images. Our scenes draw group 0 (our
objects live there), so these tests pin down that robosuite's collision geoms stay invisible and
its visual geoms keep their materials: every video, dataset image and image policy sees them.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from dexmg_bench.envs import TASKS, make_task_env
from dexmg_bench.envs.robots import panda_inspire

# One task per embodiment: Panda grippers, Panda Inspire hands, GR-1 Fourier hands.
EMBODIMENT_TASKS = ("Threading", "BoxCleanup", "Pouring")
# robosuite prefixes the names of each robot's, gripper's and mount's bodies and geoms.
ROBOT_PREFIXES = ("robot", "gripper", "fixed_mount")


def _robosuite_robots(task: str) -> list:
    """The task's robots as robosuite's own models, with their grippers, hands and mounts."""
    import robosuite.models.bases as rs_bases
    import robosuite.models.grippers as rs_grippers
    import robosuite.models.robots as rs_robots

    if task == "Pouring":
        robot = rs_robots.GR1FixedLowerBody(idn=0)
        robot.add_gripper(rs_grippers.FourierRightHand(idn="0_right"), robot.eef_name["right"])
        robot.add_gripper(rs_grippers.FourierLeftHand(idn="0_left"), robot.eef_name["left"])
        return [robot]
    if task == "BoxCleanup":
        models = [
            (panda_inspire.ROBOT_MODEL[a], panda_inspire.HAND_MODEL[a]) for a in ("right", "left")
        ]
    else:
        models = [("Panda", "PandaGripper")] * 2
    robots = []
    for i, (robot_name, gripper_name) in enumerate(models):
        robot = getattr(rs_robots, robot_name)(idn=i)
        robot.add_base(rs_bases.RethinkMount(idn=i))
        robot.add_gripper(getattr(rs_grippers, gripper_name)(idn=f"{i}_right"))
        robots.append(robot)
    return robots


def _robosuite_look(task: str) -> dict[str, tuple[tuple[float, ...], str | None]]:
    """Colour and material of every robot geom robosuite's offscreen renderer draws, by name.

    robosuite renders with MuJoCo's default visual options except group 0 (collision) turned off
    (``render_collision_mesh=False``, its default).
    """
    option = mujoco.MjvOption()
    option.geomgroup[0] = 0
    look = {}
    for robot in _robosuite_robots(task):
        for geom in robot.worldbody.iter("geom"):
            rgba = tuple(float(v) for v in geom.get("rgba", "0.5 0.5 0.5 1").split())
            if option.geomgroup[int(geom.get("group", "0"))] and rgba[3] > 0:
                look[geom.get("name")] = (rgba, geom.get("material"))
    return look


def _our_look(env) -> dict[str, tuple[tuple[float, ...], str | None]]:
    """The same for the robot geoms our env draws (``Physics.render``'s visual options)."""
    model = env.physics.model
    option = env.physics._scene_option
    look = {}
    for g in range(model.ngeom):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g) or ""
        rgba = tuple(float(v) for v in model.geom_rgba[g])
        if not name.startswith(ROBOT_PREFIXES) or not option.geomgroup[model.geom_group[g]]:
            continue
        if rgba[3] > 0:
            matid = int(model.geom_matid[g])
            material = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_MATERIAL, matid)
            look[name] = (rgba, material if matid >= 0 else None)
    return look


@pytest.mark.parametrize("task", EMBODIMENT_TASKS)
def test_robot_geoms_are_drawn_as_robosuite_draws_them(task):
    """The drawn robot geoms are robosuite's drawn ones, with robosuite's colours and materials."""
    env = make_task_env(task)
    ours, theirs = _our_look(env), _robosuite_look(task)
    env.close()
    assert set(ours) - set(theirs) == set(), "robot geoms drawn that robosuite hides"
    assert set(theirs) - set(ours) == set(), "robot geoms hidden that robosuite draws"
    for name, (rgba, material) in theirs.items():
        np.testing.assert_allclose(ours[name][0], rgba, atol=1e-6, err_msg=name)
        assert ours[name][1] == material, name


def _robot_pixels(env, size: int) -> np.ndarray:
    """RGB values (n, 3) of the pixels of ``render()`` that show a robot, gripper or mount geom."""
    rgb = env.render()
    model = env.physics.model
    renderer = mujoco.Renderer(model, height=size, width=size)
    renderer.enable_segmentation_rendering()
    renderer.update_scene(env.physics.data, camera=env.config.render_camera)
    seg = renderer.render()
    renderer.close()
    robot_geom = np.array(
        [
            (mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or "").startswith(ROBOT_PREFIXES)
            for b in model.geom_bodyid
        ]
    )
    ids, types = seg[..., 0], seg[..., 1]
    mask = (types == mujoco.mjtObj.mjOBJ_GEOM) & (ids >= 0) & robot_geom[np.maximum(ids, 0)]
    return rgb[mask].astype(int)


@pytest.mark.render
@pytest.mark.parametrize("task", EMBODIMENT_TASKS)
def test_rendered_robots_show_no_collision_debug_colours(task):
    """Under 2% of the robot's pixels are robosuite's green, blue or yellow collision colours.

    robosuite renders these robots white, grey and black (the GR-1 with a purple waist ring);
    its collision colours are saturated green (robots), blue (grippers, hands), yellow (mounts).
    """
    size = 64
    env = make_task_env(task, render_mode="rgb_array", render_size=size)
    env.reset(seed=0)
    px = _robot_pixels(env, size)
    env.close()
    r, g, b = px[:, 0], px[:, 1], px[:, 2]
    green = g - np.maximum(r, b) > 20
    blue = b - np.maximum(r, g) > 20
    yellow = (np.minimum(r, g) - b > 20) & (np.abs(r - g) < 20)
    assert len(px) > 100, "the robot is not in the frame"
    assert (green | blue | yellow).mean() < 0.02, px.mean(axis=0)


def _project(env, camera: str, points: np.ndarray) -> np.ndarray:
    """Image coordinates (u right, v down; 0..1 across a square frame) of world points."""
    model, data = env.physics.model, env.physics.data
    cam = env.physics.id("camera", camera)
    local = (points - data.cam_xpos[cam]) @ data.cam_xmat[cam].reshape(3, 3)
    depth = -local[:, 2]  # MuJoCo cameras look along their -z axis
    assert (depth > 0).all(), "points behind the camera"
    focal = 0.5 / np.tan(np.deg2rad(model.cam_fovy[cam]) / 2)
    return np.stack([0.5 + focal * local[:, 0] / depth, 0.5 - focal * local[:, 1] / depth], 1)


@pytest.mark.parametrize("task", [t.name for t in TASKS])
def test_render_camera_frames_both_arms_hands_and_objects(task):
    """At reset the render camera sees every object, both hands, and the arms up to their tops.

    Geom centres must lie 5% inside the frame for the arms (so their top links are not cut
    off), 2% for the hands and objects. Robot parts below the table top are hidden by it anyway.
    """
    env = make_task_env(task)
    env.reset(seed=0)
    model, data = env.physics.model, env.physics.data
    table = env.physics.id("geom", "table_collision")
    table_top = data.geom_xpos[table, 2] + model.geom_size[table, 2]
    drawn = (model.geom_rgba[:, 3] > 0) & (model.geom_group == 1)
    body = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or "" for b in model.geom_bodyid]
    hand = drawn & np.array([n.startswith("gripper") for n in body])
    arm = drawn & np.array([n.startswith("robot") for n in body])
    arm &= data.geom_xpos[:, 2] > table_top
    objects = [getattr(env, "object_bodies", {}).get(n, n) for n in env.object_names]
    object_xyz = np.array([data.xpos[env.physics.id("body", n)] for n in objects])
    camera = env.config.render_camera
    uv = {
        "arms": (_project(env, camera, data.geom_xpos[arm]), 0.05),
        "hands": (_project(env, camera, data.geom_xpos[hand]), 0.02),
        "objects": (_project(env, camera, object_xyz), 0.02),
    }
    env.close()
    assert hand.sum() >= 2 and arm.sum() >= 2 and len(objects) >= 1
    for part, (points, margin) in uv.items():
        assert points.min() >= margin and points.max() <= 1 - margin, (
            part,
            points.min(0),
            points.max(0),
        )
