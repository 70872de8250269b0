"""The task gallery: what each task-variant's resets look like, and one generated demo moving.

Per task-variant ``<name>`` (``threading-d1``) the gallery folder holds:

* ``<name>.png``: the ``overview`` camera after ``reset(seed=s)`` for ``resets`` consecutive
  seeds, tiled in a near-square grid. Several resets in one picture show the spread of the
  reset distribution, which is what separates D0 from D1 and D2; one reset cannot.
* ``<name>.gif``: one DexMimicGen demo generated in that variant from the task's shipped D0
  source demos (as ``dexmg generate --variant`` does), replayed from its first state. A GIF, not
  an mp4, because GitHub shows GIFs inline in Markdown. If no attempt succeeds within
  ``MAX_ATTEMPTS``, the scripted expert's rollout is shown instead and the index says so.
* ``<name>.json``: what the two files show (seeds, sizes, the demo's origin and length); the
  index ``README.md`` is rebuilt from these, so runs over a subset of tasks keep the rest.

Everything is a function of the seed: the same seed writes the same bytes.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from dexmg_bench import envs  # task_entry through the module: the one resolver
from dexmg_bench.datasets.source import SourceDemo
from dexmg_bench.envs import TASKS, TaskEntry
from dexmg_bench.errors import UserInputError

GAP = 2  # white pixels between tiles, so neighbouring scenes read as separate pictures
PNG_COLOURS = 128  # a 128-colour PNG is a third of a true-colour one and looks the same
GIF_COLOURS = 64  # one palette for all frames: smaller files and no palette flicker
FRAME_STRIDE = 3  # render every 3rd control step (20 Hz control: about 7 frames per second)
MAX_FRAMES = 120  # long demos (Transport) take a larger stride, so every GIF stays small
FRAME_MS = 100  # GIF frame time: 1.5x real time at the base stride
LAST_FRAME_MS = 1500  # hold the final state, where success is visible
MAX_ATTEMPTS = 10  # generation attempts before the scripted expert stands in
INDEX = "README.md"
MAX_SHOWN_WIDTH = 320  # the index scales wide pictures down so a row fits a GitHub page


@dataclass(frozen=True)
class Item:
    """One task-variant of the gallery."""

    entry: TaskEntry
    variant: str

    @property
    def task(self) -> str:
        """The task's name, ``Threading``."""
        return self.entry.name

    @property
    def name(self) -> str:
        """File stem, ``threading-d1``."""
        return f"{self.entry.slug}-{self.variant.lower()}"

    @property
    def env_id(self) -> str:
        """The registered id, ``DexMG/Threading-D1-v0``."""
        return self.entry.env_id(self.variant)


def select_items(tasks: Sequence[str] = (), variants: Sequence[str] = ()) -> list[Item]:
    """The core task-variants to draw, in registry order (empty = all).

    Raises:
        UserInputError: a task that is not a core task, a variant no task has, or a selection
            that leaves nothing.
    """
    core = {t.name: t for t in TASKS}
    for name in tasks:  # each name resolved once; an unknown one's error lists close matches
        if envs.task_entry(name).name not in core:
            raise UserInputError(f"the gallery covers the core tasks; {name!r} is not one")
    known = {v for t in TASKS for v in t.variants}
    for v in variants:
        if v not in known:
            raise UserInputError(f"unknown variant {v!r}; variants: {sorted(known)}")
    items = [
        Item(t, v)
        for t in TASKS
        if not tasks or t.name in tasks
        for v in t.variants
        if not variants or v in variants
    ]
    if not items:
        raise UserInputError(f"no task has the variants {list(variants)}: nothing to draw")
    return items


def tile(frames: Sequence[np.ndarray], gap: int = GAP) -> np.ndarray:
    """Frames of one size in a near-square grid (row-major), white gutters and empty cells."""
    if not frames:
        raise ValueError("`frames` must hold at least one image.")
    h, w, c = frames[0].shape
    cols = math.ceil(math.sqrt(len(frames)))
    rows = math.ceil(len(frames) / cols)
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, c), 255, np.uint8)
    for k, image in enumerate(frames):
        r, col = divmod(k, cols)
        out[r * (h + gap) : r * (h + gap) + h, col * (w + gap) : col * (w + gap) + w] = image
    return out


def frame(env: Any, side: int) -> np.ndarray:
    """The env's ``render()`` camera at ``side`` px (one env serves both picture sizes)."""
    return env.physics.render(env.config.render_camera, side, side)


def reset_frames(env: Any, seeds: Sequence[int], side: int) -> list[np.ndarray]:
    """The scene after ``reset(seed=s)`` for each seed."""
    frames = []
    for s in seeds:
        env.reset(seed=s)
        frames.append(frame(env, side))
    return frames


def demo_to_show(item: Item, seed: int) -> tuple[SourceDemo, dict[str, Any]]:
    """One generated demo of ``item`` (attempts ``0..MAX_ATTEMPTS-1`` of a run seeded ``seed``).

    Falls back to the scripted expert from ``reset(seed)`` when every attempt fails, so each
    task-variant still gets an animation; the returned description names which it is.
    """
    from dexmg_bench.generators.job import GenerateConfig, build_generator, check_inputs

    config = GenerateConfig(task=item.task, variant=item.variant, n=1, seed=seed)
    check_inputs(config)
    generator = build_generator(config)
    try:
        for k in range(MAX_ATTEMPTS):
            attempt = generator.attempt(seed, k)
            if attempt.success and attempt.demo is not None:
                origin = {"origin": "dexmimicgen", "seed": seed, "attempt": k}
                return attempt.demo, origin
        from dexmg_bench.datasets.record import run_expert

        demo, _ = run_expert(generator.env, seed, horizon=item.entry.horizon)
        return demo, {"origin": "scripted expert", "seed": seed, "attempts": MAX_ATTEMPTS}
    finally:
        generator.env.close()


