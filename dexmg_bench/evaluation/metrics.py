"""Aggregation of per-checkpoint success rates: max over checkpoints, mean +- std over seeds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class SeedResult:
    """One training seed: success count per checkpoint name, out of ``episodes`` each."""

    training_seed: int
    episodes: int
    successes: Mapping[str, int]

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"`episodes` must be >= 1. Got {self.episodes}.")
        if not self.successes:
            raise ValueError(f"training seed {self.training_seed} has no checkpoints.")
        for name, k in self.successes.items():
            if not 0 <= k <= self.episodes:
                raise ValueError(f"checkpoint {name!r}: {k} successes of {self.episodes}.")

    @property
    def rates(self) -> dict[str, float]:
        """Success rate per checkpoint."""
        return {name: k / self.episodes for name, k in self.successes.items()}

    @property
    def best(self) -> tuple[str, float]:
        """The best checkpoint and its rate; ties go to the earliest listed checkpoint."""
        rates = self.rates
        name = max(rates, key=lambda c: (rates[c], -list(rates).index(c)))
        return name, rates[name]


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial rate; sound at 0 and n, unlike the normal one."""
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1. Got {successes}/{n}.")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def aggregate(results: list[SeedResult]) -> dict:
    """The headline number: mean and (population) std over seeds of each seed's best rate."""
    if not results:
        raise ValueError("no training seeds to aggregate.")
    best = [r.best[1] for r in results]
    mean = sum(best) / len(best)
    std = math.sqrt(sum((b - mean) ** 2 for b in best) / len(best))
    return {
        "success_mean": mean,
        "success_std": std,
        "per_seed": [
            {
                "training_seed": r.training_seed,
                "best_checkpoint": r.best[0],
                "best_rate": r.best[1],
                "rates": r.rates,
                "episodes": r.episodes,
            }
            for r in results
        ],
    }
