"""Other libraries' own tools on DexMG envs, as docs/interop.md lists them.

RecordVideo needs moviepy and Minari's DataCollector needs jax: both come with the ``interop``
extra (part of ``dev``); without them these tests skip, saying which extra is missing.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import dexmg_bench.envs  # noqa: F401  (registers DexMG/...)

ENV = "DexMG/Threading-D0-v0"


def test_make_vec_steps_a_batch_of_envs():
    """``gym.make_vec``: two envs in one batch, each observation key batched."""
    envs = gym.make_vec(ENV, num_envs=2, vectorization_mode="sync")
    try:
        obs, _ = envs.reset(seed=[1, 2])
        obs, rewards, _, _, info = envs.step(np.zeros((2, 14)))
    finally:
        envs.close()
    assert obs["needle_pos"].shape == (2, 3) and rewards.shape == (2,)
    assert not np.allclose(obs["needle_pos"][0], obs["needle_pos"][1])  # two seeds, two scenes
    assert info["success"].shape == (2,)


@pytest.mark.render
def test_record_video_writes_an_mp4(tmp_path):
    """Gymnasium's ``RecordVideo`` on an ``rgb_array`` env writes one video per episode."""
    pytest.importorskip("moviepy", reason="RecordVideo needs moviepy: the `interop` extra")
    env = gym.wrappers.RecordVideo(
        gym.make(ENV, render_mode="rgb_array"),
        video_folder=str(tmp_path / "videos"),
        episode_trigger=lambda _: True,
        disable_logger=True,
    )
    env.reset(seed=0)
    for _ in range(5):
        env.step(env.action_space.sample() * 0)
    env.close()
    (video,) = (tmp_path / "videos").glob("*.mp4")
    assert video.stat().st_size > 0


def test_minari_data_collector_records_a_dataset():
    """Minari's ``DataCollector``: two short episodes -> a dataset that loads back."""
    pytest.importorskip("jax", reason="DataCollector needs jax: the `interop` extra")
    import minari

    env = minari.DataCollector(gym.make(ENV, max_episode_steps=4))
    for seed in (0, 1):
        env.reset(seed=seed)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(np.zeros(14))
            done = terminated or truncated
    dataset = env.create_dataset(dataset_id="dexmg/collector-test-v0", algorithm_name="zeros")
    env.close()
    episodes = list(minari.load_dataset("dexmg/collector-test-v0").iterate_episodes())
    assert dataset.total_episodes == 2 and [len(e.actions) for e in episodes] == [4, 4]
    assert episodes[0].observations["needle_pos"].shape == (5, 3)