def replay_frames(env: Any, demo: SourceDemo, side: int) -> tuple[list[np.ndarray], bool]:
    """Frames of the demo replayed from its first state, first and last step included.

    Only the frames kept are rendered (rendering costs more than stepping).
    """
    stride = max(FRAME_STRIDE, math.ceil(demo.num_steps / MAX_FRAMES))
    env.reset(seed=demo.seed)
    env.set_state(demo.states[0])
    frames = [frame(env, side)]
    info: dict[str, Any] = {"success": False}
    last = len(demo.actions) - 1
    for t, action in enumerate(demo.actions):
        _, _, _, _, info = env.step(action)
        if (t + 1) % stride == 0 or t == last:
            frames.append(frame(env, side))
    return frames, bool(info["success"])


def save_png(image: np.ndarray, path: Path) -> None:
    """A palette PNG (deterministic: same pixels, same bytes)."""
    pic = Image.fromarray(image).quantize(colors=PNG_COLOURS, method=Image.Quantize.MEDIANCUT)
    pic.save(path, optimize=True)


def save_gif(frames: Sequence[np.ndarray], path: Path) -> None:
    """A looping GIF on one palette drawn from a spread of the frames, without dithering."""
    sample = np.concatenate(list(frames[:: max(1, len(frames) // 8)]), axis=0)
    palette = Image.fromarray(sample).quantize(colors=GIF_COLOURS, method=Image.Quantize.MEDIANCUT)
    images = [
        Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames
    ]
    durations = [FRAME_MS] * (len(images) - 1) + [LAST_FRAME_MS]
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=True
    )


def draw(
    item: Item,
    out: Path,
    *,
    seeds: Sequence[int],
    size: int,
    animate: bool,
    seed: int,
    on_stage: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write ``item``'s picture (and animation) into ``out``; returns its updated description."""
    meta_path = out / f"{item.name}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    meta.update(task=item.task, variant=item.variant, env_id=item.env_id)
    env = item.entry.make_env(item.variant, render_mode="rgb_array", render_size=size)
    try:
        picture = tile(reset_frames(env, seeds, size))
        save_png(picture, out / f"{item.name}.png")
        meta["resets"] = {"seeds": list(seeds), "size": size, "width": picture.shape[1]}
        if animate:
            if on_stage is not None:
                on_stage("generate")
            demo, origin = demo_to_show(item, seed)
            if on_stage is not None:
                on_stage("animate")
            side = animation_side(size)
            frames, success = replay_frames(env, demo, side)
            save_gif(frames, out / f"{item.name}.gif")
            meta["demo"] = {**origin, "steps": demo.num_steps, "success": success, "size": side}
    finally:
        env.close()
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta


def animation_side(size: int) -> int:
    """Animation frames are 3/4 of the picture tiles (180 px at 240), to keep GIFs small."""
    return max(8, size * 3 // 4)


def _demo_caption(demo: dict[str, Any]) -> str:
    if demo["origin"] == "dexmimicgen":
        how = f"DexMimicGen, seed {demo['seed']} attempt {demo['attempt']}"
    else:
        how = f"scripted expert, seed {demo['seed']} (no generation in {demo['attempts']} tries)"
    ok = "success" if demo["success"] else "no success"
    return f"{how}, {demo['steps']} steps, {ok}"


def write_index(out: Path) -> Path:
    """``out/README.md``: one table row per core task-variant drawn in ``out``, registry order."""
    rows = []
    for item in select_items():
        meta_path = out / f"{item.name}.json"
        if not meta_path.exists():
            continue
        meta = json.loads(meta_path.read_text())
        resets = meta["resets"]
        seeds = resets["seeds"]
        pic = f'<img src="{item.name}.png" width="{min(resets["width"], MAX_SHOWN_WIDTH)}">'
        pic += f"<br>seeds {seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else f"<br>seed {seeds[0]}"
        gif = "-"
        if "demo" in meta and (out / f"{item.name}.gif").exists():
            demo = meta["demo"]
            gif = f'<img src="{item.name}.gif" width="{demo["size"]}"><br>{_demo_caption(demo)}'
        rows.append(f"| {item.task} | {item.variant} | `{item.env_id}` | {pic} | {gif} |")
    tasks_doc = "[docs/tasks.md](../tasks.md)" if (out.parent / "tasks.md").exists() else ""
    intro = (
        "Every core task-variant: the `overview` camera after several seeded resets "
        "(`env.reset(seed=s)`), tiled, and one demo generated by DexMimicGen in that variant "
        "from the task's shipped D0 source demos, replayed from its first state. Written by "
        "`dexmg gallery`; the same seed gives the same files."
    )
    if tasks_doc:
        intro += f" Reset ranges, success checks and subtasks: {tasks_doc}."
    lines = [
        "# Task gallery",
        "",
        *textwrap.wrap(intro, width=100, break_on_hyphens=False),
        "",
        "| task | variant | id | seeded resets | one generated demo |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ]
    path = out / INDEX
    path.write_text("\n".join(lines))
    return path
