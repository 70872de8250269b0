"""Env steps/s per task: raw MuJoCo limit, bare robosuite with the same robots, and ours.

"Raw" runs ``mj_step`` 25 times per env step on our compiled model with constant controls (no
controller at all); "bare robosuite" is robosuite's own two-Panda env (TwoArmLift, or
TwoArmTransport for Transport) with its OSC controller and the same robots as ours (Panda
grippers, or PandaDexRH/PandaDexLH with Inspire hands for the dexterous tasks); "ours" is the
DexMG env. All use hold (zero-delta) actions. Cameras: two 84x84 RGB views per step.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import dexmg_bench  # noqa: F401

STEPS = 40
TASKS = ["PieceAssembly", "Threading", "Transport", "BoxCleanup", "TrayLift", "DrawerCleanup"]
BARE = {
    "PieceAssembly": "TwoArmLift",
    "Threading": "TwoArmLift",
    "Transport": "TwoArmTransport",
    "BoxCleanup": "TwoArmLift",
    "TrayLift": "TwoArmLift",
    "DrawerCleanup": "TwoArmLift",
}
DEX_ROBOTS = ["PandaDexRH", "PandaDexLH"]  # robosuite 1.5.2's Pandas with Inspire hands
ROBOTS = {"BoxCleanup": DEX_ROBOTS, "TrayLift": DEX_ROBOTS, "DrawerCleanup": DEX_ROBOTS}


def _rate(benchmark, fn) -> float:
    benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)
    return STEPS / benchmark.stats.stats.min


@pytest.mark.parametrize("cameras", [False, True], ids=["lowdim", "cams84"])
@pytest.mark.parametrize("task", TASKS)
def test_ours(benchmark, record_rate, task, cameras):
    """DexMG env, hold action."""
    kwargs = {"obs_mode": "rgb", "cameras": ["overview", "robot0_eye_in_hand"]} if cameras else {}
    env = gym.make(f"DexMG/{task}-D0", disable_env_checker=True, **kwargs).unwrapped
    env.reset(seed=0)
    action = np.zeros(env.action_space.shape)

    def run():
        for _ in range(STEPS):
            env.step(action)

    record_rate(task, "ours_cams" if cameras else "ours", _rate(benchmark, run))
    env.close()


@pytest.mark.parametrize("task", TASKS)
def test_raw_physics_limit(benchmark, record_rate, task):
    """25 bare ``mj_step`` calls per env step on the same compiled model."""
    import mujoco

    env = gym.make(f"DexMG/{task}-D0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    m, d = env.physics.model, env.physics.data
    n_sub = 500 // env.config.control_freq

    def run():
        for _ in range(STEPS * n_sub):
            mujoco.mj_step(m, d)

    record_rate(task, "raw_mj_step", _rate(benchmark, run))


@pytest.mark.parametrize("cameras", [False, True], ids=["lowdim", "cams84"])
@pytest.mark.parametrize("task", TASKS)
def test_bare_robosuite(benchmark, record_rate, task, cameras):
    """Robosuite's own env with the same two Pandas and its OSC controller."""
    import robosuite

    cam_kwargs = (
        {
            "has_offscreen_renderer": True,
            "use_camera_obs": True,
            "camera_names": ["agentview", "robot0_eye_in_hand"],
            "camera_heights": 84,
            "camera_widths": 84,
        }
        if cameras
        else {"has_offscreen_renderer": False, "use_camera_obs": False}
    )
    env = robosuite.make(
        BARE[task],
        robots=ROBOTS.get(task, ["Panda", "Panda"]),
        env_configuration="parallel",
        has_renderer=False,
        control_freq=20,
        ignore_done=True,
        **cam_kwargs,
    )
    env.reset()
    action = np.zeros(env.action_dim)

    def run():
        for _ in range(STEPS):
            env.step(action)

    record_rate(task, "bare_cams" if cameras else "bare", _rate(benchmark, run))
    env.close()
