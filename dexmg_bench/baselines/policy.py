"""A trained checkpoint as an evaluator ``Policy``: normalise, step the RNN, act."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dexmg_bench.baselines.checkpoint import load_checkpoint, model_state
from dexmg_bench.baselines.data import flatten_obs, time_column
from dexmg_bench.baselines.pose_targets import PoseFrame, to_actions
from dexmg_bench.baselines.train import build_model


class TrainedPolicy:
    """Runs any baseline checkpoint: normalise the observation, step the network's actor."""

    def __init__(self, path: str | Path, seed: int = 0):
        meta, arrays = load_checkpoint(Path(path))
        self.meta = meta
        self.model = build_model(meta)
        self.model.load_state_dict(model_state(arrays))
        self.model.eval()
        self.keys = tuple(meta["obs_keys"])
        self.image_keys = tuple(meta.get("image_keys") or ())
        self.mean, self.std = arrays["obs_mean"], arrays["obs_std"]
        self.features = meta.get("features", "quat")  # checkpoints from before rot6d
        ones = np.ones(int(meta["action_dim"]), dtype=np.float32)
        self.action_centre = arrays.get("action_centre", 0 * ones)
        self.action_half_range = arrays.get("action_half_range", ones)
        self.time_horizon = int(meta.get("time_horizon") or 0)  # 0: no time input
        frame = meta.get("pose_frame")
        self.pose_frame = PoseFrame.from_json(frame) if frame else None
        self.t = 0
        self.actor = self.model.actor(torch.Generator().manual_seed(seed))

    def reset(self) -> None:
        """Start a new episode."""
        self.actor.reset()
        self.t = 0

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """One action in the env's units (the network's [-1, 1] output scaled back).

        A pose-target policy's output is turned into the delta toward it from ``obs``.
        """
        x = flatten_obs(obs, self.keys, self.features)
        if self.time_horizon:
            x = np.concatenate([x, time_column(1, self.time_horizon, self.t)[0]])
        self.t += 1
        x = (x - self.mean) / self.std
        image = None
        if self.image_keys:
            image = torch.from_numpy(np.stack([obs[k] for k in self.image_keys]))
        out = self.actor.step(torch.from_numpy(x), image).numpy()
        action = (out * self.action_half_range + self.action_centre).astype(np.float64)
        return action if self.pose_frame is None else to_actions(self.pose_frame, obs, action)
