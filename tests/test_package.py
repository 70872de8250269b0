"""Package-level contracts: exports, version agreement, import hygiene."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import dexmg_bench

ROOT = Path(__file__).resolve().parents[1]


def test_all_resolves():
    """Every name in __all__ exists."""
    for name in dexmg_bench.__all__:
        assert hasattr(dexmg_bench, name), name


def test_citation_version_matches_package():
    """CITATION.cff and the package agree on the version (mink's drift bug)."""
    cff = (ROOT / "CITATION.cff").read_text()
    version = re.search(r"^version: (\S+)$", cff, re.M)
    assert version and version.group(1) == dexmg_bench.__version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" in project["dynamic"]


def test_import_does_not_load_the_simulator_or_torch():
    """`import dexmg_bench` registers envs without importing mujoco, robosuite or torch."""
    code = (
        "import sys, dexmg_bench; "
        "print(sorted(m for m in ('mujoco','robosuite','torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
