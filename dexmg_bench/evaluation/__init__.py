"""The standard evaluator: evaluator-controlled episode seeds, rollouts, and aggregation.

Protocol (the paper's and robomimic's): for each of 3 training seeds, roll out every checkpoint
for N episodes on seeds the evaluator derives, keep the best checkpoint's success rate, and
report mean +- std over training seeds. ``protocol`` and ``metrics`` are pure; ``rollout`` runs
the simulator in worker processes, so a policy only ever sees observations.
"""

from dexmg_bench.evaluation.metrics import SeedResult, aggregate, wilson_interval
from dexmg_bench.evaluation.protocol import EvalProtocol, episode_seeds

__all__ = ["EvalProtocol", "SeedResult", "aggregate", "episode_seeds", "wilson_interval"]
