"""Threading: one arm holds a needle, the other a ring stand; together they thread the needle.

**Task.** Two Panda arms with parallel grippers. The left arm picks up the needle (a handle with a
thin shaft), the right arm picks up the ring stand by its post, and both bring them together in
the air so the needle's tip passes through the ring.

**Randomisations** (offsets from the table-top centre, metres; yaw about +z, radians):

* D0 (the paper's default, ranges of the reference environment): needle x in [-0.20, -0.05],
  y in [0.15, 0.25], yaw in [-2pi/3, -pi/3]; stand x in [-0.10, 0.15], y in [-0.20, -0.10],
  yaw in [pi/6, pi/2]. Arm rest postures get N(0, 0.02 rad) joint noise.
* D1 (broader): needle x in [-0.25, 0.00], y in [0.10, 0.30], yaw in [-5pi/6, -pi/6]; stand
  x in [-0.15, 0.20], y in [-0.30, -0.05], yaw in [0, 2pi/3].
* D2 (a different layout, outside D0's support): both objects on the far half of the table,
  needle x in [0.05, 0.20], y in [0.10, 0.25], yaw in [-5pi/6, -pi/6]; stand x in [0.10, 0.25],
  y in [-0.25, -0.05], yaw in [0, 2pi/3].

**Success.** The needle tip is within the ring's inner radius (1.8 cm) of the ring centre; the ring
is closed, so the tip can only get there through the hole. Partial terms: ``needle_grasped``
(left fingers both touch the needle), ``stand_grasped`` (right fingers both touch the stand).

**Subtasks per arm** (termination signals in ``info["subtask_signals"]``):

* right: ``grasp_stand`` (object ``stand``, parallel) -> ``thread`` (object ``stand``,
  coordination with left ``thread``, scheme ``transform``).
* left: ``grasp_needle`` (object ``needle``, parallel) -> ``thread`` (object ``stand``,
  coordination with right ``thread``).

**Scripted expert success** (50 seeded resets each, ``dexmg expert-rate``): D0 100%, D1 100%,
D2 92%.

## Version History
* v0: initial release.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dexmg_bench.envs import mjcf
from dexmg_bench.envs.base import BimanualEnv
from dexmg_bench.envs.config import TaskConfig, check_range
from dexmg_bench.envs.robots import panda_gripper as panda
from dexmg_bench.sim.scene import ArmMount, tabletop_xml

TABLE_TOP_Z = 0.8
RING_INNER_RADIUS = 0.018
RING_CENTER = (0.077, 0.0, 0.075)  # in the stand frame (base centre on the table)
NEEDLE_TIP = (0.12, 0.0, 0.0)  # in the needle frame (handle centre)
NEEDLE_HALF_HEIGHT = 0.011


@dataclass(frozen=True, kw_only=True)
class ThreadingConfig(TaskConfig):
    """Reset ranges of the two objects (see the module docstring)."""

    needle_x: tuple[float, float] = (-0.20, -0.05)
    needle_y: tuple[float, float] = (0.15, 0.25)
    needle_yaw: tuple[float, float] = (-2 * np.pi / 3, -np.pi / 3)
    stand_x: tuple[float, float] = (-0.10, 0.15)
    stand_y: tuple[float, float] = (-0.20, -0.10)
    stand_yaw: tuple[float, float] = (np.pi / 6, np.pi / 2)

    def __post_init__(self) -> None:
        super().__post_init__()
        for f in ("needle_x", "needle_y", "needle_yaw", "stand_x", "stand_y", "stand_yaw"):
            check_range(f, getattr(self, f))


D0 = ThreadingConfig()
VARIANTS = {
    "D0": D0,
    "D1": dataclasses.replace(
        D0,
        variant="D1",
        needle_x=(-0.25, 0.0),
        needle_y=(0.10, 0.30),
        needle_yaw=(-5 * np.pi / 6, -np.pi / 6),
        stand_x=(-0.15, 0.20),
        stand_y=(-0.30, -0.05),
        stand_yaw=(0.0, 2 * np.pi / 3),
    ),
    "D2": dataclasses.replace(
        D0,
        variant="D2",
        needle_x=(0.05, 0.20),
        needle_y=(0.10, 0.25),
        needle_yaw=(-5 * np.pi / 6, -np.pi / 6),
        stand_x=(0.10, 0.25),
        stand_y=(-0.25, -0.05),
        stand_yaw=(0.0, 2 * np.pi / 3),
    ),
}


def _objects_xml() -> str:
    needle = mjcf.free_body(
        "needle",
        mjcf.box("needle_handle", (0.05, 0.011, NEEDLE_HALF_HEIGHT), rgba="0.2 0.3 0.8 1")
        + mjcf.box("needle_shaft", (0.035, 0.003, 0.003), (0.085, 0, 0), rgba="0.7 0.7 0.7 1"),
        mjcf.site("needle_tip", NEEDLE_TIP, rgba="1 0 0 1"),
    )
    stand = mjcf.free_body(
        "stand",
        mjcf.box("stand_base", (0.04, 0.04, 0.005), (0, 0, 0.005), density=600)
        + mjcf.box("stand_post", (0.009, 0.009, 0.07), (0, 0, 0.08), rgba="0.3 0.6 0.3 1")
        + mjcf.box("stand_bracket", (0.024, 0.004, 0.004), (0.03, 0, RING_CENTER[2] - 0.026))
        + mjcf.ring(
            "stand_ring",
            center=RING_CENTER,
            inner_radius=RING_INNER_RADIUS,
            thickness=0.008,
            axis="y",
        ),
        mjcf.site("ring_center", RING_CENTER),
    )
    return needle + stand


class ThreadingEnv(BimanualEnv):
    """Bimanual needle threading with two Panda grippers (see the module docstring)."""

    config_cls: ClassVar[type[TaskConfig]] = ThreadingConfig
    variants: ClassVar[dict[str, TaskConfig]] = VARIANTS  # type: ignore[assignment]
    object_names = ("needle", "stand")
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {
        "right": ("grasp_stand", "thread"),
        "left": ("grasp_needle", "thread"),
    }

    def __init__(self, variant: str = "D0", render_mode: str | None = None, **overrides: object):
        super().__init__(variant, render_mode, **overrides)
        p = self.physics
        self._tip = p.id("site", "needle_tip")
        self._ring = p.id("site", "ring_center")

    def _scene_xml(self) -> str:
        return tabletop_xml(
            arms=tuple(
                ArmMount("Panda", "PandaGripper", (panda.BASE_X, panda.BASE_Y[a], 0.0))
                for a in panda.ARMS
            ),
            tables=(((0.8, 0.8, 0.05), (0.0, 0.0, TABLE_TOP_Z)),),
            objects_xml=_objects_xml(),
        )

    def _reset_objects(self, rng: np.random.Generator) -> None:
        c = self.config
        assert isinstance(c, ThreadingConfig)
        for name, xr, yr, yawr, z in (
            ("needle", c.needle_x, c.needle_y, c.needle_yaw, NEEDLE_HALF_HEIGHT),
            ("stand", c.stand_x, c.stand_y, c.stand_yaw, 0.0),
        ):
            x, y, yaw = rng.uniform(xr[0], xr[1]), rng.uniform(*yr), rng.uniform(*yawr)
            quat = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
            self.physics.set_free_joint(f"{name}_joint", np.array([x, y, TABLE_TOP_Z + z]), quat)

    def tip_to_ring(self) -> float:
        """Distance (m) from the needle tip to the ring centre."""
        d = self.physics.data
        return float(np.linalg.norm(d.site_xpos[self._tip] - d.site_xpos[self._ring]))

    def evaluate(self) -> dict[str, bool]:
        """Success: the tip is inside the ring; grasps are reported as partial terms."""
        return {
            "success": self.tip_to_ring() < RING_INNER_RADIUS,
            "needle_grasped": self.grasped("left", "needle"),
            "stand_grasped": self.grasped("right", "stand"),
        }

    def subtask_signals(self) -> dict[str, dict[str, bool]]:
        """A grasp subtask ends once its object is held above the table."""
        poses = self.object_poses()
        needle_up = poses["needle"][2, 3] > TABLE_TOP_Z + NEEDLE_HALF_HEIGHT + 0.02
        stand_up = poses["stand"][2, 3] > TABLE_TOP_Z + 0.02
        success = self.tip_to_ring() < RING_INNER_RADIUS
        return {
            "right": {
                "grasp_stand": bool(stand_up and self.grasped("right", "stand")),
                "thread": bool(success),
            },
            "left": {
                "grasp_needle": bool(needle_up and self.grasped("left", "needle")),
                "thread": bool(success),
            },
        }
