"""The compiled BiGym IK (``sim/bigym_ik_kernel``) equals the numpy reference ``solve_ik``.

CI: on a small MuJoCo model shaped like BiGym's H1 (a walking base: slide x, slide y, hinge yaw;
two 5-hinge arms with limits; a pinch site per arm). Slow tier: on BiGym's own model, random
arm/base states and targets, all three tasks' scenes.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from dexmg_bench.geometry import axis_angle_to_mat
from dexmg_bench.sim.bigym_ik import IKGains, solve_ik
from dexmg_bench.sim.bigym_ik_kernel import solve_on

ARM = """
<body name="{s}_shoulder" pos="0 {y} 0.4">
  <joint name="{s}_j0" axis="0 1 0" range="-2.5 2.5"/>
  <geom type="capsule" size="0.03" fromto="0 0 0 0 0 -0.05"/>
  <body><joint name="{s}_j1" axis="1 0 0" range="-0.4 2.0"/><geom size="0.03"/>
    <body><joint name="{s}_j2" axis="0 0 1" range="-1.3 1.3"/><geom size="0.03"/>
      <geom type="capsule" size="0.03" fromto="0 0 0 0 0 -0.25"/>
      <body pos="0 0 -0.25"><joint name="{s}_j3" axis="0 1 0" range="-1.2 2.0"/>
        <geom type="capsule" size="0.03" fromto="0 0 0 0.25 0 0"/>
        <body pos="0.25 0 0"><joint name="{s}_j4" axis="1 0 0" range="-1.5 1.5"/>
          <geom type="capsule" size="0.02" fromto="0 0 0 0.1 0 0"/>
          <site name="{s}_pinch" pos="0.12 0 0"/>
        </body>
      </body>
    </body>
  </body>
</body>
"""
XML = f"""
<mujoco>
  <worldbody>
    <body name="pelvis" pos="0 0 1">
      <joint name="x" type="slide" axis="1 0 0"/>
      <joint name="y" type="slide" axis="0 1 0"/>
      <joint name="yaw" axis="0 0 1"/>
      <geom type="capsule" size="0.1" fromto="0 0 0 0 0 0.4"/>
      {ARM.format(s="left", y=0.2)}{ARM.format(s="right", y=-0.2)}
    </body>
    <body name="prop" pos="1 0 0.5"><freejoint/><geom size="0.05"/></body>
  </worldbody>
</mujoco>
"""


class SmallH1:
    """The model, its IK binding as ``RealBiGym._ik_binding`` makes it, and numpy kinematics."""

    def __init__(self) -> None:
        m = self.model = mujoco.MjModel.from_xml_string(XML)
        self.data = mujoco.MjData(m)
        names = ["x", "y", "yaw"] + [f"{s}_j{k}" for s in ("left", "right") for k in range(5)]
        ids = np.array([mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, n) for n in names])
        self.qadr, self.dadr = m.jnt_qposadr[ids], m.jnt_dofadr[ids]
        site = mujoco.mjtObj.mjOBJ_SITE
        self.sites = np.array([mujoco.mj_name2id(m, site, f"{s}_pinch") for s in ("right", "left")])
        limited = m.jnt_limited[ids].astype(bool)
        self.lower = np.where(limited, m.jnt_range[ids, 0], -np.inf)
        self.upper = np.where(limited, m.jnt_range[ids, 1], np.inf)
        self.scratch = mujoco.MjData(m)
        self.reference_scratch = mujoco.MjData(m)

    def kinematics(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``RealBiGym.kinematics``: poses and world Jacobians of both sites at ``q``."""
        m, d = self.model, self.reference_scratch
        d.qpos[:] = self.data.qpos
        d.qpos[self.qadr] = q
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        poses = np.tile(np.eye(4), (2, 1, 1))
        jac = np.empty((2, 6, len(q)))
        jacp, jacr = np.empty((3, m.nv)), np.empty((3, m.nv))
        for i, site in enumerate(self.sites):
            poses[i, :3, :3] = d.site_xmat[site].reshape(3, 3)
            poses[i, :3, 3] = d.site_xpos[site]
            mujoco.mj_jacSite(m, d, jacp, jacr, site)
            jac[i, :3], jac[i, 3:] = jacp[:, self.dadr], jacr[:, self.dadr]
        return poses, jac

    def solve(
        self, q0: np.ndarray, targets: np.ndarray, cost: np.ndarray, gains: IKGains
    ) -> tuple[np.ndarray, np.ndarray]:
        """The compiled kernel on this model, as ``RealBiGym.solve_ik`` calls it."""
        return solve_on(
            self.model, self.scratch, self.data.qpos, self.qadr, self.dadr, self.sites,
            q0, targets, (self.lower, self.upper), cost=cost, gains=gains,
        )  # fmt: skip


