"""``dexmg gallery``: the task gallery (pictures of seeded resets, one generated demo each)."""

from __future__ import annotations

import time
from pathlib import Path


def gallery(
    *,
    out: Path = Path("docs/gallery"),
    tasks: tuple[str, ...] = (),
    variants: tuple[str, ...] = (),
    resets: int = 4,
    size: int = 240,
    animate: bool = True,
    seed: int = 0,
) -> None:
    """Draw every core task-variant: seeded resets tiled in a PNG, one generated demo as a GIF.

    One picture holds several resets because the spread of the reset distribution is what
    tells the variants apart. The demo is generated in the variant from the task's shipped D0
    source demos (the scripted expert stands in where no attempt succeeds, and the index says
    so). <out>/README.md indexes everything drawn in <out>, so a run over some tasks keeps the
    others. The same seed writes the same bytes.

    Args:
        out: gallery folder.
        tasks: tasks to draw; empty = all nine core tasks.
        variants: variants to draw, e.g. D0; empty = each task's own.
        resets: seeded resets per picture (seeds seed..seed+resets-1), tiled near-square.
        size: side of each reset tile in pixels; animation frames are 3/4 of it.
        animate: also generate and animate one demo per task-variant (about half a minute
            each).
        seed: first reset seed and the generation run's seed.
    """
    from tqdm import tqdm

    from dexmg_bench.datasets.gallery import draw, select_items, write_index
    from dexmg_bench.errors import UserInputError, check_min

    check_min("resets", resets, 1)
    check_min("size", size, 8)
    check_min("seed", seed, 0)
    items = select_items(tasks, variants)
    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out} is a file; give the gallery folder")
    out.mkdir(parents=True, exist_ok=True)
    seeds = range(seed, seed + resets)
    bar = tqdm(items, desc="gallery", unit="variant")
    for item in bar:
        marks = {"pictures": time.perf_counter()}

        def stage(name: str, item_name: str = item.name, marks: dict[str, float] = marks) -> None:
            marks[name] = time.perf_counter()
            bar.set_postfix_str(f"{item_name} {name}")

        stage("pictures")
        meta = draw(item, out, seeds=seeds, size=size, animate=animate, seed=seed, on_stage=stage)
        now = time.perf_counter()
        line = f"{item.name}: pictures {marks.get('generate', now) - marks['pictures']:.1f} s"
        if animate:
            demo = meta["demo"]
            line += (
                f", demo {now - marks['generate']:.1f} s ({demo['origin']}, {demo['steps']} "
                f"steps, success={demo['success']})"
            )
        tqdm.write(line)
    print(f"{len(items)} task-variants drawn; index: {write_index(out)}")
