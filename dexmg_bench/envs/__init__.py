"""DexMG environments, registered with Gymnasium under the ``DexMG`` namespace.

Registration is explicit and in this one file (Gymnasium's pattern). Every task gets
``DexMG/<Task>-<Variant>-v<N>``; ``gym.make("DexMG/<Task>-<Variant>")`` resolves to the newest
version. Entry points are strings, so importing this module does not import any simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym

from dexmg_bench.errors import UserInputError


@dataclass(frozen=True)
class TaskEntry:
    """One task of the suite as the registry and ``dexmg envs`` list it."""

    name: str
    entry_point: str
    embodiment: str
    variants: tuple[str, ...]
    max_episode_steps: int
    action_dim: int
    version: int = 0
    dataset: str = ""
    requires: str = ""  # an optional extra the env needs (``bigym``); "" for the core install

    def env_id(self, variant: str = "D0") -> str:
        """The versioned id of one variant; a task without variants (BiGym's) takes only "D0"."""
        if not self.variants:
            if variant != "D0":
                raise UserInputError(
                    f"{self.name} has no variants (it is D0 only). Got {variant!r}."
                )
            return self.ids()[0]
        if variant not in self.variants:
            raise UserInputError(
                f"unknown variant {variant!r} of {self.name}; variants: {list(self.variants)}."
            )
        return f"{NAMESPACE}/{self.name}-{variant}-v{self.version}"

    def ids(self, *, versioned: bool = True) -> list[str]:
        """This task's ids; a task without variants has the one id ``DexMG/<Task>[-vN]``."""
        suffix = f"-v{self.version}" if versioned else ""
        names = [f"{self.name}-{v}" for v in self.variants] or [self.name]
        return [f"{NAMESPACE}/{n}{suffix}" for n in names]


GRIPPERS = "two Panda arms, parallel grippers"
INSPIRE = "two Panda arms, Inspire hands"
HUMANOID = "GR-1 humanoid, Fourier hands"

TASKS: tuple[TaskEntry, ...] = (
    TaskEntry(
        name="PieceAssembly",
        entry_point="dexmg_bench.envs.tasks.piece_assembly:PieceAssemblyEnv",
        embodiment=GRIPPERS,
        variants=("D0", "D1", "D2"),
        max_episode_steps=300,
        action_dim=14,
        dataset="dexmg/piece-assembly",
    ),
    TaskEntry(
        name="Threading",
        entry_point="dexmg_bench.envs.tasks.threading:ThreadingEnv",
        embodiment=GRIPPERS,
        variants=("D0", "D1", "D2"),
        max_episode_steps=400,
        action_dim=14,
        dataset="dexmg/threading",
    ),
    TaskEntry(
        name="Transport",
        entry_point="dexmg_bench.envs.tasks.transport:TransportEnv",
        embodiment=GRIPPERS,
        variants=("D0", "D1", "D2"),
        max_episode_steps=1200,
        action_dim=14,
        dataset="dexmg/transport",
    ),
    TaskEntry(
        name="BoxCleanup",
        entry_point="dexmg_bench.envs.tasks.box_cleanup:BoxCleanupEnv",
        embodiment=INSPIRE,
        variants=("D0", "D1", "D2"),
        max_episode_steps=400,
        action_dim=24,
        dataset="dexmg/box-cleanup",
    ),
    TaskEntry(
        name="TrayLift",
        entry_point="dexmg_bench.envs.tasks.tray_lift:TrayLiftEnv",
        embodiment=INSPIRE,
        variants=("D0", "D1", "D2"),
        max_episode_steps=750,
        action_dim=24,
        dataset="dexmg/tray-lift",
    ),
    TaskEntry(
        name="DrawerCleanup",
        entry_point="dexmg_bench.envs.tasks.drawer_cleanup:DrawerCleanupEnv",
        embodiment=INSPIRE,
        variants=("D0", "D1", "D2"),
        max_episode_steps=550,
        action_dim=24,
        dataset="dexmg/drawer-cleanup",
    ),
    TaskEntry(
        name="CanSorting",
        entry_point="dexmg_bench.envs.tasks.can_sorting:CanSortingEnv",
        embodiment=HUMANOID,
        variants=("D0", "D1"),
        max_episode_steps=400,
        action_dim=24,
        dataset="dexmg/can-sorting",
    ),
    TaskEntry(
        name="Pouring",
        entry_point="dexmg_bench.envs.tasks.pouring:PouringEnv",
        embodiment=HUMANOID,
        variants=("D0", "D1", "D2"),
        max_episode_steps=400,
        action_dim=24,
        dataset="dexmg/pouring",
    ),
    TaskEntry(
        name="Coffee",
        entry_point="dexmg_bench.envs.tasks.coffee:CoffeeEnv",
        embodiment=HUMANOID,
        variants=("D0", "D1"),
        max_episode_steps=400,
        action_dim=24,
        dataset="dexmg/coffee",
    ),
)

NAMESPACE = "DexMG"

# BiGym's tasks (optional: `dexmg-bench[bigym]` plus BiGym itself), each one id without variants.
# Horizons and rates are those of BiGym's reference training configs.
BIGYM = "BiGym: Unitree H1, Robotiq 2F-85 grippers"
BIGYM_TASKS: tuple[TaskEntry, ...] = tuple(
    TaskEntry(
        name=f"BiGym-{task}",
        entry_point="dexmg_bench.envs.bigym:BiGymAdapterEnv",
        embodiment=BIGYM,
        variants=(),
        max_episode_steps=steps,
        action_dim=14,  # pose mode (per arm pose 6 + gripper); action_mode="joint": 15
        requires="bigym",
    )
    for task, steps in (("FlipCup", 550), ("DishwasherLoadPlates", 560), ("CupboardsCloseAll", 620))
)


def env_ids(*, versioned: bool = True) -> list[str]:
    """Every registered DexMG id, ``DexMG/<Task>-<Variant>[-vN]``."""
    return [i for t in (*TASKS, *BIGYM_TASKS) for i in t.ids(versioned=versioned)]


def task_entry(name: str) -> TaskEntry:
    """The entry of a task by name (``Threading``), with close matches in the error."""
    for t in (*TASKS, *BIGYM_TASKS):
        if t.name == name:
            return t
    import difflib

    names = [t.name for t in (*TASKS, *BIGYM_TASKS)]
    close = difflib.get_close_matches(name, names, n=3)
    hint = f" Did you mean {close}?" if close else ""
    raise UserInputError(f"unknown task {name!r}; tasks: {names}.{hint}")


def _register_all() -> None:
    for t in TASKS:
        for variant in t.variants:
            env_id = f"{NAMESPACE}/{t.name}-{variant}-v{t.version}"
            if env_id in gym.registry:
                continue
            gym.register(
                id=env_id,
                entry_point=t.entry_point,
                max_episode_steps=t.max_episode_steps,
                kwargs={"variant": variant},
            )
    for t in BIGYM_TASKS:
        if t.ids()[0] not in gym.registry:
            gym.register(
                id=t.ids()[0],
                entry_point=t.entry_point,
                max_episode_steps=t.max_episode_steps,
                kwargs={"task": t.name.removeprefix("BiGym-")},
            )


_register_all()

__all__ = ["BIGYM_TASKS", "NAMESPACE", "TASKS", "TaskEntry", "env_ids", "task_entry"]
