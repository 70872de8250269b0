"""Copy a `dexmg train` run and its evaluation into a leaderboard submission folder (not in CI).

It copies every checkpoint of each training seed with the optimizer state stripped
(``dexmg_bench.baselines.campaign.strip_checkpoint``: weights, normalisation and meta stay; the
grader never trains), and writes ``claims/<Task>-<Variant>.json`` from the run's own
`dexmg eval` results (public dev seeds). Write ``submission.yaml`` and ``policy/`` by hand, then
``dexmg leaderboard submit SUBMISSION_DIR``. A cell of a reference campaign is packaged whole by
``dexmg reference package`` instead.

    python examples/package_entry.py RUN EVAL_JSON SUBMISSION_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dexmg_bench.baselines.campaign import strip_checkpoint


def main(run: Path, eval_json: Path, folder: Path) -> None:
    """Checkpoints of every ``run/seed<k>`` plus the claims of ``eval_json`` into ``folder``."""
    for seed_dir in sorted(run.glob("seed*")):
        for ckpt in sorted(seed_dir.glob("ckpt_epoch*.npz")):
            strip_checkpoint(ckpt, folder / "checkpoints" / seed_dir.name / ckpt.name)
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
