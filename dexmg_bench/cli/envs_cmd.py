"""``dexmg envs``: what the registry holds."""

from __future__ import annotations

import json

from dexmg_bench.envs import NAMESPACE, TASKS


def envs(json_output: bool = False) -> None:
    """List every registered env id with its embodiment, variant, action dim and horizon.

    Args:
        json_output: print JSON lines instead of a table.
    """
    rows = [
        {
            "id": f"{NAMESPACE}/{t.name}-{v}-v{t.version}",
            "embodiment": t.embodiment,
            "variant": v,
            "action_dim": t.action_dim,
            "horizon": t.max_episode_steps,
        }
        for t in TASKS
        for v in t.variants
    ]
    if json_output:
        for row in rows:
            print(json.dumps(row))
        return
    header = ("id", "embodiment", "variant", "action_dim", "horizon")
    widths = [
        max(len(str(r[h])) for r in [dict(zip(header, header, strict=True)), *rows]) for h in header
    ]
    for r in [dict(zip(header, header, strict=True)), *rows]:
        print("  ".join(str(r[h]).ljust(w) for h, w in zip(header, widths, strict=True)))
