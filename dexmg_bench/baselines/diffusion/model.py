"""Diffusion Policy's network and sampler: a FiLM-conditioned 1-D U-Net over action chunks.

Training adds Gaussian noise to a demonstrated chunk at a random step of a squared-cosine
schedule and regresses the noise; acting runs DDIM (deterministic given the starting noise)
from pure noise, conditioned on the last ``n_obs_steps`` normalised observations.
"""

from __future__ import annotations

import math
from collections import deque

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (torch convention)

from dexmg_bench.baselines.diffusion.config import DiffusionConfig
from dexmg_bench.baselines.encoders import StepEncoder


def cosine_alphas_cumprod(steps: int, s: float = 0.008) -> torch.Tensor:
    """Cumulative signal fractions of the squared-cosine schedule (Nichol & Dhariwal 2021)."""
    t = torch.linspace(0, steps, steps + 1, dtype=torch.float64) / steps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    betas = torch.clamp(1 - f[1:] / f[:-1], max=0.999)
    return torch.cumprod(1 - betas, 0).float()


class _StepEmbedding(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.Mish(), nn.Linear(4 * dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device) / (half - 1))
        x = t.float()[:, None] * freqs[None]
        return self.mlp(torch.cat([x.sin(), x.cos()], dim=-1))


def _conv(cin: int, cout: int, k: int, groups: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(cin, cout, k, padding=k // 2), nn.GroupNorm(groups, cout), nn.Mish()
    )


class _ResBlock(nn.Module):
    """Two conv blocks; the condition scales and shifts the first one's output (FiLM)."""

    def __init__(self, cin: int, cout: int, cond_dim: int, k: int, groups: int):
        super().__init__()
        self.a, self.b = _conv(cin, cout, k, groups), _conv(cout, cout, k, groups)
        self.film = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, 2 * cout))
        self.skip = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(cond)[:, :, None].chunk(2, dim=1)
        return self.b(self.a(x) * scale + shift) + self.skip(x)


