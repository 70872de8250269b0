"""BiGym tasks as DexMG envs: ``DexMG/BiGym-{FlipCup,DishwasherLoadPlates,CupboardsCloseAll}-v0``.

BiGym (chernyadev/bigym, commit ``72d3054``) is optional; see ``dexmg_bench.sim.bigym_backend``
for the install and the backend boundary. The adapter fixes what the raw env lacks for our API:

* Seeding: BiGym never calls ``gym.Env.reset(seed=...)``; it reseeds the *global* numpy RNG on
  every reset and draws its scene from it. The adapter owns ``np_random``, passes BiGym a seed
  drawn from it on every reset, and restores the caller's global numpy state afterwards, so the
  same seed gives the same observations and nobody else's ``np.random`` is touched. BiGym draws
  from the global RNG only in ``reset`` (checked at ``72d3054``), so ``step`` needs no guard.
* Actions (``action_mode``): ``"pose"`` (default; what experts, source demos and the generator
  use) is DexMG's per-arm layout, 14 values in [-1, 1]: per arm (right, left) the absolute world
  pose of the gripper's pinch site (``pos = ORIGIN + a * 2 m``, axis-angle ``a * pi``) and a
  gripper command (-1 open, +1 closed). Each step a damped-least-squares IK (:class:`IKGains`,
  MuJoCo Jacobians of BiGym's own model) turns the two targets into BiGym's action: the 10 arm
  joint targets (plus the servos' gravity sag) and base deltas. The base (x, y, yaw; FlipCup and
  DishwasherLoadPlates also crouch, BiGym's ``pelvis_z``) is part of the IK at 50x an arm
  joint's cost, so it walks (crouches) only when the hands cannot reach otherwise, at most 2 cm
  (1 cm down, BiGym's bound) and 0.05 rad per step; so base motion in generated data is not
  replayed from the source but follows the transformed hand targets. Orientation is a soft goal
  (5-joint arms): 1 rad of orientation error counts as 5 cm of position error. ``"joint"``
  passes BiGym's own Box(15) through (base x, y, yaw deltas, Box(16) with the crouch: x, y, z,
  yaw; left arm 5 and right arm 5 absolute joint positions; left and right gripper), fixed at
  construction (BiGym rebuilds its space on a seeded reset). Wrong shapes and NaN raise
  ``ValueError``; values outside the box are clipped (BiGym raises on them).
* ``info["success"]`` (bool), ``info["subtask_signals"]`` per arm, time limits from the registry
  (the reference training configs), and a headless ``render_mode="rgb_array"`` (BiGym's own
  ``render()`` fails on gymnasium 1.x).
* Observations: BiGym's proprioception keys, plus ``<object>_pos`` / ``<object>_quat`` (wxyz) of
  the task objects and ``<arm>_eef_pos`` / ``<arm>_eef_quat`` of the gripper pinch sites.

The three tasks' cards (task, randomisation, success, subtasks, measured rates) are the docstring
of ``dexmg_bench.envs.bigym_tasks``.

## Version History
* v0: initial adapter (BiGym ``72d3054``); pose mode (IK arm layer) as the default action.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from dexmg_bench.envs import BIGYM
from dexmg_bench.envs.bigym_tasks import CONTROL_FREQUENCY, OBJECTS, SUBTASKS
from dexmg_bench.geometry import mat_to_axis_angle
from dexmg_bench.sim.bigym_backend import ARMS, TASK_CLASSES, BiGymBackend, load_backend
from dexmg_bench.sim.bigym_ik import IKGains, solve_ik

# Adapter seeds from here up are BiGym's own seeds plus this (see ``BiGymAdapterEnv.reset``).
BIGYM_SEED_BASE = 2**32
RENDER_CAMERAS = ("external", "head")
ACTION_MODES = ("pose", "joint")

# Pose actions: absolute pinch-site poses in the world, ``pos = ORIGIN + a * POS_RANGE`` and
# world axis-angle ``rot = a * pi`` (the GR-1 tasks' convention; the robot walks, so no base frame).
ORIGIN = np.array([0.0, 0.0, 1.0])
_ORIGIN = ORIGIN.tolist()
POS_RANGE = 2.0
ROT_RANGE = np.pi
_SMALL_ANGLE = 1e-2  # geometry.so3's switch to series forms


def _rotvec_to_mat(x: float, y: float, z: float) -> list[list[float]]:
    """``geometry.axis_angle_to_mat`` of one rotation vector in Python floats (~10x faster).

    The pose action converts two per step; numpy's per-call overhead dominated. Same Rodrigues
    formula and small-angle series (equal to ~1e-16; ``tests/envs/test_bigym.py``).
    """
    t2 = x * x + y * y + z * z
    theta = math.sqrt(t2)
    if theta < _SMALL_ANGLE:
        a = 1 - t2 / 6 + t2 * t2 / 120
        b = 0.5 - t2 / 24 + t2 * t2 / 720
    else:
        a = math.sin(theta) / theta
        b = (1 - math.cos(theta)) / t2
    # I + a K + b K^2, with K = hat(x, y, z) and K^2 = v v' - |v|^2 I.
    return [
        [1 + b * (x * x - t2), b * x * y - a * z, b * x * z + a * y],
        [b * x * y + a * z, 1 + b * (y * y - t2), b * y * z - a * x],
        [b * x * z - a * y, b * y * z + a * x, 1 + b * (z * z - t2)],
    ]


@dataclass(frozen=True, kw_only=True)
class BiGymConfig:
    """How a BiGym task is wrapped.

    Attributes:
        task: BiGym task class name.
        control_freq: policy steps per second (BiGym physics runs at 500 Hz); defaults per task.
        render_camera: camera ``render()`` uses.
        render_size: side of the square ``render()`` image, pixels.
        backend: ``"bigym"``, or a module exposing ``BACKEND`` (tests' fake).
        action_mode: ``"pose"`` (DexMG's per-arm pinch-site pose + gripper, through
            :class:`IKGains`' IK; what experts, source demos and the generator use) or ``"joint"``
            (BiGym's own 15-D joint-position action, passed through).
        ik: the IK of the pose mode.
        terminate_on_success: end the episode on the first successful step (BiGym does; DexMG's
            tasks do not by default, so that recorded demos go on to the expert's end and
            generated episodes hold the finished state instead of ending on its first step).
    """

    task: str
    control_freq: int = 0
    render_camera: str = "external"
    render_size: int = 256
    backend: str = "bigym"
    action_mode: str = "pose"
    ik: IKGains = dataclasses.field(default_factory=IKGains)
    terminate_on_success: bool = False

    def __post_init__(self) -> None:
        if self.task not in TASK_CLASSES:
            raise ValueError(f"`task` must be one of {list(TASK_CLASSES)}. Got {self.task!r}.")
        if self.control_freq and not (
            20 <= self.control_freq <= 500 and 500 % self.control_freq == 0
        ):
            raise ValueError(
                f"`control_freq` must divide 500 Hz, in 20-500. Got {self.control_freq}."
            )
        if self.action_mode not in ACTION_MODES:
            raise ValueError(f"`action_mode` must be in {ACTION_MODES}. Got {self.action_mode!r}.")
        if isinstance(self.ik, dict):
            object.__setattr__(self, "ik", IKGains(**self.ik))
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
    embodiment: ClassVar[str] = BIGYM  # the registry's words (dataset metadata reads it)

    @staticmethod
    def declared(task: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
        """Objects and per-arm subtasks of ``task`` (``FlipCup`` or ``BiGym-FlipCup``), unbuilt."""
        task = task.removeprefix("BiGym-")
        return OBJECTS[task], {arm: tuple(SUBTASKS[task][arm]) for arm in ARMS}

    def __init__(self, task: str, render_mode: str | None = None, **overrides: Any):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"`render_mode` must be None or 'rgb_array'. Got {render_mode!r}.")
        self.config = BiGymConfig(task=task, **overrides)
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": self.config.frequency}
        self._backend: BiGymBackend = load_backend(self.config.backend)
        self._raw = self._backend.make(task, control_frequency=self.config.frequency)
        raw_space = self._raw.action_space
        self._raw_low, self._raw_high = raw_space.low.copy(), raw_space.high.copy()
        self._raw_dtype = raw_space.dtype
        self.hand_dim = 1
        self.arm_action_dim = 6 + self.hand_dim
        if self.config.action_mode == "joint":
            self.action_space = gym.spaces.Box(
                self._raw_low.copy(), self._raw_high.copy(), dtype=raw_space.dtype
            )
        else:
            n_act = len(ARMS) * self.arm_action_dim
            self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(n_act,), dtype=np.float64)
        self._hand_cmd = -np.ones(len(ARMS))
        self._ik_error = np.zeros(len(ARMS))
        self.object_names, self.subtask_names = self.declared(task)
        self.expert_name = f"BiGym-{task}"  # the scripted expert's key (experts.EXPERTS)
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
        # Per-step constants, built once: the step's own work is a few numpy calls.
        self._action_shape = self.action_space.shape
        self._obs_keys = {
            n: (f"{n}_pos", f"{n}_quat") for n in (*self.object_names, *(f"{a}_eef" for a in ARMS))
        }
        self._signal_terms = [(arm, list(SUBTASKS[self.config.task][arm].items())) for arm in ARMS]
        gains, nb = self.config.ik, self._raw_low.size - 12  # base x, y[, z], yaw
        self._base_step = np.r_[np.full(nb - 1, gains.max_base_step), gains.max_yaw_step]
        self._cost = np.r_[np.full(nb, gains.base_cost), np.ones(10)]  # base, then 5 per arm
        # The real backend converts a pose action in one compiled call (the same bits).
        self._fused = getattr(self._backend, "pose_joint_action", None)
        self._readout = getattr(self._backend, "readout", None)
        self._raw_step = getattr(self._backend, "step", None)  # the same values, cheaper

    @property
    def action_layout(self) -> dict[str, Any]:
        """Index ranges ``[start, stop)`` of the action parts.

        Pose mode: per arm (``right, left``) ``pos`` 3, ``rot`` 3, ``hand`` 1, also named
        ``dpos``/``drot`` (the keys the generator reads; absolute here, as for the GR-1 tasks).
        Joint mode: BiGym's order, base 3 (4 with the crouch), left arm 5, right arm 5, grippers 2.
        """
        if self.config.action_mode == "joint":
            nb = self._raw_low.size - 12
            return {
                "base": [0, nb],
                "left_arm": [nb, nb + 5],
                "right_arm": [nb + 5, nb + 10],
                "grippers": [nb + 10, nb + 12],
            }
        out = {}
        for i, arm in enumerate(ARMS):
            o = i * self.arm_action_dim
            pos, rot = [o, o + 3], [o + 3, o + 6]
            out[arm] = {"pos": pos, "rot": rot, "hand": [o + 6, o + 7], "dpos": pos, "drot": rot}
        return out

    @property
    def raw(self) -> Any:
        """The wrapped BiGym env (for the generator's arm-control layer)."""
        return self._raw

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset with a BiGym seed drawn from our ``np_random``; the global RNG is left as found.

        Seeds from ``BIGYM_SEED_BASE`` (2^32) up address BiGym's own seeds: ``BIGYM_SEED_BASE + s``
        resets BiGym with its seed ``s``, the scene of a BiGym demo recorded with seed ``s``
        (imported demos store their seed so; ``datasets/bigym_import.py``).
        """
        super().reset(seed=seed)
        if options:
            raise ValueError(f"BiGym tasks take no reset options. Got {sorted(options)}.")
        inner_seed = int(self.np_random.integers(2**32))
        if seed is not None and seed >= BIGYM_SEED_BASE:
            if seed >= 2 * BIGYM_SEED_BASE:
                raise ValueError(f"`seed` must be < 2^33 (2^32 + a BiGym seed). Got {seed}.")
            inner_seed = seed - BIGYM_SEED_BASE
        saved = np.random.get_state()
        try:
            raw_obs, raw_info = self._raw.reset(seed=inner_seed)
        finally:
            np.random.set_state(saved)
        self._hand_cmd = -np.ones(len(ARMS))
        self._ik_error = np.zeros(len(ARMS))
        return self._observation(raw_obs), self._info(raw_info)

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """One BiGym step of a validated, clipped action (pose mode: through the IK first)."""
        action = self._validate(action)
        if self.config.action_mode == "pose":
            action = self._pose_to_joint_action(action)
        if self._raw_step is not None:
            raw_obs, reward, terminated, truncated, raw_info = self._raw_step(self._raw, action)
        else:
            raw_obs, reward, terminated, truncated, raw_info = self._raw.step(action)
        extras = terms = None
        if self._readout is not None:  # the real backend: all reads in one call, same values
            extras, terms = self._readout(self._raw, self.config.task)
        info = self._info(raw_info, terms)
        # BiGym terminates on success or failure (an unstable simulation); we on failure only,
        # unless asked.
        failed = bool(terminated) and not info["success"]
        terminated = failed or (info["success"] and self.config.terminate_on_success)
        return self._observation(raw_obs, extras), float(reward), terminated, bool(truncated), info

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

    def action_to_target_pose(self, action: np.ndarray) -> np.ndarray:
        """The world pinch-site targets (2, 4, 4) a pose action commands (absolute)."""
        self._require_pose_mode()
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0).reshape(-1)
        return self._target_pose(a)

    def _target_pose(self, action: np.ndarray) -> np.ndarray:
        """``action_to_target_pose`` of an action already in [-1, 1], in Python floats.

        The same arithmetic as numpy's ``ORIGIN + a * POS_RANGE`` and ``a * ROT_RANGE`` per
        element (so the same bits), built as one array instead of a dozen numpy calls.
        """
        a, k = action.tolist(), self.arm_action_dim
        rows = []
        for i in range(len(ARMS)):
            x, y, z, rx, ry, rz = a[i * k : i * k + 6]
            r = _rotvec_to_mat(rx * ROT_RANGE, ry * ROT_RANGE, rz * ROT_RANGE)
            t = [x * POS_RANGE + _ORIGIN[0], y * POS_RANGE + _ORIGIN[1], z * POS_RANGE + _ORIGIN[2]]
            rows.append([[*r[0], t[0]], [*r[1], t[1]], [*r[2], t[2]], [0.0, 0.0, 0.0, 1.0]])
        return np.array(rows)

    def target_pose_to_action(self, target: np.ndarray, hand: np.ndarray) -> np.ndarray:
        """The pose action commanding world targets (2, 4, 4) and grippers (-1 open, +1 closed)."""
        self._require_pose_mode()
        hand = np.asarray(hand, dtype=np.float64).reshape(len(ARMS), self.hand_dim)
        rows = []
        for i in range(len(ARMS)):
            pos = (target[i, :3, 3] - ORIGIN) / POS_RANGE
            rot = mat_to_axis_angle(target[i, :3, :3]) / ROT_RANGE
            rows.append(np.concatenate([pos, rot, hand[i]]))
        return np.clip(np.concatenate(rows), -1.0, 1.0)

    def hand_command(self) -> np.ndarray:
        """The last gripper command per arm (2, 1), -1 open to +1 closed."""
        return self._hand_cmd.reshape(len(ARMS), self.hand_dim).copy()

    def ik_error(self) -> np.ndarray:
        """Position error (m) per arm that the last step's IK left (0 in joint mode)."""
        return self._ik_error.copy()

    def get_state(self) -> np.ndarray:
        """Everything needed to continue this episode exactly (the gripper command included)."""
        return np.concatenate([self._backend.get_state(self._raw), self._hand_cmd])

    def set_state(self, state: np.ndarray) -> None:
        """Restore a state from ``get_state`` (e.g. the first state of a recorded demo)."""
        state = np.asarray(state, dtype=np.float64)
        n = len(ARMS)
        self._backend.set_state(self._raw, state[:-n])
        self._hand_cmd = state[-n:].copy()

    def solve_ik(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """IK for world pinch-site targets (2, 4, 4): ``IK_DOFS`` positions, position error (m).

        Starts from the measured arm joints and the base's commanded pose (what base deltas add
        to, so the base servo's lag does not feed back into the next command).
        """
        base = self._backend.base_command(self._raw)
        return self._solve_ik(np.asarray(targets, np.float64), base)

    def _solve_ik(self, targets: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``solve_ik`` given the base's commanded pose ``base`` (x, y[, z], yaw)."""
        raw, backend, gains = self._raw, self._backend, self.config.ik
        q0, lower, upper = backend.ik_joints(raw)
        q0 = np.array(q0, np.float64)  # ours to change
        q0[: base.size] = base
        compiled = getattr(backend, "solve_ik", None)  # the real backend: same loop, compiled
        if compiled is not None:
            return compiled(raw, q0, targets, lower, upper, cost=self._cost, gains=gains)
        return solve_ik(
            lambda q: backend.kinematics(raw, q),
            q0,
            targets,
            lower,
            upper,
            cost=self._cost,
            gains=gains,
        )

    def _pose_to_joint_action(self, action: np.ndarray) -> np.ndarray:
        """BiGym's joint action for a pose action in [-1, 1]: base deltas, arm joints, grippers."""
        targets = self._target_pose(action)
        self._hand_cmd = action[self.arm_action_dim - 1 :: self.arm_action_dim].copy()
        if self._fused is not None:
            joint, self._ik_error = self._fused(
                self._raw,
                targets,
                self._hand_cmd,
                cost=self._cost,
                gains=self.config.ik,
                base_step=self._base_step,
                low=self._raw_low,
                high=self._raw_high,
            )
            return joint
        command = self._backend.base_command(self._raw)
        q, self._ik_error = self._solve_ik(targets, command)
        nb, step = command.size, self._base_step
        joint = np.empty(self._raw_low.size)
        # (np.minimum/np.maximum: np.clip's dispatch costs ~4 us a call on these small arrays.)
        joint[:nb] = np.minimum(np.maximum(q[:nb] - command, -step), step)
        joint[nb:-2] = q[nb:] + self._backend.servo_sag(self._raw)
        joint[-2:] = (self._hand_cmd[::-1] + 1.0) / 2.0  # BiGym: ..., left, right gripper
        joint = np.minimum(np.maximum(joint, self._raw_low), self._raw_high)
        return joint.astype(self._raw_dtype)

    def _require_pose_mode(self) -> None:
        if self.config.action_mode != "pose":
            raise ValueError("pose targets need action_mode='pose' (this env is in joint mode)")

    def subtask_signals(self, terms: dict[str, bool] | None = None) -> dict[str, dict[str, bool]]:
        """Per arm, per subtask: whether its end condition holds now (given the backend's terms)."""
        if terms is None:
            terms = self._backend.terms(self._raw, self.config.task)
        return {arm: {n: terms[t] for n, t in pairs} for arm, pairs in self._signal_terms}

    def _validate(self, action: Any) -> np.ndarray:
        """The action as a new array of the action space's dtype, clipped to its box.

        Raises ``ValueError`` on a wrong shape or a NaN/inf. An array of the space's dtype is
        checked as it is (a float32 is finite exactly when its float64 is).
        """
        space = self.action_space
        a = action
        if not (type(a) is np.ndarray and a.dtype == space.dtype):
            a = np.asarray(action, dtype=np.float64)
        if a.shape != self._action_shape:
            raise ValueError(f"expected an action of shape {self._action_shape}, got {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"action has NaN or inf at {np.flatnonzero(~np.isfinite(a)).tolist()}")
        if self.config.action_mode == "pose":
            return np.minimum(np.maximum(a, -1.0), 1.0)
        # (np.minimum/np.maximum: the same values as np.clip, without its dispatch.)
        return np.minimum(np.maximum(a.astype(space.dtype, copy=False), space.low), space.high)

    def _observation(
        self, raw_obs: dict[str, np.ndarray], extras: dict[str, Any] | None = None
    ) -> dict[str, np.ndarray]:
        obs = dict(raw_obs)
        keys = self._obs_keys
        if extras is None:
            extras = self._backend.pos_quat(self._raw, self.config.task)
        for name, (pos, quat) in extras.items():
            key_pos, key_quat = keys[name]
            obs[key_pos], obs[key_quat] = pos, quat
        return obs

    def _info(
        self, raw_info: dict[str, Any], terms: dict[str, bool] | None = None
    ) -> dict[str, Any]:
        return {
            "success": bool(raw_info["task_success"] > 0.5),
            "subtask_signals": self.subtask_signals(terms),
            "ik_error": self._ik_error.copy(),
        }
