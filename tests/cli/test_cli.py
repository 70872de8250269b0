"""The ``dexmg`` command, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dexmg_bench.cli import main
from dexmg_bench.envs import env_ids


def test_envs_lists_every_id_with_its_columns(capsys):
    """`dexmg envs` prints every registered id with embodiment, variant, action dim, horizon."""
    main(["envs", "--json-output"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == env_ids()
    assert all({"embodiment", "variant", "action_dim", "horizon"} <= r.keys() for r in rows)
    threading = next(r for r in rows if r["id"] == "DexMG/Threading-D0-v0")
    assert (threading["action_dim"], threading["horizon"]) == (14, 400)


def test_help_lists_subcommands():
    """`dexmg --help` works as a console entry point and names the subcommands."""
    out = subprocess.run(
        [sys.executable, "-m", "dexmg_bench.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0
    for sub in ("envs", "demo", "generate", "rollout", "source", "replay", "expert-rate"):
        assert sub in out.stdout


@pytest.mark.render
def test_rollout_writes_a_video_and_reports_success(tmp_path, capsys):
    """`dexmg rollout` saves an mp4 of the scripted expert and prints the outcome."""
    video = tmp_path / "rollout.mp4"
    main(["rollout", "--task", "Threading", "--seed", "1", "--video", str(video), "--size", "64"])
    out = capsys.readouterr().out
    assert "success=True" in out
    assert video.stat().st_size > 1000


@pytest.mark.render
def test_demo_generates_prints_stats_and_saves_a_video(tmp_path, capsys):
    """`dexmg demo` (what `make demo` runs): generation, Minari dataset, stats, a video."""
    out = tmp_path / "demo"
    main(["demo", "--task", "Threading", "--n", "1", "--out", str(out), "--size", "64"])
    printed = capsys.readouterr().out
    assert '"complete": true' in printed and "success=True" in printed
    assert (out / "Threading-D0.mp4").stat().st_size > 1000
    assert (out / "threading-d0.hdf5").exists()
    import minari

    ds = minari.load_dataset("dexmg/threading-demo-v0")
    assert ds.total_episodes == 1 and "dexmg/threading-demo-v0" in printed


def test_expert_rate_writes_its_episodes(tmp_path, capsys):
    """`--out` holds each episode's seed, outcome and length, and the versions measured with."""
    out = tmp_path / "threading-d0.json"
    main(["expert-rate", "--task", "Threading", "--n", "2", "--seed", "3", "--out", str(out)])
    row = json.loads(out.read_text())
    assert [e["seed"] for e in row["episodes"]] == [3, 4] and row["n"] == 2
    assert row["successes"] == sum(e["success"] for e in row["episodes"]) == 2
    assert all(50 < e["steps"] < 400 for e in row["episodes"])
    assert row["versions"]["mujoco"] and "success 2/2" in capsys.readouterr().out


def test_unknown_task_names_close_matches():
    """A typo in --task suggests the right name (an input error: status 2, no traceback)."""
    with pytest.raises(SystemExit, match=r"Did you mean \['Threading'\]") as exc:
        main(["expert-rate", "--task", "Threadin", "--n", "1"])
    assert exc.value.code == 2


# A core install (no `baselines` extra): importing torch fails as if it were not installed.
_NO_TORCH = """
import sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, NoTorch())
from dexmg_bench.cli import main
main(sys.argv[1:])
"""


def test_core_install_without_torch_runs_the_cli_and_names_the_extra(tmp_path):
    """Without the `baselines` extra, `dexmg` still works; `train` says what to install."""
    envs = subprocess.run(
        [sys.executable, "-c", _NO_TORCH, "envs", "--json-output"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert envs.returncode == 0, envs.stderr
    assert "DexMG/Threading-D0-v0" in envs.stdout
    args = ["train", "--dataset", "dexmg/x-v0", "--out", str(tmp_path)]
    train = subprocess.run(
        [sys.executable, "-c", _NO_TORCH, *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert train.returncode != 0
    assert "pip install 'dexmg-bench[baselines]'" in train.stderr
    assert not any(tmp_path.iterdir())
