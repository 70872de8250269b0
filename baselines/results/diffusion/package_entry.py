"""Copy a `dexmg train` run into a leaderboard submission folder (not in CI).

Why a script: the reference entries must be rebuilt the same way each time. It copies every
checkpoint of each training seed with the optimizer state stripped (weights, normalisation and
meta stay; the grader never trains), and writes ``claims/<Task>-<Variant>.json`` from the
run's own `dexmg eval` results (public dev seeds).

    python baselines/results/diffusion/package_entry.py RUN EVAL_JSON SUBMISSION_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def strip(src: Path, dst: Path) -> None:
    """Write ``src`` to ``dst`` without ``optim/*``, ``torch_rng`` and ``optimizer_groups``."""
    with np.load(src, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files if not k.startswith("optim/") and k != "torch_rng"}
    meta = json.loads(str(arrays["meta"]))
    meta.pop("optimizer_groups", None)
    arrays["meta"] = np.array(json.dumps(meta))
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(dst, "wb") as f:
        np.savez(f, **arrays)


def main(run: Path, eval_json: Path, folder: Path) -> None:
    """Checkpoints of every ``run/seed<k>`` plus the claims of ``eval_json`` into ``folder``."""
    for seed_dir in sorted(run.glob("seed*")):
        for ckpt in sorted(seed_dir.glob("ckpt_epoch*.npz")):
            strip(ckpt, folder / "checkpoints" / seed_dir.name / ckpt.name)
    res = json.loads(eval_json.read_text())
    claims = {
        "episodes": res["protocol"]["episodes"],
        "success_rate": {str(s["training_seed"]): s["rates"] for s in res["per_seed"]},
    }
    out = folder / "claims" / f"{res['task']}-{res['variant']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(claims, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
