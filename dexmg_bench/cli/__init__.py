"""The one ``dexmg`` command; each subcommand is a typed function (tyro builds ``--help``).

``main`` is the command's error boundary: an input error (``UserInputError``: a bad option, an
unknown name, a wrong file) prints one ``dexmg: error: ...`` message and exits 2; any other
exception is a bug and keeps its traceback. A full disk is no bug either: it prints one line
naming the file and exits 1. ``--debug`` (anywhere on the command line) or ``DEXMG_DEBUG=1``
shows the traceback of both.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from dexmg_bench.cli import (
    bigym_cmd,
    datasets_cmd,
    demo_cmd,
    docs_cmd,
    envs_cmd,
    gallery_cmd,
    generate_cmd,
    leaderboard_cmd,
    reference_cmd,
    source_cmd,
    teleop_cmd,
    train_cmd,
)

DEBUG_FLAG = "--debug"
INPUT_ERROR_STATUS = 2  # argparse's and tyro's status for a bad command line
DISK_FULL_STATUS = 1
BROKEN_PIPE_STATUS = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left


class InputErrorExit(SystemExit):
    """Exit status 2 for an input error; ``str()`` keeps the message for callers and tests."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = INPUT_ERROR_STATUS


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``dexmg`` console script: run a subcommand inside the error boundary.

    Raises:
        InputErrorExit: (status 2) after printing the message of a ``UserInputError``.
        SystemExit: (status 1) after printing which file a full disk stopped.
    """
    from dexmg_bench.errors import DiskFullError, UserInputError, is_disk_full

    args = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in args or os.environ.get("DEXMG_DEBUG", "") not in ("", "0")
    args = [a for a in args if a != DEBUG_FLAG]
    try:
        _dispatch(args)
    except UserInputError as err:
        if debug:
            raise
        print(f"dexmg: error: {err}", file=sys.stderr)
        raise InputErrorExit(str(err)) from None
    except BrokenPipeError:  # the reader left (`dexmg envs | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        raise SystemExit(BROKEN_PIPE_STATUS) from None
    except OSError as err:
        if debug or not is_disk_full(err):
            raise
        message = err if isinstance(err, DiskFullError) else DiskFullError(err.filename)
        print(f"dexmg: error: {message}", file=sys.stderr)
        raise SystemExit(DISK_FULL_STATUS) from None


def _dispatch(args: list[str]) -> None:
    """Parse the command line with tyro and run the chosen subcommand."""
    import tyro

    tyro.extras.subcommand_cli_from_dict(
        {
            "envs": envs_cmd.envs,
            "docs": docs_cmd.docs,
            "gallery": gallery_cmd.gallery,
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
            "dexmg-bench: bimanual dexterous manipulation tasks, data generation, baselines. "
            "Add --debug to any command to see the traceback of an input error."
        ),
        args=args,
    )


__all__ = ["InputErrorExit", "main"]
