"""Pure parts of the evaluator: episode seeds and the aggregation rule."""

from __future__ import annotations

import json

import pytest

from dexmg_bench.evaluation import (
    EvalProtocol,
    SeedResult,
    aggregate,
    episode_seeds,
    wilson_interval,
)


def test_episode_seeds_are_a_pure_function_and_differ_per_training_seed():
    """Same arguments, same seeds; another training seed or base seed, other episodes."""
    a = episode_seeds(0, 50, training_seed=0)
    assert a == episode_seeds(0, 50, training_seed=0)
    assert len(set(a)) == 50
    assert set(a).isdisjoint(episode_seeds(0, 50, training_seed=1))
    assert a != episode_seeds(1, 50, training_seed=0)
    assert episode_seeds(0, 10) == a[:10]  # a prefix, so fewer episodes are a subset
    assert not set(a) & set(range(1000))  # never the small seeds that training data uses


def test_max_over_checkpoints_then_mean_std_over_seeds():
    """Each seed keeps its best checkpoint; the headline is mean and population std of those."""
    results = [
        SeedResult(training_seed=0, episodes=10, successes={"e10": 4, "e20": 9, "e30": 7}),
        SeedResult(training_seed=1, episodes=10, successes={"e10": 5, "e20": 6, "e30": 7}),
        SeedResult(training_seed=2, episodes=10, successes={"e10": 8, "e20": 8, "e30": 2}),
    ]
    out = aggregate(results)
    assert [r["best_checkpoint"] for r in out["per_seed"]] == ["e20", "e30", "e10"]
    assert out["success_mean"] == pytest.approx(0.8)
    assert out["success_std"] == pytest.approx(((0.1**2 + 0.1**2 + 0) / 3) ** 0.5)
    json.dumps(out)


def test_wilson_interval_known_values_and_edges():
    """Matches the textbook value at 8/10 and stays inside [0, 1] at 0 and n."""
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(50, 50)[1] == 1.0
    assert wilson_interval(0, 50)[1] > 0.0
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"episodes": 0}, "episodes"),
        ({"training_seeds": ()}, "training_seeds"),
        ({"training_seeds": (1, 1)}, "duplicates"),
        ({"variant": "D7"}, "variant"),
        ({"workers": 0}, "workers"),
    ],
)
def test_bad_protocols_are_refused(kwargs, match):
    """Each invalid field is named."""
    with pytest.raises(ValueError, match=match):
        EvalProtocol(task="Threading", **kwargs)


def test_seed_result_rejects_impossible_counts():
    """More successes than episodes is a bookkeeping bug, caught early."""
    with pytest.raises(ValueError, match="12 successes of 10"):
        SeedResult(training_seed=0, episodes=10, successes={"last": 12})
