"""The board page: one self-contained ``index.html`` (CSS, JS and data inline; works offline).

Every number shown is recomputed here from the per-episode outcomes in the results JSON, and a
row is rejected when its submission folder no longer matches the id it was graded under (or
its stored aggregates disagree with its episodes). Per-submission pages are views of the same
file (``index.html#<id>``), so the board stays one file.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from dexmg_bench.leaderboard.grade import summarize
from dexmg_bench.leaderboard.manifest import verify_manifest
from dexmg_bench.leaderboard.schema import SubmissionError

CARDS_URL = "../../datasets/cards"


def _row(res: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """One table row, every aggregate recomputed from the episodes."""
    cells, per_task = {}, {}
    for tv, t in res["tasks"].items():
        if not t.get("episodes"):
            continue
        s = summarize(t["episodes"], res["protocol"]["episodes"])
        if abs(s["success_mean"] - t.get("success_mean", -1)) > 1e-12:
            raise ValueError(f"{tv}: stored mean {t.get('success_mean')} != episodes' {s}")
        cells[tv] = {
            "mean": s["success_mean"],
            "std": s["success_std"],
            "seeds": [r["best_rate"] for r in s["per_seed"]],
            "last": s["last_checkpoint_mean"],
            "claimed": t.get("claims", {}).get("claimed_mean"),
        }
        per_task[tv] = s
    means = [c["mean"] for c in cells.values()]
    claimed = [c["claimed"] for c in cells.values() if c["claimed"] is not None]
    badges = [res["status"], *res.get("flags", [])]
    if res.get("sandbox") == "unsandboxed" and "unsandboxed" not in badges:
        badges.append("unsandboxed")
    ds = res.get("dataset", {})
    return {
        "id": res["submission_id"],
        "name": res["folder"],
        "track": res.get("track", "lowdim"),
        "cells": cells,
        "overall": sum(means) / len(means) if means else None,
        "claimed": sum(claimed) / len(claimed) if claimed else None,
        "badges": badges,
        "failure": (res.get("failure") or {}).get("reason"),
        "dataset": ds.get("id", ""),
        "demos": f"{ds.get('source_demos', 0)} src + {ds.get('generated_demos', 0)} gen",
        "date": run.get("graded_at", "")[:10],
        "code": f"{res.get('code', {}).get('url', '')}@{res.get('code', {}).get('commit', '')}",
        "ms": run.get("ms_per_action", {}).get("mean"),
        "episodes": res["protocol"]["episodes"],
        "seeds_kind": res.get("seeds"),
        "versions": res.get("versions", {}),
    }


def load_rows(results: Path, submissions: Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Rows of every acceptable results file, and ``{file: reason}`` for the rejected ones."""
    rows, rejected = [], {}
    for path in sorted(results.glob("*.json")):
        if path.name.endswith(".run.json"):
            continue
        res = json.loads(path.read_text())
        run_path = path.with_name(path.stem + ".run.json")
        run = json.loads(run_path.read_text()) if run_path.is_file() else {}
        if res.get("submission_id") is None:
            rejected[path.name] = "refused at grading (no submission id)"
            continue
        try:
            now = verify_manifest(submissions / res["folder"])
        except SubmissionError as err:
            rejected[path.name] = f"submission changed after grading ({err})"
            continue
        if now != res["submission_id"]:
            rejected[path.name] = f"submission changed after grading (id now {now})"
            continue
        try:
            rows.append(_row(res, run))
        except (ValueError, KeyError) as err:
            rejected[path.name] = f"aggregates do not match the episodes ({err})"
    return rows, rejected


def build_site(
    results: Path, submissions: Path, out: Path, cards_url: str = CARDS_URL
) -> tuple[Path, dict[str, str]]:
    """Write ``out/index.html``; returns its path and the rejected results files.

    ``cards_url`` is where dataset-card links point (relative to the page, or a repository URL).
    """
    rows, rejected = load_rows(results, submissions)
    tasks = sorted({tv for r in rows for tv in r["cells"]})
    data = json.dumps({"rows": rows, "tasks": tasks, "cards": cards_url}, sort_keys=True)
    page = TEMPLATE.read_text().replace("/*DATA*/null", data.replace("</", "<\\/"))
    page = page.replace("{{REJECTED}}", "".join(
        f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in rejected.items()
    ))  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(page)
    return path, rejected


TEMPLATE = Path(__file__).with_name("board.html")  # package data: the page's HTML, CSS and JS
