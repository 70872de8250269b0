"""A small stand-in for BiGym (``72d3054``) with the API surface the adapter depends on.

It reproduces what was observed on the real one, so that the adapter's fixes are exercised:
a Box(15) action space (base deltas 3, left arm 5, right arm 5, grippers 2) that is *rebuilt* on a
seeded reset; a Dict observation with BiGym's four proprioception keys; ``reset(seed=...)`` that
never calls ``gym.Env.reset`` and reseeds the *global* numpy RNG (drawing the next seed from it,
then the scene); ``ValueError`` on a wrong shape or an out-of-bounds action; ``info =
{"task_success": float}``; no time limit; and ``render()`` failing as it does on gymnasium 1.x.

Its "physics" is a toy: arm joints jump to their targets, and holding a gripper closed for three
steps does the task's next step (flip the mug, place a plate, close a cabinet).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

ARMS = ("right", "left")
HOLD_STEPS = 3
_IDENTITY = np.eye(4)
CABINET_PARTS = (
    "drawer0",
    "drawer1",
    "drawer2",
    "base_door_left",
    "wall_door_left",
    "base_door_right",
    "wall_door_right",
)


class FakeBiGymEnv(gym.Env):
    """One fake BiGym task env (``task`` is FlipCup, DishwasherLoadPlates or CupboardsCloseAll)."""

    def __init__(self, task: str, control_frequency: int, start_seed: int | None = None):
        self.task = task
        self._scale = int(round(500 / control_frequency))
        self._next_seed = np.random.randint(2**32) if start_seed is None else start_seed
        self.action_space = self._action_space(self._next_seed)
        self.observation_space = gym.spaces.Dict(
            {
                "proprioception": gym.spaces.Box(-np.inf, np.inf, (58,), np.float32),
                "proprioception_grippers": gym.spaces.Box(0, 1, (2,), np.float32),
                "proprioception_floating_base": gym.spaces.Box(-np.inf, np.inf, (3,), np.float32),
                "proprioception_floating_base_actions": gym.spaces.Box(
                    -np.inf, np.inf, (3,), np.float32
                ),
            }
        )
        self.reset_calls = 0
        self.last_action: np.ndarray | None = None

    def _action_space(self, seed: int) -> gym.spaces.Box:
        d = 0.01 * self._scale
        low = np.array([-d, -d, -5 * d] + [-2.0] * 10 + [0.0, 0.0], np.float32)
        return gym.spaces.Box(
            low, -low + np.r_[np.zeros(13), 1.0, 1.0].astype(np.float32), seed=seed
        )

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """BiGym's reset: global reseeding, no ``super().reset``."""
        if seed is not None:
            self._next_seed = int(seed)
            self.action_space = self._action_space(seed)
        current = self._next_seed
        self._next_seed = np.random.randint(2**32)
        np.random.seed(current)
        self.reset_calls += 1
        self.qpos = np.zeros(10)
        self.base = np.zeros(3)
        self.grippers = np.zeros(2)  # left, right as BiGym orders them
        self.held = {arm: 0 for arm in ARMS}
        self.progress = {arm: 0 for arm in ARMS}
        if self.task == "FlipCup":
            self.objects = {"mug": np.r_[0.8, np.random.uniform(-0.25, 0.25), 1.0]}
        elif self.task == "DishwasherLoadPlates":
            rack = np.r_[0.6, -0.6, 0.86] + np.random.uniform(-0.05, 0.05, 3) * [1, 1, 0]
            self.objects = {"plate0": rack + [0, 0.05, 0.05], "plate1": rack - [0, 0.05, -0.05]}
            self.objects["drainer"] = rack
            self.objects["rack"] = np.r_[0.19, 0.0, 0.35]  # the dishwasher's, not randomised
        else:  # CupboardsCloseAll: no randomisation, as in BiGym.
            self.objects = {n: np.r_[0.9, i * 0.2 - 0.6, 0.5] for i, n in enumerate(CABINET_PARTS)}
        return self._obs(), {"task_success": float(self.success)}

    def step(self, action: np.ndarray, fast: bool = False):
        """BiGym's step checks: shape, then bounds, both ``ValueError``."""
        if action.shape != self.action_space.shape:
            raise ValueError(
                f"Action shape mismatch: "
                f"expected {self.action_space.shape}, but got {action.shape}."
            )
        if np.any(action < self.action_space.low) or np.any(action > self.action_space.high):
            raise ValueError(f"Action {action} is out of the action space bounds.")
        self.last_action = action.copy()
        self.base += action[:3]
        self.qpos = action[3:13].astype(np.float64)
        self.grippers = action[13:15].astype(np.float64)
        for arm, g in zip(("left", "right"), self.grippers, strict=True):
            self.held[arm] = self.held[arm] + 1 if g > 0.5 else 0
            if self.held[arm] >= HOLD_STEPS:
                self.progress[arm] += 1
                self.held[arm] = 0
        success = self.success
        return self._obs(), float(success), success, False, {"task_success": float(success)}

    def render(self):
        """BiGym's renderer passes no width/height to gymnasium 1.x's: it fails."""
        raise TypeError("MujocoRenderer.__init__() missing 2 required positional arguments")

    def terms(self) -> dict[str, bool]:
        """The named facts the real backend reports, from the toy state."""
        p, holding = self.progress, {arm: self.held[arm] > 0 for arm in ARMS}
        if self.task == "FlipCup":
            return {
                "right_holds_mug": holding["right"],
                "left_holds_mug": holding["left"],
                "mug_upright": p["right"] >= 1,
            }
        if self.task == "DishwasherLoadPlates":
            return {
                "right_holds_plate": holding["right"],
                "left_holds_plate": holding["left"],
                "plate0_in_rack": p["right"] >= 1,
                "plate1_in_rack": p["left"] >= 1,
                "right_holds_plate0": holding["right"],
                "left_holds_plate1": holding["left"],
                "plate0_loaded": p["right"] >= 1 and not holding["right"],
                "plate1_loaded": p["left"] >= 1 and not holding["left"],
            }
        # Each finished hold closes the arm's next part.
        right, left = CABINET_PARTS[:5], CABINET_PARTS[5:]
        out = {f"{n}_closed": p["right"] > i for i, n in enumerate(right)}
        out |= {f"{n}_closed": p["left"] > i for i, n in enumerate(left)}
        out["drawers_closed"] = all(out[f"drawer{i}_closed"] for i in range(3))
        out["base_doors_closed"] = all(out[f"base_door_{s}_closed"] for s in ("left", "right"))
        return out

    @property
    def success(self) -> bool:
        """All task terms hold and nothing is held (BiGym's success conditions, in toy form)."""
        t = {k: v for k, v in self.terms().items() if "holds" not in k}
        return all(t.values()) and not any(self.held.values())

    def _obs(self) -> dict[str, np.ndarray]:
        prop = np.zeros(58, np.float32)
        prop[:10] = self.qpos
        return {
            "proprioception": prop,
            "proprioception_grippers": self.grippers[::-1].astype(np.float32).copy(),
            "proprioception_floating_base": self.base.astype(np.float32),
            "proprioception_floating_base_actions": self.base.astype(np.float32),
        }


