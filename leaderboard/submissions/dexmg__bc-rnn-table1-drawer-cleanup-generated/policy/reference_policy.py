"""Reference entry: a dexmg-bench baseline checkpoint (.npz, no pickle)."""

import numpy as np


class ReferencePolicy:
    """Loads the checkpoint with dexmg-bench's ``TrainedPolicy`` and acts on each observation."""

    def __init__(self, *, checkpoint: str, task: str, variant: str):
        import torch

        from dexmg_bench.baselines.policy import TrainedPolicy

        torch.set_num_threads(1)
        self.inner = TrainedPolicy(checkpoint)

    def reset(self) -> None:
        """New episode: forget the recurrent context."""
        self.inner.reset()

    def act(self, obs: dict) -> np.ndarray:
        """The network's action in the env's units."""
        return self.inner.act(obs)
