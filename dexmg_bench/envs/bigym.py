"""BiGym tasks as DexMG envs: ``DexMG/BiGym-{FlipCup,DishwasherLoadPlates,CupboardsCloseAll}-v0``.

BiGym (chernyadev/bigym, commit ``72d3054``) is optional; see ``dexmg_bench.sim.bigym_backend``
for the install and the backend boundary. The adapter fixes what the raw env lacks for our API:

* Seeding: BiGym never calls ``gym.Env.reset(seed=...)``; it reseeds the *global* numpy RNG on
  every reset and draws its scene from it. The adapter owns ``np_random``, passes BiGym a seed
  drawn from it on every reset, and restores the caller's global numpy state afterwards, so the
  same seed gives the same observations and nobody else's ``np.random`` is touched. BiGym draws
  from the global RNG only in ``reset`` (checked at ``72d3054``), so ``step`` needs no guard.
* Actions: BiGym's default Box(15) (base x, y, yaw deltas; left arm 5 and right arm 5 absolute
  joint positions; left and right gripper), fixed at construction (BiGym rebuilds its space on a
  seeded reset). Wrong shapes and NaN raise ``ValueError``; values outside the box are clipped
  (BiGym raises on them).
* ``info["success"]`` (bool), ``info["subtask_signals"]`` per arm, time limits from the registry
  (the reference training configs), and a headless ``render_mode="rgb_array"`` (BiGym's own
  ``render()`` fails on gymnasium 1.x).
* Observations: BiGym's proprioception keys, plus ``<object>_pos`` / ``<object>_quat`` (wxyz) of
  the task objects and ``<arm>_eef_pos`` / ``<arm>_eef_quat`` of the gripper pinch sites.

FlipCup (50 Hz, 550 steps)
    **Task:** turn an upside-down mug on the counter upright and let go.
    **Randomisations:** mug position on a 0.1 m grid in a 0.2 x 0.5 m patch plus +-3 cm, yaw
    +-30 deg (BiGym's reset).
    **Success:** the mug's up axis within 5 deg of world z, touching the counter, no gripper
    holding it.
    **Subtasks:** right: ``grasp`` (holds the mug), ``flip`` (mug upright);
    left: ``support`` (holds the mug), ``release`` (mug upright).
DishwasherLoadPlates (20 Hz, 560 steps)
    **Task:** move two plates from the drainer into the dishwasher's bottom rack.
    **Randomisations:** drainer position +-5 cm in x and y; plates on two random drainer slots.
    **Success:** each plate stands vertical (+-20 deg), touches the bottom rack, is not held.
    **Subtasks:** right: ``grasp`` (holds a plate), ``place`` (plate0 in the rack);
    left: ``grasp`` (holds a plate), ``place`` (plate1 in the rack).
CupboardsCloseAll (20 Hz, 620 steps)
    **Task:** close three drawers, two base-cabinet doors and two wall-cabinet doors.
    **Randomisations:** none in BiGym: every reset starts all open, robot at a fixed pose (so all
    seeds give the same initial scene).
    **Success:** every normalised joint state within 0.1 of closed (0).
    **Objects:** the moving bodies (drawer boxes, door leaves); BiGym's handles are unnamed geoms.
    BiGym's ``left``/``right`` door names are on world -y/+y, i.e. the robot's right/left.
    **Subtasks:** right (world -y and centre): ``close_drawer{0,1,2}``, ``close_base_door_left``,
    ``close_wall_door_left``; left: ``close_base_door_right``, ``close_wall_door_right``.

## Version History
* v0: initial adapter (BiGym ``72d3054``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from dexmg_bench.sim.bigym_backend import ARMS, TASK_CLASSES, BiGymBackend, load_backend

CONTROL_FREQUENCY = {"FlipCup": 50, "DishwasherLoadPlates": 20, "CupboardsCloseAll": 20}
OBJECTS = {
    "FlipCup": ("mug",),
    "DishwasherLoadPlates": ("plate0", "plate1", "drainer"),
    "CupboardsCloseAll": (
        "drawer0",
        "drawer1",
        "drawer2",
        "base_door_left",
        "base_door_right",
        "wall_door_left",
        "wall_door_right",
    ),
}
# Per task, per arm: subtask name -> backend term that signals it.
SUBTASKS: dict[str, dict[str, dict[str, str]]] = {
    "FlipCup": {
        "right": {"grasp": "right_holds_mug", "flip": "mug_upright"},
        "left": {"support": "left_holds_mug", "release": "mug_upright"},
    },
    "DishwasherLoadPlates": {
        "right": {"grasp": "right_holds_plate", "place": "plate0_in_rack"},
        "left": {"grasp": "left_holds_plate", "place": "plate1_in_rack"},
    },
    "CupboardsCloseAll": {
        "right": {
            "close_drawer0": "drawer0_closed",
            "close_drawer1": "drawer1_closed",
            "close_drawer2": "drawer2_closed",
            "close_base_door_left": "base_door_left_closed",
            "close_wall_door_left": "wall_door_left_closed",
        },
        "left": {
            "close_base_door_right": "base_door_right_closed",
            "close_wall_door_right": "wall_door_right_closed",
        },
    },
}
RENDER_CAMERAS = ("external", "head")


@dataclass(frozen=True, kw_only=True)
class BiGymConfig:
    """How a BiGym task is wrapped.

    Attributes:
        task: BiGym task class name.
        control_freq: policy steps per second (BiGym physics runs at 500 Hz); defaults per task.
        render_camera: camera ``render()`` uses.
        render_size: side of the square ``render()`` image, pixels.
        backend: ``"bigym"``, or a module exposing ``BACKEND`` (tests' fake).
    """

    task: str
    control_freq: int = 0
    render_camera: str = "external"
    render_size: int = 256
    backend: str = "bigym"

    def __post_init__(self) -> None:
        if self.task not in TASK_CLASSES:
            raise ValueError(f"`task` must be one of {list(TASK_CLASSES)}. Got {self.task!r}.")
        if self.control_freq and not (
            20 <= self.control_freq <= 500 and 500 % self.control_freq == 0
        ):
            raise ValueError(
                f"`control_freq` must divide 500 Hz, in 20-500. Got {self.control_freq}."
            )
        if self.render_size < 8:
            raise ValueError(f"`render_size` must be >= 8 px. Got {self.render_size}.")
        if self.render_camera not in RENDER_CAMERAS:
            raise ValueError(
                f"`render_camera` must be in {RENDER_CAMERAS}. Got {self.render_camera!r}."
            )

    @property
    def frequency(self) -> int:
        """The control frequency in force (the task's reference one when 0)."""
        return self.control_freq or CONTROL_FREQUENCY[self.task]

    def to_json(self) -> str:
        """The config as JSON, the form stored with datasets and results."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


class BiGymAdapterEnv(gym.Env):
    """A BiGym task behind the DexMG env API (seeding, validation, success, render, poses)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(self, task: str, render_mode: str | None = None, **overrides: Any):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"`render_mode` must be None or 'rgb_array'. Got {render_mode!r}.")
        self.config = BiGymConfig(task=task, **overrides)
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": self.config.frequency}
        self._backend: BiGymBackend = load_backend(self.config.backend)
        self._raw = self._backend.make(task, control_frequency=self.config.frequency)
        raw_space = self._raw.action_space
        self.action_space = gym.spaces.Box(
            raw_space.low.copy(), raw_space.high.copy(), dtype=raw_space.dtype
        )
        self.object_names: tuple[str, ...] = OBJECTS[task]
        self.subtask_names = {arm: tuple(SUBTASKS[task][arm]) for arm in ARMS}
        box = gym.spaces.Box
        extra = {
            f"{o}_{k}": box(-np.inf, np.inf, (n,), np.float64)
            for o in self.object_names
            for k, n in (("pos", 3), ("quat", 4))
        }
        extra |= {
            f"{arm}_eef_{k}": box(-np.inf, np.inf, (n,), np.float64)
            for arm in ARMS
            for k, n in (("pos", 3), ("quat", 4))
        }
        self.observation_space = gym.spaces.Dict({**self._raw.observation_space.spaces, **extra})

    @property
    def action_layout(self) -> dict[str, list[int]]:
        """Index ranges ``[start, stop)`` of the action parts (BiGym's order)."""
        return {"base": [0, 3], "left_arm": [3, 8], "right_arm": [8, 13], "grippers": [13, 15]}

    @property
    def raw(self) -> Any:
        """The wrapped BiGym env (for the generator's arm-control layer)."""
        return self._raw

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset with a BiGym seed drawn from our ``np_random``; the global RNG is left as found."""
        super().reset(seed=seed)
        if options:
            raise ValueError(f"BiGym tasks take no reset options. Got {sorted(options)}.")
        inner_seed = int(self.np_random.integers(2**32))
        saved = np.random.get_state()
        try:
            raw_obs, raw_info = self._raw.reset(seed=inner_seed)
        finally:
            np.random.set_state(saved)
        return self._observation(raw_obs), self._info(raw_info)

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """One BiGym step of a validated, clipped action."""
        raw_obs, reward, terminated, truncated, raw_info = self._raw.step(self._validate(action))
        return (
            self._observation(raw_obs),
            float(reward),
            bool(terminated),
            bool(truncated),
            self._info(raw_info),
        )

    def render(self) -> np.ndarray | None:
        """An offscreen RGB frame when ``render_mode="rgb_array"``."""
        if self.render_mode is None:
            return None
        size = self.config.render_size
        return self._backend.render(
            self._raw, camera=self.config.render_camera, width=size, height=size
        )

    def close(self) -> None:
        """Release BiGym's env and renderers."""
        if getattr(self, "_raw", None) is not None:
            self._backend.close(self._raw)
            self._raw = None

    # Generator-facing state.
    def eef_poses(self) -> np.ndarray:
        """World poses (2, 4, 4) of the gripper pinch sites, ``right, left``."""
        return self._backend.gripper_poses(self._raw)

    def object_poses(self) -> dict[str, np.ndarray]:
        """World poses (4, 4) of the task objects."""
        return self._backend.object_poses(self._raw, self.config.task)

    def subtask_signals(self) -> dict[str, dict[str, bool]]:
        """Per arm, per subtask: whether its end condition holds now."""
        terms = self._backend.terms(self._raw, self.config.task)
        return {
            arm: {n: terms[t] for n, t in SUBTASKS[self.config.task][arm].items()} for arm in ARMS
        }

    def _validate(self, action: Any) -> np.ndarray:
        a = np.asarray(action, dtype=np.float64)
        if a.shape != self.action_space.shape:
            raise ValueError(
                f"expected an action of shape {self.action_space.shape}, got {a.shape}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError(f"action has NaN or inf at {np.flatnonzero(~np.isfinite(a)).tolist()}")
        a = a.astype(self.action_space.dtype)
        return np.clip(a, self.action_space.low, self.action_space.high)

    def _observation(self, raw_obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        obs = dict(raw_obs)
        for name, (pos, quat) in self._backend.pos_quat(self._raw, self.config.task).items():
            obs[f"{name}_pos"], obs[f"{name}_quat"] = pos, quat
        return obs

    def _info(self, raw_info: dict[str, Any]) -> dict[str, Any]:
        return {
            "success": bool(raw_info["task_success"] > 0.5),
            "subtask_signals": self.subtask_signals(),
        }
