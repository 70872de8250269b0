"""BC-RNN hyperparameters; defaults follow robomimic's low-dim BC-RNN as DexMimicGen used it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from dexmg_bench.baselines.encoder_config import ImageEncoderConfig

ROLLOUTS = ("sliding", "padded", "reset")


@dataclass(frozen=True, kw_only=True)
class BCRNNConfig:
    """An LSTM over observation sequences with an MLP action head (MSE) or a GMM head (NLL)."""

    hidden_dim: int = 400
    num_layers: int = 2
    head_dims: tuple[int, ...] = ()
    seq_len: int = 10
    """Training window; at rollout, the history the network sees."""
    rollout: str = "sliding"
    """How the LSTM steps at rollout: ``sliding`` runs it from a zero state over the last
    ``seq_len`` observations at every step, so it always sees as much history as a training
    window's last step; ``padded`` is ``sliding`` with the first observation repeated in front
    of an episode's first ``seq_len - 1`` steps, in training and at rollout, so the start of an
    episode reads as a start rather than as a short window that could come from anywhere in it;
    ``reset`` (robomimic's) carries the state and zeroes it every ``seq_len`` steps, so right
    after a reset it has no history at all."""
    chunk: int = 1
    """Actions predicted per step. At rollout the whole predicted chunk is executed before the
    network is asked again, so a policy makes ``chunk`` times fewer decisions per episode and a
    memorised stretch of actions is replayed as one piece (action chunking, Zhao et al., RSS
    2023). 1 is robomimic's BC-RNN: one action per step. MSE head and windowed rollouts only."""
    gmm: bool = False
    """A Gaussian-mixture head trained by likelihood (BC-RNN-GMM) instead of an MSE head."""
    num_modes: int = 5
    """Mixture components of the GMM head."""
    min_std: float = 1e-4
    """Floor of each component's standard deviation."""
    learning_rate: float = 1e-4
    batch_size: int = 100
    encoder: ImageEncoderConfig = field(default_factory=ImageEncoderConfig)  # image track only

    def __post_init__(self) -> None:
        for name in ("hidden_dim", "num_layers", "seq_len", "chunk", "num_modes", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1. Got {getattr(self, name)}.")
        if not self.learning_rate > 0:
            raise ValueError(f"`learning_rate` must be > 0. Got {self.learning_rate}.")
        if self.rollout not in ROLLOUTS:
            raise ValueError(f"`rollout` must be one of {ROLLOUTS}. Got {self.rollout!r}.")
        if self.chunk > 1 and (self.gmm or self.rollout == "reset"):
            raise ValueError(
                "`chunk` > 1 needs the MSE head and a `sliding` or `padded` rollout. "
                f"Got gmm={self.gmm}, rollout={self.rollout!r}."
            )
        if not self.min_std > 0:
            raise ValueError(f"`min_std` must be > 0. Got {self.min_std}.")

    @property
    def window(self) -> int:
        """Training window length: ``seq_len`` observations, each with ``chunk`` actions ahead."""
        return self.seq_len + self.chunk - 1

    @property
    def pad_before(self) -> int:
        """Steps a training window may start before its episode (``padded`` rollouts only)."""
        return self.seq_len - 1 if self.rollout == "padded" else 0

    def to_json(self) -> dict:
        """JSON-ready dict (tuples as lists)."""
        d = asdict(self)
        d["head_dims"] = list(self.head_dims)
        d["encoder"] = self.encoder.to_json()
        return d

    @classmethod
    def from_json(cls, d: dict) -> BCRNNConfig:
        """Inverse of ``to_json``."""
        enc = ImageEncoderConfig(**d.get("encoder", {}))
        d = {"rollout": "reset", **d}  # checkpoints written before ``rollout`` existed
        return cls(**{**d, "head_dims": tuple(d.get("head_dims", ())), "encoder": enc})
