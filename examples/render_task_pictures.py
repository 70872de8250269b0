"""The README's task pictures: one small PNG per task, ``docs/images/<task>.png``.

Each picture is the ``overview`` camera after ``env.reset(seed=0)`` on the task's D0 variant,
rendered offscreen (``MUJOCO_GL=osmesa`` or ``egl``) and saved as a 128-colour PNG.

    MUJOCO_GL=osmesa python examples/render_task_pictures.py
    MUJOCO_GL=osmesa python examples/render_task_pictures.py --tasks Threading --out /tmp/pics
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
from PIL import Image

import dexmg_bench  # noqa: F401  (registers the DexMG namespace)
from dexmg_bench.datasets.source import kebab
from dexmg_bench.envs import TASKS

WIDTH, HEIGHT = 320, 240
COLOURS = 128


def render_task(task: str, out: Path) -> Path:
    """Write ``out/<task>.png`` (kebab-case name) from the D0 scene of ``task`` at seed 0."""
    env = gym.make(f"DexMG/{task}-D0-v0", render_mode="rgb_array")
    try:
        env.reset(seed=0)
        frame = env.unwrapped.physics.render("overview", WIDTH, HEIGHT)
    finally:
        env.close()
    path = out / f"{kebab(task)}.png"
    image = Image.fromarray(frame).quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT)
    image.save(path, optimize=True)
    return path


def main() -> None:
    """Render the pictures of the chosen tasks (default: all nine)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=[t.name for t in TASKS])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for task in args.tasks:
        path = render_task(task, args.out)
        print(f"{path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
