"""dexmg-bench: bimanual dexterous manipulation tasks, the DexMimicGen data engine, and baselines.

Importing the package registers every ``DexMG/...`` environment with Gymnasium.
"""

__version__ = "0.1.0"

from dexmg_bench import envs as envs  # noqa: E402  (registers the DexMG namespace)

__all__ = ["__version__", "envs"]
