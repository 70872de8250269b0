"""Generator specs: the shipped TOML files load, and malformed ones fail with located errors."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from dexmg_bench.generators.spec import (
    SpecError,
    SubtaskSpec,
    load_spec,
    spec_from_dict,
    spec_path,
    validate_against,
)

TASKS = ("Threading", "PieceAssembly", "Transport")

THREADING = """
task = "Threading"

[[right]]
name = "grasp_stand"
object_ref = "stand"

[[right]]
name = "thread"
object_ref = "stand"
kind = "coordination"
partner = "thread"

[[left]]
name = "grasp_needle"
object_ref = "needle"

[[left]]
name = "thread"
object_ref = "stand"
kind = "coordination"
partner = "thread"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "threading.toml"
    path.write_text(text)
    return path


def _env_class(task: str) -> type:
    from dexmg_bench.envs.tasks.piece_assembly import PieceAssemblyEnv
    from dexmg_bench.envs.tasks.threading import ThreadingEnv
    from dexmg_bench.envs.tasks.transport import TransportEnv

    return {
        "Threading": ThreadingEnv,
        "PieceAssembly": PieceAssemblyEnv,
        "Transport": TransportEnv,
    }[task]


@pytest.mark.parametrize("task", TASKS)
def test_shipped_specs_load_and_match_env(task: str) -> None:
    """Each shipped spec validates and names only the env's objects and signals, in its order."""
    spec = load_spec(spec_path(task))
    assert spec.task == task
    env = _env_class(task)
    validate_against(spec, env.object_names, env.subtask_names)
    for arm, names in env.subtask_names.items():
        assert tuple(s.name for s in spec.subtasks[arm]) == names
    assert spec_from_dict(json.loads(spec.to_json())) == spec


def test_shipped_kinds() -> None:
    """The task docstrings' subtask kinds are what the specs declare."""
    transport = load_spec(spec_path("Transport"))
    right_handover = transport.subtasks["right"][transport.index("right", "handover")]
    left_handover = transport.subtasks["left"][transport.index("left", "handover")]
    assert right_handover.replay and left_handover.replay
    pieces = load_spec(spec_path("PieceAssembly"))
    assert pieces.subtasks["left"][1].after == "insert_piece1"
    thread = load_spec(spec_path("Threading"))
    assert not thread.subtasks["left"][1].replay
    assert thread.subtasks["left"][1].interpolation_steps == 5


def test_minimal_spec_defaults(tmp_path: Path) -> None:
    """Omitted fields take the documented defaults; the signal defaults to the name."""
    spec = load_spec(_write(tmp_path, THREADING))
    thread = spec.subtasks["left"][1]
    assert thread.signal_name == "thread" and thread.scheme is None and not thread.replay
    assert (thread.offset_range, thread.action_noise, thread.fixed_steps) == ((0, 0), 0.05, 0)


COORD = 'kind = "coordination"\npartner = "thread"\n'
NEEDLE = 'name = "grasp_needle"\n'

