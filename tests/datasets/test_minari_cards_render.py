"""Dataset cards from metadata, and camera observations re-rendered from stored states."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dexmg_bench.datasets import cards, loader, minari_io, render
from dexmg_bench.datasets.source import SourceFile, read_source_file, shipped_source_file
from dexmg_bench.envs import make_task_env


def short_source(steps: int, n: int = 2) -> SourceFile:
    """The first ``n`` shipped Threading demos, cut to ``steps`` actions."""
    src = read_source_file(shipped_source_file("Threading"))
    demos = tuple(
        dataclasses.replace(d, actions=d.actions[:steps], states=d.states[: steps + 1])
        for d in src.demos[:n]
    )
    return dataclasses.replace(src, demos=demos)


def test_card_from_metadata(tmp_path):
    """The card names task, env, embodiment, counts, layouts, provenance; rebuilds are identical."""
    src = short_source(7)
    minari_io.write_minari(src, minari_io.source_info(src))
    path = cards.write_card("dexmg/threading-source-v0", tmp_path / "cards")
    assert path == tmp_path / "cards" / "dexmg" / "threading-source-v0.md"
    text = path.read_text()
    for needle in (
        "# dexmg/threading-source-v0",
        "`DexMG/Threading-D0-v0`",
        "two Panda arms, parallel grippers",
        "| Episodes | 2 |",
        "| Steps | 14 (per episode: mean 7.0, min 7, max 7) |",
        "| `needle_pos` | (3,) | float64 |",
        "| left | hand | 13:14 |",
        "`scripted-expert`",
        "DexMimicGen",
    ):
        assert needle in text, needle
    assert cards.write_card("dexmg/threading-source-v0", tmp_path / "cards").read_text() == text


def test_card_shows_generator_success_rate(tmp_path):
    """A generated dataset's card reports the generator's success rate, source, commits and CPUs."""
    src = dataclasses.replace(short_source(3, n=1), origin="generated")
    info = minari_io.DatasetInfo(
        generator="dexmimicgen",
        generator_config={"task": "Threading", "seed": 0, "code_commits": ["abc"], "cpus": ["A"]},
        source_dataset="dexmg/threading-source-v0",
        generation_stats={"success_rate": 0.4, "successes": 2, "attempts": 5, "kept": 2},
    )
    minari_io.write_minari(src, info, dataset="dexmg/threading-v0")
    text = cards.card_markdown(loader.load("dexmg/threading-v0"))
    assert "| Generator success rate | 40.0% (2 of 5 attempts) |" in text
    assert "| Source dataset | `dexmg/threading-source-v0` |" in text
    assert "| Generated at commit | `abc` |" in text
    assert "| Generated on | A |" in text


def jpeg_round_trip(image: np.ndarray) -> np.ndarray:
    """What Minari's HDF5 backend gives back for an image it stored (it encodes JPEG)."""
    import io

    from minari.dataset._storages.hdf5_storage import encode_frame
    from PIL import Image

    return np.array(Image.open(io.BytesIO(encode_frame(image).tobytes())), dtype=np.uint8)


@pytest.mark.render
@pytest.mark.parametrize(
    "workers", [pytest.param(1, marks=pytest.mark.slow), 2], ids=["serial", "pool"]
)
def test_render_adds_cameras(workers):
    """Rendered images equal the env's own rendering at the stored states (after Minari's JPEG)."""
    src = short_source(3)
    minari_io.write_minari(src, minari_io.source_info(src))
    ds = render.render_dataset(
        "dexmg/threading-source-v0", cameras=("overview",), size=32, workers=workers, progress=False
    )
    assert ds.id == "dexmg/threading-source-rgb32-v0"
    assert ds.total_episodes == 2
    meta = ds.storage.metadata["dexmg"]
    assert meta["rendered_from"] == "dexmg/threading-source-v0" and meta["cameras"] == ["overview"]
    assert minari_io.missing_metadata(ds.storage.metadata) == []
    env = ds.recover_environment()
    assert env.observation_space == ds.observation_space
    assert env.unwrapped.config.obs_mode == "rgb"
    ref = make_task_env("Threading", obs_mode="rgb", cameras=("overview",), image_size=32)
    for episode, demo in zip(ds.iterate_episodes(), src.demos, strict=True):
        images = episode.observations["overview_image"]
        assert images.shape == (4, 32, 32, 3) and images.dtype == np.uint8
        np.testing.assert_array_equal(episode.infos["state"], demo.states)
        for t in (0, 3):
            ref.set_state(demo.states[t])
            want = jpeg_round_trip(ref._observation()["overview_image"])
            np.testing.assert_array_equal(images[t], want)
    ref.close()
    env.close()


def test_a_render_worker_ends_when_its_parent_is_gone(ends_quietly):
    """A pool worker's initializer ties it to the job process before it loads anything.

    With a parent id that is not its parent (the job already gone), the worker exits at once,
    quietly, instead of opening a dataset that does not exist.
    """
    code = (
        "from dexmg_bench.datasets import render\n"
        "render._init('dexmg/no-such-set-v0', 'Threading', 'D0', {}, parent_pid=-1)\n"
        "print('still running')\n"
    )
    ends_quietly(code)
