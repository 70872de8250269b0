"""`make bench`'s results file and the speed tables of docs/performance.md built from it."""

from __future__ import annotations

import json
from pathlib import Path

from dexmg_bench import bench_results
from dexmg_bench.bench_results import RATES_FILE, merge
from dexmg_bench.docs_tables import bench_env_table, bench_generation_table, render

RUN_A = {"measured_at": "2026-01-01T00:00:00+00:00", "versions": {"mujoco": "3.5.0"}, "cpus": 2}
RUN_B = {"measured_at": "2026-02-01T00:00:00+00:00", "versions": {"mujoco": "3.4.0"}, "cpus": 2}


def test_a_run_replaces_only_its_cells_and_unused_runs_go() -> None:
    """Each cell keeps the run that measured it; a run left without cells is dropped."""
    first = merge(None, {("env_speed", "Threading", "ours"): 400.0,
                         ("env_speed", "Threading", "bare"): 80.0}, RUN_A)  # fmt: skip
    second = merge(first, {("env_speed", "Threading", "ours"): 420.0}, RUN_B)
    cells = second["rates"]["env_speed"]["Threading"]
    assert cells["ours"] == {"value": 420.0, "run": 1}
    assert cells["bare"] == {"value": 80.0, "run": 0}
    assert second["runs"] == [RUN_A, RUN_B]
    third = merge(second, {("env_speed", "Threading", "bare"): 81.0}, RUN_B)
    assert third["runs"] == [RUN_B, RUN_B]  # RUN_A measured nothing that is still there
    assert {c["run"] for c in third["rates"]["env_speed"]["Threading"].values()} == {0, 1}
    assert first["rates"]["env_speed"]["Threading"]["ours"]["value"] == 400.0  # input untouched


def test_the_speed_tables_follow_the_file(tmp_path: Path) -> None:
    """Rows, ratios and the provenance line are read from the file; unmeasured rows are left out."""
    rates = {
        ("env_speed", "Threading", "ours"): 428.0,
        ("env_speed", "Threading", "bare"): 77.0,
        ("env_speed", "Threading", "raw_mj_step"): 616.0,
        ("ik_speed", "Pouring", "ours"): 297.0,
        ("generation_speed", "Threading generation", "att/s 1w"): 1.27,
        ("generation_speed", "Threading generation", "att/s 2w"): 2.08,
    }
    bench_results.write(tmp_path / RATES_FILE, rates, RUN_A)
    env = bench_env_table(tmp_path)
    assert "| Threading | 428 | 77.0 | 5.56 | 616 | 0.69 |" in env
    assert "| Pouring (GR-1) | 297 | - | - | - | - |" in env
    assert "Piece Assembly" not in env
    assert "mujoco 3.5.0" in env and "date 2026-01-01" in env
    assert "| Threading | 1.27 | 2.08 | 1.64 | - |" in bench_generation_table(tmp_path)
    page = "x\n<!-- table:bench-env -->\nold\n<!-- /table -->\n"
    assert "428" in render(page, tmp_path) and "old" not in render(page, tmp_path)


def test_module_tables_name_their_columns_and_skip_rows_without_any(tmp_path: Path) -> None:
    """Training, grading and write tables take the recorded columns under readable headers."""
    from dexmg_bench.docs_tables import TABLES

    rates = {
        ("dataset_write", "write CanSorting N=50", "s"): 9.6,
        ("dataset_write", "write CanSorting recompute", "extra_s_per_ep"): 0.25,
        ("dataset_write", "write CanSorting recompute", "unlisted"): 1.0,
        ("baselines_speed", "train bc-rnn", "samples/s (1 thread)"): 712.0,
    }
    bench_results.write(tmp_path / RATES_FILE, rates, RUN_A)
    write = TABLES["bench-write"](tmp_path)
    assert "| run | wall s | CPU s |" in write
    assert "| write CanSorting N=50 | 9.60 | - | - | - | - | - |" in write
    assert "| write CanSorting recompute | - | - | - | - | - | 0.250 |" in write
    assert "unlisted" not in write
    assert "| train bc-rnn | 712 | - | - |" in TABLES["bench-training"](tmp_path)
    assert "Not measured yet" in TABLES["bench-grading"](tmp_path)


def test_a_run_record_names_the_cpu_model_and_the_tables_show_it(tmp_path: Path) -> None:
    """Speeds differ between CPUs, so a run says which one measured it."""
    from dexmg_bench.provenance import cpu_model

    run = bench_results.run_record("benchmarks/test_env_speed.py")
    assert run["cpu_model"] == cpu_model() and run["cpus"] >= 1
    bench_results.write(tmp_path / RATES_FILE, {("env_speed", "Threading", "ours"): 400.0}, run)
    assert f"cpu_model {cpu_model()}" in " ".join(bench_env_table(tmp_path).split())


def test_no_file_says_how_to_make_one(tmp_path: Path) -> None:
    """A fresh clone of a fork without measurements gets a table that says what to run."""
    assert "make bench" in bench_env_table(tmp_path)


def test_the_committed_file_is_well_formed() -> None:
    """Every cell points to a run, and every run is used (what `merge` keeps)."""
    path = Path(__file__).resolve().parents[1] / RATES_FILE
    data = json.loads(path.read_text())
    cells = [c for rows in data["rates"].values() for r in rows.values() for c in r.values()]
    assert cells and {c["run"] for c in cells} == set(range(len(data["runs"])))
    assert all({"measured_at", "versions", "cpus"} <= set(r) for r in data["runs"])