# (text to replace, replacement, which occurrence (-1: last), expected message after "<file>: ")
BAD = [
    (
        COORD,
        COORD + 'scheme = "warp"\n',
        -1,
        "arm 'left', subtask 1 ('thread'): field 'scheme' must be 'transform' or 'replay', "
        "got 'warp'",
    ),
    (
        NEEDLE,
        NEEDLE + 'kind = "together"\n',
        0,
        "arm 'left', subtask 0 ('grasp_needle'): field 'kind' must be 'parallel' or "
        "'coordination' or 'sequential', got 'together'",
    ),
    (
        COORD,
        'kind = "coordination"\n',
        -1,
        "arm 'left', subtask 1 ('thread'): field 'partner' must be a non-empty string, got None",
    ),
    (
        COORD,
        'kind = "coordination"\npartner = "knot"\n',
        -1,
        "arm 'left', subtask 1 ('thread'): field 'partner' names 'knot', which is not a subtask "
        "of arm 'right'",
    ),
    (
        COORD,
        'kind = "coordination"\npartner = "grasp_stand"\n',
        -1,
        "arm 'right', subtask 1 ('thread'): field 'partner' is not mutual",
    ),
    (
        NEEDLE,
        NEEDLE + 'kind = "sequential"\nafter = "nope"\n',
        0,
        "arm 'left', subtask 0 ('grasp_needle'): field 'after' names 'nope', which is not a "
        "subtask of arm 'right'",
    ),
    (
        NEEDLE,
        NEEDLE + 'colour = "red"\n',
        0,
        "arm 'left', subtask 0 ('grasp_needle'): unknown field 'colour'",
    ),
    (
        NEEDLE,
        NEEDLE + "offset_range = [3, 1]\n",
        0,
        "arm 'left', subtask 0 ('grasp_needle'): field 'offset_range' must be two integers",
    ),
    (
        NEEDLE,
        NEEDLE + 'scheme = "replay"\n',
        0,
        "arm 'left', subtask 0 ('grasp_needle'): field 'scheme' applies to coordination",
    ),
    (
        NEEDLE + 'object_ref = "needle"\n',
        NEEDLE,
        0,
        "arm 'left', subtask 0 ('grasp_needle'): field 'object_ref' is required",
    ),
    (
        NEEDLE,
        NEEDLE + "interpolation_steps = -1\n",
        0,
        "arm 'left', subtask 0 ('grasp_needle'): field 'interpolation_steps' must be an "
        "integer >= 0, got -1",
    ),
    ('task = "Threading"\n', 'task = "Threading"\nspeed = 2\n', 0, "unknown field 'speed'"),
]


@pytest.mark.parametrize(
    ("old", "new", "which", "message"), BAD, ids=[m.split(": ")[-1][:40] for *_, m in BAD]
)
def test_malformed_spec_errors_name_file_arm_field(
    tmp_path: Path, old: str, new: str, which: int, message: str
) -> None:
    """Each malformed spec fails on load with the file, arm, subtask and field in the message."""
    parts = THREADING.split(old)
    k = len(parts) - 2 if which == -1 else which
    text = old.join(parts[: k + 1]) + new + old.join(parts[k + 1 :])
    assert text != THREADING
    path = _write(tmp_path, text)
    with pytest.raises(SpecError, match=re.escape(f"{path}: {message}")):
        load_spec(path)


def test_deadlock_is_rejected(tmp_path: Path) -> None:
    """A sequential wait on a subtask that itself waits on this arm can never be scheduled."""
    text = THREADING.replace(
        'name = "grasp_stand"\nobject_ref = "stand"\n',
        'name = "grasp_stand"\nobject_ref = "stand"\nkind = "sequential"\nafter = "thread"\n',
    )
    with pytest.raises(SpecError, match="can never start"):
        load_spec(_write(tmp_path, text))


def test_partners_must_agree_on_scheme(tmp_path: Path) -> None:
    """Coordination partners with different schemes are refused."""
    text = THREADING.replace('partner = "thread"\n', 'partner = "thread"\nscheme = "replay"\n', 1)
    with pytest.raises(SpecError, match="field 'scheme' is 'replay' but its partner's"):
        load_spec(_write(tmp_path, text))


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    """A TOML syntax error names the file."""
    path = _write(tmp_path, "task = \n")
    with pytest.raises(SpecError, match=re.escape(f"{path}: invalid TOML")):
        load_spec(path)


def test_validate_against_env_names(tmp_path: Path) -> None:
    """Unknown objects and signals are reported with arm, subtask and field."""
    spec = load_spec(_write(tmp_path, THREADING))
    subtasks = {"right": ("grasp_stand", "thread"), "left": ("grasp_needle", "thread")}
    validate_against(spec, ("needle", "stand"), subtasks)
    with pytest.raises(SpecError, match="arm 'right', subtask 0 .* field 'object_ref'"):
        validate_against(spec, ("needle",), subtasks)
    with pytest.raises(SpecError, match="arm 'left', subtask 0 .* field 'signal'"):
        validate_against(spec, ("needle", "stand"), {**subtasks, "left": ("thread",)})


def test_subtask_spec_is_frozen() -> None:
    """Specs are immutable values."""
    s = SubtaskSpec(name="a", object_ref="o")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.name = "b"  # type: ignore[misc]
