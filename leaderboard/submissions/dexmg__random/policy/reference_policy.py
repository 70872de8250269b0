"""Floor row: uniform random actions."""

import numpy as np

from dexmg_bench.baselines.adapters import RandomPolicy


class Random:
    """Seeded from the checkpoint, so every run of this entry is reproducible."""

    def __init__(self, *, checkpoint: str, task: str, variant: str):  # noqa: ARG002
        with np.load(checkpoint, allow_pickle=False) as f:
            self.seed, dim = int(f["seed"]), int(f["action_dim"])
        self.inner = RandomPolicy(dim, seed=self.seed)

    def reset(self) -> None:
        """Restart the stream so each episode's actions depend only on the checkpoint."""
        self.inner.rng = np.random.default_rng(self.seed)

    def act(self, obs: dict) -> np.ndarray:
        """A uniform action."""
        return self.inner.act(obs)
