"""The image track: train on rendered camera observations, evaluate on image observations."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="baselines need the `baselines` extra (torch)")

from dexmg_bench.baselines.encoders import ImageEncoderConfig, VisualEncoder  # noqa: E402

TINY = ImageEncoderConfig(crop=28, width=8, keypoints=4, feature_dim=8)  # plumbing tests only


def test_encoder_shapes_crop_and_determinism_in_eval():
    """Random crops differ between calls in training; evaluation is a fixed centre crop."""
    cfg = dataclasses.replace(TINY, crop=76)  # 84 px images leave a 3x3 keypoint map
    enc = VisualEncoder(cfg, n_cameras=2)
    x = torch.randint(0, 255, (3, 2, 84, 84, 3), dtype=torch.uint8)
    assert enc(x).shape == (3, 16)
    torch.manual_seed(0)
    assert not torch.equal(enc(x), enc(x))  # different crops
    enc.eval()
    assert torch.equal(enc(x), enc(x))


@pytest.fixture
def rendered_threading(tmp_path):
    """Two 12-step Threading demos with two 32 px cameras rendered from their stored states."""
    from dexmg_bench.datasets.minari_io import source_info, write_minari
    from dexmg_bench.datasets.render import render_dataset
    from dexmg_bench.datasets.source import read_source_file, shipped_source_file

    src = read_source_file(shipped_source_file("Threading"))

    def cut(d, n=12):
        fields = {f.name: getattr(d, f.name) for f in dataclasses.fields(d)}
        for k in ("actions", "eef_pose", "target_pose", "hand"):
            fields[k] = fields[k][:n]
        fields["states"] = fields["states"][: n + 1]
        fields["object_pose"] = {k: v[:n] for k, v in d.object_pose.items()}
        fields["signals"] = {a: {k: v[:n] for k, v in s.items()} for a, s in d.signals.items()}
        fields["boundaries"] = {a: np.minimum(b, n) for a, b in d.boundaries.items()}
        return type(d)(**fields)

    short = dataclasses.replace(src, demos=tuple(cut(d) for d in src.demos[:2]))
    write_minari(short, source_info(short))
    render_dataset(
        "dexmg/threading-source-v0",
        cameras=("overview", "robot0_eye_in_hand"),
        size=32,
        workers=1,
        new_id="dexmg/threading-source-rgb32-v0",
        progress=False,
    )
    return "dexmg/threading-source-rgb32-v0"


@pytest.mark.parametrize("policy", ["bc-rnn", "diffusion"])
def test_image_policy_trains_and_evaluates_on_images(rendered_threading, tmp_path, policy):
    """Train a tiny image policy for 2 epochs, then `dexmg eval` rolls it out with cameras."""
    from dexmg_bench.baselines.bc_rnn.config import BCRNNConfig
    from dexmg_bench.baselines.checkpoint import load_checkpoint
    from dexmg_bench.baselines.diffusion.config import DiffusionConfig
    from dexmg_bench.baselines.train import TrainConfig, train
    from dexmg_bench.cli import main

    cfg = TrainConfig(
        dataset=rendered_threading,
        policy=policy,
        epochs=2,
        steps_per_epoch=2,
        ckpt_every=2,
        images=True,
        bc_rnn=BCRNNConfig(hidden_dim=16, num_layers=1, seq_len=4, batch_size=4, encoder=TINY),
        diffusion=DiffusionConfig(
            horizon=4, n_action_steps=2, down_dims=(8,), n_groups=4, step_embed_dim=8,
            train_timesteps=10, inference_steps=2, batch_size=4, encoder=TINY,
        ),
    )  # fmt: skip
    path = train(cfg, tmp_path / "run", progress=False)
    meta, _ = load_checkpoint(path)
    assert meta["image_keys"] == ["overview_image", "robot0_eye_in_hand_image"]
    assert meta["image_shape"] == [2, 32, 32, 3]
    assert meta["env_kwargs"]["obs_mode"] == "rgb"
    out = tmp_path / "eval.json"
    main(["eval", "--run", str(tmp_path / "run"), "--episodes", "1", "--workers", "1",
          "--max-steps", "3", "--out", str(out)])  # fmt: skip
    res = json.loads(out.read_text())
    assert res["episodes"]["0/ckpt_epoch00002"][0]["steps"] == 3
