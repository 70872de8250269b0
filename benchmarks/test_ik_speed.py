"""GR-1 humanoid speed: whole-body IK solves/s and env steps/s per humanoid task.

"IK" times one ``WholeBodyIK.solve`` (the compiled kernel) and one ``reference_solve`` (the same
iteration through mink's objects and quadprog) for a per-step tracking target (each hand 5 mm from
its current pose, the size of a scripted step). "ours" is the DexMG env stepped with a hold action
(the current hand poses, absolute); "raw" is 25 bare ``mj_step`` calls per env step on the same
model and data, timed in rounds alternating with "ours". "bare" is robosuite's own ``TwoArmLift``
with the same robot (``GR1FixedLowerBody`` where the task moves the waist, else ``GR1ArmsOnly``;
Fourier hands) and robosuite's whole-body IK controller (``default_gr1.json``: absolute hand poses
in the base frame; robosuite's mink variant is not in its wheel), commanded its hand poses after
reset (its IK lets the hands drift a few cm over the rounds). Cameras: two 84x84 RGB views.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest

import dexmg_bench  # noqa: F401
from dexmg_bench.envs import HUMANOID
from dexmg_bench.envs import TASKS as REGISTRY

STEPS = 40
SOLVES = 100
ROUNDS = 10
TASKS = [t.name for t in REGISTRY if t.embodiment == HUMANOID]


def _rate(benchmark, fn, n: int) -> float:
    benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)
    return n / benchmark.stats.stats.min


def _tracking_targets(env, n: int) -> tuple[np.ndarray, list[np.ndarray]]:
    ik = env.servo.ik
    rng = np.random.default_rng(0)
    q0 = env.servo.qpos()
    targets = []
    for _ in range(n):
        t = ik.frame_poses(q0)
        t[:, :3, 3] += rng.uniform(-0.005, 0.005, size=(2, 3))
        targets.append(t)
    return q0, targets


@pytest.mark.parametrize("solver", ["kernel", "mink"])
@pytest.mark.parametrize("task", TASKS)
def test_ik_solves(benchmark, record_rate, task, solver):
    """IK solves/s for small per-step target moves from the measured posture."""
    env = gym.make(f"DexMG/{task}-D0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    q0, targets = _tracking_targets(env, SOLVES)
    solve = env.servo.ik.solve if solver == "kernel" else env.servo.ik.reference_solve

    def run():
        for t in targets:
            solve(q0, t)

    column = "ik_solves" if solver == "kernel" else "ik_solves_mink"
    record_rate(task, column, _rate(benchmark, run, SOLVES))
    env.close()


@pytest.mark.parametrize("task", TASKS)
def test_humanoid_steps_vs_raw(record_rate, task):
    """Env steps/s with a hold action and the raw ``mj_step`` limit, in alternating rounds.

    Both run on the same model and data from the same held state (raw keeps the servo set-points
    of the hold), so load from other processes hits both alike; each rate is the best of its
    rounds.
    """
    import mujoco

    env = gym.make(f"DexMG/{task}-D0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    hold = env.target_pose_to_action(env.eef_poses(), env.hand_command())
    m, d = env.physics.model, env.physics.data
    n_sub = 500 // env.config.control_freq

    def ours():
        for _ in range(STEPS):
            env.step(hold)

    def raw():
        mujoco.mj_step(m, d, nstep=STEPS * n_sub)

    ours()  # warm-up (first solves, caches)
    best = {"ours": np.inf, "raw_mj_step": np.inf}
    for _ in range(ROUNDS):
        for name, run in (("ours", ours), ("raw_mj_step", raw)):
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    for name, seconds in best.items():
        record_rate(task, name, STEPS / seconds)
    env.close()


@pytest.mark.parametrize("task", TASKS)
def test_humanoid_steps_with_cameras(benchmark, record_rate, task):
    """Env steps/s with two 84x84 RGB views per step (software rendering bound here)."""
    kwargs = {"obs_mode": "rgb", "cameras": ["overview", "robot0_eye_in_right_hand"]}
    env = gym.make(f"DexMG/{task}-D0", disable_env_checker=True, **kwargs).unwrapped
    env.reset(seed=0)
    hold = env.target_pose_to_action(env.eef_poses(), env.hand_command())

    def run():
        for _ in range(STEPS):
            env.step(hold)

    record_rate(task, "ours_cams", _rate(benchmark, run, STEPS))
    env.close()


def _bare_hold_action(env) -> np.ndarray:
    """Robosuite WholeBodyIK action that commands the current hand poses (base frame)."""
    import mujoco
    from scipy.spatial.transform import Rotation

    m, d = env.sim.model._model, env.sim.data._data
    base = m.body("robot0_base")
    base_rot = np.empty(9)
    mujoco.mju_quat2Mat(base_rot, base.quat)
    base_rot = base_rot.reshape(3, 3)
    poses = []
    for site in ("gripper0_right_grip_site", "gripper0_left_grip_site"):
        s = d.site(site)
        pos = base_rot.T @ (s.xpos - base.pos)
        rot = Rotation.from_matrix(base_rot.T @ s.xmat.reshape(3, 3)).as_rotvec()
        poses.append(np.concatenate([pos, rot]))
    return np.concatenate([*poses, np.zeros(env.action_dim - 12)])


@pytest.mark.parametrize("cameras", [False, True], ids=["lowdim", "cams84"])
@pytest.mark.parametrize("task", TASKS)
def test_bare_robosuite_gr1(benchmark, record_rate, task, cameras):
    """Robosuite's TwoArmLift with the same GR-1 and its own whole-body IK, hold action."""
    import robosuite
    from robosuite.controllers import load_composite_controller_config

    from dexmg_bench.envs import task_entry

    entry_point = gym.spec(f"DexMG/{task}-D0-v{task_entry(task).version}").entry_point
    robot = "GR1FixedLowerBody" if _task_uses_torso(entry_point) else "GR1ArmsOnly"
    cam_kwargs = (
        {
            "has_offscreen_renderer": True,
            "use_camera_obs": True,
            "camera_names": ["agentview", "robot0_eye_in_right_hand"],
            "camera_heights": 84,
            "camera_widths": 84,
        }
        if cameras
        else {"has_offscreen_renderer": False, "use_camera_obs": False}
    )
    env = robosuite.make(
        "TwoArmLift",
        robots=[robot],
        env_configuration="single-robot",
        controller_configs=load_composite_controller_config(robot="GR1"),
        has_renderer=False,
        control_freq=20,
        ignore_done=True,
        **cam_kwargs,
    )
    env.reset()
    hold = _bare_hold_action(env)

    def run():
        for _ in range(STEPS):
            env.step(hold)

    record_rate(task, "bare_cams" if cameras else "bare", _rate(benchmark, run, STEPS))
    env.close()


def _task_uses_torso(entry_point: str | type) -> bool:
    if isinstance(entry_point, str):
        import importlib

        module, name = entry_point.split(":")
        entry_point = getattr(importlib.import_module(module), name)
    return bool(entry_point.torso)
