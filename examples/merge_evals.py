"""Merge per-training-seed `dexmg eval` results into one standard-protocol JSON (not in CI).

Use it to evaluate each training seed as soon as it has finished training (``dexmg eval --run
DIR`` with ``DIR`` holding only ``seed<k>``), overlapping the next seed's training. Episode seeds
depend only on (base seed, episodes, training seed), so the merged file holds exactly the
episodes one ``dexmg eval`` over all three seeds would roll out;
the aggregate is recomputed with the evaluator's own ``aggregate`` and ``wilson_interval``.
``workers`` may differ between parts (it only splits the episodes over processes); the merged
protocol records it per training seed.

    python examples/merge_evals.py OUT.json eval_seed0.json eval_seed1.json ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dexmg_bench.evaluation.metrics import SeedResult, aggregate, wilson_interval


def merge(parts: list[dict]) -> dict:
    """One results dict from per-seed results of the same task, variant, protocol and policy."""
    first = parts[0]
    same = ("task", "variant", "env_id", "policy")
    for p in parts[1:]:
        if any(p[k] != first[k] for k in same):
            raise ValueError("per-seed results of different task, variant or policy")
        # `workers` only splits the same episodes across simulator processes.
        a, b = dict(p["protocol"]), dict(first["protocol"])
        for k in ("training_seeds", "workers"):
            a.pop(k), b.pop(k)
        if a != b:
            raise ValueError(f"per-seed results of different protocols: {a} vs {b}")
    rows = sorted((row for p in parts for row in p["per_seed"]), key=lambda r: r["training_seed"])
    seeds = [r["training_seed"] for r in rows]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"training seed given twice: {seeds}")
    results = [
        SeedResult(
            training_seed=r["training_seed"],
            episodes=r["episodes"],
            successes={c: round(v * r["episodes"]) for c, v in r["rates"].items()},
        )
        for r in rows
    ]
    summary = aggregate(results)
    for row in summary["per_seed"]:
        k = round(row["best_rate"] * row["episodes"])
        row["best_wilson95"] = wilson_interval(k, row["episodes"])
    episodes = {}
    for p in parts:
        episodes.update(p["episodes"])
    return {
        **{k: first[k] for k in same},
        "protocol": {
            **first["protocol"],
            "training_seeds": seeds,
            "workers": {
                str(r["training_seed"]): p["protocol"]["workers"]
                for p in parts
                for r in p["per_seed"]
            },
        },
        **summary,
        "episodes": dict(sorted(episodes.items())),
        "versions": first["versions"],
        "merged_from": len(parts),
    }


if __name__ == "__main__":
    out = Path(sys.argv[1])
    merged = merge([json.loads(Path(p).read_text()) for p in sys.argv[2:]])
    out.write_text(json.dumps(merged, indent=1) + "\n")
    print(
        f"{merged['task']}-{merged['variant']}: {merged['success_mean']:.3f} +- "
        f"{merged['success_std']:.3f} over seeds {merged['protocol']['training_seeds']} -> {out}"
    )
