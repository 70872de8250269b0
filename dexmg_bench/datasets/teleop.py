"""Teleoperation: device input -> env actions, recorded as source demos with marked boundaries.

A device gives, per step and per arm, a pose delta (``dpos``, ``drot``: 3 + 3 numbers in
[-1, 1], full scale = the embodiment's largest step) and a grasp scalar (0 open, 1 closed). The
pose delta is applied to the arm's current end-effector pose (translation in the world frame,
rotation left-multiplied in the world frame) and the env turns that target into its own action
(``target_pose_to_action``), so delta-pose Pandas and absolute-pose humanoids are driven alike.

Hand synergy (documented, the same for every hand): every hand command moves linearly from open
(-1) to closed (+1) with the grasp scalar; for a parallel gripper that is the finger opening, for
an Inspire hand all six joint commands curl together into the power-grasp posture.

Subtask boundaries are marked live (a key per arm); a mark at step ``t`` ends that arm's current
subtask after the ``t``-th action. Arms without marks fall back to the env's termination signals.
``InputSequence`` files (``.npz``) hold a device session, so the whole path runs without a person
or a display (``--device replay``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dexmg_bench.datasets.source import DemoRecorder, SourceDemo, segment_boundaries
from dexmg_bench.errors import UserInputError
from dexmg_bench.geometry import axis_angle_to_mat

INPUT_FORMAT = "dexmg-teleop-inputs-v1"


@dataclass(frozen=True, kw_only=True)
class InputSequence:
    """A recorded device session: per step and arm, pose deltas and grasp; boundary marks."""

    task: str
    variant: str
    seed: int
    dpos: np.ndarray  # (T, n_arms, 3) in [-1, 1]
    drot: np.ndarray  # (T, n_arms, 3) in [-1, 1]
    grasp: np.ndarray  # (T, n_arms) in [0, 1]
    marks: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = len(self.dpos)
        if self.dpos.shape[1:] != (self.dpos.shape[1], 3) or self.drot.shape != self.dpos.shape:
            raise ValueError(f"dpos and drot must both be (T, n_arms, 3). Got {self.dpos.shape}.")
        if self.grasp.shape != self.dpos.shape[:2]:
            raise ValueError(f"grasp must be (T, n_arms). Got {self.grasp.shape}.")
        for name in ("dpos", "drot"):
            if np.abs(getattr(self, name)).max(initial=0) > 1.0:
                raise ValueError(f"{name} must lie in [-1, 1].")
        if self.grasp.size and (self.grasp.min() < 0 or self.grasp.max() > 1):
            raise ValueError("grasp must lie in [0, 1].")
        for arm, steps in self.marks.items():
            if list(steps) != sorted(set(steps)) or any(not 0 < s <= t for s in steps):
                raise ValueError(f"marks of {arm!r} must be increasing steps in 1..{t}: {steps}")

    @property
    def num_steps(self) -> int:
        """Number of device steps."""
        return len(self.dpos)

    def save(self, path: Path) -> None:
        """Write an ``.npz`` (arrays + JSON header; no pickle)."""
        meta = {
            "format": INPUT_FORMAT,
            "task": self.task,
            "variant": self.variant,
            "seed": self.seed,
            "marks": {a: list(s) for a, s in self.marks.items()},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            np.savez(f, dpos=self.dpos, drot=self.drot, grasp=self.grasp, meta=json.dumps(meta))

    @classmethod
    def load(cls, path: Path) -> InputSequence:
        """Read a file written by ``save``; a foreign or damaged file names itself."""
        try:
            with np.load(path, allow_pickle=False) as f:
                meta = json.loads(str(f["meta"]))
                arrays = {k: f[k] for k in ("dpos", "drot", "grasp")}
        except (OSError, EOFError, KeyError, ValueError) as err:
            raise UserInputError(f"{path}: not a teleop input file ({err})") from err
        if meta.get("format") != INPUT_FORMAT:
            raise UserInputError(
                f"{path}: format {meta.get('format')!r}, expected {INPUT_FORMAT!r}"
            )
        marks = {a: tuple(s) for a, s in meta["marks"].items()}
        return cls(task=meta["task"], variant=meta["variant"], seed=meta["seed"], marks=marks,
                   **arrays)  # fmt: skip


def inputs_from_demo(demo: SourceDemo, env: Any, *, task: str, variant: str) -> InputSequence:
    """The device session that reproduces a recorded delta-action demo (for tests and examples).

    Marks are the demo's own per-arm subtask boundaries.
    """
    n_arms = len(env.subtask_names)
    act = np.asarray(demo.actions).reshape(demo.num_steps, n_arms, -1)
    hand = np.asarray(demo.hand).reshape(demo.num_steps, n_arms, -1)
    return InputSequence(
        task=task,
        variant=variant,
        seed=demo.seed,
        dpos=act[:, :, :3].copy(),
        drot=act[:, :, 3:6].copy(),
        grasp=np.clip((hand.mean(-1) + 1.0) / 2.0, 0.0, 1.0),
        marks={a: tuple(int(s) for s in b[:-1]) for a, b in demo.boundaries.items()},
    )


# Full-scale device step (m, rad) for embodiments without delta actions (the GR-1's absolute
# poses); the Pandas use their own action scale, so a device step of 1 is an action of 1.
DEFAULT_STEP = (0.05, 0.5)


def step_sizes(env: Any) -> tuple[float, float]:
    """Metres and radians per step at full device deflection."""
    rb = getattr(env, "robots", None)
    return (rb.max_dpos, rb.max_drot) if rb is not None else DEFAULT_STEP


def device_to_action(env: Any, dpos: np.ndarray, drot: np.ndarray, grasp: np.ndarray) -> np.ndarray:
    """One env action from per-arm pose deltas and grasp scalars (see the module docstring)."""
    eef = env.eef_poses()
    target = eef.copy()
    max_dpos, max_drot = step_sizes(env)
    for i in range(len(eef)):
        target[i, :3, 3] += np.asarray(dpos[i]) * max_dpos
        target[i, :3, :3] = axis_angle_to_mat(np.asarray(drot[i]) * max_drot) @ eef[i, :3, :3]
    hand = np.repeat((2.0 * np.asarray(grasp, dtype=np.float64) - 1.0)[:, None], env.hand_dim, 1)
    return env.target_pose_to_action(target, hand)


class TeleopRecorder:
    """Steps an env from device input and records a source demo with the marked boundaries."""

    def __init__(self, env: Any, seed: int):
        self.env = env
        obs, info = env.reset(seed=seed)
        # Keeps what the operator's policy saw, so writing the demo needs no simulator.
        self.recorder = DemoRecorder(env, seed, obs, info["success"])
        self.marks: dict[str, list[int]] = {arm: [] for arm in env.subtask_names}
        self.success = False

    @property
    def steps(self) -> int:
        """Actions taken so far."""
        return len(self.recorder.actions)

    def step(self, dpos: np.ndarray, drot: np.ndarray, grasp: np.ndarray) -> dict[str, Any]:
        """Apply one device input; returns the env's info."""
        action = device_to_action(self.env, dpos, drot, grasp)
        self.recorder.before_step(action)
        obs, _, _, _, info = self.env.step(action)
        self.recorder.after_step(obs, info["success"])
        self.success = self.success or bool(info["success"])
        return info

    def mark(self, arm: str) -> None:
        """End ``arm``'s current subtask after the last action (ignored past its last subtask)."""
        if arm not in self.marks:
            raise ValueError(f"unknown arm {arm!r}; arms are {sorted(self.marks)}")
        n_sub = len(self.env.subtask_names[arm])
        if len(self.marks[arm]) < n_sub - 1 and self.steps > (self.marks[arm] or [0])[-1]:
            self.marks[arm].append(self.steps)

    def finish(self) -> SourceDemo:
        """The demo; per arm, boundaries from complete marks, else from the env's signals.

        An arm with neither (a failed episode kept with ``--keep-failures``) gets its marks and
        the episode end, fewer boundaries than subtasks: the generator refuses such a source.
        """
        n = self.steps
        boundaries = {}
        for arm, names in self.env.subtask_names.items():
            marks = self.marks[arm]
            if len(marks) == len(names) - 1:
                boundaries[arm] = np.asarray([*marks, n], dtype=np.int64)
                continue
            signals = {s: np.asarray(v, bool) for s, v in self.recorder.signals[arm].items()}
            try:
                boundaries[arm] = segment_boundaries(signals, names, n)
            except ValueError:
                boundaries[arm] = np.asarray([*marks, n], dtype=np.int64)
        return self.recorder.finish(self.success, boundaries)


def replay_inputs(env: Any, inputs: InputSequence) -> SourceDemo:
    """Drive ``env`` with a stored device session; marks are applied at their steps."""
    rec = TeleopRecorder(env, inputs.seed)
    pending = {arm: list(steps) for arm, steps in inputs.marks.items()}
    for t in range(inputs.num_steps):
        rec.step(inputs.dpos[t], inputs.drot[t], inputs.grasp[t])
        for arm, steps in pending.items():
            while steps and steps[0] == t + 1:
                rec.mark(arm)
                steps.pop(0)
    return rec.finish()


__all__ = [
    "InputSequence",
    "TeleopRecorder",
    "device_to_action",
    "step_sizes",
    "inputs_from_demo",
    "replay_inputs",
]
