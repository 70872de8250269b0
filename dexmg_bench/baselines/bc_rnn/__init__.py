"""BC-RNN and BC-RNN-GMM (robomimic's recurrent behaviour cloning): ``config`` and ``model``.

The package imports only the config, so the CLI can describe it without torch installed.
"""

from dexmg_bench.baselines.bc_rnn.config import BCRNNConfig

__all__ = ["BCRNNConfig"]
