"""Scripted source-demo experts: waypoints in object frames, followed with a pose controller.

Demos they record are *scripted*, never human. ``make_expert(env, rng)`` picks the task's expert.
"""

from __future__ import annotations

import numpy as np

from dexmg_bench.envs.base import BimanualEnv
from dexmg_bench.envs.experts.base import Expert

# Env class name -> "module:ExpertClass" (imported lazily, like Gymnasium entry points).
EXPERTS = {
    "CanSortingEnv": "dexmg_bench.envs.experts.can_sorting:CanSortingExpert",
    "CoffeeEnv": "dexmg_bench.envs.experts.coffee:CoffeeExpert",
    "PouringEnv": "dexmg_bench.envs.experts.pouring:PouringExpert",
    "PieceAssemblyEnv": "dexmg_bench.envs.experts.piece_assembly:PieceAssemblyExpert",
    "ThreadingEnv": "dexmg_bench.envs.experts.threading:ThreadingExpert",
    "TransportEnv": "dexmg_bench.envs.experts.transport:TransportExpert",
    "BoxCleanupEnv": "dexmg_bench.envs.experts.box_cleanup:BoxCleanupExpert",
    "TrayLiftEnv": "dexmg_bench.envs.experts.tray_lift:TrayLiftExpert",
    "DrawerCleanupEnv": "dexmg_bench.envs.experts.drawer_cleanup:DrawerCleanupExpert",
    "BiGym-CupboardsCloseAll": "dexmg_bench.envs.experts.bigym_cupboards:CupboardsCloseAllExpert",
    "BiGym-DishwasherLoadPlates": (
        "dexmg_bench.envs.experts.bigym_dishwasher:DishwasherLoadPlatesExpert"
    ),
    "BiGym-FlipCup": "dexmg_bench.envs.experts.bigym_flip_cup:FlipCupExpert",
}


def make_expert(env: BimanualEnv, rng: np.random.Generator) -> Expert:
    """The scripted expert of ``env``'s task; call after ``env.reset``."""
    import importlib

    name = getattr(env, "expert_name", type(env).__name__)  # one adapter class, several tasks
    if name not in EXPERTS:
        raise ValueError(f"no scripted expert for {name}; experts exist for {sorted(EXPERTS)}")
    module, cls = EXPERTS[name].split(":")
    expert_cls: type[Expert] = getattr(importlib.import_module(module), cls)
    return expert_cls(env, rng)


__all__ = ["EXPERTS", "Expert", "make_expert"]
