"""Baselines on CPU: training samples/s per policy, evaluation episodes/min with 1 and 2 workers.

Training uses the default (paper-size) networks on windows of the shipped Threading scripted
demos, one torch thread (the default of `dexmg train`). Evaluation runs the scripted expert from
observations on Threading D0 (whole successful episodes, ~190 steps) through the evaluator's
vector env; worker start-up is included, as a user pays it once per checkpoint.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

torch = pytest.importorskip("torch", reason="needs the `baselines` extra")

from dexmg_bench.baselines.bc_rnn.config import BCRNNConfig  # noqa: E402
from dexmg_bench.baselines.data import SequenceSampler, load_demos  # noqa: E402
from dexmg_bench.baselines.diffusion.config import DiffusionConfig  # noqa: E402
from dexmg_bench.baselines.registry import build_network  # noqa: E402

STEPS = {"bc-rnn": 10, "bc-rnn-gmm": 10, "diffusion": 3}
EVAL_EPISODES = 4


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    """Three shipped Threading demos as a Minari dataset in a private store."""
    import os

    from dexmg_bench.datasets.minari_io import source_info, write_minari
    from dexmg_bench.datasets.source import read_source_file, shipped_source_file

    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(tmp_path_factory.mktemp("minari"))
    src = read_source_file(shipped_source_file("Threading"))
    write_minari(dataclasses.replace(src, demos=src.demos[:3]), source_info(src))
    out = load_demos("dexmg/threading-source-v0")
    if old is not None:
        os.environ["MINARI_DATASETS_PATH"] = old
    return out


@pytest.mark.parametrize("policy", list(STEPS))
def test_training_samples_per_second(benchmark, record_rate, demos, policy):
    """Gradient steps at the default batch size; samples = windows."""
    torch.set_num_threads(1)
    config = DiffusionConfig() if policy == "diffusion" else BCRNNConfig(gmm=policy == "bc-rnn-gmm")
    model = build_network(policy, config, demos.obs_dim, demos.action_dim)
    optim = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    sampler = SequenceSampler(demos, config.window, config.pad_before)
    import numpy as np

    rng = np.random.default_rng(0)

    def run():
        for _ in range(STEPS[policy]):
            obs, act, _ = sampler.batch(rng, config.batch_size)
            loss = model.loss(torch.from_numpy(obs), torch.from_numpy(act))
            optim.zero_grad()
            loss.backward()
            optim.step()

    benchmark.pedantic(run, rounds=2, iterations=1, warmup_rounds=1)
    rate = STEPS[policy] * config.batch_size / benchmark.stats.stats.min
    record_rate(f"train {policy}", "samples/s (1 thread)", rate)


@pytest.mark.parametrize("workers", [1, 2], ids=["1w", "2w"])
def test_evaluation_episodes_per_minute(record_rate, workers):
    """Scripted expert from observations, Threading D0, through the evaluator's rollout."""
    from dexmg_bench.baselines.adapters import ObservationExpert
    from dexmg_bench.evaluation import episode_seeds
    from dexmg_bench.evaluation.rollout import rollout

    env_id = "DexMG/Threading-D0-v0"
    t0 = time.perf_counter()
    episodes = rollout(
        env_id,
        lambda: ObservationExpert(env_id),
        episode_seeds(0, EVAL_EPISODES),
        workers=workers,
        progress=False,
    )
    wall = time.perf_counter() - t0
    assert sum(e.success for e in episodes) >= EVAL_EPISODES - 1
    record_rate("eval Threading (expert)", f"episodes/min {workers}w", 60 * len(episodes) / wall)
