"""Piece Assembly: each arm picks up a piece; the pieces are then stacked into a base in turn.

**Task.** Two Panda arms with parallel grippers. A heavy **base** block sits on the table with a
rectangular socket in its top. The right arm picks up **piece 1** (the concave piece: a peg under
it, a pocket in its top) while the left arm picks up **piece 2** (the convex piece: a peg under a
bar). The right arm inserts piece 1's peg into the base's socket and lets go; only then can the
left arm insert piece 2's peg into piece 1's pocket. Every peg has 3 mm clearance on each side of
its socket, and each peg is nearly as deep as its socket, so a piece that sits on top of a socket
instead of in it is more than 2 cm too high to count.

Geometry (metres, full sizes): base 0.12 x 0.10 x 0.04 with a 0.050 x 0.036 x 0.025 socket (about
0.9 kg, a free body so that D2 can move it); piece 1 a 0.08 x 0.05 x 0.034 block with a
0.060 x 0.034 x 0.024 pocket on top and a 0.044 x 0.030 x 0.024 peg below (59 g); piece 2 a
0.08 x 0.034 x 0.028 bar with a 0.054 x 0.028 x 0.022 peg below (55 g). Pieces are grasped across
their short side (5.0 and 3.4 cm) at the middle of the block.

**Randomisations** (offsets from the table-top centre, metres; yaw about +z, radians):

* D0 (the paper's default, ranges of the reference environment): base at (0, 0), yaw pi/2;
  piece 1 x in [-0.22, 0.22], y in [-0.22, 0.00]; piece 2 x in [-0.22, 0.22], y in [0.00, 0.22];
  both pieces yaw pi/2. A piece is resampled (independently, up to 100 tries, then kept) while its
  centre is nearer than 0.15 m to the base centre or, for piece 2, to piece 1's centre. Arm rest
  postures get N(0, 0.02 rad) joint noise.
* D1 (broader): pieces x in [-0.25, 0.25], piece 1 y in [-0.25, 0.00], piece 2 y in [0.00, 0.25],
  both yaw in [pi/4, 3pi/4]; base as in D0; same minimum distances.
* D2 (a different layout, outside D0's support): the base moves, x in [-0.10, 0.10],
  y in [-0.06, 0.06], yaw in [pi/4, 3pi/4]; pieces as in D0 (same minimum distances, measured to
  the moved base).

**Success.** Piece 1 within 0.02 m of the base in xy and within 0.02 m of its seated height above
the base (peg in the socket); piece 2 within 0.02 m of piece 1 in xy and within 0.02 m of its
stacked height above piece 1; neither piece grasped (touched by both finger pads of any gripper).
Partial terms: ``piece1_assembled`` (piece 1 seated on the base and not grasped),
``piece1_grasped`` (right gripper), ``piece2_grasped`` (left gripper).

**Subtasks per arm** (termination signals in ``info["subtask_signals"]``):

* right: ``grasp_piece1`` (object ``piece1``, parallel; piece 1 grasped by the right gripper and
  lifted 2 cm) -> ``insert_piece1`` (object ``base``; ``piece1_assembled``: seated and released).
* left: ``grasp_piece2`` (object ``piece2``, parallel; piece 2 grasped by the left gripper and
  lifted 2 cm) -> ``insert_piece2`` (object ``piece1``, sequential: starts after right
  ``insert_piece1``; the task's success).

**Scripted expert success** (50 seeded resets each): D0 100%, D1 96%, D2 98%.

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
# Base (body frame on the table top, at the socket centre).
BASE_HALF = (0.06, 0.05)
BASE_FLOOR = 0.015
BASE_HEIGHT = 0.04
SOCKET_HALF = (0.025, 0.018)
# Piece 1 (body frame at the centre of its block; the peg hangs below, the pocket opens above).
P1_BLOCK_HALF = (0.04, 0.025, 0.017)
P1_FLOOR = 0.010
P1_POCKET_HALF = (0.03, 0.017)
P1_PEG_HALF = (0.022, 0.015, 0.012)
# Piece 2 (body frame at the centre of its bar; the peg hangs below).
P2_BLOCK_HALF = (0.04, 0.017, 0.014)
P2_PEG_HALF = (0.027, 0.014, 0.011)

# Body-origin heights: resting on the table (peg down), and seated in the part below.
PIECE1_REST_Z = P1_BLOCK_HALF[2] + 2 * P1_PEG_HALF[2]
PIECE2_REST_Z = P2_BLOCK_HALF[2] + 2 * P2_PEG_HALF[2]
PIECE1_SEATED_DZ = BASE_HEIGHT + P1_BLOCK_HALF[2]  # piece 1 origin above the base origin
PIECE2_SEATED_DZ = P1_BLOCK_HALF[2] + P2_BLOCK_HALF[2]  # piece 2 origin above piece 1's
XY_TOLERANCE = 0.02
Z_TOLERANCE = 0.02
LIFT_HEIGHT = 0.02
MIN_DISTANCE = 0.15  # between piece centres and from a piece to the base centre at reset


@dataclass(frozen=True, kw_only=True)
class PieceAssemblyConfig(TaskConfig):
    """Reset ranges of the base and the two pieces (see the module docstring)."""

    base_x: tuple[float, float] = (0.0, 0.0)
    base_y: tuple[float, float] = (0.0, 0.0)
    base_yaw: tuple[float, float] = (np.pi / 2, np.pi / 2)
    piece1_x: tuple[float, float] = (-0.22, 0.22)
    piece1_y: tuple[float, float] = (-0.22, 0.0)
    piece1_yaw: tuple[float, float] = (np.pi / 2, np.pi / 2)
    piece2_x: tuple[float, float] = (-0.22, 0.22)
    piece2_y: tuple[float, float] = (0.0, 0.22)
    piece2_yaw: tuple[float, float] = (np.pi / 2, np.pi / 2)

    def __post_init__(self) -> None:
        super().__post_init__()
        for f in dataclasses.fields(self):
            if f.name.startswith(("base_", "piece1_", "piece2_")):
                check_range(f.name, getattr(self, f.name))


D0 = PieceAssemblyConfig()
VARIANTS = {
    "D0": D0,
    "D1": dataclasses.replace(
        D0,
        variant="D1",
        piece1_x=(-0.25, 0.25),
        piece1_y=(-0.25, 0.0),
        piece1_yaw=(np.pi / 4, 3 * np.pi / 4),
        piece2_x=(-0.25, 0.25),
        piece2_y=(0.0, 0.25),
        piece2_yaw=(np.pi / 4, 3 * np.pi / 4),
    ),
    "D2": dataclasses.replace(
        D0,
        variant="D2",
        base_x=(-0.10, 0.10),
        base_y=(-0.06, 0.06),
        base_yaw=(np.pi / 4, 3 * np.pi / 4),
    ),
}


def _base_xml() -> str:
    wall_z = BASE_FLOOR + (BASE_HEIGHT - BASE_FLOOR) / 2
    wall_hz = (BASE_HEIGHT - BASE_FLOOR) / 2
    end_hx = (BASE_HALF[0] - SOCKET_HALF[0]) / 2
    side_hy = (BASE_HALF[1] - SOCKET_HALF[1]) / 2
    rgba, density = "0.45 0.45 0.5 1", 2000.0
    geoms = mjcf.box(
        "base_floor",
        (*BASE_HALF, BASE_FLOOR / 2),
        (0, 0, BASE_FLOOR / 2),
        rgba=rgba,
        density=density,
    )
    for k, sign in enumerate((1, -1)):
        geoms += mjcf.box(
            f"base_end{k}",
            (end_hx, BASE_HALF[1], wall_hz),
            (sign * (SOCKET_HALF[0] + end_hx), 0, wall_z),
            rgba=rgba,
            density=density,
        )
        geoms += mjcf.box(
            f"base_side{k}",
            (SOCKET_HALF[0], side_hy, wall_hz),
            (0, sign * (SOCKET_HALF[1] + side_hy), wall_z),
            rgba=rgba,
            density=density,
        )
    return mjcf.free_body("base", geoms, mjcf.site("base_socket", (0, 0, BASE_FLOOR)))


def _piece1_xml() -> str:
    hx, hy, hz = P1_BLOCK_HALF
    wall_hz = (2 * hz - P1_FLOOR) / 2
    wall_z = -hz + P1_FLOOR + wall_hz
    end_hx = (hx - P1_POCKET_HALF[0]) / 2
    side_hy = (hy - P1_POCKET_HALF[1]) / 2
    rgba = "0.9 0.5 0.1 1"
    geoms = mjcf.box("piece1_floor", (hx, hy, P1_FLOOR / 2), (0, 0, -hz + P1_FLOOR / 2), rgba=rgba)
    for k, sign in enumerate((1, -1)):
        geoms += mjcf.box(
            f"piece1_end{k}",
            (end_hx, hy, wall_hz),
            (sign * (P1_POCKET_HALF[0] + end_hx), 0, wall_z),
            rgba=rgba,
        )
        geoms += mjcf.box(
            f"piece1_side{k}",
            (P1_POCKET_HALF[0], side_hy, wall_hz),
            (0, sign * (P1_POCKET_HALF[1] + side_hy), wall_z),
            rgba=rgba,
        )
    geoms += mjcf.box("piece1_peg", P1_PEG_HALF, (0, 0, -hz - P1_PEG_HALF[2]), rgba=rgba)
    return mjcf.free_body("piece1", geoms)


def _piece2_xml() -> str:
    rgba = "0.2 0.4 0.85 1"
    geoms = mjcf.box("piece2_bar", P2_BLOCK_HALF, rgba=rgba)
    geoms += mjcf.box(
        "piece2_peg", P2_PEG_HALF, (0, 0, -P2_BLOCK_HALF[2] - P2_PEG_HALF[2]), rgba=rgba
    )
    return mjcf.free_body("piece2", geoms)


def yaw_quat(yaw: float) -> np.ndarray:
    """The wxyz quaternion of a rotation by ``yaw`` about +z."""
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


class PieceAssemblyEnv(BimanualEnv):
    """Bimanual three-piece assembly with two Panda grippers (see the module docstring)."""

    config_cls: ClassVar[type[TaskConfig]] = PieceAssemblyConfig
    variants: ClassVar[dict[str, TaskConfig]] = VARIANTS  # type: ignore[assignment]
    object_names = ("base", "piece1", "piece2")
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {
        "right": ("grasp_piece1", "insert_piece1"),
        "left": ("grasp_piece2", "insert_piece2"),
    }

    def _scene_xml(self) -> str:
        return tabletop_xml(
            arms=tuple(
                ArmMount("Panda", "PandaGripper", (panda.BASE_X, panda.BASE_Y[a], 0.0))
                for a in panda.ARMS
            ),
            tables=(((0.8, 0.8, 0.05), (0.0, 0.0, TABLE_TOP_Z)),),
            objects_xml=_base_xml() + _piece1_xml() + _piece2_xml(),
        )

    def _reset_objects(self, rng: np.random.Generator) -> None:
        c = self.config
        assert isinstance(c, PieceAssemblyConfig)
        base_xy = np.array([rng.uniform(*c.base_x), rng.uniform(*c.base_y)])
        self.physics.set_free_joint(
            "base_joint", np.array([*base_xy, TABLE_TOP_Z]), yaw_quat(rng.uniform(*c.base_yaw))
        )
        placed = [base_xy]
        for name, xr, yr, yawr, z in (
            ("piece1", c.piece1_x, c.piece1_y, c.piece1_yaw, PIECE1_REST_Z),
            ("piece2", c.piece2_x, c.piece2_y, c.piece2_yaw, PIECE2_REST_Z),
        ):
            for _ in range(100):
                xy = np.array([rng.uniform(*xr), rng.uniform(*yr)])
                if all(np.linalg.norm(xy - other) >= MIN_DISTANCE for other in placed):
                    break
            placed.append(xy)
            yaw = rng.uniform(*yawr)
            self.physics.set_free_joint(
                f"{name}_joint", np.array([*xy, TABLE_TOP_Z + z]), yaw_quat(yaw)
            )

    def _held_by_any(self, piece: str) -> bool:
        return any(self.grasped(arm, piece) for arm in panda.ARMS)

    @staticmethod
    def _seated(lower: np.ndarray, upper: np.ndarray, dz: float) -> bool:
        xy = np.linalg.norm(upper[:2, 3] - lower[:2, 3])
        return bool(xy < XY_TOLERANCE and abs(upper[2, 3] - lower[2, 3] - dz) < Z_TOLERANCE)

    def evaluate(self) -> dict[str, bool]:
        """Success: both pieces seated (piece 1 in the base, piece 2 in piece 1) and released."""
        poses = self.object_poses()
        p1_seated = self._seated(poses["base"], poses["piece1"], PIECE1_SEATED_DZ)
        p2_seated = self._seated(poses["piece1"], poses["piece2"], PIECE2_SEATED_DZ)
        p1_held, p2_held = self._held_by_any("piece1"), self._held_by_any("piece2")
        return {
            "success": p1_seated and p2_seated and not p1_held and not p2_held,
            "piece1_assembled": p1_seated and not p1_held,
            "piece1_grasped": self.grasped("right", "piece1"),
            "piece2_grasped": self.grasped("left", "piece2"),
        }

    def subtask_signals(self) -> dict[str, dict[str, bool]]:
        """Grasps end once the piece is held 2 cm up; inserts once the piece is seated and free."""
        poses = self.object_poses()
        terms = self.evaluate()
        p1_up = poses["piece1"][2, 3] > TABLE_TOP_Z + PIECE1_REST_Z + LIFT_HEIGHT
        p2_up = poses["piece2"][2, 3] > TABLE_TOP_Z + PIECE2_REST_Z + LIFT_HEIGHT
        return {
            "right": {
                "grasp_piece1": bool(p1_up and terms["piece1_grasped"]),
                "insert_piece1": terms["piece1_assembled"],
            },
            "left": {
                "grasp_piece2": bool(p2_up and terms["piece2_grasped"]),
                "insert_piece2": terms["success"],
            },
        }
