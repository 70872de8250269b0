"""A trained checkpoint as an evaluator ``Policy``: normalise, step the RNN, act."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dexmg_bench.baselines.checkpoint import load_checkpoint, model_state
from dexmg_bench.baselines.data import flatten_obs
from dexmg_bench.baselines.train import build_model


class TrainedPolicy:
    """Runs a BC-RNN checkpoint; the hidden state restarts every ``seq_len`` steps.

    Restarting matches how the network was trained (windows of ``seq_len`` from a zero state),
    as robomimic's rollouts do.
    """

    def __init__(self, path: str | Path, seed: int = 0):
        meta, arrays = load_checkpoint(Path(path))
        self.meta = meta
        self.model = build_model(meta)
        self.model.load_state_dict(model_state(arrays))
        self.model.eval()
        self.keys = tuple(meta["obs_keys"])
        self.mean, self.std = arrays["obs_mean"], arrays["obs_std"]
        self.seq_len = int(meta["model"]["seq_len"])
        self.generator = torch.Generator().manual_seed(seed)
        self.reset()

    def reset(self) -> None:
        """Start a new episode."""
        self.state = None
        self.t = 0

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """One action in [-1, 1]."""
        if self.t % self.seq_len == 0:
            self.state = None
        x = (flatten_obs(obs, self.keys) - self.mean) / self.std
        action, self.state = self.model.act(torch.from_numpy(x), self.state, self.generator)
        self.t += 1
        return action.numpy().astype(np.float64)
