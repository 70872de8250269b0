"""Every command in the README works: the fast tier parses each one, the slow tier runs them.

Commands are the lines of the README's ```bash blocks (``#`` starts a comment). The fast tier
checks each one without running it: ``make`` targets exist in the Makefile; ``pip install``
names extras of pyproject.toml (and BiGym's pinned commit); ``dexmg`` lines go through the real
command-line parser with every subcommand replaced by a recorder, and the recorded task names,
variants, dataset ids and repository paths are checked. ```python blocks run for real (a few
seconds). The slow tier runs every ``dexmg`` line in README order in a scratch copy of the
repository's data folders, so the commands' outputs feed the next ones as a reader's would.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DATASET_ID = re.compile(r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*-v\d+$")
ID_FIELDS = ("dataset", "ids", "dataset_id", "start_from", "new_id")
OUTPUT_DIRS = ("out", "runs")


def _blocks(language: str) -> list[str]:
    """The bodies of the README's fenced blocks in ``language``, in order."""
    pattern = re.compile(rf"^```{language}\n(.*?)^```", re.M | re.S)
    return pattern.findall(README.read_text())


def readme_commands() -> list[list[str]]:
    """Each command line of the ```bash blocks as argv (continuations joined, comments dropped)."""
    commands = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            argv = shlex.split(line, comments=True)
            if argv:
                commands.append(argv)
    return commands


COMMANDS = readme_commands()
DEXMG = [c for c in COMMANDS if c[0] == "dexmg"]


def _id(argv: list[str]) -> str:
    return " ".join(argv)[:80]


def test_the_readme_has_its_commands_and_nothing_untested():
    """Every command is a kind this module checks, and the two set-up commands come first."""
    assert COMMANDS[:2] == [["make", "demo"], ["make", "test"]]
    for argv in COMMANDS:
        assert argv[0] in ("make", "pip", "dexmg"), f"unchecked README command: {argv}"


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*):", text, re.M))


@pytest.mark.parametrize("argv", [c for c in COMMANDS if c[0] == "make"], ids=_id)
def test_make_targets_exist(argv):
    """``make demo`` and ``make test`` (and any ``VAR=value``) name real Makefile targets."""
    targets = [a for a in argv[1:] if "=" not in a]
    assert targets and set(targets) <= _make_targets()


@pytest.mark.parametrize("argv", [c for c in COMMANDS if c[0] == "pip"], ids=_id)
def test_pip_lines_name_real_extras_and_pins(argv):
    """``pip install -e ".[x]"`` names real extras; BiGym's URL holds the pinned commit."""
    from dexmg_bench.sim.bigym_backend import BIGYM_COMMIT

    assert argv[1] == "install"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = extras["optional-dependencies"]
    for arg in argv[2:]:
        if arg.startswith(".["):
            assert set(arg[2:-1].split(",")) <= set(extras), arg
        elif arg.startswith("bigym @ git+"):
            assert arg.endswith(f"@{BIGYM_COMMIT}"), arg
        else:
            assert arg in ("-e", "--no-deps"), f"unchecked pip argument {arg!r}"


def _parse(argv: list[str], monkeypatch) -> tuple[str, dict[str, Any]]:
    """Parse a ``dexmg`` command line with the real CLI; return the subcommand and its values."""
    import tyro

    from dexmg_bench import cli

    calls: list[tuple[str, dict[str, Any]]] = []
    real = tyro.extras.subcommand_cli_from_dict

    def recorder(name: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def record(**kwargs: Any) -> None:
            calls.append((name, kwargs))

        return record

    def parse_only(commands: dict[str, Any], **kwargs: Any) -> Any:
        return real({n: recorder(n, f) for n, f in commands.items()}, **kwargs)

    monkeypatch.setattr(tyro.extras, "subcommand_cli_from_dict", parse_only)
    cli.main(argv[1:])
    assert len(calls) == 1
    return calls[0]


def _values(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The parsed values, with a subcommand's dataclass (``cmd``) opened into its fields."""
    values = dict(kwargs)
    cmd = values.pop("cmd", None)
    if dataclasses.is_dataclass(cmd):
        values.update({f.name: getattr(cmd, f.name) for f in dataclasses.fields(cmd)})
    return values


@pytest.mark.parametrize("argv", DEXMG, ids=_id)
def test_dexmg_commands_parse_with_valid_names(argv, monkeypatch):
    """Every option exists, every task and variant is registered, every dataset id is valid."""
    from dexmg_bench.datasets.source import kebab
    from dexmg_bench.envs import BIGYM_TASKS, TASKS, task_entry

    _, kwargs = _parse(argv, monkeypatch)
    values = _values(kwargs)
    if values.get("task"):
        entry = task_entry(values["task"])
        entry.env_id(values.get("variant", "D0"))  # raises on a variant the task lacks
    tasks = [kebab(t.name) for t in (*TASKS, *BIGYM_TASKS)]
    for name in ID_FIELDS:
        ids = values.get(name) or ()
        for ds_id in (ids,) if isinstance(ids, str) else ids:
            assert DATASET_ID.match(ds_id), f"{name}={ds_id!r} is no namespace/name-vN id"
            assert any(ds_id.split("/")[1].startswith(t) for t in tasks), ds_id
    for token in argv[2:]:
        top = token.split("/")[0]
        if "/" in token and top not in OUTPUT_DIRS and (ROOT / top).is_dir():
            assert (ROOT / token).exists(), f"{token} is not in the repository"


def test_cheap_commands_run(capsys):
    """``dexmg envs`` runs for real in the fast tier (the others run in the slow tier)."""
    from dexmg_bench.cli import main
    from dexmg_bench.envs import env_ids

    assert ["dexmg", "envs"] in DEXMG
    main(["envs"])
    out = capsys.readouterr().out
    assert all(i in out for i in env_ids())


@pytest.mark.parametrize("code", _blocks("python"), ids=lambda c: c.splitlines()[0][:40])
def test_python_blocks_run(code, capsys):
    """Each ```python block runs as written (a few seconds each)."""
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})


