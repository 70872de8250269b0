"""Every ``dexmg`` subcommand that takes a task name resolves it through one function.

``dexmg_bench.envs.task_entry`` is the suite's single resolver: a name is turned into its
``TaskEntry`` there and nowhere else. Each case runs a subcommand in-process with that function
replaced by one that records the names it sees and stops the command at the given one. The
command must reach it with that name before writing anything, so a second lookup table or an
env id built by hand cannot creep into a command unnoticed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dexmg_bench import envs
from dexmg_bench.cli import main

REPO = Path(__file__).resolve().parents[2]
CAMPAIGN = str(REPO / "baselines" / "configs" / "table1.toml")
SOURCE = str(REPO / "datasets" / "source" / "threading.hdf5")


class Resolved(Exception):
    """Raised by the stand-in resolver: the command got as far as resolving the name."""


# (command line, the task name it must resolve). ``replay`` reads its task from the file.
CASES = [
    pytest.param("generate --task Transport", "Transport", id="generate"),
    pytest.param("demo --task Transport", "Transport", id="demo"),
    pytest.param("rollout --task Transport", "Transport", id="rollout"),
    pytest.param("source --task Transport", "Transport", id="source"),
    pytest.param("replay --file " + SOURCE, "Threading", id="replay"),
    pytest.param("expert-rate --task Transport", "Transport", id="expert-rate"),
    pytest.param("datasets build --tasks Transport", "Transport", id="datasets-build"),
    pytest.param("eval --policy random --task Transport", "Transport", id="eval-random"),
    pytest.param("eval --policy expert --task Transport", "Transport", id="eval-expert"),
    pytest.param(f"reference run {CAMPAIGN} --tasks Transport", "Transport", id="reference-run"),
    pytest.param(
        f"reference package {CAMPAIGN} --task Transport", "Transport", id="reference-package"
    ),
    pytest.param(
        "teleop --task Transport --device replay --inputs nope.npz", "Transport", id="teleop"
    ),
    pytest.param(
        "bigym import-demos . --task BiGym-FlipCup", "BiGym-FlipCup", id="bigym-import-demos"
    ),
    pytest.param("gallery --tasks Transport", "Transport", id="gallery"),
]


@pytest.mark.parametrize(("argv", "name"), CASES)
def test_the_command_resolves_the_task_through_the_one_resolver(
    argv: str, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command reaches ``envs.task_entry(name)`` before any output is written."""
    real = envs.task_entry
    seen: list[str] = []

    def resolver(task: str) -> envs.TaskEntry:
        seen.append(task)
        if task == name:
            raise Resolved(task)
        return real(task)  # a campaign's other tasks, say, resolve as usual

    monkeypatch.setattr(envs, "task_entry", resolver)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path.parent / f"{tmp_path.name}-minari"))
    with pytest.raises(Resolved):
        main(argv.split())
    assert name in seen
    assert not any(tmp_path.iterdir()), list(tmp_path.iterdir())


def _help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> tuple[str, list[str]]:
    """The usage paragraph of ``dexmg PATH --help`` on one line, and the help's lines."""
    with pytest.raises(SystemExit):
        main([*path, "--help"])
    out = capsys.readouterr().out
    return " ".join(out.split("\n\n")[0].split()), out.splitlines()


def _commands(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> dict:
    """Every leaf subcommand below ``path`` with its help lines (walked from the usage lines)."""
    usage, lines = _help(path, capsys)
    group = re.search(r"\[-h\] \{([a-z0-9,-]+)\}$", usage)
    if group is None:
        return {path: lines}
    found = {}
    for name in group[1].split(","):
        found |= _commands((*path, name), capsys)
    return found


def test_every_command_with_a_task_option_is_checked_above(capsys):
    """A new subcommand taking --task or --tasks cannot skip the one-resolver check."""
    commands = _commands((), capsys)
    assert len(commands) > 20, "the walk found the subcommands"
    takes_task = {  # an option row starts with the option's name
        path
        for path, lines in commands.items()
        if any(re.match(r"\s*--tasks? ", line) for line in lines)
    }
    checked = set()
    for case in CASES:
        words = tuple(case.values[0].split())
        checked |= {path for path in commands if words[: len(path)] == path}
    assert len(takes_task) >= 10, sorted(takes_task)
    assert takes_task <= checked, sorted(takes_task - checked)