class FakeBackend:
    """The ``BiGymBackend`` of the fake; the adapter loads it by module name (``fake_bigym``)."""

    def __init__(self) -> None:
        self.made: list[FakeBiGymEnv] = []

    def make(self, task: str, *, control_frequency: int) -> FakeBiGymEnv:
        """A fake raw env (global draw for its start seed, as BiGym does with ``None``)."""
        env = FakeBiGymEnv(task, control_frequency)
        self.made.append(env)
        return env

    def gripper_poses(self, raw: FakeBiGymEnv) -> np.ndarray:
        """Pinch sites move with the first arm joints and the base."""
        out = np.stack([_IDENTITY.copy(), _IDENTITY.copy()])
        for i, (arm, sign) in enumerate((("right", -1.0), ("left", 1.0))):
            q = raw.qpos[5:] if arm == "right" else raw.qpos[:5]
            out[i, :3, 3] = raw.base + [0.4 + 0.1 * q[0], sign * 0.3 + 0.1 * q[1], 1.0 + 0.1 * q[2]]
        return out

    def object_poses(self, raw: FakeBiGymEnv, task: str) -> dict[str, np.ndarray]:
        """Objects as translations (identity rotation)."""
        out = {}
        for name, pos in raw.objects.items():
            out[name] = _IDENTITY.copy()
            out[name][:3, 3] = pos
        return out

    def terms(self, raw: FakeBiGymEnv, task: str) -> dict[str, bool]:
        """See ``FakeBiGymEnv.terms``."""
        return raw.terms()

    def pos_quat(self, raw: FakeBiGymEnv, task: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Objects and pinch sites as (position, identity wxyz quaternion)."""
        poses = self.object_poses(raw, task)
        poses |= {f"{arm}_eef": p for arm, p in zip(ARMS, self.gripper_poses(raw), strict=True)}
        return {n: (p[:3, 3].copy(), np.array([1.0, 0, 0, 0])) for n, p in poses.items()}

    def render(self, raw: FakeBiGymEnv, *, camera: str, width: int, height: int) -> np.ndarray:
        """A frame whose brightness follows the base x (so it changes with the state)."""
        level = int(np.clip(128 + 1000 * raw.base[0], 0, 255))
        return np.full((height, width, 3), level, np.uint8)

    def close(self, raw: FakeBiGymEnv) -> None:
        """Nothing to release."""

    # The arm-control layer's view: q = base (x, y, yaw), left arm 5, right arm 5.
    def ik_joints(self, raw: FakeBiGymEnv) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Measured q; arms limited to the fake's +-2 action box, the base free."""
        lim = np.r_[np.full(3, np.inf), np.full(10, 2.0)]
        return np.r_[raw.base, raw.qpos], -lim, lim

    def kinematics(self, raw: FakeBiGymEnv, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``gripper_poses`` as a function of q, with its (constant) Jacobian; yaw has no effect."""
        poses = np.stack([_IDENTITY.copy(), _IDENTITY.copy()])
        jac = np.zeros((2, 6, 13))
        for i, (arm, sign) in enumerate((("right", -1.0), ("left", 1.0))):
            o = 8 if arm == "right" else 3
            a = q[o : o + 3]
            poses[i, :3, 3] = np.r_[q[0], q[1], 0.0] + [0.4, sign * 0.3, 1.0] + 0.1 * a
            jac[i, 0, 0] = jac[i, 1, 1] = 1.0
            jac[i, :3, o : o + 3] = 0.1 * np.eye(3)
        return poses, jac

    def base_command(self, raw: FakeBiGymEnv) -> np.ndarray:
        """The fake base is where its deltas put it."""
        return raw.base.copy()

    def servo_sag(self, raw: FakeBiGymEnv) -> np.ndarray:
        """The fake's joints reach their targets exactly."""
        return np.zeros(10)

    def get_state(self, raw: FakeBiGymEnv) -> np.ndarray:
        """Base, arm joints, grippers."""
        return np.r_[raw.base, raw.qpos, raw.grippers].astype(np.float64)

    def set_state(self, raw: FakeBiGymEnv, state: np.ndarray) -> None:
        """Inverse of ``get_state``."""
        raw.base, raw.qpos, raw.grippers = state[:3].copy(), state[3:13].copy(), state[13:].copy()


BACKEND = FakeBackend()
