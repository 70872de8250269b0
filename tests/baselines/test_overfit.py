"""The overfit check: a policy repeats the generated episodes it was trained on.

Trained on a handful of episodes and rolled out from those episodes' stored first states, a
working pipeline succeeds nearly every time; where it does not, the pipeline is the suspect,
not the scale (baselines/results/overfit/README.md holds every run of this check).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="baselines need the `baselines` extra (torch)")

from dexmg_bench.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EPISODES = 10


@pytest.mark.slow
@pytest.mark.parametrize(("task", "spec", "steps"), [("Threading", "threading.toml", 10_000)])
def test_a_pose_target_policy_repeats_its_training_episodes(tmp_path, task, spec, steps):
    """>= 90% from the first states of its 10 noise-free generated training episodes.

    The episodes are DexMimicGen's with the spec's action noise set to 0, so every stored
    action is the generator's own target-tracking command; BC-RNN 2x128 with pose targets and
    the time input, cosine learning rate, one training seed, the best of two checkpoints.
    """
    text = (REPO / "generators" / spec).read_text()
    quiet = tmp_path / spec
    quiet.write_text("\n".join(
        "action_noise = 0.0" if line.startswith("action_noise =") else line
        for line in text.splitlines()
    ))  # fmt: skip
    dataset = f"dexmg/{task.lower()}-nonoise-n{EPISODES}-v0"
    main(["generate", "--task", task, "--n", str(EPISODES), "--spec", str(quiet),
          "--workers", "1", "--out", str(tmp_path / "job"), "--dataset-id", dataset])  # fmt: skip
    run = tmp_path / "run"
    epochs = steps // 100
    main(["train", "--dataset", dataset, "--out", str(run), "--epochs", str(epochs),
          "--steps-per-epoch", "100", "--ckpt-every", str(epochs // 2), "--lr-schedule", "cosine",
          "--pose-targets", "--time-input", "--bc-rnn.hidden-dim", "128", "--bc-rnn.seq-len", "20",
          "--bc-rnn.learning-rate", "1e-3", "--bc-rnn.batch-size", "64"])  # fmt: skip
    out = tmp_path / "start-from.json"
    main(["eval", "--run", str(run), "--start-from", dataset, "--episodes", str(EPISODES),
          "--workers", "1", "--out", str(out)])  # fmt: skip
    result = json.loads(out.read_text())
    assert result["start_from"] == dataset
    assert result["success_mean"] >= 0.9, result["per_seed"]
