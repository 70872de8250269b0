"""``dexmg bigym import-demos | inspect``: BiGym's own demonstrations as DexMG source demos."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from dexmg_bench.errors import UserInputError


@dataclass(frozen=True, kw_only=True)
class ImportDemos:
    """Convert BiGym's demo files (safetensors, downloaded elsewhere) into a source-demo file.

    Each demo is replayed from its BiGym seed in the adapter's joint mode (decimated to the
    task's control rate as BiGym does) and recorded with datagen info and subtask boundaries,
    as ``dexmg source`` records scripted demos; only demos that succeed are kept. Their pose
    actions are then replayed in the default pose mode and the success count reported.

    Attributes:
        folder: the folder BiGym's demos were unzipped to (searched recursively).
        task: ``BiGym-FlipCup``, ``BiGym-DishwasherLoadPlates`` or ``BiGym-CupboardsCloseAll``.
        out: output file (default: ``datasets/source/<task>-imported.hdf5``).
        frequency: the demos' recording rate in Hz; 0 = from a ``<n>hz`` folder, else 500.
        origin: who made the demos (BiGym's dataset: ``human``, VR teleoperation).
        max_demos: import at most this many (0 = all).
        verify: replay the written demos in pose mode and report.
    """

    folder: tyro.conf.Positional[Path]
    task: str
    out: Path | None = None
    frequency: int = 0
    origin: str = "human"
    max_demos: int = 0
    verify: bool = True

    def __post_init__(self) -> None:
        if self.frequency < 0 or self.max_demos < 0:
            raise ValueError(
                f"--frequency and --max-demos must be >= 0. Got {self.frequency}, {self.max_demos}."
            )

    def run(self) -> None:
        """Import, print a summary; a wrong folder, task or file is an input error (status 2)."""
        from dexmg_bench.datasets.bigym_demo_files import BiGymDemoError
        from dexmg_bench.datasets.bigym_import import import_demos
        from dexmg_bench.envs import task_entry
        from dexmg_bench.sim.bigym_backend import BiGymNotInstalled

        entry = task_entry(self.task)  # resolved once, before any file is read
        out = self.out or Path("datasets/source") / f"{entry.slug}-imported.hdf5"
        try:
            rep = import_demos(
                self.folder,
                entry.name,
                out,
                frequency=self.frequency,
                origin=self.origin,
                max_demos=self.max_demos,
                verify=self.verify,
            )
        except BiGymDemoError as err:
            raise UserInputError(f"import-demos: {err}") from err
        except BiGymNotInstalled as err:
            raise SystemExit(f"import-demos: {err}") from None
        print(f"{rep.kept}/{rep.files} demos succeeded in joint-mode replay -> {out}")
        if rep.failed_seeds:
            print(f"failed (BiGym seeds): {list(rep.failed_seeds)}")
        diff = rep.joint_replay_max_state_diff
        print(f"joint-mode replay of the stored joint actions: max state difference {diff:.1e}")
        if self.verify:
            for k, (seed, ok, gap) in enumerate(
                zip(rep.kept_seeds, rep.pose_replay_ok, rep.pose_replay_drift_m, strict=True)
            ):
                outcome = "success" if ok else "failed"
                print(f"demo_{k} (BiGym seed {seed}): pose replay {outcome}, {100 * gap:.1f} cm")
            drift = max(rep.pose_replay_drift_m)
            print(
                f"pose-mode replay: {rep.pose_replay_success}/{rep.kept} succeed; largest "
                f"pinch-site drift from the recorded path {100 * drift:.1f} cm"
            )


@dataclass(frozen=True, kw_only=True)
class Inspect:
    """List BiGym demo files without importing (BiGym itself not needed).

    Attributes:
        folder: the folder BiGym's demos were unzipped to (searched recursively).
        frequency: the demos' recording rate in Hz; 0 = from a ``<n>hz`` folder, else 500.
    """

    folder: tyro.conf.Positional[Path]
    frequency: int = 0

    def __post_init__(self) -> None:
        if self.frequency < 0:
            raise ValueError(f"--frequency must be >= 0. Got {self.frequency}.")

    def run(self) -> None:
        """One line per file: task, seed, action mode, rate, steps; a bad folder is status 2."""
        from dexmg_bench.datasets.bigym_demo_files import BiGymDemoError, parse_demo

        files = sorted(self.folder.rglob("*.safetensors")) if self.folder.is_dir() else []
        if not files:
            raise UserInputError(
                f"inspect: no BiGym demo files (*.safetensors) under {self.folder}"
            )
        try:
            for f in files:
                d = parse_demo(f, self.frequency)
                mode = "absolute" if d.absolute else "delta"
                print(
                    f"{f.relative_to(self.folder)}: {d.env_name} seed {d.seed}, {mode} joints, "
                    f"base {'/'.join(d.floating_dofs)}, {len(d.actions)} steps at {d.frequency} Hz"
                )
        except BiGymDemoError as err:
            raise UserInputError(f"inspect: {err}") from err


Command = (
    Annotated[ImportDemos, tyro.conf.subcommand("import-demos")]
    | Annotated[Inspect, tyro.conf.subcommand("inspect")]
)


def bigym(cmd: tyro.conf.OmitArgPrefixes[tyro.conf.OmitSubcommandPrefixes[Command]]) -> None:
    """BiGym tasks: import BiGym's own demonstration files as source demos, or list them."""
    cmd.run()
