"""Every env of the registry is a `GeneratorEnv`: the generators and recorder need no env class."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import gymnasium as gym
import pytest

import dexmg_bench
from dexmg_bench.envs import BIGYM_TASKS, env_ids
from dexmg_bench.generators.protocol import GeneratorEnv

ALL_IDS = env_ids()
# BiGym ids run here against tests/envs/fake_bigym.py (CI has no BiGym; see test_bigym*.py).
BIGYM_IDS = {i for t in BIGYM_TASKS for i in t.ids()}
MEMBERS = sorted(
    name for name in dir(GeneratorEnv) if not name.startswith("_") and name not in dir(object)
)


def _make(env_id: str):
    kwargs = {"backend": "fake_bigym", "action_mode": "pose"} if env_id in BIGYM_IDS else {}
    return gym.make(env_id, disable_env_checker=True, **kwargs).unwrapped


def test_protocol_lists_what_the_generators_call():
    """The members are exactly the env calls of the generators and the datagen recorder."""
    assert MEMBERS == [
        "action_layout",
        "action_to_target_pose",
        "eef_poses",
        "get_state",
        "hand_command",
        "object_names",
        "object_poses",
        "reset",
        "set_state",
        "step",
        "subtask_names",
        "subtask_signals",
        "target_pose_to_action",
    ]


@pytest.mark.parametrize("env_id", ALL_IDS, ids=ALL_IDS)
def test_every_env_implements_the_generator_protocol(env_id):
    """Each unwrapped env has every member, and each method takes the protocol's arguments."""
    env = _make(env_id)
    assert isinstance(env, GeneratorEnv)
    for name in MEMBERS:
        declared = inspect.getattr_static(GeneratorEnv, name)
        if isinstance(declared, property):
            assert getattr(env, name) is not None, name
            continue
        wanted = inspect.signature(declared)
        got = inspect.signature(getattr(env, name))
        for param in list(wanted.parameters.values())[1:]:  # past `self`
            assert param.name in got.parameters, f"{env_id}.{name} lacks `{param.name}`"
            assert got.parameters[param.name].kind == param.kind, f"{env_id}.{name}({param.name})"
        extra = [
            p
            for p in got.parameters.values()
            if p.name not in wanted.parameters
            and p.default is inspect.Parameter.empty
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        assert not extra, f"{env_id}.{name} needs more arguments: {extra}"
    env.close()


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports (top-level and lazy imports alike)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_generators_import_no_env_class():
    """The generators, recorder and evaluator reach envs through the registry and the protocol."""
    root = Path(dexmg_bench.__file__).parent
    files = [*(root / "generators").glob("*.py"), root / "datasets" / "record.py"]
    files += [*(root / "evaluation").glob("*.py")]
    env_modules = ("dexmg_bench.envs.base", "dexmg_bench.envs.humanoid", "dexmg_bench.envs.bigym")
    for path in files:
        for module in _imported_modules(path):
            assert not module.startswith(env_modules), f"{path.name} imports {module}"
            assert not module.startswith("dexmg_bench.envs.tasks"), f"{path.name} imports {module}"
