"""The three BiGym tasks: their cards, rates, objects, subtasks and the terms that signal them.

``DexMG/BiGym-{FlipCup,DishwasherLoadPlates,CupboardsCloseAll}-v0`` (the adapter env:
``dexmg_bench.envs.bigym``). Per task: its reference control rate, the objects whose poses the env
observes, its subtasks per arm and the named terms that signal them, built from the contact facts
and joint states the backend reads (``sim.bigym_contacts``).

FlipCup (50 Hz, 550 steps)
    **Task:** turn an upside-down mug on the counter upright and let go.
    **Randomisations:** mug position on a 0.1 m grid in a 0.2 x 0.5 m patch plus +-3 cm, yaw
    +-30 deg (BiGym's reset).
    **Success:** the mug's up axis within 5 deg of world z, touching the counter, no gripper
    holding it.
    **Base:** crouches (BiGym's ``pelvis_z``; see ``sim.bigym_backend.CROUCHING_TASKS``):
    standing, no hand can point horizontally at the handle.
    **Subtasks** (coordination subtasks of both arms: the right hand turns the mug over by its
    handle while the base crouches under it and the left hand rides along): ``grasp`` (the right
    hand holds the mug), ``flip`` (mug upright).
    **Measured** (``experts/bigym_flip_cup.py``, pose mode, 461 steps): scripted expert 49/50
    (seeds 0-49); DexMimicGen from 5 scripted source demos (``generators/bigym_flip_cup.toml``,
    ``--n 20 --seed 0``): 20 kept of 28 attempts (71%; 6 missed the handle, 2 did not end
    upright), all 20 replay to success from their stored first state. The paper reports 29.1%
    (from human demos).
DishwasherLoadPlates (20 Hz, 560 steps)
    **Task:** move two plates from the drainer into the dishwasher's bottom rack.
    **Randomisations:** drainer position +-5 cm in x and y; plates on two random drainer slots.
    **Success:** each plate stands vertical (+-20 deg), touches the bottom rack, is not held.
    **Base:** crouches (BiGym's ``pelvis_z``): the bottom rack is below a standing H1's reach.
    **Objects:** the plates, the drainer and ``rack`` (the sliding bottom rack).
    **Subtasks** (the scripted expert loads one plate at a time, right hand first; both hands
    hang on the walking, crouching base, so all four are coordination subtasks of both arms):
    ``pick_plate0`` (the right hand holds plate0), ``place_plate0`` (plate0 in the rack, let
    go), ``pick_plate1`` (the left hand holds plate1), ``place_plate1`` (plate1 in the rack, let
    go).
    **Measured** (``experts/bigym_dishwasher.py``, pose mode, 514 steps): scripted expert 49/50
    (seeds 0-49; a placed plate leans on a rack tine at 14-20 deg, just inside BiGym's 20);
    DexMimicGen from 5 scripted source demos (``generators/bigym_dishwasher_load_plates.toml``,
    ``--n 20 --seed 0``): 20 kept of 64 attempts (31%; 25 never grasped plate0, 5 never
    grasped plate1, 14 did not end loaded), all 20 replay to success from their stored first
    state. The paper reports 43.6% (from human demos).
CupboardsCloseAll (20 Hz, 620 steps)
    **Task:** close three drawers, two base-cabinet doors and two wall-cabinet doors.
    **Randomisations:** none in BiGym: every reset starts all open, robot at a fixed pose (so all
    seeds give the same initial scene).
    **Success:** every normalised joint state within 0.1 of closed (0).
    **Objects:** the moving bodies (drawer boxes, door leaves); BiGym's handles are unnamed geoms.
    BiGym's ``left``/``right`` door names are on world -y/+y, i.e. the robot's right/left.
    **Subtasks** (the scripted expert's order; the arms share the walking base, so the first
    two are coordination subtasks of both arms): ``close_base_doors`` (the right hand shuts the
    world -y door while the left waits, then the other way round; signal: both base doors
    closed), ``close_drawers`` (both hands push the top drawer while the walking legs shut the
    lower two; signal: all three closed); then right: ``close_wall_door_left``, left:
    ``close_wall_door_right`` (parallel, the hands press their door until the end).
    **Measured** (``experts/bigym_cupboards.py``, pose mode, 525 steps): scripted expert 50/50
    (seeds 0-49; the scene never varies, only the expert's 4 mm action noise);
    DexMimicGen from 5 scripted source demos (``generators/bigym_cupboards_close_all.toml``,
    ``--n 20 --seed 0``): 20/20 attempts succeeded, all 20 kept episodes replay to success from
    their stored first state. The paper reports 76.4% generation success on this task.
"""

