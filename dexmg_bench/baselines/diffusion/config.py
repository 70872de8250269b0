"""Diffusion Policy hyperparameters; defaults follow the paper's CNN variant for low-dim tasks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from dexmg_bench.baselines.encoder_config import ImageEncoderConfig


@dataclass(frozen=True, kw_only=True)
class DiffusionConfig:
    """Predict ``horizon`` actions from ``n_obs_steps`` observations; run ``n_action_steps``."""

    n_obs_steps: int = 2
    horizon: int = 16
    n_action_steps: int = 8
    down_dims: tuple[int, ...] = (256, 512, 1024)
    kernel_size: int = 5
    n_groups: int = 8
    step_embed_dim: int = 128
    train_timesteps: int = 100
    inference_steps: int = 10  # DDIM steps at rollout; = train_timesteps gives plain DDPM
    learning_rate: float = 1e-4
    batch_size: int = 256
    encoder: ImageEncoderConfig = field(default_factory=ImageEncoderConfig)  # image track only

    def __post_init__(self) -> None:
        for name in ("n_obs_steps", "horizon", "n_action_steps", "kernel_size", "n_groups"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1. Got {getattr(self, name)}.")
        if self.n_obs_steps - 1 + self.n_action_steps > self.horizon:
            raise ValueError(
                f"n_obs_steps - 1 + n_action_steps ({self.n_obs_steps - 1 + self.n_action_steps})"
                f" must be <= horizon ({self.horizon})."
            )
        if not self.down_dims or any(d % self.n_groups for d in self.down_dims):
            raise ValueError(f"`down_dims` must be multiples of n_groups. Got {self.down_dims}.")
        if self.horizon % (2 ** (len(self.down_dims) - 1)):
            raise ValueError(
                f"`horizon` ({self.horizon}) must be divisible by 2^(len(down_dims)-1) for the "
                "U-Net's down/up-sampling."
            )
        if not 1 <= self.inference_steps <= self.train_timesteps:
            raise ValueError(
                f"`inference_steps` must be in [1, train_timesteps]. Got {self.inference_steps}."
            )
        if not self.learning_rate > 0 or self.batch_size < 1:
            raise ValueError("`learning_rate` must be > 0 and `batch_size` >= 1.")

    @property
    def window(self) -> int:
        """Training window length."""
        return self.horizon

    @property
    def pad_before(self) -> int:
        """Windows may start this many steps before an episode (observation history)."""
        return self.n_obs_steps - 1

    def to_json(self) -> dict:
        """JSON-ready dict (tuples as lists)."""
        d = asdict(self)
        d["down_dims"] = list(self.down_dims)
        d["encoder"] = self.encoder.to_json()
        return d

    @classmethod
    def from_json(cls, d: dict) -> DiffusionConfig:
        """Inverse of ``to_json``."""
        enc = ImageEncoderConfig(**d.get("encoder", {}))
        return cls(**{**d, "down_dims": tuple(d["down_dims"]), "encoder": enc})
