"""``dexmg reference``: run a reference-results campaign (e.g. Table I) and rebuild its table.

Each subcommand is a frozen dataclass (tyro builds the CLI) with a ``run`` method.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from dexmg_bench.errors import UserInputError


@dataclass(frozen=True, kw_only=True)
class Run:
    """Build datasets, train every seed and evaluate every cell of a campaign; reruns resume.

    A cell whose results JSON exists is skipped, a training seed resumes from its last
    checkpoint, and the generated set is the flagship job, built (or resumed) only when it is
    not in the local Minari store. Long: run it niced in the background.

    Attributes:
        campaign: the campaign TOML (e.g. baselines/configs/table1.toml).
        tasks: only these tasks (default: the campaign's).
        data: only these data kinds of the campaign (e.g. source, generated; default: all).
        results: where the results JSONs and the table go (default: baselines/results/<name>).
        work: training runs (checkpoints; not committed).
        jobs: flagship generation jobs.
        workers: generation and evaluation worker processes.
    """

    campaign: tyro.conf.Positional[Path]
    tasks: tuple[str, ...] = ()
    data: tuple[str, ...] = ()
    results: Path | None = None
    work: Path = Path("runs/reference")
    jobs: Path = Path("runs/flagship")
    workers: int = 2

    def run(self) -> None:
        """Every selected cell in order, then the report."""
        from dexmg_bench.baselines import require_torch

        require_torch("dexmg reference run")
        from dexmg_bench.baselines.campaign import Campaign, report, run_cell

        campaign = Campaign.from_toml(self.campaign)
        results = self.results or Path("baselines/results") / campaign.name
        unknown = sorted(set(self.tasks) - set(campaign.tasks))
        if unknown:
            raise UserInputError(f"--tasks {unknown} are not in {self.campaign}: {campaign.tasks}")
        unknown = sorted(set(self.data) - set(campaign.data))
        if unknown:
            raise UserInputError(f"--data {unknown} are not in {self.campaign}: {campaign.data}")
        for task in self.tasks or campaign.tasks:
            for data in self.data or campaign.data:
                res = run_cell(
                    campaign,
                    task,
                    data,
                    work=self.work / campaign.name,
                    results=results,
                    jobs=self.jobs,
                    workers=self.workers,
                )
                print(f"{task} {data}: {100 * res['success_mean']:.1f} +- "
                      f"{100 * res['success_std']:.1f}%")  # fmt: skip
        report(campaign, results)
        print((results / f"{campaign.name}.md").read_text())


@dataclass(frozen=True, kw_only=True)
class Report:
    """Rebuild a campaign's table (Markdown, JSON) and chart from its results JSONs alone.

    Attributes:
        campaign: the campaign TOML.
        results: the results folder (default: baselines/results/<name>).
    """

    campaign: tyro.conf.Positional[Path]
    results: Path | None = None

    def run(self) -> None:
        """Write and print the table."""
        from dexmg_bench.baselines.campaign import Campaign, report

        campaign = Campaign.from_toml(self.campaign)
        results = self.results or Path("baselines/results") / campaign.name
        report(campaign, results)
        print((results / f"{campaign.name}.md").read_text())


@dataclass(frozen=True, kw_only=True)
class Package:
    """Turn one finished cell into a leaderboard submission folder (then submit and grade it).

    Copies every checkpoint (optimizer state stripped), writes the claims from the cell's
    results on the public seeds, a policy entry point and submission.yaml with the dataset's
    card hash. Next: `dexmg leaderboard submit OUT`, `dexmg leaderboard grade OUT --key-file ...`.

    Attributes:
        campaign: the campaign TOML.
        task: the cell's task.
        data: the cell's data kind (one of the campaign's, e.g. generated).
        out: submission folder (default:
            leaderboard/submissions/dexmg__<policy>-<name>-<task>-<data>).
        results: the results folder (default: baselines/results/<name>).
        work: the campaign's training runs.
        cards: dataset cards (for the dataset hash).
    """

    campaign: tyro.conf.Positional[Path]
    task: str
    data: str = "generated"
    out: Path | None = None
    results: Path | None = None
    work: Path = Path("runs/reference")
    cards: Path = Path("datasets/cards")

    def run(self) -> None:
        """Write the folder and print its path."""
        from dexmg_bench.baselines.campaign import Campaign, package
        from dexmg_bench.envs import task_entry

        campaign = Campaign.from_toml(self.campaign)
        if self.task not in campaign.tasks or self.data not in campaign.data:
            raise UserInputError(
                f"{self.task} {self.data} is not a cell of {self.campaign}: tasks "
                f"{campaign.tasks}, data {campaign.data}"
            )
        entry = task_entry(self.task)
        name = f"dexmg__{campaign.policy}-{campaign.name}-{entry.slug}-{self.data}"
        out = self.out or Path("leaderboard/submissions") / name
        results = self.results or Path("baselines/results") / campaign.name
        work = self.work / campaign.name
        print(package(campaign, self.task, self.data, work=work, results=results, out=out,
                      cards=self.cards))  # fmt: skip


Command = (
    Annotated[Run, tyro.conf.subcommand("run")]
    | Annotated[Report, tyro.conf.subcommand("report")]
    | Annotated[Package, tyro.conf.subcommand("package")]
)


def reference(cmd: tyro.conf.OmitArgPrefixes[tyro.conf.OmitSubcommandPrefixes[Command]]) -> None:
    """Reference results: run a campaign of training and evaluation, or rebuild its table."""
    cmd.run()
