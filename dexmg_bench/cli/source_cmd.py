"""``dexmg rollout | source | replay | expert-rate``: scripted source demos and their videos."""

from __future__ import annotations

import time
from pathlib import Path

from dexmg_bench import envs  # task_entry through the module: the one resolver
from dexmg_bench.errors import UserInputError, check_min


def save_video(frames: list, path: Path, fps: int) -> None:
    """Write frames as an mp4 (H.264 via imageio's bundled ffmpeg)."""
    import imageio.v2 as imageio

    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimsave(path, frames, fps=fps, macro_block_size=1)


def rollout(
    task: str = "Threading",
    variant: str = "D0",
    seed: int = 0,
    video: Path = Path("out/rollout.mp4"),
    size: int = 256,
) -> None:
    """Roll out the scripted expert once, save an mp4 and print whether it succeeded.

    Args:
        task: task name, e.g. Threading (see `dexmg envs`).
        variant: reset distribution, D0/D1/D2.
        seed: reset and expert-noise seed.
        video: where to write the mp4.
        size: video frame side in pixels.
    """
    from dexmg_bench.datasets.record import run_expert

    check_min("size", size, 8)
    check_min("seed", seed, 0)
    entry = envs.task_entry(task)
    env = entry.make_env(variant, render_mode="rgb_array", render_size=size)
    frames: list = []
    t0 = time.perf_counter()
    episode, info = run_expert(env, seed, horizon=entry.horizon, on_frame=frames.append)
    elapsed = time.perf_counter() - t0
    save_video(frames, video, fps=env.config.control_freq)
    print(f"{task}-{variant} seed {seed}: success={info['success']} terms={info.get('terms', {})}")
    print(f"{episode.num_steps} steps in {elapsed:.1f} s (rendering included); video: {video}")


def source(
    task: str = "Threading",
    n: int = 10,
    out: Path | None = None,
    variant: str = "D0",
    seed: int = 0,
) -> None:
    """Record ``n`` successful *scripted* source demos with datagen info into an HDF5 file.

    Args:
        task: task name (see `dexmg envs`).
        n: number of successful demos to keep.
        out: output file (default: datasets/source/<task>.hdf5).
        variant: reset distribution the demos start from.
        seed: first seed; attempt k uses seed + k.
    """
    from dexmg_bench.datasets.record import record_source_demos
    from dexmg_bench.datasets.source import write_source_file

    check_min("n", n, 1)
    check_min("seed", seed, 0)
    entry = envs.task_entry(task)
    entry.env_id(variant)  # an unknown task or variant, before any recording
    out = out or Path("datasets/source") / f"{entry.slug}.hdf5"
    if out.is_dir():
        raise UserInputError(f"--out {out} is a folder; give the .hdf5 file to write")
    source_file, attempts = record_source_demos(entry, variant=variant, n=n, seed=seed)
    write_source_file(out, source_file)
    lengths = [d.num_steps for d in source_file.demos]
    print(f"{n} scripted demos in {attempts} attempts -> {out}")
    print(f"steps per demo: min {min(lengths)}, max {max(lengths)}")


def replay(file: Path, video: Path | None = None) -> None:
    """Replay every demo of a source file from its first state and report success.

    Args:
        file: a source-demo HDF5 file.
        video: optional mp4 of the first demo's replay.
    """
    from dexmg_bench.datasets.record import replay_demo
    from dexmg_bench.datasets.source import read_source_file

    src = read_source_file(file)
    entry = envs.task_entry(src.task)
    env = entry.make_env(src.variant, render_mode="rgb_array" if video else None)
    ok = 0
    for k, d in enumerate(src.demos):
        frames: list = []
        success = replay_demo(env, d, on_frame=frames.append if video and k == 0 else None)
        ok += success
        print(f"demo_{k} (seed {d.seed}, {d.num_steps} steps): success={success}")
        if frames and video:
            save_video(frames, video, fps=env.config.control_freq)
    print(f"{ok}/{len(src.demos)} demos replay to success")
    if ok < len(src.demos):
        raise SystemExit(1)


def expert_rate(
    task: str = "Threading",
    variant: str = "D0",
    n: int = 50,
    seed: int = 0,
    out: Path | None = None,
) -> None:
    """Success rate of the scripted expert over ``n`` seeded resets.

    Args:
        task: task name (see `dexmg envs`).
        variant: reset distribution.
        n: number of episodes (seeds seed..seed+n-1).
        seed: first seed.
        out: also write the result, per episode and with the versions, to this JSON file.
    """
    from dexmg_bench.datasets.record import measure_expert
    from dexmg_bench.provenance import write_json

    check_min("n", n, 1)
    check_min("seed", seed, 0)
    entry = envs.task_entry(task)
    if out is not None and out.is_dir():
        raise UserInputError(f"--out {out} is a folder; give a .json file")
    row = measure_expert(entry.name, variant, n=n, seed=seed)
    ok = row["successes"]
    print(f"{entry.name}-{variant}: scripted expert success {ok}/{n} = {100 * ok / n:.0f}%")
    if out is not None:
        write_json(out, row, indent=2, sort_keys=True, newline=True)
        print(f"wrote {out}")
