"""The boundary to BiGym (chernyadev/bigym): what the adapter needs from it, and which backend runs.

BiGym is optional and not on PyPI, so it is imported lazily, on first use, and a missing install
raises :class:`BiGymNotInstalled` saying exactly what to run. The adapter env
(``dexmg_bench.envs.bigym``) only talks to a :class:`BiGymBackend`, which makes the backend
swappable: tests drive the adapter through a small fake with the same API surface, CI has no BiGym.
The real backend is ``sim.bigym_real.RealBiGym``, the one place that imports BiGym; its IK is in
``sim.bigym_ik``, its contact facts and subtask terms in ``sim.bigym_contacts``.

Everything here was checked against BiGym commit ``72d3054`` (its last), with
``mojo-mujoco-wrapper==0.1.1``.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

import numpy as np

BIGYM_COMMIT = "72d305437d5a13800ea633479a1060619fc14e54"  # 72d3054, its last commit
INSTALL_HINT = (
    "BiGym is not installed. Install the optional extra and BiGym itself (not on PyPI), pinned:\n"
    "    pip install 'dexmg-bench[bigym]'\n"
    f"    pip install --no-deps 'bigym @ git+https://github.com/chernyadev/bigym@{BIGYM_COMMIT}'\n"
    "(never `pip install mojo`: that PyPI name is an unrelated toolchain; the extra installs "
    "mojo-mujoco-wrapper==0.1.1, which BiGym imports as `mojo`)."
)

# BiGym's env classes of the three tasks DexMimicGen uses.
TASK_CLASSES = {
    "FlipCup": "bigym.envs.manipulation:FlipCup",
    "DishwasherLoadPlates": "bigym.envs.dishwasher_plates:DishwasherLoadPlates",
    "CupboardsCloseAll": "bigym.envs.cupboards:CupboardsCloseAll",
}
ARMS = ("right", "left")
# Tasks whose floating base also crouches (BiGym's ``pelvis_z``, 0.4-1.0 m); there the base has
# x, y, z, yaw (BiGym's order) and the IK solves for 14 joints, ``pelvis_z`` after ``pelvis_y``.
# DishwasherLoadPlates: the bottom rack is below the standing H1's reach (its pinch sites get no
# lower than 0.65 m; a plate standing in the rack has its rim at 0.57 m). FlipCup: standing, a
# hand cannot point horizontally at the mug's handle (IK 5-7 cm and, turned over, 0.56 rad
# short); crouching, every step of the 180-degree turn about that horizontal line is reachable.
CROUCHING_TASKS = ("DishwasherLoadPlates", "FlipCup")


class BiGymNotInstalled(ImportError):
    """BiGym (or one of its dependencies) cannot be imported."""


class BiGymBackend(Protocol):
    """What the adapter needs from BiGym; the real one is ``bigym_real.RealBiGym``, tests a fake."""

    def make(self, task: str, *, control_frequency: int) -> Any:
        """A raw BiGym env of ``task`` (gymnasium API, joint-position actions, floating base)."""

    def gripper_poses(self, raw: Any) -> np.ndarray:
        """World poses (2, 4, 4) of the gripper pinch sites, in ``ARMS`` order."""

    def object_poses(self, raw: Any, task: str) -> dict[str, np.ndarray]:
        """World poses (4, 4) of the task objects, by name."""

    def terms(self, raw: Any, task: str) -> dict[str, bool]:
        """Named boolean facts about the scene that subtask signals are built from."""

    def pos_quat(self, raw: Any, task: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Position and wxyz quaternion of the objects and of ``<arm>_eef``, for observations."""

    def render(self, raw: Any, *, camera: str, width: int, height: int) -> np.ndarray:
        """An RGB frame (height, width, 3) uint8, offscreen."""

    def close(self, raw: Any) -> None:
        """Release the env and any renderer made for it."""

    def ik_joints(self, raw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``IK_DOFS`` (+ ``pelvis_z`` if crouching): positions, lower and upper limits."""

    def kinematics(self, raw: Any, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pinch-site poses (2, 4, 4) and Jacobians (2, 6, n) (linear; angular, world) at ``q``.

        ``q`` sets the ``IK_DOFS`` joints; every other joint stays where the scene has it. The
        scene itself is not changed.
        """

    def base_command(self, raw: Any) -> np.ndarray:
        """The floating base's current servo targets (x, y[, z], yaw): what base deltas add to."""

    def servo_sag(self, raw: Any) -> np.ndarray:
        """Per arm joint (10, BiGym order), how far its position servo sits below its target.

        A position servo holds ``kp (target - q) = bias`` (gravity, Coriolis) at rest, so a joint
        commanded to ``q`` settles at ``q - bias / kp``; adding this offset cancels that sag.
        """

    def get_state(self, raw: Any) -> np.ndarray:
        """Everything needed to continue exactly from here (a flat float64 vector)."""

    def set_state(self, raw: Any, state: np.ndarray) -> None:
        """Restore a state from ``get_state``."""


def load_backend(name: str = "bigym") -> BiGymBackend:
    """The real backend for ``"bigym"``; any other name is a module exposing ``BACKEND``."""
    if name == "bigym":
        from dexmg_bench.sim.bigym_real import RealBiGym  # it imports this module's names

        return RealBiGym()
    return importlib.import_module(name).BACKEND
