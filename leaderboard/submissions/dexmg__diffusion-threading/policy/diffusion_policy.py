"""Baseline row: a low-dim Diffusion Policy checkpoint trained with `dexmg train`."""

import numpy as np


class DiffusionPolicyEntry:
    """Loads a dexmg-bench checkpoint (.npz, no pickle); replans an action chunk every 8 steps."""

    def __init__(self, *, checkpoint: str, task: str, variant: str):
        import torch

        from dexmg_bench.baselines.policy import TrainedPolicy

        torch.set_num_threads(1)
        self.inner = TrainedPolicy(checkpoint)

    def reset(self) -> None:
        """New episode: clear history and queue, restart the DDIM noise stream from seed 0.

        Then an episode's actions do not depend on which episodes ran before it in this process.
        """
        self.inner.reset()
        self.inner.actor.generator.manual_seed(0)

    def act(self, obs: dict) -> np.ndarray:
        """The next queued action of the current chunk, in [-1, 1]."""
        return self.inner.act(obs)
