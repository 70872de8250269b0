"""Project files speak of what the project is, not how it got there (that is git's and CHANGELOG's).

The scan covers every text file git knows of (tracked, or new and not ignored): Python, Markdown,
TOML, YAML, text, shell, the Makefile and ``.ci/run``. It flags work-session numbers, machine
load figures, "before the fix" narratives and remarks about who else was using the machine.
CHANGELOG.md is history by design and is not scanned.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUFFIXES = {".py", ".md", ".toml", ".yaml", ".yml", ".txt", ".sh", ".cfg", ".ini"}
NAMES = {"Makefile", ".ci/run"}
# CHANGELOG.md records history on purpose; this file spells the patterns out.
EXEMPT = {"CHANGELOG.md", "tests/test_history_words.py"}

HISTORY_WORDS = {
    "a work-session number": r"\bsessions?[ -]?\d+",
    "a reference to a work session": r"\b(this|last|previous|next|earlier|later) session\b",
    "a load average": r"\bload averages?\b",
    "a machine load figure": r"\bload ~?\d",
    "a before/after-the-fix narrative": r"\b(before|after) the fix(es)?\b",
    "an anecdote (seen here)": r"\bseen here\b",
    "a remark about other agents": r"\bother agents?\b",
    "a machine anecdote (quiet box)": r"\bquiet box\b",
}
PATTERN = re.compile("|".join(f"(?:{p})" for p in HISTORY_WORDS.values()), re.IGNORECASE)


def project_text_files(root: Path) -> list[Path]:
    """Every text file git knows of under ``root`` (tracked, or untracked and not ignored)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    paths = [p for p in out.split("\0") if p and p not in EXEMPT]
    return [
        root / p
        for p in paths
        if (Path(p).suffix in SUFFIXES or p in NAMES) and (root / p).is_file()
    ]


def find_history_words(files: Iterable[Path], root: Path) -> list[str]:
    """``path:line: match`` for every history word in ``files`` (paths relative to ``root``)."""
    hits = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for match in PATTERN.finditer(line):
                hits.append(f"{path.relative_to(root)}:{number}: {match.group(0)!r}")
    return hits


def test_project_files_have_no_history_words():
    """README, docs, docstrings, comments, test names and result READMEs are history-free."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the file list comes from git")
    files = project_text_files(ROOT)
    assert any(p.name == "README.md" for p in files) and any(p.suffix == ".py" for p in files)
    hits = find_history_words(files, ROOT)
    assert not hits, "development history in project files (move it to CHANGELOG.md):\n" + (
        "\n".join(hits)
    )


def test_a_planted_session_number_is_flagged(tmp_path):
    """A file with a session number fails the scan, naming the file and line."""
    notes = tmp_path / "docs" / "notes.md"
    notes.parent.mkdir()
    notes.write_text("# Notes\n\nRe-measured in session 7 on the shared box.\n")
    assert find_history_words([notes], tmp_path) == ["docs/notes.md:3: 'session 7'"]


@pytest.mark.parametrize(
    "line",
    [
        "measured in session 7",
        "(re-recorded in session-6)",
        "sessions 3 and 4",
        "as the previous session found",
        "one run at load 5.1",
        "(load ~11)",
        "the load average rose",
        "both kept 0 attempts before the fixes",
        "# 2 threads are slower (seen here)",
        "other agents were using the machine",
        "on a quiet box",
    ],
)
def test_history_phrases_are_flagged(line, tmp_path):
    """Each kind of history phrase is caught."""
    path = tmp_path / "x.py"
    path.write_text(f"# {line}\n")
    assert find_history_words([path], tmp_path), line


@pytest.mark.parametrize(
    "line",
    [
        "a helper function for the tests",
        "A Ray session that is already initialized is reused",
        "a stored device session (.npz)",
        "load the dataset, then download its card",
        "the payload 3 cm above the bin",
        "checked before the fixture runs",
        "os.getloadavg()[0] when the row was measured",
        "inputs are checked before the first dataset is written",
    ],
)
def test_ordinary_words_are_not_flagged(line, tmp_path):
    """Code and prose that only resemble history words pass."""
    path = tmp_path / "x.py"
    path.write_text(f"# {line}\n")
    assert find_history_words([path], tmp_path) == []
