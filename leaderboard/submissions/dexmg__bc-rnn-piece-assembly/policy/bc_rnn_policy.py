"""Baseline row: a low-dim BC-RNN checkpoint trained with `dexmg train` (reproduce_table1)."""

import numpy as np


class BCRNNPolicy:
    """Loads a dexmg-bench checkpoint (.npz, no pickle) and steps its LSTM on each observation."""

    def __init__(self, *, checkpoint: str, task: str, variant: str):
        import torch

        from dexmg_bench.baselines.policy import TrainedPolicy

        torch.set_num_threads(1)
        self.inner = TrainedPolicy(checkpoint)

    def reset(self) -> None:
        """New episode: clear the LSTM state."""
        self.inner.reset()

    def act(self, obs: dict) -> np.ndarray:
        """The network's action in [-1, 1]."""
        return self.inner.act(obs)
