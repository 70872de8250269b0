"""Source demonstrations: the few demos the generator multiplies, with their datagen info.

One HDF5 file per task (robomimic-like layout, our own fields)::

    /                  attrs: format_version, env_id, task, variant, origin, code_version
    /demo_<k>/         attrs: seed, success, num_steps
        actions            (T, A)        the actions, in env order
        states             (T + 1, S)    ``env.get_state()`` before each step and after the last
        datagen/eef_pose       (T, n_arms, 4, 4)   world end-effector poses before each step
        datagen/target_pose    (T, n_arms, 4, 4)   the world targets the actions command
        datagen/hand           (T, n_arms, H)      hand commands (1 for a gripper, 6 for a hand)
        datagen/object_pose/<obj>   (T, 4, 4)      world object poses before each step
        signals/<arm>/<subtask>     (T,) bool      subtask termination signals before each step
        boundaries/<arm>            (n_subtasks,)  end step (exclusive) of each subtask of that arm
        obs/<key>          (T + 1, ...)  optional: the env's observation at each stored state
        state_success      (T + 1,) bool optional: task success at each stored state

The optional ``obs`` and ``state_success`` are what the env returned while the episode was
recorded (``reset``, then each ``step``), so a Minari writer copies them instead of restoring
every state in a simulator to recompute them; files without them are still read and written.

A subtask ends at the first step its signal turns on after the previous subtask's end; each arm's
last subtask ends with the demo, so coordination subtasks that finish the task end together.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import h5py
import numpy as np

from dexmg_bench.envs import kebab  # noqa: F401 (re-exported: its callers import it from here)
from dexmg_bench.errors import InputFileNotFoundError, UserInputError, reading
from dexmg_bench.generators.protocol import GeneratorEnv

FORMAT_VERSION = 1
ORIGINS = ("scripted", "human", "replayed", "generated")


@dataclass(frozen=True)
class SourceDemo:
    """One demonstration, frozen in memory (arrays are read-only copies)."""

    seed: int
    actions: np.ndarray
    states: np.ndarray
    eef_pose: np.ndarray
    target_pose: np.ndarray
    hand: np.ndarray
    object_pose: dict[str, np.ndarray]
    signals: dict[str, dict[str, np.ndarray]]
    boundaries: dict[str, np.ndarray]
    success: bool
    observations: dict[str, np.ndarray] | None = None
    state_success: np.ndarray | None = None

    @property
    def num_steps(self) -> int:
        """Number of actions."""
        return int(self.actions.shape[0])


@dataclass(frozen=True)
class SourceFile:
    """A file of source demos plus what produced them (``demos``: a tuple, or ``LazyDemos``)."""

    env_id: str
    task: str
    variant: str
    origin: str
    code_version: str
    demos: Sequence[SourceDemo]


class LazyDemos(Sequence[SourceDemo]):
    """Demos left on disk until used, read one at a time when iterated.

    So the 1000 episodes of a generated set pass through a writer without ever being in memory
    together.

    ``items`` are ``(file, group)`` pairs, e.g. ``demo_0`` of each kept attempt's file.
    ``datagen=False`` skips the datagen info, signals and boundaries (left empty), for writers
    that need only actions, states and observations.
    """

    def __init__(self, items: Sequence[tuple[Path, str]], *, datagen: bool = True):
        self.items = tuple((Path(p), str(g)) for p, g in items)
        self.datagen = datagen

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, k: int) -> SourceDemo: ...
    @overload
    def __getitem__(self, k: slice) -> tuple[SourceDemo, ...]: ...
    def __getitem__(self, k: int | slice) -> SourceDemo | tuple[SourceDemo, ...]:
        if isinstance(k, slice):
            return tuple(LazyDemos(self.items[k], datagen=self.datagen))
        path, group = self.items[k]
        with h5py.File(path, "r") as f:
            return _read_demo(f[group], datagen=self.datagen)

    def __iter__(self) -> Iterator[SourceDemo]:
        for path, run in itertools.groupby(self.items, key=lambda item: item[0]):
            with h5py.File(path, "r") as f:  # each file opened once per pass
                for _, group in run:
                    yield _read_demo(f[group], datagen=self.datagen)


def segment_boundaries(
    signals: dict[str, np.ndarray], subtasks: tuple[str, ...], num_steps: int
) -> np.ndarray:
    """End steps (exclusive) of each subtask from its termination signal.

    Raises:
        ValueError: if a subtask's signal never turns on after the previous subtask ended.
    """
    ends = []
    start = 0
    for name in subtasks[:-1]:
        on = np.flatnonzero(np.asarray(signals[name], bool)[start:])
        if on.size == 0:
            raise ValueError(f"subtask {name!r} never ends after step {start}")
        start = start + int(on[0]) + 1
        ends.append(start)
    ends.append(num_steps)
    return np.asarray(ends, dtype=np.int64)


def append_scene(
    env: GeneratorEnv,
    objects: dict[str, list[np.ndarray]],
    signals: dict[str, dict[str, list[bool]]],
) -> None:
    """Append the env's current object poses and per-arm subtask signals (one step's worth)."""
    for name, pose in env.object_poses().items():
        objects[name].append(pose)
    sig = env.subtask_signals()
    for arm, names in signals.items():
        for s in names:
            names[s].append(bool(sig[arm][s]))


def observe_state(env: Any) -> tuple[dict[str, np.ndarray], bool] | None:
    """The env's observation and task success at its current state, without stepping.

    ``None`` for an env that builds observations only from its own step output (BiGym's adapter).
    """
    if not hasattr(env, "evaluate"):
        return None
    return env._observation(), bool(env.evaluate()["success"])


class DemoRecorder:
    """Collects one episode's datagen info step by step (call ``before_step`` then ``env.step``).

    Given the observation (and success) at the first state, it also keeps what ``env.step``
    returned after each action (``after_step(obs, success)``), so writers need no simulator.
    """

    def __init__(
        self,
        env: GeneratorEnv,
        seed: int,
        obs: dict[str, np.ndarray] | None = None,
        success: bool | None = None,
    ):
        self.env = env
        self.seed = seed
        self.actions: list[np.ndarray] = []
        self.states: list[np.ndarray] = [env.get_state()]
        self.obs: list[dict[str, np.ndarray]] | None = None
        self.state_success: list[bool] = []
        if obs is not None:
            if success is None:
                raise ValueError("`success` at the first state must come with its observation")
            self.obs = [_copy_obs(obs)]
            self.state_success = [bool(success)]
        self.eef: list[np.ndarray] = []
        self.target: list[np.ndarray] = []
        self.hand: list[np.ndarray] = []
        self.objects: dict[str, list[np.ndarray]] = {n: [] for n in env.object_names}
        self.signals: dict[str, dict[str, list[bool]]] = {
            arm: {s: [] for s in names} for arm, names in env.subtask_names.items()
        }

    def before_step(self, action: np.ndarray) -> None:
        """Record the state-dependent info for the action about to be applied."""
        env = self.env
        action = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        self.actions.append(action)
        self.eef.append(env.eef_poses())
        self.target.append(env.action_to_target_pose(action))
        arm_actions = action.reshape(len(env.subtask_names), -1)
        self.hand.append(arm_actions[:, 6:].copy())
        append_scene(env, self.objects, self.signals)

    def after_step(
        self, obs: dict[str, np.ndarray] | None = None, success: bool | None = None
    ) -> None:
        """Record the state reached by the step (and the step's observation and success)."""
        self.states.append(self.env.get_state())
        if self.obs is not None:
            if obs is None or success is None:
                raise ValueError("this recorder keeps observations: pass the step's obs, success")
            self.obs.append(_copy_obs(obs))
            self.state_success.append(bool(success))

    def finish(self, success: bool, boundaries: dict[str, np.ndarray] | None = None) -> SourceDemo:
        """Freeze the recording; per-arm subtask boundaries come from the signals unless given."""
        n = len(self.actions)
        signals = {
            a: {s: np.asarray(v, bool) for s, v in d.items()} for a, d in self.signals.items()
        }
        if boundaries is None:
            boundaries = {
                arm: segment_boundaries(signals[arm], self.env.subtask_names[arm], n)
                for arm in signals
            }
        return SourceDemo(
            seed=self.seed,
            actions=np.asarray(self.actions),
            states=np.asarray(self.states),
            eef_pose=np.asarray(self.eef),
            target_pose=np.asarray(self.target),
            hand=np.asarray(self.hand),
            object_pose={k: np.asarray(v) for k, v in self.objects.items()},
            signals=signals,
            boundaries=boundaries,
            success=success,
            observations=None if self.obs is None else stack_obs(self.obs),
            state_success=None if self.obs is None else np.asarray(self.state_success, bool),
        )


def stack_obs(obs: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-step observation dicts as one array per key, in the first dict's key order."""
    return {k: np.stack([o[k] for o in obs]) for k in obs[0]}


def _copy_obs(obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # An env may return views of its simulator's buffers, which the next step overwrites.
    return {k: np.array(v) for k, v in obs.items()}


def write_source_file(path: str | Path, source: SourceFile) -> None:
    """Write demos atomically: a crash never leaves a half-written file at ``path``."""
    if source.origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}. Got {source.origin!r}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    comp = {"compression": "gzip", "compression_opts": 4, "shuffle": True}
    with h5py.File(tmp, "w") as f:
        f.attrs.update(
            format_version=FORMAT_VERSION,
            env_id=source.env_id,
            task=source.task,
            variant=source.variant,
            origin=source.origin,
            code_version=source.code_version,
        )
        for k, d in enumerate(source.demos):
            g = f.create_group(f"demo_{k}")
            g.attrs.update(seed=d.seed, success=d.success, num_steps=d.num_steps)
            g.create_dataset("actions", data=d.actions, **comp)
            g.create_dataset("states", data=d.states, **comp)
            dg = g.create_group("datagen")
            dg.create_dataset("eef_pose", data=d.eef_pose, **comp)
            dg.create_dataset("target_pose", data=d.target_pose, **comp)
            dg.create_dataset("hand", data=d.hand, **comp)
            for name, pose in d.object_pose.items():
                dg.create_dataset(f"object_pose/{name}", data=pose, **comp)
            for arm, sig in d.signals.items():
                for s, v in sig.items():
                    g.create_dataset(f"signals/{arm}/{s}", data=v)
                g.create_dataset(f"boundaries/{arm}", data=d.boundaries[arm])
            if d.observations is not None and d.state_success is not None:
                og = g.create_group("obs", track_order=True)  # keys in the env's order
                for key, value in d.observations.items():
                    og.create_dataset(key, data=value, **comp)
                g.create_dataset("state_success", data=d.state_success)
    tmp.replace(path)


def _read_demo(g: h5py.Group, *, datagen: bool = True) -> SourceDemo:
    missing = [k for k in ("actions", "states", "datagen", "signals", "boundaries") if k not in g]
    if missing:
        raise UserInputError(
            f"{g.file.filename}:{g.name} lacks {missing} (not a source-demo file?)"
        )
    dg = g["datagen"]

    def frozen(x: Any) -> np.ndarray:
        a = np.array(x)
        a.flags.writeable = False
        return a

    common: dict[str, Any] = {
        "seed": int(g.attrs["seed"]),
        "actions": frozen(g["actions"]),
        "states": frozen(g["states"]),
        "success": bool(g.attrs["success"]),
        "observations": {k: frozen(v) for k, v in g["obs"].items()} if "obs" in g else None,
        "state_success": frozen(g["state_success"]) if "state_success" in g else None,
    }
    if not datagen:  # 35% of the reading time of a Can Sorting episode (measured)
        none = frozen(np.empty(0))
        return SourceDemo(
            **common,
            eef_pose=none,
            target_pose=none,
            hand=none,
            object_pose={},
            signals={},
            boundaries={},
        )
    return SourceDemo(
        **common,
        eef_pose=frozen(dg["eef_pose"]),
        target_pose=frozen(dg["target_pose"]),
        hand=frozen(dg["hand"]),
        object_pose={k: frozen(v) for k, v in dg["object_pose"].items()},
        signals={a: {s: frozen(v) for s, v in sg.items()} for a, sg in g["signals"].items()},
        boundaries={a: frozen(v) for a, v in g["boundaries"].items()},
    )


def shipped_source_file(task: str) -> Path:
    """The scripted source demos shipped for a task, by name (``TaskEntry.source_path``)."""
    from dexmg_bench.envs import task_entry

    return task_entry(task).source_path


def read_source_file(path: str | Path, *, lazy: bool = False) -> SourceFile:
    """Load every demo of a file, with clear errors for files that are not source demos.

    ``lazy=True`` checks the file the same way but leaves the demos on disk (``LazyDemos``).
    """
    path = Path(path)
    if not path.exists():
        raise InputFileNotFoundError(f"no source-demo file at {path}")
    if path.is_dir():
        raise UserInputError(f"{path} is a folder, not a source-demo HDF5 file")
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise UserInputError(
            f"{path} is not a readable HDF5 file (truncated or corrupt?): {err}"
        ) from err
    with reading(path, "a source-demo HDF5 file"), handle as f:
        version = int(f.attrs.get("format_version", -1))
        if version != FORMAT_VERSION:
            raise UserInputError(
                f"{path}: format_version {version}, expected {FORMAT_VERSION} "
                f"(not a source-demo file?)"
            )
        required = ("env_id", "task", "variant", "origin", "code_version")
        missing = [a for a in required if a not in f.attrs]
        if missing:
            raise UserInputError(
                f"{path} lacks file attributes {missing} (not a source-demo file?)"
            )
        names = sorted((k for k in f if k.startswith("demo_")), key=lambda k: int(k[5:]))
        return SourceFile(
            env_id=str(f.attrs["env_id"]),
            task=str(f.attrs["task"]),
            variant=str(f.attrs["variant"]),
            origin=str(f.attrs["origin"]),
            code_version=str(f.attrs["code_version"]),
            demos=(
                LazyDemos([(path, k) for k in names])
                if lazy
                else tuple(_read_demo(f[k]) for k in names)
            ),
        )


def metadata_json(source: SourceFile) -> str:
    """File-level metadata as JSON (for dataset cards and logs)."""
    return json.dumps(
        {
            "env_id": source.env_id,
            "task": source.task,
            "variant": source.variant,
            "origin": source.origin,
            "code_version": source.code_version,
            "num_demos": len(source.demos),
        },
        sort_keys=True,
    )
