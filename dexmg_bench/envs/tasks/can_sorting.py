"""Can Sorting: one hand picks up a can and hands it over; the other drops it in its colour's bin.

**Task.** The Fourier GR-1 humanoid (arms and waist; head and legs fixed) with two Fourier hands,
base at (-0.45, 0, 0.95), at a 0.8 x 1.2 m table whose top is at z = 0.9. The reference uses
``GR1ArmsOnly`` at x = -0.55; from there the side grasp cannot reach the front of the can's range
(IK residual 1-7 cm at x >= -0.10), and with arms only the left hand cannot reach over the red bin
(residual 7 cm), so we stand 10 cm closer and let the IK use the waist. A can
(cylinder, radius 3 cm, height 18 cm) stands on the robot's right; two open bins (inner
0.25 x 0.20 m, rim 6 cm high) sit side by side on its left: red at (-0.07, 0.40), blue at
(-0.07, 0.20) (D0 and D1; D2 swaps them). The can is red or blue with probability 1/2 each
reset; ``can_red`` in the observation says which (it is also visible in images). The right hand
grasps the can and lifts it, the left hand takes it from the right hand in the air, and the left
hand drops it into the bin of its colour.

**Randomisations** (offsets from the table-top centre, metres):

* D0 (the reference's ranges): can x in [-0.20, -0.10], y in [-0.20, 0.00], upright, any colour.
  Arm rest postures get N(0, 0.02 rad) joint noise.
* D1 (broader): can x in [-0.25, -0.05], y in [-0.30, 0.00].
* D2 (a different layout, outside D0's support): the bins swap places, red at (-0.07, 0.20)
  (the bin nearer the can) and blue at (-0.07, 0.40); the can as in D0. Colour maps to bin the
  other way round: a policy that learned "red goes to the far bin" puts every can in the wrong one.

**External initial positions** (the paper's real-to-sim digital twin):
``reset(options={"object_xy": (x, y)})`` puts the can at that table position instead of sampling
it, and ``options={"color": "red" | "blue"}`` fixes its colour. Positions off the table top or on
a bin raise ``ValueError`` naming the allowed region.

**Success.** The can is in the bin of its colour: its centre within the bin's inner half extents
(0.125 x 0.10 m) in x and y and no higher than an upright can standing on the bin's floor
(+2 cm), and the left hand no longer
grasping it. Partial terms: ``can_grasped_right``, ``can_grasped_left``, ``can_in_wrong_bin``.

**Subtasks per arm** (termination signals in ``info["subtask_signals"]``):

* right: ``grasp`` (object ``can``: held by the right hand 3 cm above the table) ->
  ``handover`` (object ``can``, coordination with left ``handover``, scheme ``replay``).
* left: ``handover`` (object ``can``: held by the left hand, the right hand off it) ->
  ``place`` (object ``target_bin``, the bin of the can's colour; ends with success).

``target_bin`` is a virtual object: its pose is that of the red or the blue bin, whichever
matches the can; the shipped spec takes the placing motion from a source demo of the same colour,
whose ``target_bin`` transform is then the identity.

**Scripted expert success** (``dexmg expert-rate``, seeds 0..49): D0 46/50 = 92%, D2 47/50 = 94%
(the expert places by the ``target_bin`` pose; D2's cans are D0's, seed for seed), D1 29/50 = 58%
(19 of D1's 21 failures are at the right grasp, and in all 19 the can spawned touching the right
hand's resting fingers, which reach forward at z ~1.09 over y ~ -0.25, below the can's top: 20 of
the 50 D1 resets and D0 seed 34 start that way, and the first move knocks the can over).
The expert's right hand grasps the upper half of the can with its thumb up and out of the way (a
bent thumb pressed on the rim and tipped the standing can), the left hand takes the middle (a
grasp at the bottom end had two fingers on the can and let it slip out when the right let go),
both hands hold together for 30 steps, every release waits for the fingers to open (the Fourier
hands' servos, robosuite's kp 2 with damping 1, take about 0.5 s) before the hand moves, and the
left hand turns the can upright over the bin before letting go (the handover leaves it tilted
25-35 degrees, and a can released more than ~18 degrees off vertical topples over a bin wall).
D0 failures left: 2 cans still tipped over by the right grasp, 1 dropped in the handover, 1 not
in its bin after the release. No physics was changed: kp 10 and 20 on the fingers were
tried before and made released cans fly.

**Generation** (``generators/can_sorting.toml``, 5 scripted source demos from seeds 4-8, both
colours): DexMimicGen D0 keeps 44/50 = 88% (run seed 0, one worker; failures: 3 at
``right/handover``, 2 ``task``, 1 ``right/grasp``), D1 29/50 = 58% (15 of its 21 failures at
``right/grasp``, as for the expert). The placing segment comes from a source demo
of the same colour (``nearest`` on ``target_bin``), so it is replayed untransformed; with one
source demo for every subtask, 4 red sources of 5 and a 5-step bridge, a probe kept 5/10.

## Version History
* v0: initial release (D0, D1); D2 (the bins swapped) added as a new id, D0 and D1 unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from dexmg_bench.envs import mjcf
from dexmg_bench.envs.config import TaskConfig, check_range
from dexmg_bench.envs.humanoid import HumanoidEnv
from dexmg_bench.envs.robots import gr1
from dexmg_bench.sim.humanoid_scene import HUMANOID_CAMERA, humanoid_xml

TABLE_TOP_Z = 0.9
TABLE_SIZE = (0.8, 1.2, 0.05)
CAN_RADIUS = 0.03
CAN_HALF_HEIGHT = 0.09
BIN_INNER = (0.125, 0.10)  # inner half extents (m)
BIN_WALL = 0.008
BIN_HEIGHT = 0.06
BINS = {"red": (-0.07, 0.40), "blue": (-0.07, 0.20)}  # D0's and D1's places (D2 swaps them)
# 10 cm closer to the table than the reference's (-0.55, 0, 0.95): from there the GR-1's hands
# cannot reach the front half of the can's reset range with a side grasp (IK residual 1-7 cm at
# x >= -0.10); the legs then pass under the table top.
BASE_XYZ = (-0.45, 0.0, 0.95)
RGBA = {"red": (0.85, 0.15, 0.15, 1.0), "blue": (0.15, 0.3, 0.85, 1.0)}


@dataclass(frozen=True, kw_only=True)
class CanSortingConfig(TaskConfig):
    """Reset ranges of the can and the bins' places (see the module docstring)."""

    can_x: tuple[float, float] = (-0.20, -0.10)
    can_y: tuple[float, float] = (-0.20, 0.00)
    red_probability: float = 0.5
    red_bin_xy: tuple[float, float] = BINS["red"]
    blue_bin_xy: tuple[float, float] = BINS["blue"]
    cameras: tuple[str, ...] = ("overview", gr1.WRIST_CAMERA["right"], gr1.WRIST_CAMERA["left"])

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range("can_x", self.can_x)
        check_range("can_y", self.can_y)
        if not 0.0 <= self.red_probability <= 1.0:
            raise ValueError(f"`red_probability` must be in [0, 1]. Got {self.red_probability}.")
        hx, hy = TABLE_SIZE[0] / 2 - CAN_RADIUS, TABLE_SIZE[1] / 2 - CAN_RADIUS
        if not (-hx <= self.can_x[0] and self.can_x[1] <= hx):
            raise ValueError(f"`can_x` must lie on the table (|x| <= {hx}). Got {self.can_x}.")
        if not (-hy <= self.can_y[0] and self.can_y[1] <= hy):
            raise ValueError(f"`can_y` must lie on the table (|y| <= {hy}). Got {self.can_y}.")
        bins = self.bins
        bx_max = TABLE_SIZE[0] / 2 - BIN_INNER[0] - BIN_WALL
        by_max = TABLE_SIZE[1] / 2 - BIN_INNER[1] - BIN_WALL
        for color, xy in bins.items():
            if len(xy) != 2 or abs(xy[0]) > bx_max or abs(xy[1]) > by_max:
                raise ValueError(
                    f"`{color}_bin_xy` must be (x, y) with the bin on the table. Got {xy}."
                )
        (rx, ry), (bx, by) = bins["red"], bins["blue"]
        if abs(rx - bx) < 2 * BIN_INNER[0] and abs(ry - by) < 2 * BIN_INNER[1]:
            raise ValueError(
                f"the bins must not overlap. Got red {bins['red']}, blue {bins['blue']}."
            )

    @property
    def bins(self) -> dict[str, tuple[float, float]]:
        """Each bin's place (table-top offsets, m), by colour."""
        return {"red": self.red_bin_xy, "blue": self.blue_bin_xy}


