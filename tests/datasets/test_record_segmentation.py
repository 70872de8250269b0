"""A scripted episode that succeeds without firing every subtask signal counts, but is not kept."""

from __future__ import annotations

import numpy as np

from dexmg_bench.datasets import record


class _Env:
    """Two-step episodes; the right arm's ``pick`` signal fires only when ``fires`` is set."""

    subtask_names = {"right": ("pick", "place")}
    object_names = ("cube",)

    def __init__(self, fires: bool):
        self.fires, self.t = fires, 0

    def reset(self, seed: int):
        self.t = 0
        return {}, {"success": False}  # as every DexMG env's reset info

    def step(self, action):
        self.t += 1
        return {}, 0.0, False, False, {"success": self.t == 2}

    def get_state(self):
        return np.array([float(self.t)])

    def eef_poses(self):
        return np.eye(4)[None]

    def action_to_target_pose(self, action):
        return np.eye(4)[None]

    def object_poses(self):
        return {"cube": np.eye(4)}

    def subtask_signals(self):
        return {"right": {"pick": self.fires and self.t >= 1, "place": self.t >= 2}}


class _Expert:
    done = False

    def act(self):
        return np.zeros(7)


def test_success_without_every_signal_counts_but_is_not_a_source_demo(monkeypatch):
    """A success whose signals never fired must not raise from the segmentation (`expert-rate`)."""
    monkeypatch.setattr(record, "make_expert", lambda env, rng: _Expert())
    demo, info = record.run_expert(_Env(fires=False), 0, horizon=2)
    assert info["success"] and demo.success and not record.has_boundaries(demo)
    demo, _ = record.run_expert(_Env(fires=True), 0, horizon=2)
    assert demo.success and demo.boundaries["right"].tolist() == [2, 2]
