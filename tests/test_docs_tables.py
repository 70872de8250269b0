"""The measured tables of the docs pages are output of the result files, never hand copies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dexmg_bench.cli.docs_cmd import docs
from dexmg_bench.docs_tables import MARKER, pages, provenance

ROOT = Path(__file__).resolve().parents[1]
EXPERT_RUN = "leaderboard/results/c8c943c290c6bf5e.run.json"


def _copy_repo(dst: Path) -> Path:
    """The pages and every result file the tables read, in a scratch tree."""
    (dst / "README.md").write_bytes((ROOT / "README.md").read_bytes())
    for rel in ("docs", "leaderboard/results", "baselines/configs", "baselines/results/table1"):
        shutil.copytree(ROOT / rel, dst / rel)
    return dst


def test_docs_tables_match_their_result_files(capsys: pytest.CaptureFixture[str]) -> None:
    """A committed page whose table disagrees with its JSONs fails here, not in a reader's hands."""
    docs(check=True, root=ROOT)
    assert "matches" in capsys.readouterr().out


def test_pages_hold_the_generated_tables() -> None:
    """Losing a marker would silently turn a generated table back into a hand copy."""
    names = {m["name"] for p in pages(ROOT) for m in MARKER.finditer(p.read_text())}
    assert {"leaderboard", "leaderboard-by-task", "table1", "overfit"} <= names


def test_an_overfit_row_follows_its_run_files(tmp_path: Path) -> None:
    """A run's success and its options come from its two JSONs."""
    root = tmp_path
    shutil.copytree(ROOT / "baselines/results/overfit", root / "baselines/results/overfit")
    (root / "docs").mkdir()  # a repository root has one
    folder = root / "baselines/results/overfit"
    result = json.loads((folder / "box10_time_start-from.json").read_text())
    result["per_seed"][0]["best_rate"] = 0.9
    result["per_seed"][0]["rates"]["ckpt_epoch00100"] = 0.9
    (folder / "box10_time_start-from.json").write_text(json.dumps(result))
    train = json.loads((folder / "box10_time_train.json").read_text())
    train["model"]["rollout"] = "padded"
    (folder / "box10_time_train.json").write_text(json.dumps(train))
    docs(root=root)
    row = next(
        line for line in (folder / "README.md").read_text().splitlines() if "`box10_time`" in line
    )
    assert "`--time-input`, `--bc-rnn.rollout padded`" in row
    assert "**9/10** (5k: 1/10, 10k: 9/10)" in row


def test_a_changed_result_makes_the_check_fail_and_a_rewrite_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check sees a changed result file, and ``dexmg docs`` carries the number to the page."""
    root = _copy_repo(tmp_path)
    run_path = root / EXPERT_RUN
    run = json.loads(run_path.read_text())
    run["wall_seconds"] = 4321.0
    run_path.write_text(json.dumps(run))
    with pytest.raises(SystemExit) as exc:
        docs(check=True, root=root)
    assert exc.value.code == 1
    assert "docs/leaderboard.md: table leaderboard is stale" in capsys.readouterr().out
    docs(root=root)
    assert "| 4321 s |" in (root / "docs/leaderboard.md").read_text()
    docs(check=True, root=root)


def test_a_changed_table1_cell_reaches_readme_and_docs(tmp_path: Path) -> None:
    """Table I appears on two pages; both follow the cell's results JSON."""
    root = _copy_repo(tmp_path)
    cell = root / "baselines/results/table1/Threading_generated.json"
    res = json.loads(cell.read_text())
    res["success_mean"] = 0.5
    cell.write_text(json.dumps(res))
    with pytest.raises(SystemExit):
        docs(check=True, root=root)
    docs(root=root)
    for page in ("README.md", "docs/baselines.md"):
        assert "| Threading | 1.3 +- 0.9% | 50.0 +- 1.6% |" in (root / page).read_text()


def _one_cell_table(root: Path, campaign: str) -> str:
    """``campaign``'s table on docs/baselines.md once it holds one cell.

    The cell is Table I's Threading generated result with its mean set to 90%.
    """
    cell = root / f"baselines/results/{campaign}/Threading_generated.json"
    cell.parent.mkdir(parents=True)
    res = json.loads((root / "baselines/results/table1/Threading_generated.json").read_text())
    cell.write_text(json.dumps({**res, "success_mean": 0.9}))
    docs(root=root)
    page = (root / "docs/baselines.md").read_text()
    part = page[page.index(f"<!-- table:{campaign} -->") :]
    return part[: part.index("<!-- /table -->")]


