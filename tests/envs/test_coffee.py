"""Coffee on the GR-1: the machine's lid hinge, the success check, the spec, the expert."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dexmg_bench.datasets.record import run_expert
from dexmg_bench.envs import make_task_env
from dexmg_bench.envs.tasks.coffee import (
    BASE_PLATE,
    LID_LENGTH,
    LID_OPEN,
    POD_HALF_HEIGHT,
    VARIANTS,
    CoffeeConfig,
    CoffeeEnv,
)
from dexmg_bench.generators.spec import load_spec, spec_path, validate_against


@pytest.fixture(scope="module")
def env() -> CoffeeEnv:
    """One Coffee env shared by the tests of this module (construction takes a few seconds)."""
    e = make_task_env("Coffee")
    yield e
    e.close()


def _hold(env: CoffeeEnv, steps: int) -> dict:
    hold = env.target_pose_to_action(env.eef_poses(), env.hand_command())
    info: dict = {}
    for _ in range(steps):
        _, _, _, _, info = env.step(hold)
    return info


def _pod_into_holder(env: CoffeeEnv) -> None:
    machine = env.object_poses()["machine"]
    pos = machine[:3, 3] + machine[:3, 2] * (BASE_PLATE + POD_HALF_HEIGHT + 0.002)
    env.physics.set_free_joint("pod_joint", pos, np.array([1.0, 0.0, 0.0, 0.0]))
    env.physics.forward()


def test_reset_has_pod_on_table_and_lid_open(env):
    """At reset nothing is done: lid open at 2 pi / 3 (and stays there), pod on the table."""
    obs, info = env.reset(seed=0)
    assert not info["success"] and not any(info["terms"].values())
    assert obs["lid_angle"][0] == pytest.approx(LID_OPEN)
    assert not any(v for arm in info["subtask_signals"].values() for v in arm.values())
    info = _hold(env, 10)
    assert env.lid_angle > LID_OPEN - 0.05 and not info["terms"]["lid_closed"]
    c = env.config
    assert c.pod_x[0] <= obs["pod_pos"][0] <= c.pod_x[1]
    assert c.pod_y[0] <= obs["pod_pos"][1] <= c.pod_y[1]


def test_lid_past_vertical_falls_shut_over_an_inserted_pod(env):
    """From 60 degrees the hinge falls shut; with the pod in the holder that is success."""
    env.reset(seed=1)
    _pod_into_holder(env)
    env.physics.data.qpos[env._hinge] = np.deg2rad(60.0)
    env.physics.forward()
    info = _hold(env, 20)
    assert env.lid_angle < np.deg2rad(15.0)
    assert info["terms"]["pod_inserted"] and info["terms"]["lid_closed"]
    assert info["success"] and info["subtask_signals"]["right"]["close_lid"]
    assert info["subtask_signals"]["left"]["insert"]


def test_closed_lid_without_the_pod_is_not_success(env):
    """Closing the lid alone (pod still on the table) fails: both conditions are required."""
    env.reset(seed=2)
    env.physics.data.qpos[env._hinge] = 0.0
    env.physics.forward()
    info = _hold(env, 5)
    assert info["terms"]["lid_closed"] and not info["terms"]["pod_inserted"]
    assert not info["success"]


def test_pod_next_to_the_holder_is_not_inserted(env):
    """A pod standing on the machine's base plate beside the holder does not count."""
    env.reset(seed=3)
    machine = env.object_poses()["machine"]
    pos = machine @ np.array([0.0, 0.07, BASE_PLATE + POD_HALF_HEIGHT + 0.002, 1.0])
    env.physics.set_free_joint("pod_joint", pos[:3], np.array([1.0, 0.0, 0.0, 0.0]))
    env.physics.forward()
    assert not env.pod_in_holder()


