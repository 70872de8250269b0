"""Import-purity test: ``dexmg_bench.geometry`` must import with mujoco and robosuite blocked."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Installed first in every subprocess: a meta-path finder that refuses the simulator packages.
BLOCKER = textwrap.dedent(
    """
    import importlib.abc
    import sys

    BLOCKED = {"mujoco", "robosuite"}

    class _Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"blocked import of {name!r} (geometry must stay pure)")
            return None

    sys.meta_path.insert(0, _Blocker())
    """
)

# Imports the subpackage without running dexmg_bench/__init__.py (which imports the envs), then
# checks that nothing outside numpy, the stdlib and dexmg_bench itself was loaded.
IMPORT_GEOMETRY = textwrap.dedent(
    """
    import types

    before = set(sys.modules)
    stub = types.ModuleType("dexmg_bench")
    stub.__path__ = [{pkg_dir!r}]
    sys.modules["dexmg_bench"] = stub

    import dexmg_bench.geometry as geometry

    assert geometry.__file__.startswith({pkg_dir!r}), geometry.__file__
    for name in geometry.__all__:
        getattr(geometry, name)
    roots = {{m.partition(".")[0] for m in set(sys.modules) - before}}
    # cython_runtime is registered by numpy's compiled extensions, not a separate package.
    allowed = {{"numpy", "dexmg_bench", "cython_runtime"}}
    extra = roots - set(sys.stdlib_module_names) - allowed
    extra = {{r for r in extra if not r.startswith("_")}}
    assert not extra, f"geometry pulled in non-numpy packages: {{sorted(extra)}}"
    assert not BLOCKED & set(sys.modules)
    """
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter from the repo's parent dir (cwd kept off the path)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO.parent,
        timeout=120,
        check=False,
    )


def test_geometry_imports_without_simulator() -> None:
    """``dexmg_bench.geometry`` imports with mujoco and robosuite blocked."""
    pkg_dir = str(REPO / "dexmg_bench")
    result = _run(BLOCKER + IMPORT_GEOMETRY.format(pkg_dir=pkg_dir))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module", ["mujoco", "robosuite", "mujoco.viewer"])
def test_blocker_blocks(module: str) -> None:
    """The blocker really refuses the simulator packages, so the purity test is meaningful."""
    result = _run(BLOCKER + f"import {module}\n")
    assert result.returncode != 0
    assert "blocked import of" in result.stderr, result.stderr
