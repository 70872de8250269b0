"""The compiled OSC kernel against the plain numpy statement of the same control law."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from dexmg_bench.envs import HUMANOID, TASKS

# Largest torque difference allowed between kernel and reference, in N m. Both evaluate the same
# formulas in float64; only the summation order differs (measured: ~3e-10 at random states).
MAX_ABS_ERROR = 1e-8


def _random_state(env, rng: np.random.Generator) -> None:
    """Arm joints anywhere in their limits, random joint velocities, random goals."""
    m, d = env.physics.model, env.physics.data
    osc = env.osc
    for i in range(osc.n_arms):
        for qi, di in zip(osc.qpos_idx[i], osc.dof_idx[i], strict=True):
            jnt = int(m.dof_jntid[di])
            lo, hi = m.jnt_range[jnt] if m.jnt_limited[jnt] else (-np.pi, np.pi)
            d.qpos[qi] = rng.uniform(lo, hi)
            d.qvel[di] = rng.normal(scale=1.0)
    mujoco.mj_forward(m, d)
    pos, rot = osc.eef_pos_rot()
    axis = rng.normal(size=(osc.n_arms, 3))
    delta = mujoco_rot(axis * rng.uniform(0, 0.5, (osc.n_arms, 1)))
    osc.set_goal(pos + rng.normal(scale=0.05, size=pos.shape), delta @ rot)


def mujoco_rot(rotvec: np.ndarray) -> np.ndarray:
    """Rotation matrices from rotation vectors, via MuJoCo's own quaternion routines."""
    out = np.empty((len(rotvec), 3, 3))
    for k, v in enumerate(rotvec):
        quat = np.empty(4)
        angle = float(np.linalg.norm(v))
        mujoco.mju_axisAngle2Quat(quat, v / max(angle, 1e-12), angle)
        mat = np.empty(9)
        mujoco.mju_quat2Mat(mat, quat)
        out[k] = mat.reshape(3, 3)
    return out


@pytest.mark.parametrize("task", [t.name for t in TASKS if t.embodiment != HUMANOID])
def test_kernel_torques_match_the_numpy_reference(task):
    """On 25 random states per task the torques agree to MAX_ABS_ERROR (measured ~1e-12)."""
    env = gym.make(f"DexMG/{task}-D0-v0", disable_env_checker=True).unwrapped
    env.reset(seed=0)
    m, d = env.physics.model, env.physics.data
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(25):
        _random_state(env, rng)
        state = env.physics.get_state()
        mujoco.mj_step1(m, d)
        reference = env.osc.torques()
        env.physics.set_state(state)
        env.osc.step(1)  # step1, kernel torques into ctrl, step2
        kernel = d.ctrl[env.osc.act_idx]
        assert np.all(np.isfinite(kernel))
        worst = max(worst, float(np.abs(kernel - reference).max()))
    print(f"{task}: max abs torque error {worst:.3g} N m")
    assert worst < MAX_ABS_ERROR, f"{task}: max abs torque error {worst:.3g} N m"
    env.close()


def test_kernel_step_is_deterministic():
    """Same state and goal, same bytes after a control step."""
    env = gym.make("DexMG/Threading-D0-v0", disable_env_checker=True).unwrapped
    env.reset(seed=3)
    state = env.physics.get_state()
    env.osc.step(25)
    first = env.physics.get_state()
    env.physics.set_state(state)
    env.osc.step(25)
    np.testing.assert_array_equal(env.physics.get_state(), first)
    env.close()


def test_full_mass_matrix_is_the_inertia_that_mj_mulM_applies():  # noqa: N802 (MuJoCo's name)
    """``full_mass_matrix`` (MuJoCo 3's and 4's ``mj_fullM``) times v equals ``mj_mulM(v)``."""
    from dexmg_bench.sim.osc import full_mass_matrix

    env = gym.make("DexMG/Threading-D0-v0").unwrapped
    env.reset(seed=0)
    m, d = env.physics.model, env.physics.data
    _random_state(env, np.random.default_rng(0))
    mass = np.zeros((m.nv, m.nv))
    full_mass_matrix(m, d, mass)
    vec = np.random.default_rng(1).normal(size=m.nv)
    want = np.empty(m.nv)
    mujoco.mj_mulM(m, d, want, vec)
    np.testing.assert_allclose(mass @ vec, want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(mass, mass.T, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(mass) > 0)
    env.close()