def test_the_30k_table_grows_cell_by_cell(tmp_path: Path) -> None:
    """No results: one line naming the config; one cell's JSON: its row, the rest not run."""
    root = _copy_repo(tmp_path)
    shutil.rmtree(root / "baselines/results/table1-30k", ignore_errors=True)
    docs(root=root)
    assert (
        "No cell measured yet (`baselines/configs/table1-30k.toml`)"
        in (root / "docs/baselines.md").read_text()
    )
    part = _one_cell_table(root, "table1-30k")
    assert "| Threading | not run | 90.0 +- 1.6% | 55.3% |" in part
    assert "Not run yet: PieceAssembly, Transport," in part


def test_the_pose_target_table_shows_table1s_generated_cell_beside_its_own(tmp_path: Path) -> None:
    """Each measured row carries Table I's (delta-action) generated cell for comparison."""
    root = _copy_repo(tmp_path)
    shutil.rmtree(root / "baselines/results/table1-pose-targets", ignore_errors=True)
    part = _one_cell_table(root, "table1-pose-targets")
    assert (
        "| task | source demos only | 1000 generated | Table I, 1000 generated (deltas) |" in part
    )
    assert "| Threading | not run | 90.0 +- 1.6% | 84.0 +- 1.6% | 55.3% |" in part
    assert "table1/Threading_generated.json" in " ".join(part.split())


def test_the_by_task_board_puts_each_graded_task_in_its_column(tmp_path: Path) -> None:
    """A row graded on a new task shows in that task's column on the README's board."""
    root = _copy_repo(tmp_path)
    path = root / "leaderboard/results/c8c943c290c6bf5e.json"
    res = json.loads(path.read_text())
    res["tasks"]["TrayLift-D0"] = {**res["tasks"]["Threading-D0"], "success_mean": 0.25}
    path.write_text(json.dumps(res))
    docs(root=root)
    readme = (root / "README.md").read_text()
    header = next(line for line in readme.splitlines() if line.startswith("| entry | Piece"))
    row = next(line for line in readme.splitlines() if "`dexmg__scripted-expert`" in line)
    columns = [c.strip() for c in header.strip("|").split("|")]
    cells = dict(zip(columns, (c.strip() for c in row.strip("|").split("|")), strict=True))
    assert cells["TrayLift"] == "25.0 +- 0.0"
    assert cells["Threading"] == "100.0 +- 0.0"
    assert cells["Coffee"] == ""
    assert len(columns) == 10  # the entry and all nine tasks, graded or not


def test_text_outside_the_markers_is_kept(tmp_path: Path) -> None:
    """Prose around a table is the author's; the rewrite only owns the marked blocks."""
    root = _copy_repo(tmp_path)
    page = root / "docs/leaderboard.md"
    before = page.read_text()
    docs(root=root)
    assert MARKER.sub("", page.read_text()) == MARKER.sub("", before)


def test_provenance_counts_each_distinct_version() -> None:
    """Files graded at different commits must each show up, with files lacking the key."""
    line = provenance(
        "`x.json`",
        [{"mujoco": "3.5.0", "dexmg_bench_commit": "a" * 40 + "-dirty"}, {"mujoco": "3.5.0"}],
    )
    line = " ".join(line.split())
    assert "mujoco 3.5.0." in line
    assert "dexmg_bench_commit aaaaaaaaaaaa-dirty (1), not recorded (1)" in line


def test_no_docs_folder_is_an_input_error(tmp_path: Path) -> None:
    """Run from the wrong folder, the command says so instead of reporting nothing stale."""
    from dexmg_bench.errors import UserInputError

    with pytest.raises(UserInputError, match="no docs/ folder"):
        docs(root=tmp_path)


