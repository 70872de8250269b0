"""Collects the rates the benchmarks measure and prints them as one table.

With ``--rates-out`` (``make bench``) they are also merged into the results file behind
docs/performance.md (``dexmg_bench.bench_results``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

# (module, row, column) -> value; module is the benchmark file's stem without ``test_``.
RATES: dict[tuple[str, str, str], float] = {}


def pytest_addoption(parser):
    """``--rates-out FILE``: the results file to merge this run's rates into."""
    parser.addoption(
        "--rates-out",
        default=None,
        help="merge the measured rates into this JSON file (make bench: "
        "benchmarks/results/rates.json)",
    )


@pytest.fixture
def record_rate(request):
    """``record_rate(row, column, value)`` stores a measured rate for the summary and the file."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")

    def record(row: str, column: str, value: float) -> None:
        RATES[(module, row, column)] = float(value)

    return record


def pytest_sessionfinish(session):
    """Write the rates with the run that measured them (commit, versions, time)."""
    out = session.config.getoption("--rates-out")
    if out and RATES:
        from dexmg_bench import bench_results

        tests = " ".join(str(a) for a in session.config.args)
        bench_results.write(Path(out), RATES, bench_results.run_record(tests))


def pytest_terminal_summary(terminalreporter):
    """Print every measured rate, with the ratios of env steps/s to bare robosuite and raw."""
    if not RATES:
        return
    table = {(r, c): v for (_, r, c), v in RATES.items()}
    for row in {r for r, _ in table}:
        for num, den in (("ours", "bare"), ("ours_cams", "bare_cams"), ("ours", "raw_mj_step")):
            if (row, num) in table and (row, den) in table:
                table[(row, f"{num}/{den}")] = table[(row, num)] / table[(row, den)]
    rows = sorted({r for r, _ in table})
    cols = sorted({c for _, c in table})
    tr = terminalreporter
    tr.section("dexmg-bench rates (env steps/s unless the column says otherwise)")
    tr.write_line("  ".join(["row".ljust(28)] + [c.rjust(18) for c in cols]))
    for r in rows:
        cells = [
            f"{table[(r, c)]:.2f}".rjust(18) if (r, c) in table else "-".rjust(18) for c in cols
        ]
        tr.write_line("  ".join([r.ljust(28), *cells]))
