"""Import purity: the pure generator modules load with the simulator packages blocked."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULES = ("transform", "scheduler", "spec", "select", "segment")

CODE = textwrap.dedent(
    """
    import importlib
    import importlib.abc
    import sys
    import types

    BLOCKED = {{"mujoco", "robosuite", "gymnasium"}}

    class _Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"blocked import of {{name!r}}")
            return None

    sys.meta_path.insert(0, _Blocker())
    before = set(sys.modules)
    stub = types.ModuleType("dexmg_bench")  # skip dexmg_bench/__init__.py (it imports the envs)
    stub.__path__ = [{pkg_dir!r}]
    sys.modules["dexmg_bench"] = stub
    for name in {modules!r}:
        mod = importlib.import_module("dexmg_bench.generators." + name)
        assert mod.__file__.startswith({pkg_dir!r}), mod.__file__
    roots = {{m.partition(".")[0] for m in set(sys.modules) - before}}
    allowed = {{"numpy", "dexmg_bench", "cython_runtime"}}
    extra = {{r for r in roots - set(sys.stdlib_module_names) - allowed if not r.startswith("_")}}
    assert not extra, f"pure generator modules pulled in {{sorted(extra)}}"
    assert not BLOCKED & set(sys.modules)
    try:
        import gymnasium  # noqa: F401
    except ImportError as err:
        assert "blocked" in str(err)
    else:
        raise AssertionError("the blocker let gymnasium through")
    """
)


def test_generator_modules_import_without_simulator() -> None:
    """transform, scheduler, spec, select and segment import without mujoco/robosuite/gymnasium."""
    code = CODE.format(pkg_dir=str(REPO / "dexmg_bench"), modules=MODULES)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO.parent,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
