"""The evaluator against policies of known success, in worker processes."""

from __future__ import annotations

import json

import numpy as np

from dexmg_bench.baselines.adapters import CallablePolicy, ObservationExpert, RandomPolicy
from dexmg_bench.evaluation import EvalProtocol, episode_seeds
from dexmg_bench.evaluation.evaluate import evaluate
from dexmg_bench.evaluation.rollout import rollout

ENV = "DexMG/Threading-D0-v0"


def test_scripted_expert_from_observations_scores_high_with_two_workers():
    """Acceptance: the scripted expert, seeing observations only, succeeds on >= 90%."""
    seeds = episode_seeds(0, 10)
    episodes = rollout(
        ENV, lambda: ObservationExpert(ENV, seed=0), seeds, workers=2, progress=False
    )
    assert [e.seed for e in episodes] == seeds  # results come back in seed order
    assert sum(e.success for e in episodes) >= 9
    assert all(e.steps < 400 for e in episodes if e.success)  # ends at first success


def test_random_policy_scores_zero_and_the_policy_sees_observations_only():
    """A random policy never threads the needle; the policy gets a plain observation dict."""
    seen: list[dict] = []
    random = RandomPolicy(14, seed=0)

    def policy(obs):
        seen.append(obs)
        return random.act(obs)

    episodes = rollout(ENV, lambda: CallablePolicy(policy), [1, 2], max_steps=60, progress=False)
    assert [e.success for e in episodes] == [False, False]
    assert [e.steps for e in episodes] == [60, 60]
    assert all(set(o) == set(seen[0]) for o in seen)
    assert all(k.endswith(("_pos", "_quat", "_vel", "_qpos")) for k in seen[0])
    assert all(isinstance(v, np.ndarray) for v in seen[0].values())


def test_evaluate_writes_results_with_max_over_checkpoints(tmp_path):
    """Two "checkpoints" per seed (random, expert): the expert is the best one for each seed."""
    protocol = EvalProtocol(task="Threading", episodes=2, training_seeds=(0, 1), max_steps=300)
    checkpoints = {
        s: {
            "random": lambda s=s: RandomPolicy(14, seed=s),
            "expert": lambda: ObservationExpert(ENV),
        }
        for s in (0, 1)
    }
    out = tmp_path / "results.json"
    res = evaluate(protocol, checkpoints, policy_name="test", out=out, progress=False)
    saved = json.loads(out.read_text())
    assert saved["success_mean"] == res["success_mean"] == 1.0
    assert [r["best_checkpoint"] for r in saved["per_seed"]] == ["expert", "expert"]
    assert saved["per_seed"][0]["rates"]["random"] == 0.0
    seeds0 = [e["seed"] for e in saved["episodes"]["0/expert"]]
    assert seeds0 == episode_seeds(0, 2, training_seed=0)
    assert {"mujoco", "numpy", "dexmg_bench"} <= set(saved["versions"])


def test_a_rollout_worker_ends_when_its_parent_is_gone(ends_quietly):
    """The env factory of a worker process ties it to the evaluator before building the env.

    Called in a process whose parent is not the evaluator (the evaluator already gone), it ends
    that process at once, quietly, instead of building an env nobody will step.
    """
    code = (
        "from dexmg_bench.evaluation.rollout import _env_fn\n"
        "_env_fn('DexMG/NoSuchTask-D0-v0', {}, parent_pid=-1)()\n"
        "print('still running')\n"
    )
    ends_quietly(code)


def test_the_env_factory_builds_in_the_evaluator_process_itself():
    """Called in the process that made it (one worker: a synchronous env), it just builds."""
    from dexmg_bench.evaluation.rollout import _env_fn

    env = _env_fn("DexMG/Threading-D0-v0", {})()
    assert env.action_space.shape == (14,)
    env.close()


def test_an_interrupted_evaluation_resumes_at_its_next_checkpoint(tmp_path):
    """Finished checkpoints are read back, not rerun; the results equal an uninterrupted run."""
    protocol = EvalProtocol(task="Threading", episodes=2, training_seeds=(0,), max_steps=20)
    built: list[str] = []

    def random(name: str, seed: int):
        def make():
            built.append(name)
            return RandomPolicy(14, seed=seed)

        return make

    checkpoints = {0: {"a": random("a", 1), "b": random("b", 2)}}
    whole = evaluate(protocol, checkpoints, policy_name="t", progress=False)
    resume = tmp_path / "eval.jsonl"
    first = evaluate(protocol, {0: {"a": checkpoints[0]["a"]}}, policy_name="t", progress=False,
                     resume=resume)  # fmt: skip
    with resume.open("a") as f:
        f.write('{"checkpoint": "0/b", "episo')  # killed while writing the next line
    built.clear()
    resumed = evaluate(protocol, checkpoints, policy_name="t", progress=False, resume=resume)
    assert built == ["b"]  # "a" was read back
    assert resumed["episodes"]["0/a"] == first["episodes"]["0/a"]
    strip = lambda r: {k: v for k, v in r.items() if k != "rollout_seconds"}  # noqa: E731
    for ep in (*resumed["episodes"]["0/a"], *resumed["episodes"]["0/b"]):
        ep.pop("seconds")
    for ep in (*whole["episodes"]["0/a"], *whole["episodes"]["0/b"]):
        ep.pop("seconds")
    assert strip(resumed) == strip(whole)
    assert resumed["rollout_seconds"] > first["rollout_seconds"] > 0
    other = EvalProtocol(task="Threading", episodes=3, training_seeds=(0,), max_steps=20)
    built.clear()
    evaluate(other, checkpoints, policy_name="t", progress=False, resume=resume)
    assert built == ["a", "b"]  # another protocol's lines are not this evaluation's
