"""Collects the rates the benchmarks measure and prints them as one table at the end."""

from __future__ import annotations

import pytest

RATES: dict[tuple[str, str], float] = {}


@pytest.fixture
def record_rate():
    """``record_rate(row, column, value)`` stores a measured rate for the summary table."""

    def record(row: str, column: str, value: float) -> None:
        RATES[(row, column)] = value

    return record


def pytest_terminal_summary(terminalreporter):
    """Print env steps/s per task: raw physics, bare robosuite, ours, and the ratios."""
    if not RATES:
        return
    for row in {r for r, _ in RATES}:
        for num, den in (("ours", "bare"), ("ours_cams", "bare_cams"), ("ours", "raw_mj_step")):
            if (row, num) in RATES and (row, den) in RATES:
                RATES[(row, f"{num}/{den}")] = RATES[(row, num)] / RATES[(row, den)]
    rows = sorted({r for r, _ in RATES})
    cols = sorted({c for _, c in RATES})
    tr = terminalreporter
    tr.section("dexmg-bench rates (env steps/s unless the column says otherwise)")
    tr.write_line("  ".join(["row".ljust(28)] + [c.rjust(18) for c in cols]))
    for r in rows:
        cells = [
            f"{RATES[(r, c)]:.2f}".rjust(18) if (r, c) in RATES else "-".rjust(18) for c in cols
        ]
        tr.write_line("  ".join([r.ljust(28), *cells]))