D0 = CanSortingConfig()
VARIANTS = {
    "D0": D0,
    "D1": dataclasses.replace(D0, variant="D1", can_x=(-0.25, -0.05), can_y=(-0.30, 0.00)),
    "D2": dataclasses.replace(D0, variant="D2", red_bin_xy=BINS["blue"], blue_bin_xy=BINS["red"]),
}


def _bin_xml(name: str, xy: tuple[float, float]) -> str:
    ix, iy = BIN_INNER
    w, h = BIN_WALL, BIN_HEIGHT
    rgba = " ".join(str(v) for v in RGBA[name.removesuffix("_bin")])
    geoms = mjcf.box(f"{name}_floor", (ix + w, iy + w, w / 2), (0, 0, w / 2), rgba=rgba)
    for k, (half, pos) in enumerate(
        (
            ((w / 2, iy + w, h / 2), (ix + w / 2, 0, h / 2)),
            ((w / 2, iy + w, h / 2), (-ix - w / 2, 0, h / 2)),
            ((ix + w, w / 2, h / 2), (0, iy + w / 2, h / 2)),
            ((ix + w, w / 2, h / 2), (0, -iy - w / 2, h / 2)),
        )
    ):
        geoms += mjcf.box(f"{name}_wall{k}", half, pos, rgba=rgba)
    return f'<body name="{name}" pos="{xy[0]} {xy[1]} {TABLE_TOP_Z}">{geoms}</body>'


