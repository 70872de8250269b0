"""The task gallery: tiled pictures of seeded resets, a demo GIF, and the index built from both."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from dexmg_bench.cli.gallery_cmd import gallery
from dexmg_bench.datasets import gallery as gallery_module
from dexmg_bench.datasets.gallery import GAP, select_items, tile
from dexmg_bench.envs import TASKS
from dexmg_bench.errors import UserInputError

THREADING_D0 = {"tasks": ("Threading",), "variants": ("D0",)}


def test_every_core_task_variant_is_drawn_by_default():
    """The default selection is the registry's core task-variants: 27 (nine tasks, D0-D2)."""
    items = select_items()
    assert len(items) == sum(len(t.variants) for t in TASKS) == 27
    assert {i.name for i in items} >= {"threading-d2", "can-sorting-d2", "coffee-d2"}


@pytest.mark.parametrize(
    ("tasks", "variants", "match"),
    [
        (("Threadin",), (), "Did you mean"),
        (("BiGym-FlipCup",), (), "core tasks"),
        ((), ("D3",), "unknown variant"),
    ],
)
def test_a_bad_selection_is_an_input_error(tasks, variants, match):
    """Unknown or non-core tasks and unknown variants fail before rendering."""
    with pytest.raises(UserInputError, match=match):
        select_items(tasks, variants)


def test_tile_is_near_square_with_white_gutters():
    """Five 4x4 frames make a 2x3 grid; the unused cell and the gutters stay white."""
    frames = [np.full((4, 4, 3), k, np.uint8) for k in range(5)]
    grid = tile(frames)
    assert grid.shape == (2 * 4 + GAP, 3 * 4 + 2 * GAP, 3)
    assert (grid[4 + GAP :, 2 * (4 + GAP) :] == 255).all()
    assert (grid[:4, 4 : 4 + GAP] == 255).all()


@pytest.mark.render
def test_reset_pictures_are_tiled_and_the_same_seed_gives_the_same_bytes(tmp_path):
    """Two seeded resets side by side, not blank; a second run writes identical files."""
    for run in ("a", "b"):
        gallery(out=tmp_path / run, resets=2, size=64, animate=False, **THREADING_D0)
    a, b = tmp_path / "a", tmp_path / "b"
    picture = np.asarray(Image.open(a / "threading-d0.png").convert("RGB"))
    assert picture.shape == (64, 2 * 64 + GAP, 3)
    assert picture[:, :64].std() > 10 and picture[:, -64:].std() > 10
    assert not np.array_equal(picture[:, :64], picture[:, -64:])  # two different resets
    assert not (a / "threading-d0.gif").exists()
    for name in ("threading-d0.png", "threading-d0.json", "README.md"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    index = (a / "README.md").read_text()
    assert "| Threading | D0 |" in index and 'src="threading-d0.png"' in index


@pytest.mark.render
def test_the_animation_shows_a_generated_demo_and_the_index_links_it(tmp_path):
    """One DexMimicGen demo replayed to success as a small looping GIF; pictures are kept."""
    gallery(out=tmp_path, resets=2, size=64, **THREADING_D0)
    gif = Image.open(tmp_path / "threading-d0.gif")
    assert gif.size == (48, 48) and gif.n_frames > 10
    demo = json.loads((tmp_path / "threading-d0.json").read_text())["demo"]
    assert demo["origin"] == "dexmimicgen" and demo["success"]
    index = (tmp_path / "README.md").read_text()
    assert 'src="threading-d0.gif"' in index and "DexMimicGen, seed 0 attempt" in index
    # A pictures-only run keeps the animation and its row.
    gallery(out=tmp_path, resets=2, size=64, animate=False, **THREADING_D0)
    assert 'src="threading-d0.gif"' in (tmp_path / "README.md").read_text()


@pytest.mark.render
def test_the_scripted_expert_stands_in_when_generation_fails(tmp_path, monkeypatch):
    """With no successful attempt the expert's rollout is animated and the index says so."""
    monkeypatch.setattr(gallery_module, "MAX_ATTEMPTS", 0)
    gallery(out=tmp_path, resets=1, size=32, **THREADING_D0)
    demo = json.loads((tmp_path / "threading-d0.json").read_text())["demo"]
    assert demo["origin"] == "scripted expert"
    assert (
        "scripted expert, seed 0 (no generation in 0 tries)" in (tmp_path / "README.md").read_text()
    )
    assert Image.open(tmp_path / "threading-d0.gif").n_frames > 10
