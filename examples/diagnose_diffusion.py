"""Why does a Diffusion Policy checkpoint fail? Open-loop checks on training windows (not in CI).

For 128 random windows of the training set (rng seed 123) it samples the action chunk with
DDIM from the checkpoint's own observations and reports: the error of the executed actions to
the demo's, against always predicting the mean action; how often the gripper command (+-1) has
the demo's sign; and how much the sample changes when the observations are shuffled across the
batch (near 0 = the network ignores what it sees).

    python examples/diagnose_diffusion.py CHECKPOINT DATASET_ID

Its output for the reference entries is ``baselines/results/diffusion/diagnose.txt``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from dexmg_bench.baselines.checkpoint import load_checkpoint, model_state
from dexmg_bench.baselines.data import SequenceSampler, load_demos
from dexmg_bench.baselines.train import build_model


def main(ckpt: str, dataset: str) -> None:
    """Print the open-loop checks of one checkpoint."""
    torch.set_num_threads(1)
    meta, arrays = load_checkpoint(Path(ckpt))
    model = build_model(meta)
    model.load_state_dict(model_state(arrays))
    model.eval()
    cfg = model.config
    demos = load_demos(dataset)
    obs, act, _ = SequenceSampler(demos, cfg.window, cfg.pad_before).batch(
        np.random.default_rng(123), 128
    )
    obs_t, act_t = torch.from_numpy(obs), torch.from_numpy(act)
    executed = slice(cfg.n_obs_steps - 1, cfg.n_obs_steps - 1 + cfg.n_action_steps)
    truth = act_t[:, executed]
    with torch.no_grad():
        cond = model.condition(obs_t, None)
        pred = model.sample(cond, torch.Generator().manual_seed(0))[:, executed]
        perm = torch.randperm(cond.shape[0], generator=torch.Generator().manual_seed(1))
        shuffled = model.sample(cond[perm], torch.Generator().manual_seed(0))[:, executed]
    grip = [meta["action_dim"] // 2 - 1, meta["action_dim"] - 1]  # last column of each arm
    mse = ((pred - truth) ** 2).mean().item()
    base = ((truth - truth.mean((0, 1))) ** 2).mean().item()
    sign = ((pred[..., grip] * truth[..., grip]) > 0).float().mean().item()
    demo_pos = (truth[..., grip] > 0).float().mean().item()
    change = ((shuffled - pred) ** 2).mean().item()
    print(
        f"{ckpt}: executed-action MSE {mse:.3f} (mean-action baseline {base:.3f}); gripper sign "
        f"right {sign:.0%} (demo +1 in {demo_pos:.0%}); MSE between samples with shuffled "
        f"observations {change:.3f}"
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
