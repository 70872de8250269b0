"""``dexmg leaderboard submit``: the id and the next step on success, the reason on refusal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dexmg_bench.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_submit_prints_id_and_next_step(make_submission, monkeypatch, capsys):
    """A good folder gets a manifest, a smoke episode in the sandbox and its id."""
    folder = make_submission()
    monkeypatch.chdir(REPO)  # the dataset cards are found relative to the repository
    main(["leaderboard", "submit", str(folder), "--smoke-steps", "5"])
    out = capsys.readouterr().out
    assert "smoke episode Threading-D0: ok" in out
    sid = re.search(r"submission id: ([0-9a-f]{16})", out).group(1)
    assert (folder / "MANIFEST.sha256").is_file() and "open a pull request" in out
    from dexmg_bench.leaderboard.manifest import verify_manifest

    assert verify_manifest(folder) == sid


def test_submit_refuses_with_the_reason(make_submission, monkeypatch):
    """A policy returning a wrong shape fails the smoke run; no manifest is left behind."""
    folder = make_submission(
        "import numpy as np\nclass Policy:\n    def __init__(self, **kw): pass\n"
        "    def reset(self): pass\n    def act(self, obs): return np.zeros(3)\n"
    )
    monkeypatch.chdir(REPO)
    with pytest.raises(SystemExit, match=r"smoke run failed: bad action: shape \(3,\)"):
        main(["leaderboard", "submit", str(folder), "--smoke-steps", "5"])
    assert not (folder / "MANIFEST.sha256").exists()
    (folder / "submission.yaml").write_text("track: [")
    with pytest.raises(SystemExit, match="refused: .*submission.yaml: not valid YAML"):
        main(["leaderboard", "submit", str(folder)])
