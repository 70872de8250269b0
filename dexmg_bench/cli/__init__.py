"""The one ``dexmg`` command; each subcommand is a typed function (tyro builds ``--help``)."""

from __future__ import annotations

from collections.abc import Sequence

from dexmg_bench.cli import (
    bigym_cmd,
    datasets_cmd,
    demo_cmd,
    envs_cmd,
    generate_cmd,
    leaderboard_cmd,
    reference_cmd,
    source_cmd,
    teleop_cmd,
    train_cmd,
)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``dexmg`` console script."""
    import tyro

    tyro.extras.subcommand_cli_from_dict(
        {
            "envs": envs_cmd.envs,
            "demo": demo_cmd.demo,
            "generate": generate_cmd.generate,
            "rollout": source_cmd.rollout,
            "source": source_cmd.source,
            "replay": source_cmd.replay,
            "expert-rate": source_cmd.expert_rate,
            "datasets": datasets_cmd.datasets,
            "train": train_cmd.train,
            "eval": train_cmd.eval,
            "reference": reference_cmd.reference,
            "leaderboard": leaderboard_cmd.leaderboard,
            "teleop": teleop_cmd.teleop,
            "bigym": bigym_cmd.bigym,
        },
        prog="dexmg",
        description=(
            "dexmg-bench: bimanual dexterous manipulation tasks, data generation, baselines."
        ),
        args=argv,
    )


__all__ = ["main"]