def _random_case(
    q_now: np.ndarray,
    poses: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """A start near ``q_now`` (sometimes outside the limits) and targets near ``poses``.

    The targets range from reachable to 0.5 m / 1 rad away.
    """
    q0 = q_now + rng.normal(0, 0.4, q_now.size)
    if rng.random() < 0.2:  # a start outside the limits is clipped first
        q0[rng.integers(3, q0.size)] = upper[3:].max() + 1.0
    targets = poses.copy()
    scale = rng.choice([0.02, 0.15, 0.5])
    for i in range(2):
        targets[i, :3, 3] += rng.normal(0, scale, 3)
        targets[i, :3, :3] = axis_angle_to_mat(rng.normal(0, scale * 2, 3)) @ targets[i, :3, :3]
    return q0, targets


def _compare(kinematics, kernel, q_now, poses, lower, upper, rng, n=100):  # noqa: PLR0917
    """Largest joint and error differences of ``n`` random solves; also how many iterated."""
    gains = IKGains()
    nb = q_now.size - 10  # base dofs: x, y, yaw (and z where BiGym crouches)
    cost = np.r_[np.full(nb, gains.base_cost), np.ones(10)]
    worst_q = worst_err = 0.0
    limited = 0
    for _ in range(n):
        q0, targets = _random_case(q_now, poses, lower, upper, rng)
        q_ref, err_ref = solve_ik(kinematics, q0, targets, lower, upper, cost=cost, gains=gains)
        q_fast, err_fast = kernel(q0, targets, cost, gains)
        worst_q = max(worst_q, np.abs(q_ref - q_fast).max())
        worst_err = max(worst_err, np.abs(err_ref - err_fast).max())
        limited += bool(np.any((q_ref <= lower) | (q_ref >= upper)))
    return worst_q, worst_err, limited


def test_kernel_equals_numpy_reference_on_small_h1(rng):
    """200 random starts and targets: the kernel's joints and errors within 1e-9 of numpy's."""
    h1 = SmallH1()
    h1.data.qpos[h1.qadr[3:]] = rng.uniform(-0.5, 0.5, 10)
    mujoco.mj_kinematics(h1.model, h1.data)
    q_now = h1.data.qpos[h1.qadr].copy()
    poses, _ = h1.kinematics(q_now)

    worst_q, worst_err, limited = _compare(
        h1.kinematics, h1.solve, q_now, poses, h1.lower, h1.upper, rng, n=200
    )
    assert worst_q < 1e-9 and worst_err < 1e-9, (worst_q, worst_err)
    assert limited > 10  # the joint-limit freezing was exercised, not only free solves


def test_kernel_leaves_the_scene_alone(rng):
    """The kernel writes only its scratch data: the scene's qpos is untouched."""
    h1 = SmallH1()
    before = h1.data.qpos.copy()
    q0 = h1.data.qpos[h1.qadr].copy()
    targets = h1.kinematics(q0)[0]
    targets[:, 0, 3] += 0.1
    gains = IKGains()
    q, err = h1.solve(q0, targets, np.r_[np.full(3, 50.0), np.ones(10)], gains)
    np.testing.assert_array_equal(h1.data.qpos, before)
    assert err.max() < 5e-3 and np.abs(q - q0).max() > 0.05  # it did move, and reached


@pytest.mark.slow
@pytest.mark.parametrize("task", ["FlipCup", "DishwasherLoadPlates", "CupboardsCloseAll"])
def test_kernel_equals_numpy_reference_on_bigym(task, rng):
    """On BiGym's own model, 100 random starts and targets: within 1e-9 of numpy's.

    The scene is as it stands after a reset and some motion, not only the reset posture.
    """
    pytest.importorskip("bigym", reason="BiGym is not installed (see the README's BiGym section)")
    import gymnasium as gym

    env = gym.make(f"DexMG/BiGym-{task}-v0", disable_env_checker=True).unwrapped
    env.reset(seed=int(rng.integers(100)))
    target = env.eef_poses()
    target[:, 0, 3] += 0.05
    for _ in range(5):  # a scene in motion, not only the reset posture
        env.step(env.target_pose_to_action(target, np.ones(2)))
    raw, backend = env.raw, env._backend
    q_now, lower, upper = backend.ik_joints(raw)

    def kernel(q0, targets, cost, gains):
        return backend.solve_ik(raw, q0, targets, lower, upper, cost=cost, gains=gains)

    worst_q, worst_err, _ = _compare(
        lambda q: backend.kinematics(raw, q), kernel, q_now, env.eef_poses(), lower, upper, rng
    )
    assert worst_q < 1e-9 and worst_err < 1e-9, (worst_q, worst_err)
    env.close()


@pytest.mark.slow
@pytest.mark.parametrize("task", ["FlipCup", "DishwasherLoadPlates", "CupboardsCloseAll"])
def test_fused_pose_conversion_equals_the_adapters_glue(task, rng):
    """The one-call pose-to-joint conversion gives the adapter's numpy path, bit for bit.

    60 random pose actions around the current pinch sites (up to 30 cm off, some out of reach,
    random grippers), each converted from the same scene both ways; the scene moves in between.
    """
    pytest.importorskip("bigym", reason="BiGym is not installed (see the README's BiGym section)")
    import gymnasium as gym

    env = gym.make(f"DexMG/BiGym-{task}-v0", disable_env_checker=True).unwrapped
    env.reset(seed=int(rng.integers(100)))
    fused = env._fused
    assert fused is not None  # the real backend has it
    for k in range(60):
        target = env.eef_poses()
        target[:, :3, 3] += rng.uniform(-0.3, 0.3, (2, 3))
        hand = rng.uniform(-1, 1, 2)
        action = env._validate(env.target_pose_to_action(target, hand))
        joint = env._pose_to_joint_action(action)
        err = env.ik_error()
        env._fused = None
        reference = env._pose_to_joint_action(action)
        env._fused = fused
        assert joint.dtype == reference.dtype
        np.testing.assert_array_equal(joint, reference, err_msg=str(k))
        np.testing.assert_array_equal(err, env.ik_error(), err_msg=str(k))
        if k % 10 == 0:
            env.step(action)  # a scene in motion
    env.close()
