"""The baseline policies by name: which config and which network each one uses."""

from __future__ import annotations

from typing import Any

from dexmg_bench.baselines.bc_rnn.config import BCRNNConfig
from dexmg_bench.baselines.diffusion.config import DiffusionConfig

POLICIES = ("bc-rnn", "bc-rnn-gmm", "diffusion")


def config_from_json(policy: str, d: dict[str, Any]) -> BCRNNConfig | DiffusionConfig:
    """The model config a checkpoint stored."""
    if policy == "diffusion":
        return DiffusionConfig.from_json(d)
    return BCRNNConfig.from_json(d)


def build_network(
    policy: str,
    config: Any,
    obs_dim: int,
    action_dim: int,
    image_shape: tuple[int, ...] | None = None,
) -> Any:
    """A fresh network (torch imported here, not at package import)."""
    if policy == "diffusion":
        from dexmg_bench.baselines.diffusion.model import DiffusionPolicy

        return DiffusionPolicy(config, obs_dim, action_dim, image_shape)
    if policy in ("bc-rnn", "bc-rnn-gmm"):
        from dexmg_bench.baselines.bc_rnn.model import BCRNN

        return BCRNN(config, obs_dim, action_dim, image_shape)
    raise ValueError(f"unknown policy {policy!r}; choose from {POLICIES}")
