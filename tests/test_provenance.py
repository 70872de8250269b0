"""Artefacts name the commit that made them when the package runs from a git checkout."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from dexmg_bench import provenance
from dexmg_bench.generators import run
from dexmg_bench.generators.job import GenerateConfig


@pytest.mark.skipif(
    shutil.which("git") is None or not (provenance.ROOT / ".git").exists(), reason="no git checkout"
)
def test_the_commit_is_head_of_this_checkout():
    """In CI's clean clone: the bare sha of HEAD."""
    head = subprocess.run(
        ["git", "-C", str(provenance.ROOT), "rev-parse", "HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert provenance.code_commit() in (head, f"{head}-dirty")


def test_a_job_lists_every_commit_that_ran_part_of_it(tmp_path, monkeypatch):
    """A resumed job keeps the commits before it; a wheel install records none."""
    config = GenerateConfig(task="Threading", n=3)
    monkeypatch.setattr(run, "code_commit", lambda: "aaa")
    run._check_job(config, tmp_path)
    run._check_job(config, tmp_path)  # a resume from the same commit adds nothing
    monkeypatch.setattr(run, "code_commit", lambda: "bbb-dirty")
    run._check_job(config, tmp_path)
    job = json.loads((tmp_path / "job.json").read_text())
    assert job["code_commits"] == ["aaa", "bbb-dirty"]
    monkeypatch.setattr(run, "code_commit", lambda: None)  # an installed wheel: nothing to add
    run._check_job(config, tmp_path)
    assert json.loads((tmp_path / "job.json").read_text())["code_commits"] == ["aaa", "bbb-dirty"]