# Commands the slow tier cannot run, each with the reason and what covers it instead.
NOT_RUN = {
    "--device keyboard": "needs a person at a keyboard; tests/datasets/test_teleop_display.py "
    "drives it on a virtual display",
}


def _workdir(tmp_path: Path) -> Path:
    """A scratch repository: shipped inputs linked, every folder a command writes to copied."""
    work = tmp_path / "work"
    work.mkdir()
    for name in ("datasets", "generators", "envs", "examples"):
        (work / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "baselines", work / "baselines")
    board = work / "leaderboard"
    board.mkdir()
    (board / "rounds").symlink_to(ROOT / "leaderboard" / "rounds")
    shutil.copytree(ROOT / "leaderboard" / "results", board / "results")
    for entry in sorted((ROOT / "leaderboard" / "submissions").iterdir()):
        target = board / "submissions" / entry.name
        target.parent.mkdir(exist_ok=True)
        if any(entry.name in t for c in DEXMG for t in c):  # a command writes its manifest
            shutil.copytree(entry, target)
        else:
            target.symlink_to(entry)
    return work


def _stored_session(argv: list[str], work: Path) -> None:
    """The device session a ``--device replay --inputs FILE`` line replays, from a shipped demo."""
    from dexmg_bench.datasets.source import read_source_file, shipped_source_file
    from dexmg_bench.datasets.teleop import inputs_from_demo
    from dexmg_bench.envs import make_task_env

    task = argv[argv.index("--task") + 1]
    path = work / argv[argv.index("--inputs") + 1]
    src = read_source_file(shipped_source_file(task))
    env = make_task_env(task, src.variant)
    inputs_from_demo(src.demos[0], env, task=task, variant=src.variant).save(path)
    env.close()


def _skip_reason(argv: list[str]) -> str | None:
    line = " ".join(argv)
    for pattern, reason in NOT_RUN.items():
        if pattern in line:
            return reason
    task = argv[argv.index("--task") + 1] if "--task" in argv else ""
    if task.startswith("BiGym-") and importlib.util.find_spec("bigym") is None:
        return "BiGym is not installed (see the README's BiGym section)"
    if argv[1] == "leaderboard" and argv[2] in ("submit", "grade") and not shutil.which("bwrap"):
        return "bubblewrap is not installed (the grader's sandbox)"
    return None


@pytest.mark.slow
def test_readme_dexmg_commands_run(tmp_path):
    """Every ``dexmg`` line of the README runs to exit status 0, in README order."""
    work = _workdir(tmp_path)
    (work / "out").mkdir()
    skipped = []
    for argv in DEXMG:
        reason = _skip_reason(argv)
        if reason:
            skipped.append(f"{' '.join(argv)}: {reason}")
            continue
        if "--inputs" in argv:
            _stored_session(argv, work)
        proc = subprocess.run(
            [sys.executable, "-m", "dexmg_bench.cli", *argv[1:]],
            cwd=work,
            env=os.environ,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        tail = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert proc.returncode == 0, f"{' '.join(argv)}\n{tail}"
    print("\n".join(["not run:", *skipped]))
