"""Builders of small submission folders for the leaderboard tests (Threading-D0, lowdim)."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.leaderboard.manifest import card_sha256

REPO = Path(__file__).resolve().parents[2]
CARDS = REPO / "datasets" / "cards"
# The content hash the shipped card of dexmg/threading-source-v0 lists (`dexmg datasets hash`).
SOURCE_SHA = card_sha256("dexmg/threading-source-v0", CARDS)

ZERO_POLICY = """
import numpy as np

class Policy:
    def __init__(self, *, checkpoint, task, variant):
        with np.load(checkpoint, allow_pickle=False) as f:
            self.seed = int(f["seed"])
        self.rng = np.random.default_rng(self.seed)

    def reset(self):
        self.rng = np.random.default_rng(self.seed)

    def act(self, obs):
        return self.rng.uniform(-1, 1, 14)
"""

YAML = """
schema_version: 1
benchmark_version: "0.1.0"
team: test
method: {method}
track: lowdim
tasks: [Threading-D0]
policy:
  entry_point: "{entry_point}"
dataset:
  id: dexmg/threading-source-v0
  sha256: "{sha}"
  source_demos: 10
  generated_demos: 0
training_seeds: [0, 1, 2]
checkpoint_selection: "last epoch"
code:
  url: https://example.org/code
  commit: abcdef1
license: MIT
contact: someone@example.org
"""

MakeSubmission = Callable[..., Path]


@pytest.fixture
def make_submission(tmp_path: Path) -> MakeSubmission:
    """``make(policy_code=..., method=..., claimed=...)`` -> a folder ``test__<method>``."""

    def make(
        policy_code: str = ZERO_POLICY,
        *,
        method: str = "random",
        claimed: float = 0.0,
        claimed_episodes: int = 50,
        ckpts: tuple[str, ...] = ("final",),
    ) -> Path:
        folder = tmp_path / "submissions" / f"test__{method}"
        if folder.exists():
            shutil.rmtree(folder)
        (folder / "policy").mkdir(parents=True)
        (folder / "claims").mkdir()
        (folder / "policy" / "policy.py").write_text(textwrap.dedent(policy_code))
        (folder / "submission.yaml").write_text(
            YAML.format(method=method, entry_point="policy:Policy", sha=SOURCE_SHA)
        )
        for seed in (0, 1, 2):
            d = folder / "checkpoints" / f"seed{seed}"
            d.mkdir(parents=True)
            for name in ckpts:
                np.savez(d / f"{name}.npz", seed=np.array(seed))
        rates = {str(s): {c: claimed for c in ckpts} for s in (0, 1, 2)}
        (folder / "claims" / "Threading-D0.json").write_text(
            json.dumps({"episodes": claimed_episodes, "success_rate": rates})
        )
        return folder

    return make
