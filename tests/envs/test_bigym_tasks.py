"""BiGym's task terms from scene facts: pure rules, checked without BiGym installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dexmg_bench.envs.bigym_tasks import cupboards_terms, dishwasher_terms, flip_cup_terms

UPRIGHT_COS = math.cos(math.radians(20))


def _axis_angle_quat(axis: tuple[float, float, float], angle: float) -> np.ndarray:
    axis_arr = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    return np.concatenate([[math.cos(angle / 2)], math.sin(angle / 2) * axis_arr])


@pytest.mark.parametrize(
    ("axis", "degrees", "upright"),
    [
        ((1, 0, 0), 0, True),
        ((0, 0, 1), 170, True),
        ((1, 0, 0), 15, True),
        ((0, 1, 0), 25, False),
        ((1, 1, 0), 90, False),
        ((1, 0, 0), 180, False),
    ],
)
def test_flip_cup_upright_is_the_tilt_of_the_mug_axis(axis, degrees, upright):
    """Yaw never tips the mug; a tilt beyond the tolerance about any horizontal axis does."""
    quat = _axis_angle_quat(axis, math.radians(degrees))
    touching = {("right_pads", "mug"): True, ("left_pads", "mug"): False}
    terms = flip_cup_terms(touching, quat, UPRIGHT_COS)
    assert terms == {"right_holds_mug": True, "left_holds_mug": False, "mug_upright": upright}


def test_dishwasher_plate_is_loaded_when_in_the_rack_and_let_go():
    """In the rack and held is not loaded; in the rack and free is; either hand's grip counts."""
    touching = {
        ("right_pads", "plate0"): True,
        ("left_pads", "plate0"): False,
        ("right_pads", "plate1"): False,
        ("left_pads", "plate1"): False,
        ("plate0", "rack"): True,
        ("plate1", "rack"): True,
    }
    terms = dishwasher_terms(touching, 2)
    assert terms["plate0_in_rack"] and not terms["plate0_loaded"]
    assert terms["plate1_in_rack"] and terms["plate1_loaded"]
    assert terms["right_holds_plate"] and not terms["left_holds_plate"]
    assert terms["right_holds_plate0"] and not terms["left_holds_plate1"]


def test_cupboards_closed_within_the_tolerance():
    """Parts within 0.1 of closed count as closed; the groups need all of their parts."""
    names = ["drawer0", "drawer1", "base_door_left", "base_door_right", "wall_door_left"]
    terms = cupboards_terms(names, [0.05, -0.1, 0.0, 0.11, 0.9])
    assert terms["drawer0_closed"] and terms["drawer1_closed"] and terms["drawers_closed"]
    assert terms["base_door_left_closed"] and not terms["base_door_right_closed"]
    assert not terms["base_doors_closed"] and not terms["wall_door_left_closed"]
