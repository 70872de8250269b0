"""``dexmg datasets ...`` and the generate -> Minari hook, run as a user runs them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.cli import main
from dexmg_bench.datasets import loader, robomimic
from dexmg_bench.datasets.source import read_source_file, shipped_source_file


def test_build_writes_source_dataset_and_card(tmp_path, capsys):
    """`dexmg datasets build --tasks Threading` writes the source dataset and its card."""
    cards = tmp_path / "cards"
    main(["datasets", "build", "--tasks", "Threading", "--cards", str(cards)])
    assert "dexmg/threading-source-v0: 10 episodes" in capsys.readouterr().out
    ds = loader.load("dexmg/threading-source-v0")
    src = read_source_file(shipped_source_file("Threading"))
    assert ds.total_steps == sum(d.num_steps for d in src.demos)
    assert "| Episodes | 10 |" in (cards / "dexmg" / "threading-source-v0.md").read_text()
    # rebuilding replaces the local copy instead of failing
    main(["datasets", "build", "--tasks", "Threading", "--cards", str(cards)])
    main(["datasets", "card", "dexmg/threading-source-v0", "--out", str(tmp_path / "again")])
    again = (tmp_path / "again" / "dexmg" / "threading-source-v0.md").read_text()
    assert again == (cards / "dexmg" / "threading-source-v0.md").read_text()
    committed = (
        Path(__file__).parents[2] / "datasets" / "cards" / "dexmg" / "threading-source-v0.md"
    )
    assert committed.read_text() == again, "stale card: run `dexmg datasets build`"
    # and back to the source format, ready for `dexmg generate --source`
    back = tmp_path / "back.hdf5"
    main(["datasets", "export-source", "dexmg/threading-source-v0", "--out", str(back)])
    for a, b in zip(src.demos, read_source_file(back).demos, strict=True):
        np.testing.assert_array_equal(a.states, b.states)
        assert {k: v.tolist() for k, v in a.boundaries.items()} == {
            k: v.tolist() for k, v in b.boundaries.items()
        }


def test_build_generates_a_flagship_set_and_resumes_it(tmp_path, capsys):
    """`--flagship N`: the generated set is `dexmg/<task>-v0` with its card; a rerun resumes."""
    cards, jobs = tmp_path / "cards", tmp_path / "jobs"
    args = ["datasets", "build", "--tasks", "Threading", "--cards", str(cards)]
    args += ["--flagship", "2", "--jobs", str(jobs), "--workers", "1"]
    main(args)
    assert "dexmg/threading-v0: 2 episodes" in capsys.readouterr().out
    ds = loader.load("dexmg/threading-v0")
    meta = ds.storage.metadata["dexmg"]
    assert ds.total_episodes == 2 and meta["generator"] == "dexmimicgen"
    assert meta["generator_config"]["n"] == 2 and meta["generation_stats"]["complete"]
    card = (cards / "dexmg" / "threading-v0.md").read_text()
    assert "| Episodes | 2 |" in card and "generated" in card
    attempts = (jobs / "Threading" / "attempts.jsonl").read_text()
    main(args)  # the finished job is reused, not run again
    assert (jobs / "Threading" / "attempts.jsonl").read_text() == attempts


def test_robomimic_commands_round_trip(tmp_path):
    """export-robomimic then import-robomimic gives back the same source file."""
    rm = tmp_path / "threading_rm.hdf5"
    back = tmp_path / "back.hdf5"
    main(
        [
            "datasets",
            "export-robomimic",
            str(shipped_source_file("Threading")),
            "--out",
            str(rm),
            "--no-obs",
        ]
    )
    main(["datasets", "import-robomimic", str(rm), "--out", str(back)])
    a = read_source_file(shipped_source_file("Threading"))
    b = read_source_file(back)
    assert len(a.demos) == len(b.demos)
    for x, y in zip(a.demos, b.demos, strict=True):
        np.testing.assert_array_equal(x.states, y.states)
        np.testing.assert_array_equal(x.target_pose, y.target_pose)
    assert robomimic.read_env_args(rm)["env_name"] == "DexMG/Threading-D0-v0"


@pytest.mark.slow
def test_generate_also_writes_minari(tmp_path, capsys):
    """`dexmg generate` writes `dexmg/threading-v0`; a rerun leaves it and says so."""
    out = tmp_path / "job"
    main(["generate", "--task", "Threading", "--n", "1", "--out", str(out)])
    assert "Minari dataset dexmg/threading-v0: 1 episodes" in capsys.readouterr().out
    meta = loader.load("dexmg/threading-v0").storage.metadata["dexmg"]
    assert meta["generator"] == "dexmimicgen" and meta["generation_stats"]["kept"] == 1
    main(["generate", "--task", "Threading", "--n", "1", "--out", str(out)])
    assert "Minari dataset not written" in capsys.readouterr().out
