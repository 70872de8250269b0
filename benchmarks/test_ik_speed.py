"""GR-1 humanoid speed: whole-body IK solves/s and env steps/s per humanoid task.

"IK" times one ``WholeBodyIK.solve`` for a per-step tracking target (each hand 5 mm from its
current pose, the size of a scripted step), arms only (Can Sorting) and with the waist (Pouring,
Coffee). "ours" is the DexMG env stepped with a hold action (the current hand poses, absolute);
"raw" is 25 bare ``mj_step`` calls per env step on the same model. Cameras: two 84x84 RGB views.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import dexmg_bench  # noqa: F401

STEPS = 40
SOLVES = 100
TASKS = ["CanSorting"]


def _rate(benchmark, fn, n: int) -> float:
    benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)
    return n / benchmark.stats.stats.min


@pytest.mark.parametrize("task", TASKS)
def test_ik_solves(benchmark, record_rate, task):
    """IK solves/s for small per-step target moves from the measured posture."""
    env = gym.make(f"DexMG/{task}-D0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    ik = env.servo.ik
    rng = np.random.default_rng(0)
    q0 = env.servo.qpos()
    targets = []
    for _ in range(SOLVES):
        t = ik.frame_poses(q0)
        t[:, :3, 3] += rng.uniform(-0.005, 0.005, size=(2, 3))
        targets.append(t)

    def run():
        for t in targets:
            ik.solve(q0, t)

    record_rate(task, "ik_solves", _rate(benchmark, run, SOLVES))
    env.close()


@pytest.mark.parametrize("cameras", [False, True], ids=["lowdim", "cams84"])
@pytest.mark.parametrize("task", TASKS)
def test_humanoid_steps(benchmark, record_rate, task, cameras):
    """DexMG humanoid env steps/s with a hold action (IK solve + 25 substeps per step)."""
    kwargs = (
        {"obs_mode": "rgb", "cameras": ["overview", "robot0_eye_in_right_hand"]} if cameras else {}
    )
    env = gym.make(f"DexMG/{task}-D0", disable_env_checker=True, **kwargs).unwrapped
    env.reset(seed=0)
    hold = env.target_pose_to_action(env.eef_poses(), env.hand_command())

    def run():
        for _ in range(STEPS):
            env.step(hold)

    record_rate(task, "ours_cams" if cameras else "ours", _rate(benchmark, run, STEPS))
    env.close()


@pytest.mark.parametrize("task", TASKS)
def test_humanoid_raw_physics_limit(benchmark, record_rate, task):
    """25 bare ``mj_step`` calls per env step on the same compiled model."""
    import mujoco

    env = gym.make(f"DexMG/{task}-D0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    m, d = env.physics.model, env.physics.data

    def run():
        mujoco.mj_step(m, d, nstep=STEPS * 25)

    record_rate(task, "raw_mj_step", _rate(benchmark, run, STEPS))
    env.close()