def test_state_round_trip_keeps_the_lid_angle(env):
    """get_state/set_state restores the hinge (it is physics state, not task state)."""
    env.reset(seed=4)
    env.physics.data.qpos[env._hinge] = 1.0
    env.physics.forward()
    state = env.get_state()
    env.reset(seed=5)
    env.set_state(state)
    assert env.lid_angle == pytest.approx(1.0)


def test_reset_options_and_ranges_are_checked(env):
    """Coffee takes no reset options; pod ranges must lie on the table left of the machine."""
    with pytest.raises(ValueError, match="no reset options"):
        env.reset(seed=0, options={"object_xy": (0.0, 0.0)})
    with pytest.raises(ValueError, match="pod_y"):
        CoffeeConfig(pod_y=(-0.1, 0.1))
    with pytest.raises(ValueError, match="pod_x"):
        CoffeeConfig(pod_x=(0.1, 0.5))


def _machine_and_lid_tip(env: CoffeeEnv) -> tuple[np.ndarray, float, np.ndarray]:
    """The machine's xy and yaw, and the open lid's tip (world)."""
    machine = env.object_poses()["machine"]
    lid = env.physics.body_pose(env.physics.id("body", "lid"))
    tip = lid[:3, :3] @ np.array([0.0, LID_LENGTH, 0.0]) + lid[:3, 3]
    return machine[:2, 3], float(np.arctan2(machine[1, 0], machine[0, 0])), tip


def test_d2_turns_the_machine_the_other_way(env):
    """D2's machine is turned +pi/6 where D0's and D1's is turned -pi/6; its lid leans away."""
    assert VARIANTS["D1"].machine_xy == VARIANTS["D0"].machine_xy
    assert VARIANTS["D1"].machine_yaw == VARIANTS["D0"].machine_yaw
    env.reset(seed=0)
    xy0, yaw0, tip0 = _machine_and_lid_tip(env)
    d2 = make_task_env("Coffee", "D2")
    obs, _ = d2.reset(seed=0)
    xy2, yaw2, tip2 = _machine_and_lid_tip(d2)
    assert yaw0 == pytest.approx(-np.pi / 6) and yaw2 == pytest.approx(np.pi / 6)
    np.testing.assert_allclose(xy2, (0.0, -0.06), atol=1e-9)
    assert tip0[0] < xy0[0] and tip2[0] > xy2[0]  # toward the robot (-x) in D0, away in D2
    assert obs["lid_angle"][0] == pytest.approx(LID_OPEN)
    c = d2.config
    assert (c.pod_x, c.pod_y) == (VARIANTS["D0"].pod_x, VARIANTS["D0"].pod_y)
    d2.close()


def test_machine_pose_is_checked():
    """A machine off the table, or a pod range reaching into it, is refused."""
    with pytest.raises(ValueError, match="machine_xy"):
        CoffeeConfig(machine_xy=(0.35, 0.0))
    with pytest.raises(ValueError, match="pod_y"):
        CoffeeConfig(machine_xy=(0.0, 0.05))


def test_shipped_spec_matches_env():
    """The spec validates against the env, and the lid closes only after the pod is in."""
    spec = load_spec(spec_path("Coffee"))
    validate_against(spec, CoffeeEnv.object_names, CoffeeEnv.subtask_names)
    for arm, names in CoffeeEnv.subtask_names.items():
        assert tuple(s.name for s in spec.subtasks[arm]) == names
    close = spec.subtasks["right"][1]
    assert close.kind == "sequential" and close.after == "insert"
    json.loads(spec.to_json())


def test_expert_inserts_then_closes(env):
    """The scripted expert succeeds on seed 0, and its lid closes after the pod is inserted."""
    demo, info = run_expert(env, 0, horizon=400)
    assert info["success"], info["terms"]
    inserted = np.flatnonzero(demo.signals["left"]["insert"])[0]
    closed = np.flatnonzero(demo.signals["right"]["close_lid"])[0]
    assert inserted < closed
    assert set(demo.boundaries) == {"right", "left"}