def _objects_xml(bins: dict[str, tuple[float, float]]) -> str:
    can = mjcf.free_body(
        "can",
        f'<geom name="can_body" type="cylinder" size="{CAN_RADIUS} {CAN_HALF_HEIGHT}"'
        ' rgba="0.85 0.15 0.15 1" density="300" friction="1.5 0.01 0.001" condim="4"'
        ' solref="0.01 1"/>',
    )
    return can + _bin_xml("red_bin", bins["red"]) + _bin_xml("blue_bin", bins["blue"])


class CanSortingEnv(HumanoidEnv):
    """Handover and colour sorting with the GR-1 (see the module docstring)."""

    config_cls: ClassVar[type[TaskConfig]] = CanSortingConfig
    variants: ClassVar[dict[str, TaskConfig]] = VARIANTS  # type: ignore[assignment]
    object_names = ("can", "target_bin")
    object_bodies: ClassVar[dict[str, str]] = {"target_bin": "red_bin"}
    subtask_names: ClassVar[dict[str, tuple[str, ...]]] = {
        "right": ("grasp", "handover"),
        "left": ("handover", "place"),
    }
    torso = True
    base_xyz = BASE_XYZ
    extra_state = 1  # 1.0 if the can is red

    def __init__(self, variant: str = "D0", render_mode: str | None = None, **overrides: object):
        super().__init__(variant, render_mode, **overrides)
        p = self.physics
        self._can_geom = p.id("geom", "can_body")
        self._bins = {c: p.id("body", f"{c}_bin") for c in BINS}
        self._task_state = np.ones(1)

    def _scene_xml(self) -> str:
        c = self.config
        assert isinstance(c, CanSortingConfig)
        return humanoid_xml(
            torso=True,
            base_xyz=BASE_XYZ,
            table_size=TABLE_SIZE,
            table_top=(0.0, 0.0, TABLE_TOP_Z),
            objects_xml=_objects_xml(c.bins),
            cameras_xml=HUMANOID_CAMERA,
        )

    @property
    def color(self) -> str:
        """The can's colour, ``"red"`` or ``"blue"``."""
        return "red" if self._task_state[0] > 0.5 else "blue"

    def _reset_objects(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        c = self.config
        assert isinstance(c, CanSortingConfig)
        x, y = rng.uniform(*c.can_x), rng.uniform(*c.can_y)
        red = rng.uniform() < c.red_probability
        unknown = sorted(set(options) - {"object_xy", "color"})
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; valid: ['color', 'object_xy']")
        if "object_xy" in options:
            x, y = check_can_xy(options["object_xy"], c.bins)
        if "color" in options:
            if options["color"] not in BINS:
                raise ValueError(f"`color` must be 'red' or 'blue'. Got {options['color']!r}.")
            red = options["color"] == "red"
        self._task_state = np.array([1.0 if red else 0.0])
        self._task_state_changed()
        self.physics.set_free_joint(
            "can_joint", np.array([x, y, TABLE_TOP_Z + CAN_HALF_HEIGHT]), np.array([1.0, 0, 0, 0])
        )

    def _task_state_changed(self) -> None:
        self.physics.model.geom_rgba[self._can_geom] = RGBA[self.color]

    def _task_observation_space(self) -> dict[str, gym.spaces.Space]:
        return {"can_red": gym.spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float64)}

    def _task_observation(self) -> dict[str, np.ndarray]:
        return {"can_red": self._task_state.copy()}

    def object_poses(self) -> dict[str, np.ndarray]:
        """The can and the bin of its colour (``target_bin``)."""
        p = self.physics
        return {
            "can": p.body_pose(self._object_ids["can"]),
            "target_bin": p.body_pose(self._bins[self.color]),
        }

    def _in_bin(self, color: str) -> bool:
        can = self.physics.data.xpos[self._object_ids["can"]]
        b = self.physics.data.xpos[self._bins[color]]
        d = np.abs(can[:2] - b[:2])
        return bool(
            d[0] < BIN_INNER[0]
            and d[1] < BIN_INNER[1]
            and can[2] < b[2] + BIN_WALL + CAN_HALF_HEIGHT + 0.02
        )

    def evaluate(self) -> dict[str, bool]:
        """Success: the can rests in its own bin, released."""
        other = "blue" if self.color == "red" else "red"
        left = self.grasped("left", "can")
        return {
            "success": self._in_bin(self.color) and not left,
            "can_grasped_right": self.grasped("right", "can"),
            "can_grasped_left": left,
            "can_in_wrong_bin": self._in_bin(other),
        }

    def subtask_signals(self) -> dict[str, dict[str, bool]]:
        """Grasp: held up by the right hand; handover: held by the left only; place: success."""
        can_z = self.physics.data.xpos[self._object_ids["can"]][2]
        lifted = can_z > TABLE_TOP_Z + CAN_HALF_HEIGHT + 0.03
        handed = lifted and self.grasped("left", "can") and not self.touching("right", "can")
        success = self.evaluate()["success"]
        return {
            "right": {
                "grasp": bool(lifted and self.grasped("right", "can")),
                "handover": bool(handed),
            },
            "left": {"handover": bool(handed), "place": bool(success)},
        }


def check_can_xy(xy: Any, bins: dict[str, tuple[float, float]] = BINS) -> tuple[float, float]:
    """Validate an external can position (table-top offsets, m): on the table, off the bins."""
    try:
        x, y = (float(v) for v in xy)
    except (TypeError, ValueError):
        raise ValueError(f"`object_xy` must be two numbers (x, y). Got {xy!r}.") from None
    hx, hy = TABLE_SIZE[0] / 2 - CAN_RADIUS, TABLE_SIZE[1] / 2 - CAN_RADIUS
    if not (np.isfinite(x) and np.isfinite(y) and abs(x) <= hx and abs(y) <= hy):
        raise ValueError(
            f"`object_xy` {(x, y)} is off the table: the can's centre must satisfy "
            f"|x| <= {hx:.3f} and |y| <= {hy:.3f} (offsets from the table-top centre, m)."
        )
    for color, (bx, by) in bins.items():
        if (
            abs(x - bx) < BIN_INNER[0] + BIN_WALL + CAN_RADIUS
            and abs(y - by) < BIN_INNER[1] + BIN_WALL + CAN_RADIUS
        ):
            raise ValueError(f"`object_xy` {(x, y)} is on the {color} bin; put the can beside it.")
    return x, y