class UNet1D(nn.Module):
    """Noise prediction ``eps(x_t, t, cond)`` for chunks ``x_t`` of shape (B, horizon, A)."""

    def __init__(self, config: DiffusionConfig, action_dim: int, cond_dim: int):
        super().__init__()
        k, g = config.kernel_size, config.n_groups
        self.step = _StepEmbedding(config.step_embed_dim)
        c = config.step_embed_dim + cond_dim
        dims = [action_dim, *config.down_dims]
        self.down = nn.ModuleList()
        for i, (cin, cout) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            last = i == len(dims) - 2
            self.down.append(
                nn.ModuleList(
                    [
                        _ResBlock(cin, cout, c, k, g),
                        _ResBlock(cout, cout, c, k, g),
                        nn.Identity() if last else nn.Conv1d(cout, cout, 3, 2, 1),
                    ]
                )
            )
        mid = dims[-1]
        self.mid = nn.ModuleList([_ResBlock(mid, mid, c, k, g), _ResBlock(mid, mid, c, k, g)])
        self.up = nn.ModuleList()
        # Each up level undoes one down-sampling; the finest level's skip is not reused.
        for cin, cout in reversed(list(zip(dims[1:-1], dims[2:], strict=True))):
            self.up.append(
                nn.ModuleList(
                    [
                        _ResBlock(2 * cout, cin, c, k, g),
                        _ResBlock(cin, cin, c, k, g),
                        nn.ConvTranspose1d(cin, cin, 4, 2, 1),
                    ]
                )
            )
        d0 = config.down_dims[0]
        self.out = nn.Sequential(_conv(d0, d0, k, g), nn.Conv1d(d0, action_dim, 1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """(B, horizon, A) noisy chunk -> predicted noise of the same shape."""
        c = torch.cat([self.step(t), cond], dim=-1)
        h = x.transpose(1, 2)
        skips = []
        for res1, res2, down in self.down:
            h = res2(res1(h, c), c)
            skips.append(h)
            h = down(h)
        for block in self.mid:
            h = block(h, c)
        for res1, res2, up in self.up:
            h = torch.cat([h, skips.pop()], dim=1)
            h = up(res2(res1(h, c), c))
        return self.out(h).transpose(1, 2)


class DiffusionPolicy(nn.Module):
    """The U-Net plus its noise schedule; ``loss`` for training, ``actor`` for rollouts."""

    def __init__(
        self,
        config: DiffusionConfig,
        obs_dim: int,
        action_dim: int,
        image_shape: tuple[int, ...] | None = None,
    ):
        super().__init__()
        self.config, self.obs_dim, self.action_dim = config, obs_dim, action_dim
        self.encoder = StepEncoder(config.encoder, obs_dim, image_shape)
        self.net = UNet1D(config, action_dim, config.n_obs_steps * self.encoder.out_dim)
        self.register_buffer("alphas_cumprod", cosine_alphas_cumprod(config.train_timesteps))

    def condition(self, obs: torch.Tensor, images: torch.Tensor | None) -> torch.Tensor:
        """Flattened features of the first ``n_obs_steps`` steps: (B, n_obs * width)."""
        n = self.config.n_obs_steps
        return self.encoder(obs[:, :n], None if images is None else images[:, :n]).flatten(1)

    def loss(
        self, obs: torch.Tensor, actions: torch.Tensor, images: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Noise-regression loss on windows ``obs`` (B, L, D) and ``actions`` (B, L, A)."""
        cfg = self.config
        cond = self.condition(obs, images)
        x0 = actions[:, : cfg.horizon]
        t = torch.randint(0, cfg.train_timesteps, (x0.shape[0],), device=x0.device)
        noise = torch.randn_like(x0)
        a = self.alphas_cumprod[t][:, None, None]
        return F.mse_loss(self.net(a.sqrt() * x0 + (1 - a).sqrt() * noise, t, cond), noise)

    @torch.no_grad()
    def sample(self, cond: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """DDIM (eta = 0) from Gaussian noise to an action chunk (B, horizon, A) in [-1, 1]."""
        cfg = self.config
        x = torch.randn(
            (cond.shape[0], cfg.horizon, self.action_dim), generator=generator, device=cond.device
        )
        ratio = cfg.train_timesteps // cfg.inference_steps
        for t in reversed(range(0, cfg.inference_steps * ratio, ratio)):
            tt = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
            eps = self.net(x, tt, cond)
            a_t = self.alphas_cumprod[t]
            a_prev = self.alphas_cumprod[t - ratio] if t - ratio >= 0 else torch.tensor(1.0)
            x0 = ((x - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1.0, 1.0)
            eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        return x

    def actor(self, generator: torch.Generator | None = None) -> DiffusionActor:
        """A rollout-time stepper with observation history and an action queue."""
        return DiffusionActor(self, generator)


class DiffusionActor:
    """Keeps the last ``n_obs_steps`` observations; replans every ``n_action_steps`` steps."""

    def __init__(self, policy: DiffusionPolicy, generator: torch.Generator | None):
        self.policy, self.generator = policy, generator
        self.reset()

    def reset(self) -> None:
        """Forget history and queued actions."""
        n = self.policy.config.n_obs_steps
        self.history: deque[tuple[torch.Tensor, torch.Tensor | None]] = deque(maxlen=n)
        self.queue: list[torch.Tensor] = []

    def step(self, x: torch.Tensor, image: torch.Tensor | None = None) -> torch.Tensor:
        """Next action for the normalised observation ``x`` (D,) and camera images if any."""
        cfg = self.policy.config
        if not self.history:
            self.history.extend([(x, image)] * cfg.n_obs_steps)  # pad at t = 0, as in training
        self.history.append((x, image))
        if not self.queue:
            obs = torch.stack([h[0] for h in self.history])[None]
            imgs = None if image is None else torch.stack([h[1] for h in self.history])[None]
            with torch.no_grad():
                cond = self.policy.condition(obs, imgs)
            chunk = self.policy.sample(cond, self.generator)[0]
            start = cfg.n_obs_steps - 1
            self.queue = list(chunk[start : start + cfg.n_action_steps])
        return self.queue.pop(0)
