"""A source demo stand-in for segmentation tests: every array encodes its step index."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dexmg_bench.geometry import make_pose


@dataclass
class FakeDemo:
    """The fields of ``SourceDemo`` that segmentation reads."""

    target_pose: np.ndarray
    hand: np.ndarray
    object_pose: dict[str, np.ndarray]
    signals: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def fake_demo(ons: dict[str, dict[str, int]], n_steps: int) -> FakeDemo:
    """A demo of ``n_steps`` whose arrays encode the step index.

    Signal ``s`` of an arm turns on at ``ons[arm][s]``; objects ``a`` and ``b`` move together.
    """
    steps = np.arange(n_steps, dtype=float)
    pos = np.stack([steps, np.zeros(n_steps), np.ones(n_steps)], axis=1)
    target = np.stack([make_pose(pos, np.eye(3)), make_pose(pos + [0, 1, 0], np.eye(3))], axis=1)
    hand = np.stack([steps, -steps], axis=1)[:, :, None]
    obj = make_pose(np.stack([steps, steps, steps], axis=1), np.eye(3))
    signals = {
        arm: {name: np.arange(n_steps) >= on for name, on in d.items()} for arm, d in ons.items()
    }
    return FakeDemo(target, hand, {"a": obj, "b": obj + 0}, signals)
