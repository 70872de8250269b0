"""``dexmg datasets``: build, write, card, render, publish, download, export (robomimic, LeRobot).

Each subcommand is a frozen dataclass (tyro builds the CLI from it) with a ``run`` method.
Datasets land in Minari's local store (``$MINARI_DATASETS_PATH``, default ``~/.minari``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import tyro

CARDS = Path("datasets/cards")


def _check_job(job: Path) -> None:
    """A finished ``dexmg generate`` folder, checked before any dataset is written."""
    import json

    from dexmg_bench.errors import UserInputError, reading

    stats_file = job / "stats.json"
    if not stats_file.is_file():
        raise UserInputError(f"{job} is not a `dexmg generate` job folder (no stats.json)")
    with reading(stats_file, "the JSON stats of a job"):
        stats = json.loads(stats_file.read_text())
    if not stats.get("complete"):
        raise UserInputError(
            f"{job}: the job is not complete ({stats.get('kept', 0)} kept); rerun its "
            "`dexmg generate` command to finish it"
        )


@dataclass(frozen=True, kw_only=True)
class Build:
    """Rebuild the local catalogue: source datasets of the shipped tasks (+ generated jobs), cards.

    With ``--flagship 1000`` it also generates each task's flagship set ``dexmg/<task>-v0``
    (DexMimicGen, D0, seed 0) into ``JOBS/<task>``; those jobs resume when the command is rerun.
    It is the one command that writes that id; ``--generated`` jobs keep their own
    (``dexmg/<task>-n<N>-v0`` and the like).

    Attributes:
        tasks: tasks to build (default: every task with shipped source demos).
        generated: finished ``dexmg generate`` folders to add as generated datasets.
        cards: folder of the dataset cards (``<id>.md``).
        flagship: demos per flagship set to generate (0 = none; the catalogue's sets have 1000).
        jobs: folder of the flagship generation jobs, one per task.
        workers: generation worker processes.
    """

    tasks: tuple[str, ...] = ()
    generated: tuple[Path, ...] = ()
    cards: Path = CARDS
    flagship: int = 0
    jobs: Path = Path("runs/flagship")
    workers: int = 2

    def __post_init__(self) -> None:
        if self.flagship < 0 or self.workers < 1:
            raise ValueError(
                f"`flagship` must be >= 0 and `workers` >= 1. Got {self.flagship}, {self.workers}."
            )

    def run(self) -> None:
        """Write every dataset (replacing older local copies) and its card.

        Ctrl-C or SIGTERM stops it between episodes with one line: the datasets already written
        are kept, the one being written is not (its staging folder is removed), and a rerun
        writes them again; the flagship jobs resume where they stopped.
        """
        from dexmg_bench.cli.generate_cmd import stop_on_signals
        from dexmg_bench.datasets.cards import write_card
        from dexmg_bench.datasets.minari_io import source_info, write_generated_job, write_minari
        from dexmg_bench.datasets.source import read_source_file
        from dexmg_bench.envs import TASKS, task_entry
        from dexmg_bench.errors import Stopped

        # every input is resolved once, before the first dataset is written
        entries = tuple(task_entry(name) for name in self.tasks) or TASKS
        for job in self.generated:
            _check_job(job)
        with stop_on_signals() as stop:
            try:
                for entry in entries:
                    try:
                        path = entry.source_path
                    except FileNotFoundError:
                        if self.tasks:
                            raise
                        print(f"skip {entry.name}: no shipped source demos yet")
                        continue
                    src = read_source_file(path)
                    ds = write_minari(src, source_info(src), overwrite=True, should_stop=stop)
                    print(
                        f"{ds.id}: {ds.total_episodes} episodes -> {write_card(ds.id, self.cards)}"
                    )
                    if self.flagship:
                        self._generate_flagship(entry.name, stop)
                for job in self.generated:
                    ds = write_generated_job(job, overwrite=True, should_stop=stop)
                    print(
                        f"{ds.id}: {ds.total_episodes} episodes -> {write_card(ds.id, self.cards)}"
                    )
            except Stopped:
                stop.exit("the datasets written so far are kept; rerun the same command to finish")

    def _generate_flagship(self, task: str, stop: Callable[[], bool]) -> None:
        from dexmg_bench.cli.generate_cmd import generate as generate_cli
        from dexmg_bench.datasets.cards import write_card
        from dexmg_bench.datasets.minari_io import write_generated_job
        from dexmg_bench.generators.job import GenerateConfig

        job = self.jobs / task  # `dexmg generate` itself: progress, resume, Ctrl-C
        config = GenerateConfig(task=task, n=self.flagship, workers=self.workers)
        generate_cli(config, out=job, minari=False)
        ds = write_generated_job(job, flagship=True, overwrite=True, should_stop=stop)
        print(f"{ds.id}: {ds.total_episodes} episodes -> {write_card(ds.id, self.cards)}")


@dataclass(frozen=True, kw_only=True)
class Write:
    """Write one source-demo HDF5 file, or a finished ``dexmg generate`` folder, as a dataset.

    Attributes:
        path: a source-format ``.hdf5`` file or a generate job folder.
        dataset: dataset id (default: from task, variant, origin and generator, plus the size
            of a generate job, e.g. ``dexmg/threading-n10-v0``).
        overwrite: replace a local dataset with the same id.
    """

    path: tyro.conf.Positional[Path]
    dataset: str = ""
    overwrite: bool = False

    def run(self) -> None:
        """Write it and print the id."""
        from dexmg_bench.cli.generate_cmd import stop_on_signals
        from dexmg_bench.datasets.minari_io import source_info, write_generated_job, write_minari
        from dexmg_bench.datasets.source import read_source_file
        from dexmg_bench.errors import Stopped, UserInputError

        if self.path.is_dir():
            _check_job(self.path)
            src = None
        else:
            src = read_source_file(self.path)
            if src.origin == "generated":
                raise UserInputError(f"{self.path} holds generated episodes: pass its job folder")
        with stop_on_signals() as stop:
            kw = {"dataset": self.dataset, "overwrite": self.overwrite, "should_stop": stop}
            try:
                if src is None:
                    ds = write_generated_job(self.path, **kw)
                else:
                    ds = write_minari(src, source_info(src), **kw)
            except Stopped:
                stop.exit("the dataset was not written; rerun the same command to write it")
        print(f"{ds.id}: {ds.total_episodes} episodes, {ds.total_steps} steps")


@dataclass(frozen=True, kw_only=True)
class Card:
    """Write the markdown card of local datasets to ``<out>/<id>.md``.

    Attributes:
        ids: dataset ids, e.g. ``dexmg/threading-source-v0``.
        out: cards folder.
    """

    ids: tyro.conf.Positional[tuple[str, ...]]
    out: Path = CARDS

    def run(self) -> None:
        """One card per id."""
        from dexmg_bench.datasets.cards import write_card
        from dexmg_bench.datasets.loader import load

        for ds_id in self.ids:  # every id is checked before the first card is written
            load(ds_id)
        for ds_id in self.ids:
            print(write_card(ds_id, self.out))


@dataclass(frozen=True, kw_only=True)
class Hash:
    """Print the content sha256 of local datasets (the value a leaderboard submission quotes).

    It hashes the episodes' arrays, not the file's bytes, so rebuilding the same episodes gives
    the same value; the dataset card lists it too.

    Attributes:
        ids: dataset ids, e.g. ``dexmg/threading-source-v0``.
    """

    ids: tyro.conf.Positional[tuple[str, ...]]

    def run(self) -> None:
        """One ``<sha256>  <id>`` line per dataset."""
        from dexmg_bench.datasets.loader import load
        from dexmg_bench.datasets.minari_io import dataset_content_sha256

        for ds_id in self.ids:
            load(ds_id)  # a clear error for a missing or incomplete dataset
            print(f"{dataset_content_sha256(ds_id)}  {ds_id}")


@dataclass(frozen=True, kw_only=True)
class Render:
    """Add camera observations to a low-dim dataset by restoring its stored states.

    Attributes:
        dataset: the low-dim dataset id.
        cameras: cameras to render (default: the env config's cameras).
        size: image side, pixels.
        workers: rendering processes.
        new_id: output id (default ``<name>-rgb<size>-vN``).
        overwrite: replace a local dataset with the output id.
    """

    dataset: tyro.conf.Positional[str]
    cameras: tuple[str, ...] = ()
    size: int = 84
    workers: int = 2
    new_id: str = ""
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"`size` must be >= 8. Got {self.size}.")
        if self.workers < 1:
            raise ValueError(f"`workers` must be >= 1. Got {self.workers}.")

    def run(self) -> None:
        """Render and write the sibling dataset."""
        from dexmg_bench.datasets.loader import load
        from dexmg_bench.datasets.render import render_dataset
        from dexmg_bench.envs import make_task_env

        cameras = self.cameras
        if not cameras:
            dx = load(self.dataset).storage.metadata["dexmg"]
            env = make_task_env(dx["task"], dx["variant"])
            cameras = tuple(env.config.cameras)
            env.close()
        ds = render_dataset(
            self.dataset,
            cameras=cameras,
            size=self.size,
            workers=self.workers,
            new_id=self.new_id,
            overwrite=self.overwrite,
        )
        print(f"{ds.id}: {ds.total_episodes} episodes with {', '.join(cameras)} images")


@dataclass(frozen=True, kw_only=True)
class Publish:
    """Upload local datasets to a Minari remote; refuses any with incomplete metadata.

    Attributes:
        ids: dataset ids.
        remote: ``hf://<org>`` or ``gcp://<bucket>`` (a loopback emulator needs
            ``STORAGE_EMULATOR_HOST``).
        token: Hugging Face token or GCP key file (empty: anonymous).
    """

    ids: tyro.conf.Positional[tuple[str, ...]]
    remote: str
    token: str = ""

    def run(self) -> None:
        """Check all, then upload all."""
        from dexmg_bench.datasets.publish import publish

        for ds_id in publish(self.ids, remote=self.remote, token=self.token or None):
            print(f"published {ds_id} to {self.remote}")


@dataclass(frozen=True, kw_only=True)
class Download:
    """Download the newest version of a dataset (``dexmg/threading``) or an exact ``-vN``.

    Attributes:
        name: dataset name, with or without ``-vN``.
        remote: ``hf://<org>`` or ``gcp://<bucket>``.
        force: replace a local copy.
    """

    name: tyro.conf.Positional[str]
    remote: str
    force: bool = False

    def run(self) -> None:
        """Resolve the version, download, check integrity."""
        from dexmg_bench.datasets.publish import download

        print(download(self.name, remote=self.remote, force=self.force))


@dataclass(frozen=True, kw_only=True)
class ExportRobomimic:
    """Write a source-format HDF5 as robomimic/MimicGen HDF5 (``data/demo_k``, ``env_args``).

    Attributes:
        source: source-format ``.hdf5`` (scripted or generated).
        out: robomimic file to write.
        obs: add ``obs``/``next_obs`` computed from the stored states.
    """

    source: tyro.conf.Positional[Path]
    out: Path
    obs: bool = True

    def run(self) -> None:
        """Export."""
        from dexmg_bench.datasets.robomimic import export_robomimic
        from dexmg_bench.datasets.source import read_source_file
        from dexmg_bench.envs import make_task_env

        src = read_source_file(self.source)
        env = make_task_env(src.task, src.variant) if self.obs else None
        export_robomimic(src, self.out, env=env)
        print(f"{self.out}: {len(src.demos)} demos")


@dataclass(frozen=True, kw_only=True)
class ImportRobomimic:
    """Read a robomimic HDF5 written for DexMG envs back into the source format.

    Attributes:
        path: robomimic file.
        out: source-format ``.hdf5`` to write.
    """

    path: tyro.conf.Positional[Path]
    out: Path

    def run(self) -> None:
        """Import."""
        from dexmg_bench.datasets.robomimic import import_robomimic

        _write_source(import_robomimic(self.path), self.out)


@dataclass(frozen=True, kw_only=True)
class ExportSource:
    """Write a dexmg Minari dataset as a source-demo HDF5 (for ``dexmg generate --source``).

    Attributes:
        dataset: dataset id, e.g. ``dexmg/threading-source-v0``.
        out: source-format ``.hdf5`` to write.
    """

    dataset: tyro.conf.Positional[str]
    out: Path

    def run(self) -> None:
        """Rebuild the datagen info from the stored states and write it."""
        from dexmg_bench.datasets.minari_source import read_minari_source

        _write_source(read_minari_source(self.dataset), self.out)


def _write_source(src: Any, out: Path) -> None:
    """Write demos in the source format (what ``dexmg generate --source`` reads), say where."""
    from dexmg_bench.datasets.source import write_source_file

    write_source_file(out, src)
    print(f"{out}: {len(src.demos)} demos of {src.env_id}")


@dataclass(frozen=True, kw_only=True)
class ExportLerobot:
    """Write a dexmg Minari dataset as a LeRobot dataset (format v3.0, read by LeRobot 0.4).

    Rows are steps: ``observation.state`` (low-dim keys, quaternions wxyz), ``action``,
    ``next.success`` and the simulator state ``observation.sim_state``. Camera images
    (``dexmg datasets render``) become H.264 videos ``observation.images.<camera>``. Needs the
    ``lerobot`` extra (pyarrow, imageio-ffmpeg).

    Attributes:
        dataset: dataset id, e.g. ``dexmg/threading-source-v0``.
        out: folder to write; must not exist or be empty.
    """

    dataset: tyro.conf.Positional[str]
    out: Path

    def run(self) -> None:
        """Export and print where."""
        from dexmg_bench.datasets.lerobot_export import export_lerobot

        done = export_lerobot(self.dataset, self.out)
        print(f"{done.root}: {done.episodes} episodes, {done.frames} frames at {done.fps} fps")


Command = (
    Annotated[Build, tyro.conf.subcommand("build")]
    | Annotated[Write, tyro.conf.subcommand("write")]
    | Annotated[Card, tyro.conf.subcommand("card")]
    | Annotated[Hash, tyro.conf.subcommand("hash")]
    | Annotated[Render, tyro.conf.subcommand("render")]
    | Annotated[Publish, tyro.conf.subcommand("publish")]
    | Annotated[Download, tyro.conf.subcommand("download")]
    | Annotated[ExportRobomimic, tyro.conf.subcommand("export-robomimic")]
    | Annotated[ImportRobomimic, tyro.conf.subcommand("import-robomimic")]
    | Annotated[ExportSource, tyro.conf.subcommand("export-source")]
    | Annotated[ExportLerobot, tyro.conf.subcommand("export-lerobot")]
)


def datasets(cmd: tyro.conf.OmitArgPrefixes[tyro.conf.OmitSubcommandPrefixes[Command]]) -> None:
    """Minari datasets: build the catalogue, cards, camera rendering, publish, robomimic interop."""
    cmd.run()
