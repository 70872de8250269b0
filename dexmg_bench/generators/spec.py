"""Per-arm subtask specs: what each arm does, relative to which object, and how arms interact.

A task's spec is a small TOML file under the top-level ``generators/`` folder::

    task = "Threading"
    source_selection = "same"        # one source demo for both arms, or "per_arm"

    [defaults]                       # optional; any subtask field except the identity ones
    interpolation_steps = 5

    [[right]]                        # ordered subtasks of the right arm
    name = "grasp_stand"
    object_ref = "stand"

    [[right]]
    name = "thread"
    object_ref = "stand"
    kind = "coordination"
    partner = "thread"
    scheme = "transform"

Everything is validated on load; errors name the file, the arm, the subtask and the field.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dexmg_bench.errors import InputFileNotFoundError, UserInputError

ARMS = ("right", "left")  # the env's arm order (``dexmg_bench.envs.base.ARMS``)
KINDS = ("parallel", "coordination", "sequential")
SCHEMES = ("transform", "replay")
SELECTIONS = ("random", "nearest")
SOURCE_SELECTIONS = ("same", "per_arm")
_IDENTITY_FIELDS = ("name", "object_ref", "signal", "kind", "scheme", "partner", "after")


class SpecError(UserInputError):
    """A malformed generator spec (raised before any simulation starts)."""


def _check_int(field: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"field {field!r} must be an integer >= {minimum}, got {value!r}")


def _check_choice(field: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        options = " or ".join(repr(c) for c in choices)
        raise SpecError(f"field {field!r} must be {options}, got {value!r}")


def _check_name(field: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise SpecError(f"field {field!r} must be a non-empty string, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class SubtaskSpec:
    """One object-centric subtask of one arm.

    Attributes:
        name: Subtask name, unique within its arm.
        object_ref: The object whose frame the subtask's poses are relative to.
        signal: The env termination signal that ends it; ``None`` means ``name``.
        offset_range: Inclusive ``(lo, hi)`` steps added to the subtask's end boundary.
        start_offset_range: Inclusive ``(lo, hi)``, ``0 <= lo``: source steps skipped at the
            head of the segment (free-space transit from where the previous subtask left the
            hand, not relative to ``object_ref``); the interpolation from the current pose
            bridges them instead. The previous subtask's end does not move.
        selection: How its source segment is picked: ``"random"`` or ``"nearest"``.
        nearest_k: With ``"nearest"``, pick uniformly among this many closest demos.
        interpolation_steps: Poses from the current pose to the segment's first pose.
        fixed_steps: Steps holding the current pose before interpolating.
        action_noise: Scale of the action noise the executor adds to planned steps.
        kind: ``"parallel"``, ``"coordination"`` or ``"sequential"``.
        scheme: Coordination only: ``"transform"`` (default) or ``"replay"``.
        partner: Coordination only: the other arm's subtask it is synchronized with.
        after: Sequential only: the other arm's subtask that must finish first.
    """

    name: str
    object_ref: str
    signal: str | None = None
    offset_range: tuple[int, int] = (0, 0)
    start_offset_range: tuple[int, int] = (0, 0)
    selection: str = "random"
    nearest_k: int = 3
    interpolation_steps: int = 5
    fixed_steps: int = 0
    action_noise: float = 0.05
    kind: str = "parallel"
    scheme: str | None = None
    partner: str | None = None
    after: str | None = None

    def __post_init__(self) -> None:
        _check_name("name", self.name)
        _check_name("object_ref", self.object_ref)
        if self.signal is not None:
            _check_name("signal", self.signal)
        off = self.offset_range
        if (
            not isinstance(off, tuple)
            or len(off) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in off)
            or off[0] > off[1]
        ):
            raise SpecError(f"field 'offset_range' must be two integers lo <= hi, got {off!r}")
        start = self.start_offset_range
        if (
            not isinstance(start, tuple)
            or len(start) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in start)
            or not 0 <= start[0] <= start[1]
        ):
            raise SpecError(
                f"field 'start_offset_range' must be two integers 0 <= lo <= hi, got {start!r}"
            )
        _check_choice("selection", self.selection, SELECTIONS)
        _check_int("nearest_k", self.nearest_k, 1)
        _check_int("interpolation_steps", self.interpolation_steps, 0)
        _check_int("fixed_steps", self.fixed_steps, 0)
        noise = self.action_noise
        if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
            raise SpecError(f"field 'action_noise' must be a number >= 0, got {noise!r}")
        _check_choice("kind", self.kind, KINDS)
        coordination = self.kind == "coordination"
        if self.scheme is not None and not coordination:
            raise SpecError(
                f"field 'scheme' applies to coordination subtasks only, not {self.kind}"
            )
        if self.scheme is not None:
            _check_choice("scheme", self.scheme, SCHEMES)
        if coordination:
            _check_name("partner", self.partner)
        elif self.partner is not None:
            raise SpecError(
                f"field 'partner' applies to coordination subtasks only, not {self.kind}"
            )
        if self.kind == "sequential":
            _check_name("after", self.after)
        elif self.after is not None:
            raise SpecError(f"field 'after' applies to sequential subtasks only, not {self.kind}")

    @property
    def signal_name(self) -> str:
        """The termination signal that ends this subtask."""
        return self.signal if self.signal is not None else self.name

    @property
    def replay(self) -> bool:
        """Whether the source poses are used untransformed (coordination ``replay`` scheme)."""
        return self.kind == "coordination" and self.scheme == "replay"


def _where(arm: str, index: int, sub: SubtaskSpec | str) -> str:
    name = sub.name if isinstance(sub, SubtaskSpec) else sub
    return f"arm {arm!r}, subtask {index} ({name!r})"


def other_arm(arm: str) -> str:
    """The arm that is not ``arm``."""
    return ARMS[1 - ARMS.index(arm)]


@dataclass(frozen=True, kw_only=True)
class TaskSpec:
    """The per-arm subtask sequences of one task.

    Attributes:
        task: The env task name (``"Threading"``).
        subtasks: Ordered subtasks keyed by arm; keys are exactly ``ARMS``.
        source_selection: ``"same"`` (one source demo for both arms and all subtasks) or
            ``"per_arm"`` (each arm picks per subtask; coordination pairs share the pick).
    """

    task: str
    subtasks: Mapping[str, tuple[SubtaskSpec, ...]]
    source_selection: str = "same"

    def __post_init__(self) -> None:
        _check_name("task", self.task)
        _check_choice("source_selection", self.source_selection, SOURCE_SELECTIONS)
        if set(self.subtasks) != set(ARMS):
            raise SpecError(f"subtasks must be keyed by exactly {ARMS}, got {tuple(self.subtasks)}")
        for arm in ARMS:
            subs = self.subtasks[arm]
            if not isinstance(subs, tuple) or not subs:
                raise SpecError(f"arm {arm!r}: needs a non-empty tuple of subtasks, got {subs!r}")
            seen: set[str] = set()
            for i, sub in enumerate(subs):
                if not isinstance(sub, SubtaskSpec):
                    raise SpecError(f"arm {arm!r}, subtask {i}: not a SubtaskSpec: {sub!r}")
                if sub.name in seen:
                    raise SpecError(f"{_where(arm, i, sub)}: field 'name' repeats {sub.name!r}")
                seen.add(sub.name)
        for check in (self._check_names, self._check_pairs):  # names first: the root cause
            for arm in ARMS:
                for i, sub in enumerate(self.subtasks[arm]):
                    check(arm, i, sub)
        self._check_schedulable()

    def index(self, arm: str, name: str) -> int:
        """Position of subtask ``name`` in ``arm``'s sequence (``ValueError`` if absent)."""
        names = [s.name for s in self.subtasks[arm]]
        if name not in names:
            raise SpecError(f"arm {arm!r} has no subtask {name!r} (has {names})")
        return names.index(name)

    def _check_names(self, arm: str, i: int, sub: SubtaskSpec) -> None:
        other = other_arm(arm)
        names = [s.name for s in self.subtasks[other]]
        for field in ("after", "partner"):
            value = getattr(sub, field)
            if value is not None and value not in names:
                raise SpecError(
                    f"{_where(arm, i, sub)}: field {field!r} names {value!r}, which is not a "
                    f"subtask of arm {other!r} (has {names})"
                )

    def _check_pairs(self, arm: str, i: int, sub: SubtaskSpec) -> None:
        if sub.partner is None:
            return
        other = other_arm(arm)
        names = [s.name for s in self.subtasks[other]]
        mate = self.subtasks[other][names.index(sub.partner)]
        if mate.kind != "coordination" or mate.partner != sub.name:
            raise SpecError(
                f"{_where(arm, i, sub)}: field 'partner' is not mutual: arm {other!r} subtask "
                f"{mate.name!r} is {mate.kind} with partner {mate.partner!r}, not {sub.name!r}"
            )
        for field in ("scheme", "object_ref", "offset_range", "start_offset_range"):
            mine, theirs = getattr(sub, field), getattr(mate, field)
            if field == "scheme":
                mine, theirs = mine or "transform", theirs or "transform"
            if mine != theirs:
                raise SpecError(
                    f"{_where(arm, i, sub)}: field {field!r} is {mine!r} but its partner's "
                    f"(arm {other!r}, {mate.name!r}) is {theirs!r}; coordination pairs must agree"
                )

    def _check_schedulable(self) -> None:
        """Walk both arms abstractly; coordination pairs out of order or circular waits deadlock."""
        ptr = dict.fromkeys(ARMS, 0)
        progressed = True
        while progressed:
            progressed = False
            for arm in ARMS:
                subs, other = self.subtasks[arm], other_arm(arm)
                if ptr[arm] >= len(subs):
                    continue
                sub = subs[ptr[arm]]
                if sub.kind == "parallel" or (
                    sub.kind == "sequential" and ptr[other] > self.index(other, str(sub.after))
                ):
                    ptr[arm] += 1
                    progressed = True
                elif sub.kind == "coordination" and ptr[other] == self.index(
                    other, str(sub.partner)
                ):
                    ptr[arm] += 1
                    ptr[other] += 1
                    progressed = True
        stuck = [
            _where(arm, ptr[arm], self.subtasks[arm][ptr[arm]])
            for arm in ARMS
            if ptr[arm] < len(self.subtasks[arm])
        ]
        if stuck:
            raise SpecError(
                f"{' and '.join(stuck)}: can never start (coordination pairs out of order or "
                "circular 'after' constraints)"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict; ``spec_from_dict(spec.to_dict())`` round-trips."""
        arms = {}
        for arm in ARMS:
            rows = []
            for sub in self.subtasks[arm]:
                row = {k: v for k, v in dataclasses.asdict(sub).items() if v is not None}
                row["offset_range"] = list(sub.offset_range)
                row["start_offset_range"] = list(sub.start_offset_range)
                rows.append(row)
            arms[arm] = rows
        return {"task": self.task, "source_selection": self.source_selection, **arms}

    def to_json(self) -> str:
        """The spec as sorted JSON (for dataset metadata)."""
        return json.dumps(self.to_dict(), sort_keys=True)


_SUBTASK_FIELDS = tuple(f.name for f in dataclasses.fields(SubtaskSpec))
_DEFAULT_FIELDS = tuple(f for f in _SUBTASK_FIELDS if f not in _IDENTITY_FIELDS)
_TOP_KEYS = ("task", "source_selection", "defaults", *ARMS)


def _unknown(keys: Sequence[str], allowed: Sequence[str], where: str) -> None:
    extra = sorted(set(keys) - set(allowed))
    if extra:
        raise SpecError(f"{where}unknown field {extra[0]!r} (allowed: {sorted(allowed)})")


def _subtask_from_row(row: Any, defaults: Mapping[str, Any], arm: str, i: int) -> SubtaskSpec:
    label = row.get("name", "?") if isinstance(row, Mapping) else "?"
    where = f"{_where(arm, i, str(label))}: "
    if not isinstance(row, Mapping):
        raise SpecError(f"{where}must be a table, got {row!r}")
    _unknown(list(row), _SUBTASK_FIELDS, where)
    for field in ("name", "object_ref"):
        if field not in row:
            raise SpecError(f"{where}field {field!r} is required")
    kwargs = {**defaults, **row}
    for field in ("offset_range", "start_offset_range"):
        if isinstance(kwargs.get(field), list):
            kwargs[field] = tuple(kwargs[field])
    try:
        return SubtaskSpec(**kwargs)
    except SpecError as err:
        raise SpecError(f"{where}{err}") from None


def spec_from_dict(data: Mapping[str, Any], origin: str = "<spec>") -> TaskSpec:
    """Build and validate a ``TaskSpec`` from parsed TOML/JSON; errors start with ``origin``."""
    try:
        if not isinstance(data, Mapping):
            raise SpecError(f"must be a table, got {type(data).__name__}")
        _unknown(list(data), _TOP_KEYS, "")
        if "task" not in data:
            raise SpecError("field 'task' is required")
        defaults = data.get("defaults", {})
        if not isinstance(defaults, Mapping):
            raise SpecError(f"field 'defaults' must be a table, got {defaults!r}")
        _unknown(list(defaults), _DEFAULT_FIELDS, "defaults: ")
        subtasks = {}
        for arm in ARMS:
            rows = data.get(arm)
            if not isinstance(rows, list) or not rows:
                raise SpecError(f"arm {arm!r}: needs a non-empty array of subtask tables")
            subtasks[arm] = tuple(
                _subtask_from_row(r, defaults, arm, i) for i, r in enumerate(rows)
            )
        return TaskSpec(
            task=data["task"],
            subtasks=subtasks,
            source_selection=data.get("source_selection", "same"),
        )
    except SpecError as err:
        raise SpecError(f"{origin}: {err}") from None


def load_spec(path: str | Path) -> TaskSpec:
    """Load and validate a TOML spec file (errors name the file, arm, subtask and field)."""
    path = Path(path)
    if not path.exists():
        raise InputFileNotFoundError(f"no generator spec at {path}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: invalid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:  # a folder, a binary file, no permission
        raise SpecError(f"{path}: not a readable TOML text file ({err})") from err
    return spec_from_dict(data, origin=str(path))


def spec_path(task: str) -> Path:
    """The shipped spec of a task, by name (``TaskEntry.spec_path``: the one file-name rule).

    The registry is imported here, not at the top, so this module stays simulator-free.
    """
    from dexmg_bench.envs import task_entry

    return task_entry(task).spec_path


def validate_against(
    spec: TaskSpec, object_names: Sequence[str], subtask_names: Mapping[str, Sequence[str]]
) -> None:
    """Check a spec's objects and signals against an env (``env.object_names``, ``subtask_names``).

    Raises:
        SpecError: naming the arm, subtask and field that refers to something the env lacks.
    """
    for arm in ARMS:
        signals = list(subtask_names.get(arm, ()))
        for i, sub in enumerate(spec.subtasks[arm]):
            if sub.object_ref not in object_names:
                raise SpecError(
                    f"{spec.task}: {_where(arm, i, sub)}: field 'object_ref' names "
                    f"{sub.object_ref!r}, not an object of the env {tuple(object_names)}"
                )
            if sub.signal_name not in signals:
                raise SpecError(
                    f"{spec.task}: {_where(arm, i, sub)}: field 'signal' names "
                    f"{sub.signal_name!r}, not a signal of arm {arm!r} {tuple(signals)}"
                )
