"""The results file of ``make bench``: every measured rate with the run that measured it.

``benchmarks/results/rates.json`` holds ``runs`` (commit, versions, time, CPU count, the tests run)
and ``rates[module][row][column] = {"value", "run"}``. A run of some benchmarks replaces only the
cells it measured; runs no cell points to are dropped. ``dexmg docs`` builds the tables of
docs/performance.md from this file, so a speed on that page always names where it is from.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from dexmg_bench.provenance import write_json

RATES_FILE = Path("benchmarks") / "results" / "rates.json"

Rates = dict[tuple[str, str, str], float]  # (module, row, column) -> value


def run_record(tests: str) -> dict[str, Any]:
    """Where a run's numbers come from: versions (commit included), time, CPUs, the tests run.

    The CPU model is recorded because speeds differ several-fold between the machines a run
    may land on.
    """
    from dexmg_bench.provenance import cpu_model, versions

    return {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "tests": tests,
    }


def merge(data: dict[str, Any] | None, rates: Rates, run: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a parsed results file, or None) with ``rates`` written over it as one more run."""
    data = json.loads(json.dumps(data)) if data else {"runs": [], "rates": {}}
    index = len(data["runs"])
    data["runs"].append(run)
    for (module, row, column), value in rates.items():
        cell = {"value": round(float(value), 6), "run": index}
        data["rates"].setdefault(module, {}).setdefault(row, {})[column] = cell
    cells = [c for rows in data["rates"].values() for r in rows.values() for c in r.values()]
    keep = sorted({c["run"] for c in cells})
    renumber = {old: new for new, old in enumerate(keep)}
    data["runs"] = [data["runs"][i] for i in keep]
    for c in cells:
        c["run"] = renumber[c["run"]]
    return data


def write(path: Path, rates: Rates, run: dict[str, Any]) -> None:
    """Merge ``rates`` into the file at ``path`` (created if missing), atomically."""
    old = json.loads(path.read_text()) if path.is_file() else None
    data = merge(old, rates, run)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, data, sort_keys=True, newline=True)
