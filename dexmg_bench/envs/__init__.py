"""DexMG environments, registered with Gymnasium under the ``DexMG`` namespace.

Registration is explicit and in this one file (Gymnasium's pattern). Every task gets
``DexMG/<Task>-<Variant>-v<N>``; ``gym.make("DexMG/<Task>-<Variant>")`` resolves to the newest
version. Entry points are strings, so importing this module does not import any simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym

from dexmg_bench.errors import InputFileNotFoundError, UserInputError

# The package folder: shipped files sit under ``_shipped/`` in a wheel, beside it in a checkout.
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def kebab(name: str) -> str:
    """``PieceAssembly`` -> ``piece-assembly``, ``BiGym-FlipCup`` -> ``bigym-flip-cup``.

    The one case rule for names derived from a task name (files, dataset ids, run folders), so
    that BiGym's prefix is handled here and nowhere else.
    """
    name = name.replace("BiGym-", "Bigym")
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def _shipped(kind: str, name: str, checkout: Path) -> Path | None:
    """A file shipped inside an installed wheel, else in the source checkout; None if neither."""
    for path in (_PACKAGE_DIR / "_shipped" / kind / name, checkout / name):
        if path.is_file():
            return path
    return None


@dataclass(frozen=True)
class TaskEntry:
    """One task of the suite, resolved once from its name and passed down from there.

    Every name derived from the task (env ids, file names, dataset ids, the shipped spec and
    source demos) is computed here, so callers take this record instead of the task's name.
    """

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

    @property
    def slug(self) -> str:
        """The lower-case kebab form for file names and dataset ids (``piece-assembly``)."""
        return kebab(self.name)

    @property
    def horizon(self) -> int:
        """Step budget of an episode (the registered ``max_episode_steps``)."""
        return self.max_episode_steps

    @property
    def spec_path(self) -> Path:
        """The shipped generator spec: ``generators/piece_assembly.toml`` (wheel first).

        A task without a shipped spec gets the checkout path, so loading it names the file.
        """
        name = f"{self.slug.replace('-', '_')}.toml"
        checkout = _PACKAGE_DIR.parent / "generators"
        return _shipped("generators", name, checkout) or checkout / name

    @property
    def source_path(self) -> Path:
        """The shipped scripted source demos: ``datasets/source/piece-assembly.hdf5``.

        Raises:
            InputFileNotFoundError: none is shipped for this task (naming where it looked).
        """
        name = f"{self.slug}.hdf5"
        checkout = _PACKAGE_DIR.parent / "datasets" / "source"
        path = _shipped("source", name, checkout)
        if path is None:
            looked = [str(_PACKAGE_DIR / "_shipped" / "source" / name), str(checkout / name)]
            raise InputFileNotFoundError(
                f"no shipped source demos for {self.name!r}; looked in {looked}"
            )
        return path

    def make_env(self, variant: str = "D0", **kwargs: Any) -> Any:
        """The unwrapped env of one variant (no time limit, full method access).

        Raises:
            UserInputError: a variant the task lacks.
        """
        return gym.make(self.env_id(variant), **kwargs).unwrapped


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
        variants=("D0", "D1", "D2"),
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
        variants=("D0", "D1", "D2"),
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


def task_entry(name: str | TaskEntry) -> TaskEntry:
    """The entry of a task by name (``Threading``), with close matches in the error.

    An entry passes through unchanged, so a caller holding one need not turn it back into a name.
    """
    if isinstance(name, TaskEntry):
        return name
    if not isinstance(name, str):
        raise TypeError(f"a task is named by a str or a TaskEntry, not {type(name).__name__}")
    for t in (*TASKS, *BIGYM_TASKS):
        if t.name == name:
            return t
    import difflib

    names = [t.name for t in (*TASKS, *BIGYM_TASKS)]
    close = difflib.get_close_matches(name, names, n=3)
    hint = f" Did you mean {close}?" if close else ""
    raise UserInputError(f"unknown task {name!r}; tasks: {names}.{hint}")


def make_task_env(task: str | TaskEntry, variant: str = "D0", **kwargs: Any) -> Any:
    """The unwrapped env of ``DexMG/<task>-<variant>``, from a task's name or its entry."""
    entry = task if isinstance(task, TaskEntry) else task_entry(task)
    return entry.make_env(variant, **kwargs)


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

__all__ = [
    "BIGYM_TASKS",
    "NAMESPACE",
    "TASKS",
    "TaskEntry",
    "env_ids",
    "kebab",
    "make_task_env",
    "task_entry",
]
