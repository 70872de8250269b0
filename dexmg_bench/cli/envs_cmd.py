"""``dexmg envs``: what the registry holds."""

from __future__ import annotations

import json

from dexmg_bench.envs import BIGYM_TASKS, TASKS


def envs(json_output: bool = False) -> None:
    """List every registered env id with its embodiment, variant, action dim and horizon.

    Ids that need an optional install say so in ``needs`` (``bigym``: see the README).

    Args:
        json_output: print JSON lines instead of a table.
    """
    rows = [
        {
            "id": env_id,
            "embodiment": t.embodiment,
            "variant": v,
            "action_dim": t.action_dim,
            "horizon": t.max_episode_steps,
            "needs": t.requires or "-",
        }
        for t in (*TASKS, *BIGYM_TASKS)
        for env_id, v in zip(t.ids(), t.variants or ("-",), strict=True)
    ]
    if json_output:
        for row in rows:
            print(json.dumps(row))
        return
    header = ("id", "embodiment", "variant", "action_dim", "horizon", "needs")
    widths = [
        max(len(str(r[h])) for r in [dict(zip(header, header, strict=True)), *rows]) for h in header
    ]
    for r in [dict(zip(header, header, strict=True)), *rows]:
        print("  ".join(str(r[h]).ljust(w) for h, w in zip(header, widths, strict=True)))
