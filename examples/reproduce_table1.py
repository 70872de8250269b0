"""Reproduce the effect of the paper's Table I: BC-RNN trained on generated data beats source-only.

For each task: the shipped scripted source demos become ``dexmg/<task>-source-v0``; DexMimicGen
generates ``--n`` demos (``dexmg/<task>-v0``); a low-dim BC-RNN is trained on each dataset with
the same settings and seeds; both are evaluated with the standard protocol. Results (JSON per
run, a markdown table and a bar chart) go to ``--out``. Not run in CI: at the defaults it takes
hours on 2 CPU cores; every step resumes when rerun.

    python examples/reproduce_table1.py --tasks Threading PieceAssembly --n 1000 --out runs/table1
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import tyro

from dexmg_bench.baselines.bc_rnn.config import BCRNNConfig


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """Settings shared by every run of the experiment."""

    out: Path = Path("runs/table1")
    tasks: tuple[str, ...] = ("Threading", "PieceAssembly")
    n: tuple[int, ...] = (1000,)  # generated demos, one count per task or one for all
    # Existing generated datasets (e.g. a flagship set ``dexmg/box-cleanup-v0``), one per task;
    # "" generates ``--n`` demos for that task instead. Saves regenerating what a build made.
    generated: tuple[str, ...] = ()
    workers: int = 2
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 200
    steps_per_epoch: int = 100
    ckpt_every: int = 50
    episodes: int = 50
    bc_rnn: BCRNNConfig = BCRNNConfig()


def _datasets(task: str, n: int, exp: Experiment, gen_id: str = "") -> dict[str, str]:
    """Source-only and generated Minari datasets of ``task`` (built once, reused when rerun)."""
    import minari

    from dexmg_bench.datasets.minari_io import (
        dataset_id,
        source_info,
        write_generated_job,
        write_minari,
    )
    from dexmg_bench.datasets.source import read_source_file, shipped_source_file
    from dexmg_bench.generators.job import GenerateConfig
    from dexmg_bench.generators.run import generate

    have = set(minari.list_local_datasets())
    src = read_source_file(shipped_source_file(task))
    source_id = dataset_id(task, origin=src.origin)
    if source_id not in have:
        write_minari(src, source_info(src))
    if gen_id:
        if gen_id not in have:
            raise FileNotFoundError(f"--generated {gen_id} is not a local dataset; build it first")
    else:
        gen_id = dataset_id(task, tag=f"n{n}")  # not the flagship id: this set is the experiment's
    if gen_id not in have:
        job = exp.out / "generate" / task
        generate(GenerateConfig(task=task, n=n, workers=exp.workers), job)
        write_generated_job(job, dataset=gen_id)
    # Label with the episodes the dataset really holds (a dataset built earlier may hold fewer).
    n_gen = minari.load_dataset(gen_id).total_episodes
    return {f"source-only ({len(src.demos)})": source_id, f"generated ({n_gen})": gen_id}


def main(exp: Experiment) -> None:
    """Build datasets, train, evaluate, and write the table and chart."""
    from dexmg_bench.baselines.train import TrainConfig, train
    from dexmg_bench.cli.train_cmd import eval as evaluate_run

    rows = []
    if len(exp.n) not in (1, len(exp.tasks)):
        raise ValueError(f"--n needs one count or one per task; got {exp.n} for {exp.tasks}")
    if exp.generated and len(exp.generated) != len(exp.tasks):
        raise ValueError(f"--generated needs one id per task; got {exp.generated} for {exp.tasks}")
    counts = exp.n * len(exp.tasks) if len(exp.n) == 1 else exp.n
    gen_ids = exp.generated or ("",) * len(exp.tasks)
    for task, n, gen_id in zip(exp.tasks, counts, gen_ids, strict=True):
        for label, ds in _datasets(task, n, exp, gen_id).items():
            run = exp.out / task / ("source" if label.startswith("source") else "generated")
            for seed in exp.seeds:
                config = TrainConfig(
                    dataset=ds, seed=seed, epochs=exp.epochs, ckpt_every=exp.ckpt_every,
                    steps_per_epoch=exp.steps_per_epoch, bc_rnn=exp.bc_rnn,
                )  # fmt: skip
                train(config, run)
            result = run / f"eval_{task}-D0.json"
            if not result.exists():
                evaluate_run(run=run, episodes=exp.episodes, workers=exp.workers, out=result)
            res = json.loads(result.read_text())
            rows.append((task, label, res["success_mean"], res["success_std"]))
    table = ["| task | data | success (mean +- std over seeds) |", "|---|---|---|"]
    table += [f"| {t} | {d} | {100 * m:.1f} +- {100 * s:.1f}% |" for t, d, m, s in rows]
    (exp.out / "table1.md").write_text("\n".join(table) + "\n")
    _chart(exp.out / "table1.png", rows)
    print("\n".join(table))


def _chart(path: Path, rows: list[tuple[str, str, float, float]]) -> None:
    """Grouped bars, one pair per task, drawn with Pillow."""
    from PIL import Image, ImageDraw

    w, h, pad = 120 + 160 * len(rows) // 2, 320, 40
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    for i, (task, label, mean, std) in enumerate(rows):
        x = pad + 70 * i + 30 * (i // 2)
        top = h - pad - (h - 2 * pad) * mean
        color = (200, 120, 40) if label.startswith("source") else (31, 119, 180)
        draw.rectangle([x, top, x + 50, h - pad], fill=color)
        err = (h - 2 * pad) * std
        draw.line([x + 25, top - err, x + 25, top + err], fill="black")
        draw.text(
            (x + 8, h - pad + 4),
            "source" if label.startswith("source") else "generated",
            fill="black",
        )
        if i % 2 == 0:  # the task's name once, under its pair
            draw.text((x + 8, h - pad + 18), task, fill="black")
        draw.text((x, top - 14), f"{100 * mean:.0f}%", fill="black")
    draw.text((pad, 8), "BC-RNN success: source-only (orange) vs generated (blue)", fill="black")
    img.save(path)


if __name__ == "__main__":
    main(tyro.cli(Experiment))