from __future__ import annotations

import numpy as np

from dexmg_bench.sim.bigym_backend import ARMS

CONTROL_FREQUENCY = {"FlipCup": 50, "DishwasherLoadPlates": 20, "CupboardsCloseAll": 20}
OBJECTS = {
    "FlipCup": ("mug",),
    "DishwasherLoadPlates": ("plate0", "plate1", "drainer", "rack"),
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
    "FlipCup": {arm: {"grasp": "right_holds_mug", "flip": "mug_upright"} for arm in ARMS},
    "DishwasherLoadPlates": {
        arm: {
            "pick_plate0": "right_holds_plate0",
            "place_plate0": "plate0_loaded",
            "pick_plate1": "left_holds_plate1",
            "place_plate1": "plate1_loaded",
        }
        for arm in ARMS
    },
    "CupboardsCloseAll": {
        "right": {
            "close_base_doors": "base_doors_closed",
            "close_drawers": "drawers_closed",
            "close_wall_door_left": "wall_door_left_closed",
        },
        "left": {
            "close_base_doors": "base_doors_closed",
            "close_drawers": "drawers_closed",
            "close_wall_door_right": "wall_door_right_closed",
        },
    },
}


def flip_cup_terms(
    touching: dict[tuple[str, str], bool], mug_quat: np.ndarray, upright_cos: float
) -> dict[str, bool]:
    """FlipCup's terms: ``<arm>_holds_mug`` and ``mug_upright``.

    Args:
        touching: whether ``(<arm>_pads, mug)`` touch, per arm.
        mug_quat: the mug's wxyz quaternion.
        upright_cos: the cosine of BiGym's upright tolerance.
    """
    out: dict[str, bool] = {}
    for arm in ARMS:
        out[f"{arm}_holds_mug"] = touching[f"{arm}_pads", "mug"]
    _, x, y, _ = mug_quat.tolist()  # wxyz
    # z of the mug frame in world is R(q)[:, 2]; its world-z component is 1 - 2(x^2 + y^2).
    out["mug_upright"] = 1 - 2 * (x * x + y * y) > upright_cos
    return out


def dishwasher_terms(touching: dict[tuple[str, str], bool], n_plates: int) -> dict[str, bool]:
    """DishwasherLoadPlates' terms: which hand holds which plate, which plate is in the rack.

    Args:
        touching: whether ``(<arm>_pads, plate<i>)`` and ``(plate<i>, rack)`` touch.
        n_plates: the number of plates.
    """
    out: dict[str, bool] = {}
    plates = range(n_plates)
    held = {(a, i): touching[f"{a}_pads", f"plate{i}"] for a in ARMS for i in plates}
    for arm in ARMS:
        out[f"{arm}_holds_plate"] = any(held[arm, i] for i in plates)
    for i in plates:
        out[f"plate{i}_in_rack"] = touching[f"plate{i}", "rack"]
        # BiGym's per-plate success terms less the angle: in the rack, let go of.
        out[f"plate{i}_loaded"] = out[f"plate{i}_in_rack"] and not any(held[a, i] for a in ARMS)
    out["right_holds_plate0"] = held["right", 0]
    out["left_holds_plate1"] = held["left", 1]
    return out


def cupboards_terms(names: list[str], state: list[float]) -> dict[str, bool]:
    """CupboardsCloseAll's terms: ``<part>_closed``, ``drawers_closed``, ``base_doors_closed``.

    Args:
        names: the moving parts (``drawer0``, ``base_door_left``, ``wall_door_left``, ...).
        state: BiGym's normalised joint state of each part (0 closed); within BiGym's success
            tolerance 0.1 of 0 is closed.
    """
    out: dict[str, bool] = {}
    out |= {f"{n}_closed": abs(v) <= 0.1 for n, v in zip(names, state, strict=True)}
    out["drawers_closed"] = all(v for k, v in out.items() if k.startswith("drawer"))
    out["base_doors_closed"] = all(out[f"base_door_{s}_closed"] for s in ("left", "right"))
    return out
