"""``dexmg leaderboard``: submit (validate + smoke run), grade, regrade, build-site.

Each subcommand is a frozen dataclass (tyro builds the CLI) with a ``run`` method. Grading reads
the round key from a file; without one, results are graded on dev seeds and labelled
``self-graded``. Grading and regrading refuse to run without bubblewrap unless
``--allow-unsandboxed`` is given (the result is then labelled ``unsandboxed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import tyro

if TYPE_CHECKING:
    from dexmg_bench.leaderboard.grade import GradeConfig

RESULTS = Path("leaderboard/results")
SUBMISSIONS = Path("leaderboard/submissions")
SITE = Path("leaderboard/site")
SUBMISSION_FOLDER = "a submission folder, leaderboard/submissions/<team>__<method>"


def _grading_config(**kwargs: Any) -> GradeConfig:
    """A ``GradeConfig``, checked here for bubblewrap so that a refusal is one clear line."""
    from dexmg_bench.errors import from_options
    from dexmg_bench.leaderboard.grade import GradeConfig
    from dexmg_bench.leaderboard.sandbox import SandboxUnavailable, grading_sandbox

    config = from_options(GradeConfig, **kwargs)
    try:
        grading_sandbox(allow_unsandboxed=config.allow_unsandboxed)
    except SandboxUnavailable as err:
        raise SystemExit(f"not graded: {err}") from None
    return config


def _key(path: Path | None) -> bytes | None:
    """The round key; a missing, unreadable or empty key file is an input error."""
    from dexmg_bench.errors import UserInputError, reading

    if path is None:
        return None
    with reading(path, "a round key file"):
        key = path.read_bytes().strip()
    if not key:
        raise UserInputError(f"{path}: the key file is empty.")
    return key


def _check_folder(folder: Path, what: str) -> None:
    """A folder argument that is missing or a file fails before any work, naming itself."""
    from dexmg_bench.errors import InputFileNotFoundError, UserInputError

    if not folder.exists():
        raise InputFileNotFoundError(f"{folder}: no such folder (expected {what})")
    if not folder.is_dir():
        raise UserInputError(f"{folder} is a file, not a folder (expected {what})")


@dataclass(frozen=True, kw_only=True)
class Submit:
    """Check a submission folder offline, smoke-run it in the grader's sandbox, write its manifest.

    Attributes:
        folder: ``leaderboard/submissions/<team>__<method>``.
        smoke_steps: step limit of the smoke episode (0 = the task's horizon).
        max_ms_per_action: latency limit in the smoke episode.
    """

    folder: tyro.conf.Positional[Path]
    smoke_steps: int = 0
    max_ms_per_action: float = 200.0

    def __post_init__(self) -> None:
        if self.smoke_steps < 0:
            raise ValueError(f"--smoke-steps must be >= 0. Got {self.smoke_steps}.")
        if not 0 < self.max_ms_per_action < float("inf"):
            raise ValueError(
                f"--max-ms-per-action must be a finite number > 0. Got {self.max_ms_per_action}."
            )

    def run(self) -> None:
        """Print the submission id and the next step; a refusal exits 2, a failed smoke run 1."""
        from dexmg_bench.errors import UserInputError
        from dexmg_bench.leaderboard.sandbox import PolicyFailure
        from dexmg_bench.leaderboard.submit import SmokeConfig, SubmissionError, submit

        _check_folder(self.folder, SUBMISSION_FOLDER)
        cfg = SmokeConfig(max_steps=self.smoke_steps, max_ms_per_action=self.max_ms_per_action)
        try:
            rep = submit(self.folder, cfg)
        except SubmissionError as err:
            raise UserInputError(f"refused: {err}") from err
        except PolicyFailure as err:
            raise SystemExit(f"smoke run failed: {err}") from None
        for w in rep.warnings:
            print(f"warning: {w}")
        for tv, ms in rep.ms_per_action.items():
            print(f"smoke episode {tv}: ok, {ms:.1f} ms per action")
        if not rep.sandboxed:
            print("warning: bubblewrap is unavailable here; the smoke run used rlimits only")
        print(f"submission id: {rep.submission_id}")
        print(
            f"next: commit {self.folder} (with MANIFEST.sha256) and open a pull request; a "
            "maintainer starts grading on hidden seeds."
        )


@dataclass(frozen=True, kw_only=True)
class Grade:
    """Grade a submission: 3 training seeds x checkpoints x N episodes, in the sandbox.

    Attributes:
        folder: the submission folder.
        key_file: the round key (hidden seeds); without it: dev seeds, ``self-graded``.
        episodes: episodes per checkpoint.
        max_steps: step limit per episode (0 = the task's horizon).
        workers: simulator processes.
        results: folder of the results JSON.
        allow_unsandboxed: grade even where bubblewrap cannot run (labelled ``unsandboxed``).
    """

    folder: tyro.conf.Positional[Path]
    key_file: Path | None = None
    episodes: int = 50
    max_steps: int = 0
    workers: int = 1
    results: Path = RESULTS
    allow_unsandboxed: bool = False

    def run(self) -> None:
        """Write ``<results>/<id>.json`` and print the status and the sandbox that ran it."""
        from dexmg_bench.leaderboard.grade import grade, write_results

        _check_folder(self.folder, SUBMISSION_FOLDER)
        key = _key(self.key_file)
        cfg = _grading_config(
            episodes=self.episodes,
            max_steps=self.max_steps,
            workers=self.workers,
            allow_unsandboxed=self.allow_unsandboxed,
        )
        hide = (self.key_file.resolve(),) if self.key_file else ()
        res, run = grade(self.folder, key=key, config=cfg, hide=hide, progress=True)
        out = write_results(res, run, self.results)
        print(f"{res['status']}: {out}")
        print(f"sandbox: {res['sandbox']}")
        if res["failure"]:
            print(f"reason: {res['failure']['reason']}")
        for tv, t in res["tasks"].items():
            if "success_mean" in t:
                print(f"{tv}: {t['success_mean']:.3f} +- {t['success_std']:.3f}")
        for flag in res["flags"]:
            print(f"flag: {flag}")


@dataclass(frozen=True, kw_only=True)
class Regrade:
    """Reproduce a graded result with the revealed round key, episode for episode.

    Attributes:
        id: the submission id (``leaderboard/results/<id>.json``).
        key_file: the revealed round key.
        results: folder of the results JSON.
        submissions: folder of the submissions.
        workers: simulator processes.
        allow_unsandboxed: regrade even where bubblewrap cannot run.
    """

    id: tyro.conf.Positional[str]
    key_file: Path
    results: Path = RESULTS
    submissions: Path = SUBMISSIONS
    workers: int = 1
    allow_unsandboxed: bool = False

    def run(self) -> None:
        """Exit 1 if any episode differs."""
        import json

        from dexmg_bench.errors import InputFileNotFoundError, reading
        from dexmg_bench.leaderboard.grade import regrade

        key = _key(self.key_file) or b""
        results_file = self.results / f"{self.id}.json"
        if not results_file.is_file():
            raise InputFileNotFoundError(f"no graded result {self.id!r}: {results_file} is missing")
        with reading(results_file, "a results JSON file"):
            json.loads(results_file.read_text())
        _check_folder(self.submissions, "the submissions folder")
        cfg = _grading_config(workers=self.workers, allow_unsandboxed=self.allow_unsandboxed)
        same, _ = regrade(results_file, self.submissions, key=key, config=cfg, progress=True)
        if not same:
            raise SystemExit(f"{self.id}: regrading did NOT reproduce the published results")
        print(f"{self.id}: reproduced every episode")


@dataclass(frozen=True, kw_only=True)
class BuildSite:
    """Write the board: one self-contained ``index.html`` (data, CSS and JS inline).

    Attributes:
        results: folder of the results JSON.
        submissions: folder of the submissions (rows whose folder changed are rejected).
        out: output folder.
        cards_url: where dataset-card links point (relative to the page, or a repository URL).
    """

    results: Path = RESULTS
    submissions: Path = SUBMISSIONS
    out: Path = SITE
    cards_url: str = "../../datasets/cards"

    def run(self) -> None:
        """Build and print the path and any rejected rows."""
        from dexmg_bench.leaderboard.site import build_site

        _check_folder(self.results, "the folder of the results JSON")
        _check_folder(self.submissions, "the submissions folder")
        path, rejected = build_site(self.results, self.submissions, self.out, self.cards_url)
        for name, why in rejected.items():
            print(f"rejected {name}: {why}")
        print(path)


Command = (
    Annotated[Submit, tyro.conf.subcommand("submit")]
    | Annotated[Grade, tyro.conf.subcommand("grade")]
    | Annotated[Regrade, tyro.conf.subcommand("regrade")]
    | Annotated[BuildSite, tyro.conf.subcommand("build-site")]
)


def leaderboard(cmd: tyro.conf.OmitArgPrefixes[tyro.conf.OmitSubcommandPrefixes[Command]]) -> None:
    """The leaderboard: submit a folder, grade it on hidden seeds, regrade, build the board page."""
    cmd.run()
