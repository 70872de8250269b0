"""Can Sorting: shipped source demos and spec keep the placing motion in the can's own bin.

Generation lost 3 of 10 attempts while every subtask came from one source demo: with four
red sources of five, a blue can's placing segment was a red one shifted 0.2 m along -y, whose
first pose lay on the far side of the handover point, and the can was shaken out on the way.
"""

from __future__ import annotations

import numpy as np
import pytest

from dexmg_bench.datasets.source import read_source_file, shipped_source_file
from dexmg_bench.envs.tasks.can_sorting import BINS, VARIANTS, CanSortingConfig, CanSortingEnv
from dexmg_bench.generators.job import GenerateConfig, build_generator
from dexmg_bench.generators.segment import build_library
from dexmg_bench.generators.select import select_source
from dexmg_bench.generators.spec import load_spec, spec_path


def _colours(demos) -> list[str]:
    """The can's colour of each demo: the task state is the last value of the state vector."""
    return ["red" if d.states[0][-1] > 0.5 else "blue" for d in demos]


def test_shipped_demos_hold_both_colours() -> None:
    """Both bins have a placing segment to replay untransformed."""
    demos = read_source_file(shipped_source_file("CanSorting")).demos
    assert set(_colours(demos)) == {"red", "blue"}


@pytest.mark.parametrize("colour", ["red", "blue"])
def test_place_segment_comes_from_a_demo_of_the_same_colour(colour: str, rng) -> None:
    """The left arm's ``place`` source is picked by the ``target_bin`` pose: same bin, any seed."""
    spec = load_spec(spec_path("CanSorting"))
    assert spec.source_selection == "per_arm"
    demos = read_source_file(shipped_source_file("CanSorting")).demos
    colours = _colours(demos)
    library = build_library(demos, spec, rng)
    place = spec.index("left", "place")
    sub = spec.subtasks["left"][place]
    bin_pose = np.eye(4)
    bin_pose[:2, 3] = BINS[colour]
    bin_pose[2, 3] = 0.9
    for seed in range(20):
        k = select_source(
            library["left"][place],
            {"target_bin": bin_pose},
            sub.selection,
            sub.nearest_k,
            np.random.default_rng(seed),
        )
        assert colours[k] == colour


def test_target_bin_is_the_bin_of_the_can_colour() -> None:
    """``target_bin`` follows the colour, so a same-colour source's transform is the identity."""
    env = CanSortingEnv()
    for colour in BINS:
        env.reset(seed=0, options={"color": colour})
        np.testing.assert_allclose(env.object_poses()["target_bin"][:2, 3], BINS[colour])
    env.close()


def test_d2_swaps_the_bins() -> None:
    """D2 puts each bin where D0 and D1 put the other one; the can's range stays D0's."""
    d0, d1, d2 = VARIANTS["D0"], VARIANTS["D1"], VARIANTS["D2"]
    assert d0.bins == d1.bins == BINS
    assert d2.bins == {"red": BINS["blue"], "blue": BINS["red"]}
    assert (d2.can_x, d2.can_y) == (d0.can_x, d0.can_y)
    env = CanSortingEnv("D2")
    for colour, other in (("red", "blue"), ("blue", "red")):
        env.reset(seed=0, options={"color": colour})
        np.testing.assert_allclose(env.object_poses()["target_bin"][:2, 3], BINS[other])
        np.testing.assert_allclose(env.physics.data.xpos[env._bins[colour]][:2], BINS[other])
    env.close()


def test_bins_must_not_overlap() -> None:
    """Two bins on one spot would make the colour meaningless; the config refuses them."""
    with pytest.raises(ValueError, match="must not overlap"):
        CanSortingConfig(red_bin_xy=(-0.07, 0.25))
    with pytest.raises(ValueError, match="on the table"):
        CanSortingConfig(blue_bin_xy=(-0.07, 0.55))


@pytest.mark.slow
def test_generation_first_attempts_succeed() -> None:
    """At least 3 of the first 4 D0 attempts of seed 0 are kept (8/10 measured)."""
    gen = build_generator(GenerateConfig(task="CanSorting", variant="D0"))
    kept = sum(gen.attempt(0, k).success for k in range(4))
    assert kept >= 3, f"{kept}/4"
