"""Import purity: the numpy-only modules load with the simulator packages blocked."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PKG_DIR = str(REPO / "dexmg_bench")

# Installed first in every subprocess: a meta-path finder that refuses the simulator packages.
BLOCKER = textwrap.dedent(
    """
    import importlib
    import importlib.abc
    import sys
    import types

    BLOCKED = {blocked!r}

    class _Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"blocked import of {{name!r}}")
            return None

    sys.meta_path.insert(0, _Blocker())
    """
)

# Imports the modules without running dexmg_bench/__init__.py (which registers the envs), then
# checks that nothing outside numpy, the stdlib and dexmg_bench itself was loaded.
IMPORT = textwrap.dedent(
    """
    before = set(sys.modules)
    stub = types.ModuleType("dexmg_bench")
    stub.__path__ = [{pkg_dir!r}]
    sys.modules["dexmg_bench"] = stub
    for name in {modules!r}:
        mod = importlib.import_module(name)
        assert mod.__file__.startswith({pkg_dir!r}), mod.__file__
        for attr in getattr(mod, "__all__", ()):
            getattr(mod, attr)
    roots = {{m.partition(".")[0] for m in set(sys.modules) - before}}
    # cython_runtime is registered by numpy's compiled extensions, not a separate package.
    allowed = {{"numpy", "dexmg_bench", "cython_runtime"}}
    extra = {{r for r in roots - set(sys.stdlib_module_names) - allowed if not r.startswith("_")}}
    assert not extra, f"pure modules pulled in {{sorted(extra)}}"
    assert not BLOCKED & set(sys.modules)
    """
)

PURE = {
    "geometry": ["dexmg_bench.geometry"],
    "generators": [
        f"dexmg_bench.generators.{m}"
        for m in ("transform", "scheduler", "spec", "select", "segment", "protocol")
    ],
}
SIMULATOR = ("mujoco", "robosuite", "gymnasium")


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


@pytest.mark.parametrize("group", sorted(PURE))
def test_pure_modules_import_without_the_simulator(group: str) -> None:
    """Geometry and the pure generator modules import with mujoco/robosuite/gymnasium blocked."""
    code = BLOCKER.format(blocked=set(SIMULATOR)) + IMPORT.format(
        pkg_dir=PKG_DIR, modules=PURE[group]
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module", ["mujoco", "robosuite", "mujoco.viewer", "gymnasium"])
def test_blocker_blocks(module: str) -> None:
    """The blocker really refuses the simulator packages, so the purity test is meaningful."""
    result = _run(BLOCKER.format(blocked=set(SIMULATOR)) + f"import {module}\n")
    assert result.returncode != 0
    assert "blocked import of" in result.stderr, result.stderr
