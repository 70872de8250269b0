"""Transport: clear both bins, then hand a hammer from one arm to the other across a gap.

**Task.** Two Panda arms with parallel grippers, each beside its own narrow table; the tables are
0.6 m apart, so neither arm can do the task alone. The right arm lifts the lid off the start bin
and sets it down on its table while the left arm picks the trash cube out of the target bin and
drops it into the trash bin. The right arm then picks the payload (a hammer: handle and head) out
of the start bin and holds it over the gap; the left arm grasps the hammer's head, the right arm
lets go, and the left arm places the hammer into the target bin.

**Layout** (the reference's): two 0.8 x 0.3 m tables, tops at z = 0.8, centred at y = -0.45
(right table) and y = +0.45 (left table); arm bases at x = -0.56, y = -0.6 (``robot0``, right) and
y = +0.6 (``robot1``, left), facing +x. These positions are kept: a reaching test tracks targets
to within 1 mm at each arm's table (x in [-0.3, 0.12]) and at the handover point over the gap,
about (-0.12, 0, 1.0). Bins are open boxes with 1 cm walls and floor, rim 4 cm above the table
(outer 0.20 x 0.18 m for the start and target bins, 0.14 x 0.14 m for the trash bin); the lid is a
plate overhanging the start bin by 6 mm with a bar handle on top; the hammer is an 11 cm handle
(2.4 cm square) with a 3.6 x 5 x 2.4 cm head; the trash is a 3.5 cm cube. The lid is set down
0.23 m along -x from the start bin.

**Randomisations** (positions are offsets of the bin centres from their table-top centres, metres;
yaw about +z, radians):

* D0 (the paper's default, ranges of the reference environment): every bin at its nominal spot
  with x and y jitter in [-0.005, 0.005] (start bin at x = 0 on the right table; target bin at
  x = 0 and trash bin at x = -0.27 on the left table); the lid sits on the start bin; the hammer
  lies flat in the start bin with yaw in [-pi/6, pi/6] (the reference rotates its upright hammer
  model about y by pi/2 +- pi/6; ours is modelled lying flat, so the pi/2 is built in and the
  +-pi/6 is the in-plane angle); the trash cube sits at the target bin's centre with yaw in
  [-0.3pi, 0.3pi]. Arm rest postures get N(0, 0.02 rad) joint noise.
* D1 (broader): bin jitter in [-0.05, 0.05] in x and y; hammer yaw in [-pi/4, pi/4]; trash
  position jitter in [-0.02, 0.02] in x and y inside the target bin; trash yaw in [-pi/2, pi/2].
* D2 (a different layout, outside D0's support): the target bin and the trash bin swap places
  (target bin at x = -0.26, trash bin at x = 0 on the left table), jitter in [-0.02, 0.02];
  hammer yaw in [-pi/4, pi/4].

**Success.** The hammer is inside the target bin and the trash is inside the trash bin ("inside":
the body origin is within the bin's inner half extents in x and y of the bin frame and below the
bin's rim). Partial terms: ``lid_off`` (the lid rests on the right table clear of the start bin),
``trash_in_trash_bin``, ``payload_in_target_bin``, ``lid_grasped`` (right), ``trash_grasped``
(left), ``payload_grasped_right`` and ``payload_grasped_left`` (both finger pads touch it).

**Subtasks per arm** (termination signals in ``info["subtask_signals"]``):

* right: ``remove_lid`` (object ``lid``, parallel) -> ``grasp_payload`` (object ``payload``,
  parallel) -> ``handover`` (object ``payload``, coordination with left ``handover``, scheme
  ``replay``).
* left: ``grasp_trash`` (object ``trash``, parallel; held above the bin rim) ->
  ``dispose_trash`` (object ``trash_bin``, parallel) -> ``handover`` (object ``payload``,
  coordination with right ``handover``) -> ``place_payload`` (object ``target_bin``, parallel).

**Scripted expert success** (50 seeded resets each): D0 100%, D1 94%, D2 92%.

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
from dexmg_bench.sim.scene import ArmMount, look_at_camera, tabletop_xml

TABLE_TOP_Z = 0.8
TABLE_SIZE = (0.8, 0.3, 0.05)
TABLE_Y = {"right": -0.45, "left": 0.45}
ARM_BASE = {"right": (panda.BASE_X, -0.6, 0.0), "left": (panda.BASE_X, 0.6, 0.0)}

WALL = 0.01  # bin wall and floor thickness
BIN_HEIGHT = 0.04  # bin rim above the table top
BIG_BIN_INNER = (0.09, 0.08)  # inner half extents (x, y) of the start and target bins
TRASH_BIN_INNER = (0.06, 0.06)
LID_PLATE_HALF_Z = 0.005
# The lid overhangs the bin's walls a little: flush box edges give MuJoCo's box-box test spurious
# deep contacts that launch the lid.
LID_OVERHANG = 0.006
LID_HANDLE_HALF = (0.012, 0.04, 0.015)  # bar on the lid, grasped across x
HANDLE_HALF = (0.055, 0.012, 0.012)  # hammer handle along the payload's x axis
HEAD_HALF = (0.018, 0.025, 0.012)
HEAD_X = HANDLE_HALF[0] + HEAD_HALF[0]  # head centre on the payload's x axis
PAYLOAD_CENTER_X = (HEAD_X + HEAD_HALF[0] - HANDLE_HALF[0]) / 2  # middle of the hammer's length
TRASH_HALF = 0.0175
LID_ASIDE_DX = -0.23  # where the lid is set down: this far along x from the start bin


@dataclass(frozen=True, kw_only=True)
class TransportConfig(TaskConfig):
    """Reset ranges of the bins and objects (see the module docstring).

    Attributes:
        start_bin_x: nominal x of the start bin (right table).
        target_bin_x: nominal x of the target bin (left table).
        trash_bin_x: nominal x of the trash bin (left table).
        bin_jitter: range of the x and y jitter added to every bin.
        payload_yaw: hammer yaw in the start bin.
        trash_xy: range of the trash cube's x and y offset from the target bin's centre.
        trash_yaw: trash cube yaw.
    """

    start_bin_x: float = 0.0
    target_bin_x: float = 0.0
    trash_bin_x: float = -0.27
    bin_jitter: tuple[float, float] = (-0.005, 0.005)
    payload_yaw: tuple[float, float] = (-np.pi / 6, np.pi / 6)
    trash_xy: tuple[float, float] = (0.0, 0.0)
    trash_yaw: tuple[float, float] = (-0.3 * np.pi, 0.3 * np.pi)

    def __post_init__(self) -> None:
        super().__post_init__()
        for f in ("bin_jitter", "payload_yaw", "trash_xy", "trash_yaw"):
            check_range(f, getattr(self, f))
        for f in ("start_bin_x", "target_bin_x", "trash_bin_x"):
            if abs(getattr(self, f)) > 0.3:
                raise ValueError(
                    f"`{f}` must be within the table, |x| <= 0.3. Got {getattr(self, f)}."
                )
        if abs(self.target_bin_x - self.trash_bin_x) < 0.2:
            raise ValueError(
                "the target and trash bins overlap: `target_bin_x` and `trash_bin_x` must be at "
                f"least 0.2 apart. Got {self.target_bin_x} and {self.trash_bin_x}."
            )


D0 = TransportConfig()
VARIANTS = {
    "D0": D0,
    "D1": dataclasses.replace(
        D0,
        variant="D1",
        bin_jitter=(-0.05, 0.05),
        payload_yaw=(-np.pi / 4, np.pi / 4),
        trash_xy=(-0.02, 0.02),
        trash_yaw=(-np.pi / 2, np.pi / 2),
    ),
    "D2": dataclasses.replace(
        D0,
        variant="D2",
        target_bin_x=-0.26,
        trash_bin_x=0.0,
        bin_jitter=(-0.02, 0.02),
        payload_yaw=(-np.pi / 4, np.pi / 4),
    ),
}


def _bin_xml(name: str, inner: tuple[float, float], rgba: str) -> str:
    """An open box: floor and four walls, its frame at the centre of the floor's underside."""
    ix, iy = inner
    ox, oy = ix + WALL, iy + WALL
    hz = (BIN_HEIGHT - WALL) / 2
    geoms = mjcf.box(f"{name}_floor", (ox, oy, WALL / 2), (0, 0, WALL / 2), rgba=rgba, density=2000)
    for k, (half, pos) in enumerate(
        (
            ((WALL / 2, oy, hz), (ix + WALL / 2, 0, WALL + hz)),
            ((WALL / 2, oy, hz), (-ix - WALL / 2, 0, WALL + hz)),
            ((ix, WALL / 2, hz), (0, iy + WALL / 2, WALL + hz)),
            ((ix, WALL / 2, hz), (0, -iy - WALL / 2, WALL + hz)),
        )
    ):
        geoms += mjcf.box(f"{name}_wall{k}", half, pos, rgba=rgba, density=2000)
    return mjcf.free_body(name, geoms)


