"""Pouring on the GR-1: reset layout per variant, success terms, the expert, the generator spec."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dexmg_bench.datasets.record import run_expert
from dexmg_bench.envs import make_task_env, task_entry
from dexmg_bench.envs.experts import make_expert
from dexmg_bench.envs.experts.pouring import PARK
from dexmg_bench.envs.tasks.pouring import HANDLE_OFFSET, TABLE_TOP_Z, PouringConfig, PouringEnv
from dexmg_bench.generators.spec import load_spec, spec_path, validate_against


@pytest.fixture(scope="module")
def env() -> PouringEnv:
    """One D0 env shared by this module's tests (construction takes several seconds)."""
    e = make_task_env("Pouring")
    yield e
    e.close()


def test_reset_puts_the_ball_in_the_cup_and_nothing_is_done(env):
    """At reset the ball rests in the cup, every object is on the table, no term holds."""
    obs, info = env.reset(seed=0)
    assert not info["success"]
    assert not any(v for k, v in info["terms"].items() if k != "bowl_upright")
    assert info["terms"]["bowl_upright"]
    np.testing.assert_allclose(obs["ball_pos"][:2], obs["cup_pos"][:2], atol=1e-6)
    assert obs["ball_pos"][2] > obs["cup_pos"][2]
    c = env.config
    assert c.cup_x[0] <= obs["cup_pos"][0] <= c.cup_x[1]
    assert c.bowl_y[0] <= obs["bowl_pos"][1] <= c.bowl_y[1]
    np.testing.assert_allclose(obs["pad_pos"][:2], (-0.10, -0.35))
    assert not any(v for sig in info["subtask_signals"].values() for v in sig.values())


def test_objects_settle_without_moving(env):
    """Holding still for 10 steps leaves the cup, ball and bowl where reset put them."""
    obs0, _ = env.reset(seed=1)
    hold = env.target_pose_to_action(env.eef_poses(), env.hand_command())
    for _ in range(10):
        obs, *_ = env.step(hold)
    for name in ("cup", "ball", "bowl"):
        np.testing.assert_allclose(obs[f"{name}_pos"], obs0[f"{name}_pos"], atol=3e-3)
    assert obs["bowl_pos"][2] == pytest.approx(TABLE_TOP_Z, abs=2e-3)


def test_cup_and_bowl_stand_on_their_three_feet(env):
    """At rest the table meets only the shells' feet: 3 contacts each, not ~4 per wall box.

    The wall boxes standing on the table were 96 of the scene's 99 contacts and most of the cost
    of ``mj_step``; the feet keep both shells still (``test_objects_settle_without_moving``).
    """
    env.reset(seed=2)
    hold = env.target_pose_to_action(env.eef_poses(), env.hand_command())
    for _ in range(3):
        env.step(hold)
    p = env.physics
    m, d = p.model, p.data
    table = p.body_geoms("table")
    on_table = set()
    for i in range(d.ncon):
        g1, g2 = int(d.contact.geom1[i]), int(d.contact.geom2[i])
        if g1 in table or g2 in table:
            on_table.add(m.geom(g2 if g1 in table else g1).name)
    assert on_table == {f"{s}_foot{k}" for s in ("cup", "bowl") for k in range(3)}
    assert d.ncon <= 8  # the six feet and the ball on the cup's floor
    for shell in ("cup", "bowl"):
        feet = [m.geom(f"{shell}_foot{k}").id for k in range(3)]
        assert np.all(d.geom_xpos[feet, 2] - m.geom_size[feet, 0] < TABLE_TOP_Z)


def test_d2_swaps_bowl_and_pad():
    """D2 puts the pad where D0's bowl goes and samples the bowl around D0's pad."""
    d0 = make_task_env("Pouring", "D0").config
    d2env = make_task_env("Pouring", "D2")
    d2 = d2env.config
    assert d2.pad_xy == pytest.approx(
        ((d0.bowl_x[0] + d0.bowl_x[1]) / 2, (d0.bowl_y[0] + d0.bowl_y[1]) / 2)
    )
    for seed in range(3):
        obs, _ = d2env.reset(seed=seed)
        np.testing.assert_allclose(obs["pad_pos"][:2], d2.pad_xy)
        assert np.linalg.norm(obs["bowl_pos"][:2] - np.asarray(d0.pad_xy)) < 0.04
    d2env.close()


