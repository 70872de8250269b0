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


# Largest joint-position difference allowed between the compiled solve and mink's reference. Both
# run the same iteration in float64 and solve the same strictly convex QP exactly; only rounding
# differs (measured: max 1.3e-11 rad over 200 random starts and targets per model).
MAX_ABS_ERROR_RAD = 1e-9


def test_compiled_solve_matches_the_mink_reference(ik, rng):
    """The kernel gives mink's answer: same iterations, qpos within MAX_ABS_ERROR_RAD.

    Random starts and targets; a third of the targets are pushed up to 0.8 m out of reach, so the
    joint limits bind.
    """
    rest = ik._posture.target_q
    worst = 0.0
    at_limit = 0
    for k in range(60):
        q0 = np.clip(rest + rng.normal(0, 0.5, rest.shape), ik.lower, ik.upper)
        _, targets = _random_reachable(ik, rng)
        if k % 3 == 0:
            targets[:, :3, 3] += rng.uniform(-0.8, 0.8, size=(2, 3))
        fast = ik.solve(q0, targets)
        ref = ik.reference_solve(q0, targets)
        assert fast.iterations == ref.iterations
        worst = max(worst, float(np.abs(fast.qpos - ref.qpos).max()))
        np.testing.assert_allclose(fast.pos_error, ref.pos_error, atol=1e-9)
        np.testing.assert_allclose(fast.rot_error, ref.rot_error, atol=1e-9)
        at_limit += int(np.any(np.minimum(fast.qpos - ik.lower, ik.upper - fast.qpos) < 1e-3))
    print(f"max abs qpos error {worst:.3g} rad; {at_limit}/60 solutions at a joint limit")
    assert worst < MAX_ABS_ERROR_RAD
    assert at_limit > 0  # the bounds of the QP were active in some solves


def test_box_qp_matches_quadprog(rng):
    """The kernel's box-constrained QP solver finds quadprog's minimiser on random problems."""
    import qpsolvers

    from dexmg_bench.sim.ik_kernel import _box_qp

    active = 0
    for _ in range(200):
        n = int(rng.integers(1, 20))
        a = rng.normal(size=(n, n))
        h = a @ a.T + 1e-3 * np.eye(n)
        c = rng.normal(size=n) * 3.0
        lb, ub = -rng.uniform(0, 1, n), rng.uniform(0, 1, n)
        lb[rng.uniform(size=n) < 0.1] = 0.0  # a joint sitting on its limit
        x = _box_qp(h, c, lb, ub)
        ref = qpsolvers.solve_qp(h, c, lb=lb, ub=ub, solver="quadprog")
        np.testing.assert_allclose(x, ref, atol=1e-9)
        assert np.all(x >= lb) and np.all(x <= ub)
        active += int(np.any((x == lb) | (x == ub)))
    assert active > 100


def test_out_of_reach_target_ends_at_the_nearest_reachable_position(ik, rng, caplog):
    """Far targets: the hand ends as close as any of 5000 random postures gets (within 5 mm).

    Position only (orientation cost 0), so "nearest" is plain distance. Five consecutive solves,
    as five control steps would run them: every result is finite, nothing is logged, and the
    reported residual is the distance the hand really is from its target.
    """
    config = IKConfig(iterations=20, orientation_cost=0.0)
    pos_only = WholeBodyIK(ik.model, FRAMES, ik._posture.target_q, config)
    rest = pos_only._posture.target_q
    samples = np.array(
        [pos_only.frame_poses(rng.uniform(ik.lower, ik.upper))[0, :3, 3] for _ in range(5000)]
    )
    for offset in [(2.0, 0.0, 0.0), (0.0, 0.0, 2.0), (1.0, 1.0, -1.0)]:
        targets = pos_only.frame_poses(rest)
        targets[0, :3, 3] += offset
        q = rest
        for _ in range(5):
            result = pos_only.solve(q, targets)
            q = result.qpos
            assert np.all(np.isfinite(q)) and np.isfinite(result.pos_error).all()
        reached = pos_only.frame_poses(q)[0, :3, 3]
        assert result.pos_error[0] == pytest.approx(np.linalg.norm(reached - targets[0, :3, 3]))
        nearest_sampled = np.linalg.norm(samples - targets[0, :3, 3], axis=1).min()
        assert result.pos_error[0] < nearest_sampled + 5e-3, (offset, nearest_sampled)
        assert not result.reached[0]
    assert not caplog.records
