"""``dexmg demo``: the main job in small (what ``make demo`` runs)."""

from __future__ import annotations

import json
from pathlib import Path

from dexmg_bench.cli.options import options
from dexmg_bench.generators.job import GenerateConfig


def demo(
    config: options(GenerateConfig, task="Threading", n=2),
    *,
    out: Path = Path("out/demo"),
    size: int = 256,
) -> None:
    """Generate a few demos from the shipped sources; write Minari, print stats, save a video.

    Takes the options of `dexmg generate`. The dataset is ``dexmg/<task>[-d1|-d2]-demo-v0`` in
    ``$MINARI_DATASETS_PATH`` (replaced on every run, so it never shadows a real generated set).

    Args:
        config: the job, as for `dexmg generate` (n defaults to 2).
        out: job folder; the video is written as <out>/<task>-<variant>.mp4.
        size: video frame side in pixels.
    """
    from dexmg_bench.cli.generate_cmd import check_out_folder
    from dexmg_bench.cli.source_cmd import save_video
    from dexmg_bench.datasets.record import replay_demo
    from dexmg_bench.datasets.source import read_source_file
    from dexmg_bench.errors import check_min
    from dexmg_bench.generators.run import generate

    check_min("size", size, 8)
    entry = config.entry  # resolved once, before any work
    check_out_folder(out)
    task, variant, n = config.task, config.variant, config.n
    print(f"generating {n} {task}-{variant} demos from the shipped scripted source demos ...")
    stats = generate(config, out)
    print(json.dumps(stats, indent=2, sort_keys=True))
    if not stats["complete"]:
        raise SystemExit(f"only {stats['kept']}/{n} demos were generated")
    from dexmg_bench.datasets.minari_io import dataset_id, write_generated_job

    ds = write_generated_job(
        out, dataset=dataset_id(task, variant=variant, tag="demo"), overwrite=True
    )
    print(f"Minari dataset {ds.id}: {ds.total_episodes} episodes ({ds.storage.data_path})")
    episodes = read_source_file(out / stats["output"]).demos
    env = entry.make_env(variant, render_mode="rgb_array", render_size=size)
    frames: list = []
    success = replay_demo(env, episodes[0], on_frame=frames.append)
    video = out / f"{task}-{variant}.mp4"
    save_video(frames, video, fps=env.config.control_freq)
    print(f"replayed generated demo 0 ({episodes[0].num_steps} steps): success={success}")
    print(f"dataset: {out / stats['output']}  video: {video}")
