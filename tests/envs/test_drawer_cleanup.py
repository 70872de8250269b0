"""Drawer Cleanup: reset state, the drawer slide, the success predicate, the sequential spec."""

from __future__ import annotations

import numpy as np
import pytest

from dexmg_bench.datasets.record import run_expert
from dexmg_bench.envs import make_task_env
from dexmg_bench.envs.tasks.drawer_cleanup import (
    CAB_DEPTH,
    CUBE_HALF,
    FLOOR_TOP,
    DrawerCleanupEnv,
    slot_pose,
)
from dexmg_bench.generators.spec import load_spec, spec_path


def _hold(env: DrawerCleanupEnv) -> np.ndarray:
    action = np.zeros(env.action_space.shape)
    for arm in ("right", "left"):
        lo, hi = env.action_layout[arm]["hand"]
        action[lo:hi] = -1.0
    return action


@pytest.mark.parametrize("variant", ["D0", "D1", "D2"])
def test_reset_is_closed_unsolved_and_signals_off(variant):
    """At reset the drawer is shut and empty: no success, no subtask signal on."""
    env = DrawerCleanupEnv(variant)
    _, info = env.reset(seed=3)
    assert abs(env.drawer_slide()) < 1e-9
    assert not info["success"]
    assert info["terms"]["drawer_closed"] and not info["terms"]["drawer_open"]
    assert not any(v for sig in info["subtask_signals"].values() for v in sig.values())
    env.close()


def test_pulling_the_drawer_opens_it_and_the_cabinet_stays():
    """A force along the drawer's -x slides it open past the open threshold; the cabinet holds."""
    env = DrawerCleanupEnv("D0")
    env.reset(seed=0)
    cabinet = env.physics.id("body", "cabinet")
    before = env.physics.data.xpos[cabinet].copy()
    drawer = env.physics.id("body", "drawer")
    env.physics.data.xfrc_applied[drawer, 0] = -15.0
    for _ in range(30):
        _, _, _, _, info = env.step(_hold(env))
    assert env.drawer_slide() < -0.12, env.drawer_slide()
    assert info["terms"]["drawer_open"] and info["subtask_signals"]["right"]["open_drawer"]
    assert not info["terms"]["drawer_closed"]
    # The drawer body carries the slide: its pose moved by the same amount along x.
    cabinet_x = env.physics.data.xpos[cabinet][0]
    drawer_x = env.object_poses()["drawer"][0, 3]
    assert drawer_x == pytest.approx(cabinet_x + env.drawer_slide(), abs=1e-4)
    assert np.linalg.norm(env.physics.data.xpos[cabinet][:2] - before[:2]) < 0.005
    env.close()


def test_cube_in_closed_drawer_is_success_and_open_drawer_is_not():
    """The reference predicate: closed (slide > -0.01) and the cube on the drawer floor."""
    env = DrawerCleanupEnv("D0")
    env.reset(seed=0)
    p = env.physics
    adr = p.joint_qpos_adr("drawer_slide")
    p.data.qpos[adr] = -0.15
    p.forward()
    slot = slot_pose(env.object_poses()["drawer"], 0.07)
    p.set_free_joint(
        "cube_joint", slot[:3, 3] + np.array([0, 0, CUBE_HALF + 0.002]), np.array([1.0, 0, 0, 0])
    )
    for _ in range(5):
        _, _, _, _, info = env.step(_hold(env))
    assert info["terms"]["cube_in_drawer"] and not info["success"]
    # Shut it by hand (cube carried along on the floor) and let it settle.
    p.data.qpos[adr] = 0.0
    cube_adr = p.joint_qpos_adr("cube_joint")
    p.data.qpos[cube_adr] += 0.15
    p.forward()
    for _ in range(5):
        _, _, _, _, info = env.step(_hold(env))
    assert info["success"], info["terms"]
    cube_local_z = env.object_poses()["cube"][2, 3] - env.object_poses()["drawer"][2, 3]
    assert cube_local_z == pytest.approx(FLOOR_TOP + CUBE_HALF, abs=0.003)
    assert env.object_poses()["cube"][0, 3] < env.object_poses()["drawer"][0, 3] + CAB_DEPTH / 2
    env.close()


def test_spec_orders_the_three_stages():
    """Place after open, close after place: the sequential constraints of the task."""
    spec = load_spec(spec_path("DrawerCleanup"))
    right, left = spec.subtasks["right"], spec.subtasks["left"]
    assert [s.kind for s in right] == ["parallel", "sequential"]
    assert [s.kind for s in left] == ["parallel", "sequential"]
    assert right[1].after == "place_cube" and left[1].after == "open_drawer"
    assert right[0].object_ref == "drawer" and left[0].object_ref == "cube"


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["D1", "D2"])
def test_expert_solves_broader_variants(variant):
    """The scripted expert also solves a D1 and a D2 reset, with the stages in order."""
    env = make_task_env("DrawerCleanup", variant)
    demo, info = run_expert(env, 1, horizon=550)
    assert info["success"], info["terms"]
    first = {
        (arm, name): int(np.flatnonzero(sig)[0])
        for arm, sigs in demo.signals.items()
        for name, sig in sigs.items()
    }
    assert first[("right", "open_drawer")] < first[("left", "place_cube")]
    assert first[("left", "place_cube")] < first[("right", "close_drawer")]
    env.close()