def test_the_generation_table_follows_its_row_files(tmp_path: Path) -> None:
    """Each cell is one row file: kept per attempts and its replays; a missing cell is '-'."""
    from dexmg_bench.docs_tables import GENERATION_RESULTS, generation_table

    assert "Not measured yet" in generation_table(tmp_path)
    folder = tmp_path / GENERATION_RESULTS
    folder.mkdir(parents=True)
    base = {"seed": 0, "versions": {"mujoco": "3.5.0", "dexmg_bench_commit": "a" * 40}}
    rows = [
        ("Threading", "D0", "dexmgen", 35, 50, 35, 35),
        ("Threading", "D0", "demo-noise", 15, 50, 15, 14),
        ("Coffee", "D1", "dexmgen", 48, 50, 48, 48),
    ]
    for task, variant, generator, kept, n, ok, exact in rows:
        row = {
            "task": task,
            "variant": variant,
            "generator": generator,
            "successes": kept,
            "attempts": n,
            "replayed": kept,
            "replay_success": ok,
            "replay_exact": exact,
        }
        (folder / f"{task}-{variant}-{generator}.json").write_text(json.dumps({**base, **row}))
    table = generation_table(tmp_path)
    assert "| Threading | 35/50 (70%), replay 35/35 | - | - | 15/50 (30%), replay 15/15, " in table
    assert "14/15 bit-exact |" in table
    assert "| Coffee (GR-1) | - | 48/50 (96%), replay 48/48 | - | - |" in table
    assert "Piece Assembly" not in table and "mujoco 3.5.0" in table and "aaaaaaaaaaaa" in table


def test_the_generation_failure_table_lists_each_failing_row_by_reason(tmp_path: Path) -> None:
    """A row with failures lists them most frequent first; a row without any is left out."""
    from dexmg_bench.docs_tables import GENERATION_RESULTS, generation_failures_table

    assert "Not measured yet" in generation_failures_table(tmp_path)
    folder = tmp_path / GENERATION_RESULTS
    folder.mkdir(parents=True)
    base = {"seed": 0, "versions": {"mujoco": "3.5.0"}, "attempts": 50, "variant": "D0"}
    rows = [
        ("Transport", "demo-noise", 0, {"left/handover": 13, "right/grasp_payload": 37}),
        ("Transport", "dexmgen", 50, {}),
        ("Threading", "dexmgen", 35, {"task": 15}),
    ]
    for task, generator, kept, failures in rows:
        row = {"task": task, "generator": generator, "successes": kept, "failures": failures}
        (folder / f"{task}-D0-{generator}.json").write_text(json.dumps({**base, **row}))
    table = generation_failures_table(tmp_path)
    assert "| Threading | DexMimicGen D0 | 15 | `task` 15 |" in table
    assert (
        "| Transport | Demo-Noise D0 | 50 | `right/grasp_payload` 37, `left/handover` 13 |" in table
    )
    assert "Transport | DexMimicGen" not in table
    assert table.index("Threading") < table.index("Transport")  # registry order


def test_the_expert_table_and_readme_summary_follow_their_row_files(tmp_path: Path) -> None:
    """Expert and README summary tables are built from their row files, '-' where none.

    An expert cell is success per 50 resets (another n is named), steps the mean of the D0
    successes; the summary takes D0 of the expert and of both generators.
    """
    from dexmg_bench.docs_tables import (
        EXPERT_RESULTS,
        GENERATION_RESULTS,
        expert_table,
        results_summary_table,
    )

    assert "Not measured yet" in expert_table(tmp_path)
    experts = tmp_path / EXPERT_RESULTS
    experts.mkdir(parents=True)
    base = {"seed": 0, "versions": {"mujoco": "3.5.0", "dexmg_bench_commit": "b" * 40}}
    for variant, outcomes in (
        ("D0", [(True, 200), (True, 210), (False, 400)]),
        ("D1", [(True, 5)] * 20),
    ):
        episodes = [{"seed": k, "success": ok, "steps": n} for k, (ok, n) in enumerate(outcomes)]
        row = {"task": "Threading", "variant": variant, "n": len(episodes), "episodes": episodes}
        row["successes"] = sum(ok for ok, _ in outcomes)
        (experts / f"Threading-{variant}.json").write_text(json.dumps({**base, **row}))
    table = expert_table(tmp_path)
    assert "| Threading | 67% (`--n 3`) | 100% (`--n 20`) | - | 205 |" in table
    assert "Coffee" not in table and "bbbbbbbbbbbb" in table

    gen = tmp_path / GENERATION_RESULTS
    gen.mkdir(parents=True)
    for generator, kept in (("dexmgen", 35), ("demo-noise", 15)):
        row = {"task": "Threading", "variant": "D0", "generator": generator, "successes": kept}
        (gen / f"Threading-D0-{generator}.json").write_text(
            json.dumps({**base, **row, "attempts": 50})
        )
    summary = results_summary_table(tmp_path)
    assert "| Threading | 67% | 70% | 30% |" in summary
    assert "| Coffee | - | - | - |" in summary
