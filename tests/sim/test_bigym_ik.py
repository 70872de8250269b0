"""The numpy reference of BiGym's arm IK (``sim/bigym_ik.solve_ik``) on a model it can solve."""

from __future__ import annotations

import numpy as np

from dexmg_bench.sim.bigym_ik import IKGains, solve_ik


def test_solve_ik_on_a_planar_arm_respects_limits():
    """The DLS core alone: a 2-link planar arm reaches a reachable point; a limit holds."""

    def kin(q):
        a, b = q[0], q[0] + q[1]
        x = np.cos(a) + np.cos(b)
        y = np.sin(a) + np.sin(b)
        pose = np.eye(4)
        pose[:3, 3] = [x, y, 0.0]
        jac = np.zeros((1, 6, 2))
        jac[0, 0] = [-np.sin(a) - np.sin(b), -np.sin(b)]
        jac[0, 1] = [np.cos(a) + np.cos(b), np.cos(b)]
        return pose[None], jac

    gains = IKGains(rot_weight=1e-6, iterations=200)
    target = np.eye(4)[None].copy()
    target[0, :3, 3] = [1.2, 0.8, 0.0]
    inf = np.full(2, np.inf)
    q, err = solve_ik(kin, np.array([0.1, 0.5]), target, -inf, inf, cost=np.ones(2), gains=gains)
    assert err[0] < 1e-3
    lower, upper = np.array([-np.inf, 0.0]), np.array([np.inf, 0.2])  # elbow almost locked
    q, err = solve_ik(kin, np.array([0.1, 0.1]), target, lower, upper, cost=np.ones(2), gains=gains)
    assert lower[1] <= q[1] <= upper[1] and err[0] > 0.1  # unreachable: followed, not violated
