"""Whole-body IK on the GR-1: reaches reachable targets, stays in limits, survives bad targets."""

from __future__ import annotations

import time

import mujoco
import numpy as np
import pytest

from dexmg_bench.envs.robots import gr1
from dexmg_bench.sim.humanoid_scene import humanoid_xml, ik_model_xml
from dexmg_bench.sim.ik import IKConfig, WholeBodyIK

FRAMES = (gr1.EEF_SITE["right"], gr1.EEF_SITE["left"])
TOLERANCE_M, TOLERANCE_RAD = 1e-3, 1e-2  # the tolerance the IK is held to (1 mm, 0.57 deg)


@pytest.fixture(scope="module", params=[False, True], ids=["arms", "arms+torso"])
def ik(request) -> WholeBodyIK:
    """The GR-1's IK, arms only (Can Sorting) and with the waist (Pouring, Coffee)."""
    torso = request.param
    xml = humanoid_xml(
        torso=torso,
        base_xyz=gr1.BASE_XYZ,
        table_size=(0.8, 1.2, 0.05),
        table_top=(0.0, 0.0, 0.9),
        objects_xml="",
    )
    joints = (gr1.TORSO_JOINTS if torso else ()) + gr1.ARM_JOINTS["right"] + gr1.ARM_JOINTS["left"]
    model = mujoco.MjModel.from_xml_string(ik_model_xml(xml, joints))
    rest = np.concatenate([np.zeros(3)] * torso + [np.asarray(gr1.ARM_REST[a]) for a in gr1.ARMS])
    return WholeBodyIK(model, FRAMES, rest, IKConfig(iterations=20))


def _random_reachable(ik: WholeBodyIK, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Targets made by forward kinematics of a random posture near rest (so they are reachable)."""
    q = np.clip(ik._posture.target_q + rng.normal(0, 0.3, ik.model.nq), ik.lower, ik.upper)
    return q, ik.frame_poses(q)


def test_reaches_reachable_targets_within_tolerance(ik, rng):
    """50 random reachable target pairs are reached to 1 mm / 0.01 rad from the rest posture."""
    rest = ik._posture.target_q
    for _ in range(50):
        _, targets = _random_reachable(ik, rng)
        result = ik.solve(rest, targets)
        assert result.pos_error.max() < TOLERANCE_M, result
        assert result.rot_error.max() < TOLERANCE_RAD, result
        assert result.reached.all()
        np.testing.assert_allclose(ik.frame_poses(result.qpos), targets, atol=2e-3)


def test_solutions_respect_joint_limits(ik, rng):
    """Targets pulling past the joint ranges give solutions inside them, every joint."""
    rest = ik._posture.target_q
    for _ in range(20):
        targets = ik.frame_poses(rest)
        targets[:, :3, 3] += rng.uniform(-0.8, 0.8, size=(2, 3))
        result = ik.solve(rest + rng.normal(0, 2.0, rest.shape), targets)
        assert np.all(result.qpos >= ik.lower - 1e-9) and np.all(result.qpos <= ik.upper + 1e-9)


def test_out_of_reach_target_converges_to_nearest_pose_and_reports_it(ik):
    """A hand target 2 m ahead: no exception or NaN; the hand stretches toward it, residual told.

    The residual is the true distance of the reached pose, and a second solve does not run away.
    """
    rest = ik._posture.target_q
    targets = ik.frame_poses(rest)
    start = targets[0, :3, 3].copy()
    targets[0, :3, 3] += (2.0, 0.0, 0.0)
    result = ik.solve(rest, targets)
    assert np.all(np.isfinite(result.qpos))
    assert np.all(np.isfinite(result.pos_error)) and np.all(np.isfinite(result.rot_error))
    assert not result.reached[0]
    reached = ik.frame_poses(result.qpos)[0, :3, 3]
    assert reached[0] > start[0] + 0.2  # moved toward the target
    assert result.pos_error[0] == pytest.approx(np.linalg.norm(reached - targets[0, :3, 3]))
    # Solving again from there does not run away (it may still creep closer).
    again = ik.solve(result.qpos, targets)
    assert again.pos_error[0] <= result.pos_error[0] + 1e-3


def test_bad_inputs_raise_clear_errors(ik):
    """Non-finite targets and wrong shapes are refused by name; a sloppy rotation is projected."""
    rest = ik._posture.target_q
    targets = ik.frame_poses(rest)
    bad = targets.copy()
    bad[0, 0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        ik.solve(rest, bad)
    with pytest.raises(ValueError, match=r"expected targets of shape \(2, 4, 4\)"):
        ik.solve(rest, targets[:1])
    sloppy = targets.copy()
    sloppy[:, :3, :3] *= 1.01
    result = ik.solve(rest, sloppy)
    assert result.reached.all()


def test_config_is_validated():
    """Configs refuse meaningless values, naming them."""
    with pytest.raises(ValueError, match="iterations"):
        IKConfig(iterations=0)
    with pytest.raises(ValueError, match="posture_cost"):
        IKConfig(posture_cost=-1.0)


def test_solve_rate_is_measured(ik, rng, record_property):
    """Solves per second for per-step tracking (target 5 mm from the current pose)."""
    q = ik._posture.target_q.copy()
    n, t0 = 100, time.perf_counter()
    for _ in range(n):
        targets = ik.frame_poses(q)
        targets[:, :3, 3] += rng.uniform(-0.005, 0.005, size=(2, 3))
        q = ik.solve(q, targets).qpos
    rate = n / (time.perf_counter() - t0)
    record_property("ik_solves_per_s", rate)
    assert rate > 20
