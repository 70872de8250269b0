"""GR-1 humanoid tasks: absolute-pose actions through IK, external initial positions, spec."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dexmg_bench.envs import make_task_env
from dexmg_bench.envs.tasks.can_sorting import BINS, CanSortingEnv
from dexmg_bench.generators.spec import load_spec, spec_path, validate_against


@pytest.fixture(scope="module")
def env() -> CanSortingEnv:
    """One Can Sorting env shared by the tests of this module (construction takes ~1 s)."""
    e = make_task_env("CanSorting")
    yield e
    e.close()


def test_hold_action_keeps_the_hands_still(env):
    """Commanding the current poses (absolute actions) holds both hands within 2 mm."""
    env.reset(seed=0)
    start = env.eef_poses()
    hold = env.target_pose_to_action(start, env.hand_command())
    for _ in range(10):
        _, _, _, _, info = env.step(hold)
    np.testing.assert_allclose(env.eef_poses()[:, :3, 3], start[:, :3, 3], atol=2e-3)
    assert info["ik_error"].max() < 1e-3


def test_absolute_action_reaches_a_commanded_pose(env):
    """A target 8 cm away is reached (IK + servos) within 5 mm after 20 steps."""
    env.reset(seed=0)
    target = env.eef_poses()
    target[0, :3, 3] += (0.05, -0.03, 0.05)
    action = env.target_pose_to_action(target, env.hand_command())
    for _ in range(20):
        env.step(action)
    assert np.linalg.norm(env.eef_poses()[0, :3, 3] - target[0, :3, 3]) < 5e-3


def test_action_pose_round_trip(env):
    """target_pose_to_action inverts action_to_target_pose inside the action box."""
    env.reset(seed=0)
    action = np.random.default_rng(1).uniform(-0.9, 0.9, size=env.action_space.shape)
    hand = action.reshape(2, -1)[:, 6:]
    back = env.target_pose_to_action(env.action_to_target_pose(action), hand)
    np.testing.assert_allclose(back, action, atol=1e-9)


def test_unreachable_action_reports_ik_error_without_nan(env):
    """The all-zero action (both hands to the base origin, inside the robot) is no error."""
    env.reset(seed=0)
    for _ in range(3):
        obs, _, _, _, info = env.step(np.zeros(env.action_space.shape))
    assert np.all(info["ik_error"] > 0.05)
    assert all(np.all(np.isfinite(v)) for v in obs.values())


def test_object_xy_places_the_can_and_color_fixes_it(env):
    """reset(options=...) puts the can where the digital twin says, in the given colour."""
    obs, _ = env.reset(seed=3, options={"object_xy": (-0.15, -0.12), "color": "blue"})
    np.testing.assert_allclose(obs["can_pos"][:2], (-0.15, -0.12))
    assert env.color == "blue" and obs["can_red"][0] == 0.0
    np.testing.assert_allclose(env.object_poses()["target_bin"][:2, 3], BINS["blue"])
    obs, _ = env.reset(seed=3, options={"object_xy": np.array([-0.1, 0.05]), "color": "red"})
    assert env.color == "red"
    np.testing.assert_allclose(env.object_poses()["target_bin"][:2, 3], BINS["red"])


@pytest.mark.parametrize(
    ("xy", "match"),
    [
        ((0.5, 0.0), "off the table"),
        ((0.0, -0.62), "off the table"),
        ((float("nan"), 0.0), "off the table"),
        ((-0.07, 0.2), "on the blue bin"),
        ((1.0,), "two numbers"),
    ],
)
def test_object_xy_outside_the_table_raises(env, xy, match):
    """Positions off the table top, on a bin or malformed are refused with the allowed region."""
    with pytest.raises(ValueError, match=match):
        env.reset(seed=0, options={"object_xy": xy})


def test_unknown_reset_option_and_colour_raise(env):
    """Typos in options are not silently ignored."""
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(seed=0, options={"object_pos": (0, 0)})
    with pytest.raises(ValueError, match="'red' or 'blue'"):
        env.reset(seed=0, options={"color": "green"})


def test_state_round_trip_restores_the_colour(env):
    """The can's colour lives outside MuJoCo; get_state/set_state carry it (and recolour)."""
    env.reset(seed=0, options={"color": "red"})
    state = env.get_state()
    env.reset(seed=0, options={"color": "blue"})
    env.set_state(state)
    assert env.color == "red"
    assert env.physics.model.geom_rgba[env._can_geom][0] > 0.5


def test_envs_do_not_share_colours():
    """Each env recolours its own copy of the (cached) model."""
    a, b = CanSortingEnv(), CanSortingEnv()
    a.reset(seed=0, options={"color": "red"})
    b.reset(seed=0, options={"color": "blue"})
    assert a.physics.model.geom_rgba[a._can_geom][0] > 0.5
    assert b.physics.model.geom_rgba[b._can_geom][0] < 0.5


@pytest.mark.parametrize("task", ["CanSorting"])
def test_shipped_spec_matches_env(task):
    """The generator spec validates against the env's objects and per-arm subtasks."""
    spec = load_spec(spec_path(task))
    env_cls = {"CanSorting": CanSortingEnv}[task]
    validate_against(spec, env_cls.object_names, env_cls.subtask_names)
    for arm, names in env_cls.subtask_names.items():
        assert tuple(s.name for s in spec.subtasks[arm]) == names
    json.loads(spec.to_json())


def test_env_step_with_compiled_ik_matches_the_mink_reference(env):
    """A control step through the compiled IK ends where mink's reference solve ends (1e-8)."""
    env.reset(seed=1)
    target = env.eef_poses()
    target[0, :3, 3] += (0.04, -0.02, 0.03)
    target[1, :3, 3] += (0.02, 0.03, -0.02)
    action = env.target_pose_to_action(target, env.hand_command())
    start = env.get_state()
    ik = env.servo.ik
    env.step(action)
    fast_q, fast_state = env.servo.last.qpos.copy(), env.physics.data.qpos.copy()
    env.set_state(start)
    ik.solve = ik.reference_solve  # instance attribute: this env only, undone below
    try:
        env.step(action)
    finally:
        del ik.solve
    assert env.servo.last.iterations > 1
    np.testing.assert_allclose(env.servo.last.qpos, fast_q, atol=1e-9)
    np.testing.assert_allclose(env.physics.data.qpos, fast_state, atol=1e-8)