def _objects_xml() -> str:
    ox, oy = (BIG_BIN_INNER[0] + WALL + LID_OVERHANG, BIG_BIN_INNER[1] + WALL + LID_OVERHANG)
    lid = mjcf.free_body(
        "lid",
        mjcf.box("lid_plate", (ox, oy, LID_PLATE_HALF_Z), rgba="0.55 0.35 0.2 1", density=400)
        + mjcf.box(
            "lid_handle",
            LID_HANDLE_HALF,
            (0, 0, LID_PLATE_HALF_Z + LID_HANDLE_HALF[2]),
            rgba="0.3 0.2 0.1 1",
            density=400,
        ),
    )
    payload = mjcf.free_body(
        "payload",
        mjcf.box("payload_handle", HANDLE_HALF, rgba="0.8 0.6 0.2 1", density=300)
        + mjcf.box(
            "payload_head",
            HEAD_HALF,
            (HEAD_X, 0, 0),
            rgba="0.3 0.3 0.35 1",
            density=300,
        ),
    )
    trash = mjcf.free_body(
        "trash", mjcf.box("trash_cube", (TRASH_HALF,) * 3, rgba="0.2 0.7 0.2 1", density=300)
    )
    return (
        _bin_xml("start_bin", BIG_BIN_INNER, "0.35 0.45 0.7 1")
        + _bin_xml("target_bin", BIG_BIN_INNER, "0.7 0.4 0.4 1")
        + _bin_xml("trash_bin", TRASH_BIN_INNER, "0.4 0.4 0.4 1")
        + lid
        + payload
        + trash
    )


