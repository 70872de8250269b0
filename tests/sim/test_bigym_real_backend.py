"""The real BiGym backend's readings that need no BiGym: its one-call gripper state."""

from __future__ import annotations

import numpy as np

from dexmg_bench.sim.bigym_real import _gripper_state


def test_gripper_state_one_call_equals_per_joint():
    """The one-call gripper reading equals BiGym's per-joint formula, bit for bit.

    Including values on the 0.1 rounding edges and outside the joint range (clamped).
    """
    rng = np.random.default_rng(0)
    jr, cr = np.array([0.0, 0.8]), np.array([0, 1])
    adr = np.array([[1, 3], [5, 7]])
    per_joint = [[(int(a), jr, cr) for a in row] for row in adr]
    edges = np.arange(0, 11) * 0.08  # joint values that map onto the rounding edges
    for k in range(2000):
        qpos = rng.uniform(-0.1, 0.9, 9)
        if k % 2:
            qpos[adr] = rng.choice(edges, adr.shape) + rng.choice([0.0, 1e-12, -1e-12], adr.shape)
        fast = _gripper_state(qpos, (adr, jr, cr))
        slow = _gripper_state(qpos, per_joint)
        reference = np.array(  # BiGym's Gripper.qpos, as it writes it
            [np.round(np.average([np.interp(qpos[a], jr, cr) for a in row]), 1) for row in adr],
            np.float32,
        )
        assert fast.dtype == slow.dtype == np.float32
        np.testing.assert_array_equal(fast, reference)
        np.testing.assert_array_equal(slow, reference)
