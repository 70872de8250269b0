"""Artefacts name the commit that made them when the package runs from a git checkout."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

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


def test_versions_name_the_code_and_the_libraries_a_number_drifts_with():
    """Every results file carries them; the commit is this checkout's."""
    v = provenance.versions()
    assert {"dexmg_bench", "mujoco", "numpy", "python", "cpu"} <= set(v)
    if provenance.code_commit() is not None:
        assert v["dexmg_bench_commit"] == provenance.code_commit()


def test_write_json_replaces_the_file_whole(tmp_path, monkeypatch):
    """A failed write leaves the previous file as it was and removes its temporary file."""
    path = tmp_path / "r.json"
    provenance.write_json(path, {"b": 1, "a": [1, 2]}, sort_keys=True, newline=True)
    assert path.read_text() == json.dumps({"a": [1, 2], "b": 1}, indent=1) + "\n"

    def no_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(provenance.os, "replace", no_replace)
    with pytest.raises(OSError, match="disk gone"):
        provenance.write_json(path, {"c": 3})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_a_job_lists_every_cpu_that_ran_part_of_it(tmp_path, monkeypatch):
    """A flagship set rebuilt on another CPU can keep other borderline attempts: the job says."""
    config = GenerateConfig(task="Threading", n=3)
    monkeypatch.setattr(run, "cpu_model", lambda: "CPU A")
    run._check_job(config, tmp_path)
    run._check_job(config, tmp_path)
    monkeypatch.setattr(run, "cpu_model", lambda: "CPU B")
    run._check_job(config, tmp_path)
    assert json.loads((tmp_path / "job.json").read_text())["cpus"] == ["CPU A", "CPU B"]


def test_the_cpu_model_is_a_name_not_an_architecture():
    """Where /proc/cpuinfo names the model, that name, not the bare architecture."""
    model = provenance.cpu_model()
    assert model and model.strip() == model
    if Path("/proc/cpuinfo").is_file() and "model name" in Path("/proc/cpuinfo").read_text():
        assert model != "x86_64"