# A view of both tables, the gap between them and both arms from base to top, from the front
# and above.
TRANSPORT_CAMERA = look_at_camera("overview", (1.1, 0.0, 2.1), (-0.25, 0.0, 1.05), fovy=55)


class TransportEnv(BimanualEnv):
    """Bimanual transport with a handover, two Panda grippers (see the module docstring)."""

    config_cls: ClassVar[type[TaskConfig]] = TransportConfig
    variants: ClassVar[dict[str, TaskConfig]] = VARIANTS  # type: ignore[assignment]
    object_names = ("lid", "payload", "trash", "start_bin", "target_bin", "trash_bin")
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {
        "right": ("remove_lid", "grasp_payload", "handover"),
        "left": ("grasp_trash", "dispose_trash", "handover", "place_payload"),
    }

    def _scene_xml(self) -> str:
        return tabletop_xml(
            arms=tuple(ArmMount("Panda", "PandaGripper", ARM_BASE[a]) for a in panda.ARMS),
            tables=tuple((TABLE_SIZE, (0.0, TABLE_Y[a], TABLE_TOP_Z)) for a in panda.ARMS),
            objects_xml=_objects_xml(),
            cameras_xml=TRANSPORT_CAMERA,
        )

    def _reset_objects(self, rng: np.random.Generator) -> None:
        c = self.config
        assert isinstance(c, TransportConfig)
        p = self.physics
        upright = np.array([1.0, 0.0, 0.0, 0.0])
        bins = {}
        for name, x, arm in (
            ("start_bin", c.start_bin_x, "right"),
            ("target_bin", c.target_bin_x, "left"),
            ("trash_bin", c.trash_bin_x, "left"),
        ):
            jitter = rng.uniform(*c.bin_jitter, size=2)
            bins[name] = np.array([x + jitter[0], TABLE_Y[arm] + jitter[1], TABLE_TOP_Z])
            p.set_free_joint(f"{name}_joint", bins[name], upright)
        lid_z = TABLE_TOP_Z + BIN_HEIGHT + LID_PLATE_HALF_Z
        p.set_free_joint("lid_joint", bins["start_bin"] + [0, 0, lid_z - TABLE_TOP_Z], upright)

        yaw = rng.uniform(*c.payload_yaw)
        centre_offset = PAYLOAD_CENTER_X * np.array([np.cos(yaw), np.sin(yaw), 0.0])
        pos = bins["start_bin"] + [0, 0, WALL + HANDLE_HALF[2]] - centre_offset
        p.set_free_joint("payload_joint", pos, _yaw_quat(yaw))

        offset = rng.uniform(*c.trash_xy, size=2)
        pos = bins["target_bin"] + [offset[0], offset[1], WALL + TRASH_HALF]
        p.set_free_joint("trash_joint", pos, _yaw_quat(rng.uniform(*c.trash_yaw)))

    # ------------------------------------------------------------------ success terms
    def _inside(self, obj: str, bin_name: str, inner: tuple[float, float]) -> bool:
        poses = self.object_poses()
        local = np.linalg.inv(poses[bin_name]) @ poses[obj][:, 3]
        return bool(abs(local[0]) < inner[0] and abs(local[1]) < inner[1] and local[2] < BIN_HEIGHT)

    def lid_off(self) -> bool:
        """The lid rests on the right table, clear of the start bin's opening."""
        poses = self.object_poses()
        d = poses["lid"][:2, 3] - poses["start_bin"][:2, 3]
        reach = 2 * (WALL + LID_OVERHANG / 2)
        clear = abs(d[0]) > 2 * BIG_BIN_INNER[0] + reach or abs(d[1]) > 2 * BIG_BIN_INNER[1] + reach
        on_table = poses["lid"][2, 3] < TABLE_TOP_Z + 0.02
        return bool(clear and on_table)

    def evaluate(self) -> dict[str, bool]:
        """Success: hammer in the target bin and trash in the trash bin; the rest is partial."""
        payload_in = self._inside("payload", "target_bin", BIG_BIN_INNER)
        trash_in = self._inside("trash", "trash_bin", TRASH_BIN_INNER)
        return {
            "success": payload_in and trash_in,
            "lid_off": self.lid_off(),
            "trash_in_trash_bin": trash_in,
            "payload_in_target_bin": payload_in,
            "lid_grasped": self.grasped("right", "lid"),
            "trash_grasped": self.grasped("left", "trash"),
            "payload_grasped_right": self.grasped("right", "payload"),
            "payload_grasped_left": self.grasped("left", "payload"),
        }

    def subtask_signals(self) -> dict[str, dict[str, bool]]:
        """Lid aside and released; trash lifted, then in its bin; hammer lifted, handed, placed."""
        poses = self.object_poses()
        payload_up = poses["payload"][2, 3] > TABLE_TOP_Z + BIN_HEIGHT + 0.03
        trash_up = poses["trash"][2, 3] > TABLE_TOP_Z + BIN_HEIGHT + 0.02
        right_holds = self.grasped("right", "payload")
        handed_over = self.grasped("left", "payload") and not right_holds and payload_up
        return {
            "right": {
                "remove_lid": self.lid_off() and not self.grasped("right", "lid"),
                "grasp_payload": bool(right_holds and payload_up),
                "handover": bool(handed_over),
            },
            "left": {
                "grasp_trash": bool(self.grasped("left", "trash") and trash_up),
                "dispose_trash": self._inside("trash", "trash_bin", TRASH_BIN_INNER),
                "handover": bool(handed_over),
                "place_payload": self._inside("payload", "target_bin", BIG_BIN_INNER),
            },
        }


def _yaw_quat(yaw: float) -> np.ndarray:
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
