"""Image encoder for the image-observation track: a ResNet-18 trunk, spatial softmax, random crop.

robomimic's visuomotor policies (and DexMimicGen's image results) use one ResNet-18 per camera,
trained from scratch, with spatial-softmax keypoints and a random crop for augmentation. We use
GroupNorm instead of BatchNorm (as Diffusion Policy does), so small CPU batches and evaluation on
single frames behave the same as training.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (torch convention)

from dexmg_bench.baselines.encoder_config import ImageEncoderConfig


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(max(1, channels // 16), channels)


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.n1 = _norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.n2 = _norm(cout)
        self.down = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), _norm(cout))
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.n2(self.conv2(F.relu(self.n1(self.conv1(x))))) + self.down(x))


class _CameraEncoder(nn.Module):
    """ResNet-18 trunk (no pooling head) -> spatial softmax keypoints -> linear features."""

    def __init__(self, cfg: ImageEncoderConfig):
        super().__init__()
        w = cfg.width
        layers: list[nn.Module] = [
            nn.Conv2d(3, w, 7, 2, 3, bias=False),
            _norm(w),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
        ]
        cin = w
        for i, cout in enumerate((w, 2 * w, 4 * w, 8 * w)):
            stride = 1 if i == 0 else 2
            layers += [_BasicBlock(cin, cout, stride), _BasicBlock(cout, cout, 1)]
            cin = cout
        self.trunk = nn.Sequential(*layers)
        self.keypoints = nn.Conv2d(cin, cfg.keypoints, 1)
        self.out = nn.Linear(2 * cfg.keypoints, cfg.feature_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.keypoints(self.trunk(x))  # (N, K, H, W)
        n, k, hh, ww = h.shape
        attn = torch.softmax(h.flatten(2), dim=-1).view(n, k, hh, ww)
        ys = torch.linspace(-1, 1, hh, device=x.device)
        xs = torch.linspace(-1, 1, ww, device=x.device)
        kx = (attn.sum(2) * xs).sum(-1)
        ky = (attn.sum(3) * ys).sum(-1)
        return self.out(torch.cat([kx, ky], dim=-1))


class VisualEncoder(nn.Module):
    """All cameras of one step: uint8 (N, C, H, W, 3) -> features (N, C * feature_dim)."""

    def __init__(self, cfg: ImageEncoderConfig, n_cameras: int):
        super().__init__()
        self.cfg = cfg
        self.cameras = nn.ModuleList([_CameraEncoder(cfg) for _ in range(n_cameras)])
        self.out_dim = n_cameras * cfg.feature_dim

    def _crop(self, x: torch.Tensor) -> torch.Tensor:
        c = self.cfg.crop
        h, w = x.shape[-2:]
        if c >= min(h, w):
            return x
        if self.training:  # one random window per image
            top = torch.randint(0, h - c + 1, (x.shape[0],))
            left = torch.randint(0, w - c + 1, (x.shape[0],))
            rows = (top[:, None] + torch.arange(c))[:, None, :, None]
            cols = (left[:, None] + torch.arange(c))[:, None, None, :]
            idx = torch.arange(x.shape[0])[:, None, None, None]
            return x[idx, torch.arange(x.shape[1])[None, :, None, None], rows, cols]
        top, left = (h - c) // 2, (w - c) // 2
        return x[..., top : top + c, left : left + c]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Encode each camera with its own network and concatenate."""
        x = images.float().div(255.0).permute(0, 1, 4, 2, 3)  # (N, C, 3, H, W)
        feats = [enc(self._crop(x[:, i])) for i, enc in enumerate(self.cameras)]
        return torch.cat(feats, dim=-1)


class StepEncoder(nn.Module):
    """What a policy sees per step: the low-dim vector, plus camera features on the image track.

    ``forward(obs (B, T, D), images (B, T, C, H, W, 3) | None) -> (B, T, out_dim)``; without
    ``image_shape`` it passes the low-dim vector through and has no parameters.
    """

    def __init__(self, cfg: ImageEncoderConfig, obs_dim: int, image_shape: tuple[int, ...] | None):
        super().__init__()
        self.visual = VisualEncoder(cfg, image_shape[0]) if image_shape else None
        self.out_dim = obs_dim + (self.visual.out_dim if self.visual else 0)

    def forward(self, obs: torch.Tensor, images: torch.Tensor | None = None) -> torch.Tensor:
        """Concatenate the low-dim vector and the cameras' features of every step."""
        if self.visual is None:
            return obs
        feats = self.visual(images.flatten(0, 1)).view(*obs.shape[:2], -1)
        return torch.cat([obs, feats], dim=-1)