def test_d1_is_broader_than_d0():
    """D1's ranges contain D0's."""
    d0, d1 = make_task_env("Pouring", "D0").config, make_task_env("Pouring", "D1").config
    for name in ("cup_x", "cup_y", "bowl_x", "bowl_y"):
        lo0, hi0 = getattr(d0, name)
        lo1, hi1 = getattr(d1, name)
        assert lo1 <= lo0 and hi0 <= hi1 and (hi1 - lo1) > (hi0 - lo0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cup_y": (0.15, 0.10)}, "low <= high"),
        ({"bowl_x": (-0.6, 0.0)}, "on the table"),
        ({"cup_y": (0.0, 0.15)}, "never overlap"),
    ],
)
def test_config_rejects_bad_ranges(kwargs, match):
    """Reset ranges off the table, reversed, or letting cup and bowl overlap are refused."""
    with pytest.raises(ValueError, match=match):
        PouringConfig(**kwargs)


def test_unknown_reset_option_raises(env):
    """Pouring takes no reset options; a typo is not silently ignored."""
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(seed=0, options={"object_xy": (0, 0)})


def test_moving_the_bowl_alone_is_not_success(env):
    """The bowl on the pad without the ball in it is not success (the pour must happen)."""
    env.reset(seed=0)
    pad = env.object_poses()["pad"][:3, 3]
    env.physics.set_free_joint(
        "bowl_joint", np.array([pad[0], pad[1], TABLE_TOP_Z + 0.011]), np.array([1.0, 0, 0, 0])
    )
    env.physics.forward()
    hold = env.target_pose_to_action(env.eef_poses(), env.hand_command())
    for _ in range(5):
        _, _, _, _, info = env.step(hold)
    assert info["terms"]["bowl_on_pad"] and info["terms"]["bowl_upright"]
    assert not info["terms"]["ball_in_bowl"] and not info["success"]


@pytest.mark.slow
def test_expert_pours_then_places_in_order(env):
    """Seed 0: the expert succeeds, and the right hand takes the bowl only after the pour."""
    demo, info = run_expert(env, 0, horizon=task_entry("Pouring").max_episode_steps)
    assert info["success"], info["terms"]
    pour = int(np.argmax(demo.signals["left"]["pour"]))
    grasp_bowl = int(np.argmax(demo.signals["right"]["grasp_bowl"]))
    assert demo.signals["left"]["pour"][pour] and 0 < pour < grasp_bowl


def test_expert_moves_the_bowl_first_only_in_d2(env):
    """D2's pad lies between the bowl and the cup, so the right hand goes for the bowl at once.

    In D0 (the shipped source demos) it first parks out of the pouring hand's way.
    """
    d2env = make_task_env("Pouring", "D2")
    for e, bowl_first in ((env, False), (d2env, True)):
        e.reset(seed=0)
        rest = e.eef_poses()[0][:3, 3]
        bowl = e.object_poses()["bowl"][:3, 3]
        first = next(make_expert(e, np.random.default_rng(0)).plan())["right"].target[:3, 3]
        if bowl_first:
            assert first[1] < bowl[1] - HANDLE_OFFSET
        else:
            np.testing.assert_allclose(first, rest + PARK)
    d2env.close()


@pytest.mark.slow
def test_expert_solves_d2_with_the_bowl_on_the_pad_before_the_pour():
    """D2 seed 0: success, and the bowl is lifted before the ball is poured into it."""
    d2env = make_task_env("Pouring", "D2")
    demo, info = run_expert(d2env, 0, horizon=task_entry("Pouring").max_episode_steps)
    assert info["success"], info["terms"]
    pour = int(np.argmax(demo.signals["left"]["pour"]))
    grasp_bowl = int(np.argmax(demo.signals["right"]["grasp_bowl"]))
    assert 0 < grasp_bowl < pour
    d2env.close()


def test_shipped_spec_is_sequential_and_matches_env():
    """The spec validates against the env, and right's bowl grasp waits for left's pour."""
    spec = load_spec(spec_path("Pouring"))
    validate_against(spec, PouringEnv.object_names, PouringEnv.subtask_names)
    for arm, names in PouringEnv.subtask_names.items():
        assert tuple(s.name for s in spec.subtasks[arm]) == names
    first = spec.subtasks["right"][1]
    assert first.kind == "sequential" and first.after == "pour"
    json.loads(spec.to_json())
