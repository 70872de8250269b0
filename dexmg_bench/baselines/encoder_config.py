"""The image encoder's settings, kept out of its torch module: configs and the CLI need no torch."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class ImageEncoderConfig:
    """Per-camera encoder: ResNet-18 of base width ``width``, ``keypoints`` softmax points."""

    crop: int = 76  # random crop at training, centre crop at rollout (84 px images)
    width: int = 64  # 64 is ResNet-18; smaller widths are for tests and quick CPU runs
    keypoints: int = 32
    feature_dim: int = 64

    def __post_init__(self) -> None:
        for name in ("crop", "width", "keypoints", "feature_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1. Got {getattr(self, name)}.")
        if self.width % 8:
            raise ValueError(f"`width` must be a multiple of 8 (GroupNorm). Got {self.width}.")

    def to_json(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)
