"""Which episodes an evaluation runs: fixed by the evaluator, never by the policy's author."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# Mixed into every episode-seed derivation so evaluation seeds never coincide with the small
# integers (0, 1, 2, ...) that source demos, generation and training use.
_EVAL_DOMAIN = 0x45564131  # "EVA1"


@dataclass(frozen=True, kw_only=True)
class EvalProtocol:
    """One evaluation: task, variant, episodes per checkpoint and the training seeds to expect.

    Attributes:
        task: task name (see `dexmg envs`).
        variant: reset variant to evaluate on.
        episodes: episodes per checkpoint.
        training_seeds: the training seeds whose checkpoints are evaluated.
        base_seed: evaluation seed family (keep 0 for comparable numbers).
        max_steps: step limit per episode (0 = the task's horizon).
        workers: simulator processes.
    """

    task: str
    variant: str = "D0"
    episodes: int = 50
    training_seeds: tuple[int, ...] = (0, 1, 2)
    base_seed: int = 0
    max_steps: int = 0
    workers: int = 1

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"`episodes` must be >= 1. Got {self.episodes}.")
        if not self.training_seeds:
            raise ValueError("`training_seeds` must name at least one seed.")
        if len(set(self.training_seeds)) != len(self.training_seeds):
            raise ValueError(f"`training_seeds` has duplicates: {self.training_seeds}.")
        if self.max_steps < 0:
            raise ValueError(f"`max_steps` must be >= 0. Got {self.max_steps}.")
        if self.workers < 1:
            raise ValueError(f"`workers` must be >= 1. Got {self.workers}.")
        if self.variant not in ("D0", "D1", "D2"):
            raise ValueError(f"`variant` must be D0, D1 or D2. Got {self.variant!r}.")

    def to_json(self) -> dict:
        """Plain JSON-ready dict (tuples become lists)."""
        d = asdict(self)
        d["training_seeds"] = list(self.training_seeds)
        return d


def episode_seeds(base_seed: int, n: int, training_seed: int = 0) -> list[int]:
    """``n`` reset seeds for one training seed, a pure function of its arguments.

    Every checkpoint of a training seed meets the same episodes, so "max over checkpoints"
    compares like with like; different training seeds get different episodes.
    """
    if n < 0:
        raise ValueError(f"`n` must be >= 0. Got {n}.")
    seq = np.random.SeedSequence([_EVAL_DOMAIN, base_seed, training_seed])
    return [int(s) for s in seq.generate_state(n, dtype=np.uint32)]
