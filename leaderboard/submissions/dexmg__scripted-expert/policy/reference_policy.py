"""Oracle row: the task's scripted expert, driven from observations only."""

import numpy as np

from dexmg_bench.baselines.adapters import ObservationExpert


class ExpertPolicy:
    """Builds its own (never stepped) env for constants; poses come from the observations."""

    def __init__(self, *, checkpoint: str, task: str, variant: str):
        with np.load(checkpoint, allow_pickle=False) as f:
            seed = int(f["seed"])
        self.inner = ObservationExpert(f"DexMG/{task}-{variant}-v0", seed=seed)

    def reset(self) -> None:
        """New plan at the next observation."""
        self.inner.reset()

    def act(self, obs: dict) -> np.ndarray:
        """The expert's action."""
        return self.inner.act(obs)
