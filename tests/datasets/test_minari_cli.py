"""``dexmg datasets ...`` and the generate -> Minari hook, run as a user runs them."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.cli import main
from dexmg_bench.datasets import loader, minari_io, robomimic
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


def test_build_stops_on_ctrl_c_with_one_line_and_keeps_what_it_wrote(tmp_path, capsys, monkeypatch):
    """Ctrl-C while a build writes its second dataset: exit 130, one line, the first one kept."""
    real, calls = minari_io.episode_arrays, []

    def interrupting(*args, **kwargs):
        calls.append(1)
        if len(calls) == 12:  # Threading's 10 episodes, then Piece Assembly's second
            os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(minari_io, "episode_arrays", interrupting)
    before = signal.getsignal(signal.SIGINT)  # default, or ignored in a background job
    cards = tmp_path / "cards"
    argv = ["datasets", "build", "--tasks", "Threading", "PieceAssembly", "--cards", str(cards)]
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 128 + signal.SIGINT
    err = capsys.readouterr().err
    assert "interrupted:" in err and "rerun the same command" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert loader.load("dexmg/threading-source-v0").total_episodes == 10
    with pytest.raises(FileNotFoundError):
        loader.load("dexmg/piece-assembly-source-v0")
    assert signal.getsignal(signal.SIGINT) == before  # the handler is restored


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
    """`dexmg generate` writes `dexmg/threading-n1-v0`; a rerun leaves it and says so."""
    out = tmp_path / "job"
    main(["generate", "--task", "Threading", "--n", "1", "--out", str(out)])
    assert "Minari dataset dexmg/threading-n1-v0: 1 episodes" in capsys.readouterr().out
    meta = loader.load("dexmg/threading-n1-v0").storage.metadata["dexmg"]
    assert meta["generator"] == "dexmimicgen" and meta["generation_stats"]["kept"] == 1
    main(["generate", "--task", "Threading", "--n", "1", "--out", str(out)])
    assert "Minari dataset not written" in capsys.readouterr().out


def _fake_generate(calls: list[Path]):
    """Stands in for the generation loop: a finished job of n short shipped demos, no simulation."""
    import dataclasses
    import json

    from dexmg_bench.datasets.source import write_source_file

    def fake(config, out: Path, **kwargs) -> dict:
        calls.append(out)
        out.mkdir(parents=True, exist_ok=True)
        src = read_source_file(shipped_source_file(config.task))
        demos = [
            dataclasses.replace(d, actions=d.actions[:4], states=d.states[:5])
            for d in src.demos[: config.n]
        ]
        write_source_file(
            out / "out.hdf5", dataclasses.replace(src, origin="generated", demos=demos)
        )
        (out / "job.json").write_text(json.dumps(dataclasses.asdict(config)))
        stats = {"complete": True, "kept": config.n, "attempts": config.n, "success_rate": 1.0}
        stats["output"] = "out.hdf5"
        (out / "stats.json").write_text(json.dumps(stats))
        return stats

    return fake


def test_generate_names_its_dataset_by_size_or_by_dataset_id(tmp_path, capsys, monkeypatch):
    """A 2-demo job writes `dexmg/threading-n2-v0`, never the flagship id; `--dataset-id` wins."""
    import minari

    from dexmg_bench.generators import run

    calls: list[Path] = []
    monkeypatch.setattr(run, "generate", _fake_generate(calls))
    main(["generate", "--task", "Threading", "--n", "2", "--out", str(tmp_path / "a")])
    assert "Minari dataset dexmg/threading-n2-v0: 2 episodes" in capsys.readouterr().out
    assert loader.load("dexmg/threading-n2-v0").total_episodes == 2
    args = ["generate", "--task", "Threading", "--n", "2", "--out", str(tmp_path / "b")]
    main([*args, "--dataset-id", "dexmg/my-threading-v3"])
    assert "Minari dataset dexmg/my-threading-v3: 2 episodes" in capsys.readouterr().out
    assert len(calls) == 2
    assert sorted(minari.list_local_datasets()) == [
        "dexmg/my-threading-v3",
        "dexmg/threading-n2-v0",
    ]


@pytest.mark.parametrize(
    ("dataset_id", "match"),
    [
        ("dexmg/threading-v0", "id of a catalogue set"),
        ("dexmg/threading-source-v2", "id of a catalogue set"),
        ("dexmg/threading", "must be 'namespace/name-vN'"),
        ("Threading-v0", "must be 'namespace/name-vN'"),
    ],
)
def test_generate_refuses_a_catalogue_or_malformed_id_before_running(
    tmp_path, monkeypatch, dataset_id, match
):
    """A flagship or source id, or one Minari cannot parse, is refused before any attempt."""
    from dexmg_bench.cli.generate_cmd import generate
    from dexmg_bench.datasets.loader import DatasetError
    from dexmg_bench.generators import run
    from dexmg_bench.generators.job import GenerateConfig

    calls: list[Path] = []
    monkeypatch.setattr(run, "generate", _fake_generate(calls))
    config = GenerateConfig(task="Threading", n=2)
    with pytest.raises(DatasetError, match=match):
        generate(config, out=tmp_path / "job", dataset_id=dataset_id)
    assert calls == []


def test_only_the_flagship_build_writes_the_flagship_id(tmp_path):
    """`write_generated_job` of an ad-hoc job keeps its size tag; `flagship=True` drops it."""
    from dexmg_bench.datasets.loader import DatasetError
    from dexmg_bench.datasets.minari_io import write_generated_job
    from dexmg_bench.generators.job import GenerateConfig

    job = tmp_path / "job"
    _fake_generate([])(GenerateConfig(task="Threading", n=1), job)
    assert write_generated_job(job).id == "dexmg/threading-n1-v0"
    with pytest.raises(DatasetError, match="id of a catalogue set"):
        write_generated_job(job, dataset="dexmg/threading-v0")
    assert write_generated_job(job, flagship=True).id == "dexmg/threading-v0"
