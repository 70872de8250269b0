"""The Demo-Noise baseline: noisy replays from the source's own initial states, kept on success."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dexmg_bench.datasets.record import replay_demo
from dexmg_bench.datasets.source import read_source_file, shipped_source_file
from dexmg_bench.envs import make_task_env
from dexmg_bench.generators.demo_noise import DemoNoise, noise_schedule
from dexmg_bench.generators.run import GenerateConfig, check_inputs, generate, generator_of
from dexmg_bench.generators.spec import load_spec, spec_path


def test_noise_follows_the_spec_subtask_or_one_override():
    """Each step gets its subtask's action_noise; an override replaces every scale."""
    demo = read_source_file(shipped_source_file("Threading")).demos[0]
    spec = load_spec(spec_path("Threading"))
    scales = noise_schedule(demo, spec)
    assert scales.shape == (demo.num_steps, 2)
    for i, arm in enumerate(("right", "left")):
        start = 0
        for sub, end in zip(spec.subtasks[arm], demo.boundaries[arm], strict=True):
            assert np.all(scales[start:end, i] == sub.action_noise)
            start = int(end)
    assert np.all(noise_schedule(demo, spec, 0.2) == 0.2)


def test_zero_noise_replays_every_source_demo():
    """Without noise Demo-Noise is plain replay, so the source demos themselves succeed."""
    src = read_source_file(shipped_source_file("Threading"))
    gen = DemoNoise(
        make_task_env("Threading"), load_spec(spec_path("Threading")), src.demos, action_noise=0.0
    )
    attempt = gen.attempt(0, 12)  # attempt 12 replays source demo 12 mod 10 = 2
    assert attempt.success and attempt.demo is not None
    np.testing.assert_array_equal(attempt.demo.actions, src.demos[2].actions)
    np.testing.assert_array_equal(attempt.demo.states[0], src.demos[2].states[0])


def test_demo_noise_job_keeps_replayable_noisy_episodes(tmp_path):
    """A Threading job: the kept episode starts at its source's state, is noisy, and replays."""
    out = tmp_path / "job"
    config = GenerateConfig(task="Threading", generator="demo-noise", n=1, max_attempts=6)
    stats = generate(config, out, progress=False)
    assert stats["complete"] and stats["generator"] == "demo-noise"
    assert json.loads((out / "job.json").read_text())["generator"] == "demo-noise"
    rows = [json.loads(r) for r in (out / "attempts.jsonl").read_text().splitlines()]
    kept = next(r["index"] for r in rows if r["success"])
    result = read_source_file(out / stats["output"])
    assert result.origin == "generated" and generator_of(out / stats["output"]) == "demo-noise"
    (demo,) = result.demos
    source = read_source_file(shipped_source_file("Threading")).demos[kept % 10]
    np.testing.assert_array_equal(demo.states[0], source.states[0])
    pose = np.r_[0:6, 7:13]
    assert not np.allclose(demo.actions[:, pose], source.actions[:, pose])
    np.testing.assert_array_equal(demo.actions[:, [6, 13]], source.actions[:, [6, 13]])
    env = make_task_env("Threading")
    assert replay_demo(env, demo)
    np.testing.assert_array_equal(env.get_state(), demo.states[-1])
    # Attempt k is a pure function of (seed, k): rerunning it alone gives the same episode.
    again = DemoNoise(env, load_spec(spec_path("Threading")), (source,) * 10).attempt(0, kept)
    assert again.demo is not None
    np.testing.assert_array_equal(again.demo.actions, demo.actions)


def test_demo_noise_only_generates_in_the_source_variant():
    """The source demos are D0, so Demo-Noise in D1 fails before any simulation."""
    with pytest.raises(ValueError, match="only in their variant D0"):
        check_inputs(GenerateConfig(task="Threading", variant="D1", generator="demo-noise"))


def test_config_rejects_unknown_choices():
    """Generator, backend and noise options are validated with the offending value."""
    with pytest.raises(ValueError, match="`generator` must be one of"):
        GenerateConfig(task="Threading", generator="mimicgen")
    with pytest.raises(ValueError, match="`backend` must be one of"):
        GenerateConfig(task="Threading", backend="dask")
    with pytest.raises(ValueError, match="applies to --generator demo-noise only"):
        GenerateConfig(task="Threading", action_noise=0.1)
    with pytest.raises(ValueError, match="`action_noise` must be >= 0"):
        GenerateConfig(task="Threading", generator="demo-noise", action_noise=-1.0)
    with pytest.raises(ValueError, match="needs --backend ray"):
        GenerateConfig(task="Threading", address="auto")
