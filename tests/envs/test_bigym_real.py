"""The BiGym adapter on the real BiGym (slow tier; skipped, saying so, without BiGym)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from dexmg_bench.envs import BIGYM_TASKS
from dexmg_bench.geometry import quat_to_mat

pytest.importorskip("bigym", reason="BiGym is not installed (see the README's BiGym section)")
pytestmark = pytest.mark.slow

IDS = [t.ids()[0] for t in BIGYM_TASKS]


@pytest.mark.parametrize("env_id", IDS, ids=IDS)
def test_check_env_and_same_seed_same_observations(env_id):
    """check_env passes; a fresh env with the same seed gives the same observations and steps."""
    runs = []
    for i in range(2):
        env = gym.make(env_id, disable_env_checker=True).unwrapped
        if i == 0:
            check_env(env, skip_render_check=True)
        np.random.seed(i)  # the caller's global state must not matter ...
        before = np.random.get_state()[1].copy()
        obs, info = env.reset(seed=123)
        np.testing.assert_array_equal(np.random.get_state()[1], before)  # ... nor be changed
        assert info["success"] is False
        action = np.clip(np.zeros(15), env.action_space.low, env.action_space.high)
        runs.append([obs] + [env.step(action)[0] for _ in range(5)])
        env.close()
    for o1, o2 in zip(*runs, strict=True):
        for k in o1:
            np.testing.assert_array_equal(o1[k], o2[k], err_msg=k)


@pytest.mark.parametrize("task", ["FlipCup", "DishwasherLoadPlates"])
def test_seeds_change_the_scene(task):
    """The randomised tasks really draw their scene from our seed."""
    env = gym.make(f"DexMG/BiGym-{task}-v0", disable_env_checker=True).unwrapped
    first = {k: v for k, v in env.reset(seed=1)[0].items() if k.endswith("_pos")}
    second = env.reset(seed=2)[0]
    assert any(not np.allclose(v, second[k]) for k, v in first.items())
    env.close()


def test_poses_signals_and_render_on_real_bigym():
    """Gripper sites sit either side of the robot, objects are on the counter, render works."""
    env = gym.make(
        "DexMG/BiGym-FlipCup-v0", disable_env_checker=True, render_mode="rgb_array", render_size=64
    ).unwrapped
    obs, info = env.reset(seed=0)
    eef = env.eef_poses()
    assert eef.shape == (2, 4, 4)
    assert eef[0, 1, 3] < 0 < eef[1, 1, 3]  # right arm at -y, left at +y (robot faces +x)
    np.testing.assert_allclose(
        eef[:, :3, :3] @ eef[:, :3, :3].transpose(0, 2, 1), np.tile(np.eye(3), (2, 1, 1)), atol=1e-6
    )
    mug = env.object_poses()["mug"]
    np.testing.assert_allclose(obs["mug_pos"], mug[:3, 3])
    np.testing.assert_allclose(quat_to_mat(obs["mug_quat"]), mug[:3, :3], atol=1e-9)
    for i, arm in enumerate(("right", "left")):
        np.testing.assert_allclose(obs[f"{arm}_eef_pos"], eef[i, :3, 3])
        np.testing.assert_allclose(quat_to_mat(obs[f"{arm}_eef_quat"]), eef[i, :3, :3], atol=1e-9)
    assert 0.6 < mug[0, 3] < 1.0 and mug[2, 2] < -0.8  # upside down at reset
    assert set(info["subtask_signals"]["right"]) == {"grasp", "flip"}
    frame = env.render()
    assert frame.shape == (64, 64, 3) and frame.std() > 0
    env.close()


def test_contact_terms_agree_with_bigym():
    """Our vectorised contact checks give BiGym's own answers, both False and True.

    A plate is moved onto a bottom-rack site of the dishwasher (as BiGym's unload task spawns
    them) and the physics is stepped, so ``plate0_in_rack`` becomes true.
    """
    env = gym.make("DexMG/BiGym-DishwasherLoadPlates-v0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    raw, backend = env.raw, env._backend
    tray = raw.dishwasher.tray_bottom

    def bigym_terms() -> dict[str, bool]:
        out = {
            f"plate{i}_in_rack": p.is_colliding(tray.colliders) for i, p in enumerate(raw.plates)
        }
        for side, gripper in raw.robot.grippers.items():
            arm = side.value.lower()
            out[f"{arm}_holds_plate"] = any(gripper.is_holding_object(p) for p in raw.plates)
        return out

    assert backend.terms(raw, "DishwasherLoadPlates") == bigym_terms()
    site = tray.site_sets[0][0]
    raw.plates[0].body.set_quaternion(np.array([0.5, 0.5, 0.5, 0.5]), True)
    raw.plates[0].body.set_position(site.get_position() + np.array([0, -0.01, 0.05]), True)
    action = np.clip(np.zeros(15), env.action_space.low, env.action_space.high)
    for _ in range(10):
        env.step(action)
    ours = backend.terms(raw, "DishwasherLoadPlates")
    assert ours == bigym_terms()
    assert ours["plate0_in_rack"] is True
    env.close()


def test_cabinet_terms_agree_with_bigym():
    """Closed-part terms read from qpos equal BiGym's own normalised states, open and closed."""
    env = gym.make("DexMG/BiGym-CupboardsCloseAll-v0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    raw, backend = env.raw, env._backend
    parts = backend._cabinet_parts(raw)

    def bigym_terms() -> dict[str, bool]:
        return {
            f"{n}_closed": bool(np.allclose(c.get_state()[i], 0, atol=0.1))
            for n, (c, i, _) in parts.items()
        }

    terms = backend.terms(raw, "CupboardsCloseAll")
    assert terms == bigym_terms() and not any(terms.values())  # all open at reset
    drawers, door_left = raw.all_cabinets[0], raw.all_cabinets[1]
    drawers.set_state(np.zeros(3))
    door_left.set_state(np.zeros(1))
    terms = backend.terms(raw, "CupboardsCloseAll")
    assert terms == bigym_terms()
    assert terms["drawer0_closed"] and terms["base_door_left_closed"]
    assert not terms["wall_door_left_closed"]
    env.close()
