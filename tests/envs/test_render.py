"""Headless images: ``render_mode="rgb_array"`` and ``obs_mode="rgb"``."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import dexmg_bench  # noqa: F401

pytestmark = pytest.mark.render


def test_render_rgb_array_is_an_image_of_the_scene():
    """render() returns a non-blank uint8 frame of the configured size."""
    env = gym.make("DexMG/Threading-D0", render_mode="rgb_array", render_size=64)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8
    assert frame.std() > 10  # not a blank or single-colour image
    env.close()


def test_rgb_observations_follow_the_space():
    """obs_mode='rgb' adds one image per camera, inside the observation space."""
    env = gym.make(
        "DexMG/Threading-D0",
        obs_mode="rgb",
        image_size=32,
        cameras=["overview", "robot0_eye_in_hand"],
        disable_env_checker=True,
    )
    obs, _ = env.reset(seed=0)
    assert obs["overview_image"].shape == (32, 32, 3)
    assert obs["robot0_eye_in_hand_image"].dtype == np.uint8
    assert env.observation_space.contains(obs)
    env.close()


def test_render_without_mode_returns_none():
    """Without a render mode nothing is drawn."""
    env = gym.make("DexMG/Threading-D0", disable_env_checker=True)
    env.reset(seed=0)
    assert env.render() is None
    env.close()
