"""Diffusion Policy: config checks, it learns one batch, samples stay in the action box."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="baselines need the `baselines` extra (torch)")

from dexmg_bench.baselines.checkpoint import load_checkpoint  # noqa: E402
from dexmg_bench.baselines.diffusion import DiffusionConfig  # noqa: E402
from dexmg_bench.baselines.diffusion.model import (  # noqa: E402
    DiffusionPolicy,
    cosine_alphas_cumprod,
)
from dexmg_bench.baselines.policy import TrainedPolicy  # noqa: E402
from dexmg_bench.baselines.train import TrainConfig, train  # noqa: E402

SMALL = DiffusionConfig(
    horizon=8, n_action_steps=4, down_dims=(16, 32), n_groups=4, step_embed_dim=16,
    train_timesteps=20, inference_steps=5, batch_size=8, learning_rate=3e-3,
)  # fmt: skip


def test_schedule_is_monotone_from_signal_to_noise():
    """alpha_bar falls from ~1 to ~0, strictly."""
    a = cosine_alphas_cumprod(100)
    assert a[0] > 0.99 and a[-1] < 1e-3 and torch.all(a[1:] < a[:-1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon": 8, "n_action_steps": 8, "down_dims": (16, 32)}, "horizon"),
        ({"horizon": 10, "down_dims": (16, 32, 64)}, "divisible"),
        ({"down_dims": (15,)}, "multiples"),
        ({"inference_steps": 0}, "inference_steps"),
    ],
)
def test_bad_configs_are_named(kwargs, match):
    """Impossible chunking or U-Net shapes fail at construction."""
    with pytest.raises(ValueError, match=match):
        DiffusionConfig(**{"n_groups": 8, **kwargs})


def test_overfits_one_batch_and_samples_in_the_box():
    """Noise-prediction loss on a fixed batch drops 5x; DDIM samples are (B, H, A) in [-1, 1]."""
    torch.manual_seed(0)
    obs = torch.randn(8, 8, 6)
    actions = torch.tanh(torch.randn(8, 8, 3))
    model = DiffusionPolicy(SMALL, obs_dim=6, action_dim=3)
    optim = torch.optim.Adam(model.parameters(), lr=3e-3)
    torch.manual_seed(1)
    first = float(np.mean([float(model.loss(obs, actions).detach()) for _ in range(20)]))
    for _ in range(400):
        loss = model.loss(obs, actions)
        optim.zero_grad()
        loss.backward()
        optim.step()
    final = float(np.mean([float(model.loss(obs, actions).detach()) for _ in range(20)]))
    assert final < first / 5, (first, final)
    cond = obs[:2, :2].flatten(1)
    a = model.sample(cond, torch.Generator().manual_seed(0))
    b = model.sample(cond, torch.Generator().manual_seed(0))
    assert a.shape == (2, 8, 3) and torch.all(a.abs() <= 1.0)
    assert torch.equal(a, b)


@pytest.fixture
def threading_source():
    """Two shipped Threading scripted demos as dexmg/threading-source-v0."""
    from dexmg_bench.datasets.minari_io import source_info, write_minari
    from dexmg_bench.datasets.source import read_source_file, shipped_source_file

    src = read_source_file(shipped_source_file("Threading"))
    write_minari(dataclasses.replace(src, demos=src.demos[:2]), source_info(src))
    return "dexmg/threading-source-v0"


def test_train_resume_and_act(threading_source, tmp_path):
    """Resume reproduces an uninterrupted run's bytes; the policy replans every 4 steps."""
    cfg = TrainConfig(
        dataset=threading_source, policy="diffusion", epochs=2, steps_per_epoch=2, ckpt_every=1,
        diffusion=SMALL,
    )  # fmt: skip
    straight = train(cfg, tmp_path / "a", progress=False)
    train(dataclasses.replace(cfg, epochs=1), tmp_path / "b", progress=False)
    spec = tmp_path / "b" / "seed0" / "train.json"
    spec.write_text(spec.read_text().replace('"epochs": 1', '"epochs": 2'))
    resumed = train(cfg, tmp_path / "b", progress=False)
    (_, arr_a), (_, arr_b) = load_checkpoint(straight), load_checkpoint(resumed)
    for k in arr_a:
        np.testing.assert_array_equal(arr_a[k], arr_b[k], err_msg=k)

    from dexmg_bench.datasets.loader import load

    ep = next(load(threading_source).iterate_episodes())
    policy = TrainedPolicy(straight)
    calls = []
    sample = policy.model.sample
    policy.model.sample = lambda *a, **k: calls.append(1) or sample(*a, **k)
    actions = [policy.act({k: v[t] for k, v in ep.observations.items()}) for t in range(9)]
    assert len(calls) == 3  # steps 0, 4, 8
    assert all(a.shape == (14,) and np.all(np.abs(a) <= 1.0) for a in actions)
