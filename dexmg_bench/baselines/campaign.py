"""A reference-results campaign: datasets, training seeds and evaluations of many cells, resumable.

A campaign file (TOML, e.g. ``baselines/configs/table1.toml``) names the tasks, the data each
cell trains on (see ``data_kind``: ``source``, the shipped scripted demos; ``generated``, the
task's flagship DexMimicGen set; ``generated-d1``/``-d2``, the same on another reset variant;
``demo-noise``, the Demo-Noise baseline's set; ``-n<K>``, the first K demos of a set), the
policy and its training settings, and the evaluation protocol. ``run``
works through the cells in order and skips what is finished: a dataset that exists, a training
seed whose last checkpoint exists, a cell whose results JSON exists. ``report`` rebuilds the
table (Markdown + JSON) and the chart from the results JSONs alone.

Layout::

    WORK/<task>/<data>/seed<k>/...          training runs (``dexmg train`` layout; not committed)
    RESULTS/<task>_<data>.json              the evaluator's results, per-episode outcomes included
    RESULTS/train_<task>_<data>.json        the training config of that cell
    RESULTS/<name>.md, <name>.json, <name>.png   the table and chart, from ``report``
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dexmg_bench.baselines.bc_rnn.config import BCRNNConfig
from dexmg_bench.baselines.diffusion.config import DiffusionConfig
from dexmg_bench.baselines.registry import POLICIES
from dexmg_bench.errors import InputFileNotFoundError, UserInputError
from dexmg_bench.provenance import write_json

DATA_KINDS = ("source", "generated")
DATA_KIND = re.compile(
    r"^(?P<origin>source|generated|demo-noise)(?:-(?P<variant>d[12]))?(?:-n(?P<first>[1-9]\d*))?$"
)
GENERATORS = {"source": "scripted", "generated": "dexmgen", "demo-noise": "demo-noise"}


@dataclass(frozen=True, kw_only=True)
class DataKind:
    """What a cell trains on, and the variant it is evaluated on, read from the data name.

    ``source``: the shipped scripted demos (D0). ``generated``: the task's DexMimicGen set of the
    campaign's ``generated_n`` demos on D0 (the flagship set); ``generated-d1``/``generated-d2``:
    the same made and evaluated on that variant (Table II). ``demo-noise``: the Demo-Noise
    baseline's set of the same size (Table III). A ``-n<K>`` suffix trains on the set's first K
    demos (dataset-size curves), e.g. ``generated-n100``.
    """

    name: str
    generator: str  # scripted | dexmgen | demo-noise
    variant: str = "D0"
    first: int = 0  # train on the first K episodes; 0 = all


def data_kind(name: str) -> DataKind:
    """Parse a campaign's data name; raises ValueError naming the accepted forms."""
    m = DATA_KIND.match(name)
    if m is None or (m["origin"] == "source" and (m["variant"] or m["first"])):
        raise ValueError(
            f"unknown data {name!r}; use source, generated or demo-noise, the last two with an "
            "optional -d1/-d2 (variant) and -n<K> (first K demos), e.g. generated-d1, "
            "generated-n300."
        )
    return DataKind(
        name=name,
        generator=GENERATORS[m["origin"]],
        variant=(m["variant"] or "d0").upper(),
        first=int(m["first"] or 0),
    )


@dataclass(frozen=True, kw_only=True)
class Campaign:
    """One table of reference results: every (task, data) cell trained and evaluated alike."""

    name: str
    tasks: tuple[str, ...]
    data: tuple[str, ...] = DATA_KINDS
    policy: str = "bc-rnn"
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 100
    steps_per_epoch: int = 100
    ckpt_every: int = 25
    episodes: int = 50
    generated_n: int = 1000  # demos of each generated set (a ``-n<K>`` cell trains on K of them)
    # Policies output world end-effector targets where the task's pose actions are deltas (the
    # Panda tasks; ``TrainConfig.pose_targets``); the GR-1's are absolute poses already.
    pose_targets: bool = False
    bc_rnn: BCRNNConfig = field(default_factory=BCRNNConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    # Published success (%): ``{task: x}`` compares with the ``generated`` column, ``{task:
    # {data: x}}`` with the named columns (``[paper.PieceAssembly]`` ``generated-d1 = 68.0``).
    paper: dict[str, float | dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from dexmg_bench.envs import task_entry

        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(
                f"`name` must be a plain word (letters, digits, - and _). Got {self.name!r}."
            )
        if not self.tasks:
            raise ValueError("`tasks` must name at least one task.")
        for task in (*self.tasks, *self.paper):
            task_entry(task)  # raises with the known names
        if not self.data or len(set(self.data)) != len(self.data):
            raise ValueError(f"`data` must be distinct and non-empty. Got {self.data}.")
        kinds = [data_kind(d) for d in self.data]  # raises for an unknown name
        if too_many := [k.name for k in kinds if k.first >= self.generated_n]:
            raise ValueError(
                f"{too_many}: a -n<K> cell trains on fewer than the {self.generated_n} demos "
                "of its set (`generated_n`)."
            )
        for task, value in self.paper.items():
            if isinstance(value, dict) and (unknown := sorted(set(value) - set(self.data))):
                raise ValueError(f"`paper.{task}` names data not in `data`: {unknown}.")
        if self.policy not in POLICIES:
            raise ValueError(f"`policy` must be one of {POLICIES}. Got {self.policy!r}.")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"`seeds` must be distinct and non-empty. Got {self.seeds}.")
        for name in ("epochs", "steps_per_epoch", "ckpt_every", "episodes", "generated_n"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1. Got {getattr(self, name)}.")
        if self.epochs // self.ckpt_every < 3:  # noqa: PLR2004 (the protocol's minimum)
            raise ValueError(
                f"the protocol takes the best of >= 3 checkpoints per seed; epochs {self.epochs} "
                f"with ckpt_every {self.ckpt_every} gives {self.epochs // self.ckpt_every}."
            )

    @classmethod
    def from_toml(cls, path: Path) -> Campaign:
        """Read a campaign file; unknown keys are refused by name."""
        try:
            raw = tomllib.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise UserInputError(f"{path}: not a readable campaign TOML ({err})") from err
        check_table(cls, raw, f"{path}")
        fields = dataclasses.fields(cls)
        needed = [f.name for f in fields if f.default is f.default_factory is dataclasses.MISSING]
        if missing := [k for k in needed if k not in raw]:
            raise UserInputError(f"{path}: missing keys {missing} (a campaign needs {needed})")
        kw: dict[str, Any] = dict(raw)
        for key in ("tasks", "data", "seeds"):
            if key in kw:
                kw[key] = tuple(kw[key])
        if "bc_rnn" in kw:
            kw["bc_rnn"] = BCRNNConfig.from_json({**BCRNNConfig().to_json(), **kw["bc_rnn"]})
        if "diffusion" in kw:
            kw["diffusion"] = DiffusionConfig.from_json(
                {**DiffusionConfig().to_json(), **kw["diffusion"]}
            )
        try:
            return cls(**kw)
        except ValueError as err:  # a value the campaign's own checks refuse
            raise UserInputError(f"{path}: {err}") from err

    def train_config(self, task: str, data: str, seed: int) -> Any:
        """The ``TrainConfig`` of one seed of one cell."""
        from dexmg_bench.baselines.train_config import TrainConfig
        from dexmg_bench.envs import HUMANOID, task_entry

        return TrainConfig(
            dataset=dataset_id(task, data),
            max_episodes=data_kind(data).first,
            policy=self.policy,
            seed=seed,
            epochs=self.epochs,
            steps_per_epoch=self.steps_per_epoch,
            ckpt_every=self.ckpt_every,
            pose_targets=self.pose_targets and task_entry(task).embodiment != HUMANOID,
            bc_rnn=self.bc_rnn,
            diffusion=self.diffusion,
        )


def check_table(cls: type, raw: dict[str, Any], where: str) -> None:
    """Refuse an unknown key or a value of the wrong type by name, before the dataclass sees it.

    A dataclass's own checks compare values (``epochs < 1``); given ``tasks = 5`` or
    ``hidden_dim = "x"`` they would fail deep inside with a ``TypeError``. Nested tables
    (``[bc_rnn]``, ``[bc_rnn.encoder]``) are checked against their own dataclasses.
    """
    known = {f.name for f in dataclasses.fields(cls)}
    if unknown := sorted(set(raw) - known):
        raise UserInputError(f"{where}: unknown keys {unknown}; known: {sorted(known)}")
    hints = typing.get_type_hints(cls)
    for key, value in raw.items():
        expected = hints[key]
        if dataclasses.is_dataclass(expected):
            if not isinstance(value, dict):
                raise UserInputError(f"{where}: `{key}` must be a table ([{key}]); got {value!r}")
            check_table(expected, value, f"{where} [{key}]")
        elif not _matches(value, expected):
            raise UserInputError(f"{where}: `{key}` must be {_describe(expected)}; got {value!r}")


_SCALARS: dict[Any, Any] = {
    bool: lambda v: isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    str: lambda v: isinstance(v, str),
}


def _matches(value: Any, tp: Any) -> bool:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp in _SCALARS:
        return _SCALARS[tp](value)
    if origin is tuple:
        return isinstance(value, list) and all(_matches(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            _matches(k, args[0]) and _matches(v, args[1]) for k, v in value.items()
        )
    if origin is Literal:
        return value in args
    if origin is types.UnionType:
        return any(_matches(value, a) for a in args)
    return True  # any other annotation is left to the dataclass's own checks


def _describe(tp: Any) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if origin is tuple:
        return f"a list of {_describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return f"a table of {_describe(args[1]).removeprefix('a ').removeprefix('an ')}s"
    if origin is Literal:
        return f"one of {list(args)}"
    if origin is types.UnionType:
        return " or ".join(_describe(a) for a in args)
    return names.get(tp, str(tp))


def dataset_id(task: str, data: str) -> str:
    """The Minari id a cell trains on: ``dexmg/<task>[-source][-d1][-demo-noise]-v0``."""
    from dexmg_bench.datasets.minari_io import dataset_id as catalogue_id

    kind = data_kind(data)
    if kind.generator == "scripted":
        return catalogue_id(task, origin="scripted")
    tag = "" if kind.generator == "dexmgen" else kind.generator
    return catalogue_id(task, variant=kind.variant, tag=tag)


def results_path(results: Path, task: str, data: str) -> Path:
    """Where a cell's results JSON lives."""
    return results / f"{task}_{data}.json"


def ensure_dataset(campaign: Campaign, task: str, data: str, *, jobs: Path, workers: int) -> str:
    """Build the cell's dataset unless it is in the local Minari store; returns its id.

    A generated set is one job of ``generated_n`` kept demos with seed 0 (for ``generated``,
    the flagship job, exactly what ``dexmg datasets build --flagship N`` makes); an
    interrupted build resumes. ``-n<K>`` cells share their full set.
    """
    import minari

    from dexmg_bench.datasets.minari_io import source_info, write_generated_job, write_minari
    from dexmg_bench.datasets.source import read_source_file, shipped_source_file

    ds_id, kind = dataset_id(task, data), data_kind(data)
    if ds_id in minari.list_local_datasets():
        have = minari.load_dataset(ds_id).total_episodes
        if kind.generator == "scripted" or have >= campaign.generated_n:
            return ds_id
        raise ValueError(
            f"{ds_id} holds {have} episodes, the campaign trains on {campaign.generated_n}; "
            "remove it (`minari delete`) and rerun to build the full set."
        )
    if kind.generator == "scripted":
        src = read_source_file(shipped_source_file(task))
        write_minari(src, source_info(src))
        return ds_id
    from dexmg_bench.generators.job import GenerateConfig
    from dexmg_bench.generators.run import generate

    config = GenerateConfig(
        task=task,
        variant=kind.variant,
        n=campaign.generated_n,
        workers=workers,
        generator=kind.generator,  # type: ignore[arg-type] (a GENERATORS value)
    )
    flagship = kind.generator == "dexmgen" and kind.variant == "D0"
    job = jobs / (task if flagship else f"{task}-{kind.generator}-{kind.variant.lower()}")
    generate(config, job)
    write_generated_job(job, dataset=ds_id, flagship=True)  # the id the cells train on
    return ds_id


def run_cell(
    campaign: Campaign,
    task: str,
    data: str,
    *,
    work: Path,
    results: Path,
    jobs: Path,
    workers: int,
    progress: bool = True,
) -> dict[str, Any]:
    """Dataset, every training seed, then the evaluation of one cell; each step resumes."""
    out = results_path(results, task, data)
    run = work / task / data
    if out.exists():
        if run.exists():  # fill in a training record an earlier version did not write
            _write_train_record(campaign, task, data, run, results)
        return json.loads(out.read_text())
    from dexmg_bench.baselines.checkpoint import run_checkpoints
    from dexmg_bench.baselines.policy import TrainedPolicy
    from dexmg_bench.baselines.train import train_seeds
    from dexmg_bench.evaluation import EvalProtocol
    from dexmg_bench.evaluation.evaluate import evaluate

    ensure_dataset(campaign, task, data, jobs=jobs, workers=workers)
    configs = [campaign.train_config(task, data, seed) for seed in campaign.seeds]
    train_seeds(configs, run, processes=workers, progress=progress)  # `workers` seeds at a time
    checkpoints: dict[int, dict[str, Any]] = {}
    for seed in campaign.seeds:
        paths = run_checkpoints(run / f"seed{seed}")
        checkpoints[seed] = {p.stem: (lambda p=p, s=seed: TrainedPolicy(p, seed=s)) for p in paths}
    _write_train_record(campaign, task, data, run, results)
    protocol = EvalProtocol(
        task=task,
        variant=data_kind(data).variant,
        episodes=campaign.episodes,
        training_seeds=campaign.seeds,
        workers=workers,
    )
    res = evaluate(  # an interrupted evaluation resumes at its next checkpoint
        protocol, checkpoints, policy_name=campaign.policy, progress=progress,
        resume=run / "eval_checkpoints.jsonl",
    )  # fmt: skip
    res = json.loads(json.dumps(res))  # as it reads back from the file (tuples become lists)
    write_json(out, res)  # written once, atomically
    return res


def _write_train_record(campaign: Campaign, task: str, data: str, run: Path, results: Path) -> None:
    """The cell's training config (seed removed) and each seed's measured samples/s."""
    record = campaign.train_config(task, data, campaign.seeds[0]).to_json()
    del record["seed"]
    speed = {}
    for seed in campaign.seeds:
        log = run / f"seed{seed}" / "log.jsonl"
        if log.exists():
            rates = [json.loads(line)["samples_per_s"] for line in log.read_text().splitlines()]
            speed[str(seed)] = sum(rates) / len(rates)
    record["samples_per_s"] = speed
    results.mkdir(parents=True, exist_ok=True)
    (results / f"train_{task}_{data}.json").write_text(json.dumps(record, indent=1) + "\n")


# ------------------------------------------------------------------ report


def load_results(campaign: Campaign, results: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Every finished cell's results JSON, keyed by (task, data)."""
    found = {}
    for task in campaign.tasks:
        for data in campaign.data:
            path = results_path(results, task, data)
            if path.exists():
                found[(task, data)] = json.loads(path.read_text())
    return found


def cell_text(res: dict[str, Any] | None) -> str:
    """One table cell: mean +- std over training seeds in percent, or ``not run``."""
    if res is None:
        return "not run"
    return f"{100 * res['success_mean']:.1f} +- {100 * res['success_std']:.1f}"


def summary(campaign: Campaign, results: Path) -> dict[str, Any]:
    """The table as data: per task and data kind, mean/std/per-seed best, with provenance."""
    found = load_results(campaign, results)
    rows = []
    for task in campaign.tasks:
        row: dict[str, Any] = {"task": task, "paper": paper_values(campaign, task)}
        for data in campaign.data:
            res = found.get((task, data))
            if res is None:
                row[data] = None
                continue
            train_file = results / f"train_{task}_{data}.json"
            train_cfg = json.loads(train_file.read_text()) if train_file.exists() else {}
            row[data] = {
                "success_mean": res["success_mean"],
                "success_std": res["success_std"],
                "best_per_seed": [r["best_rate"] for r in res["per_seed"]],
                "best_checkpoints": [r["best_checkpoint"] for r in res["per_seed"]],
                "episodes": res["protocol"]["episodes"],
                "checkpoints_per_seed": len(res["per_seed"][0]["rates"]),
                "dataset": train_cfg.get("dataset"),
                "results": results_path(results, task, data).name,
                "versions": res.get("versions", {}),
                "train_samples_per_s": train_cfg.get("samples_per_s", {}),
                "eval_episodes_per_min": _episodes_per_min(res),
            }
        rows.append(row)
    return {"campaign": campaign.name, "policy": campaign.policy, "rows": rows}


def paper_values(campaign: Campaign, task: str) -> dict[str, float]:
    """The published numbers of one task, by the data column each compares with."""
    value = campaign.paper.get(task)
    if value is None:
        return {}
    return dict(value) if isinstance(value, dict) else {"generated": float(value)}


def _paper_columns(campaign: Campaign) -> list[str]:
    """The data columns that have a published number for some task, in the campaign's order."""
    have = {d for t in campaign.tasks for d in paper_values(campaign, t)}
    return [d for d in campaign.data if d in have]


def _episodes_per_min(res: dict[str, Any]) -> float | None:
    """Evaluation throughput of a cell: all its episodes over their measured rollout time."""
    seconds = res.get("rollout_seconds") or res.get("wall_seconds")  # the latter: older cells
    if not seconds:
        return None
    n = sum(len(eps) for eps in res["episodes"].values())
    return 60 * n / seconds


def markdown(campaign: Campaign, table: dict[str, Any]) -> str:
    """The table as Markdown: one row per task, one column per data kind, plus the paper."""
    compared = _paper_columns(campaign)
    single = compared == ["generated"]  # Table I's form: one paper column
    heads = [f"{d} (%)" for d in campaign.data]
    for d in compared:
        heads += ["paper (%)", "within 10 of paper"] if single else [
            f"paper {d} (%)", f"{d} within 10 of paper"
        ]  # fmt: skip
    lines = ["| task | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    for row in table["rows"]:
        cells = [cell_text(row[data]) for data in campaign.data]
        for d in compared:
            paper, ours = row["paper"].get(d), row.get(d)
            cells.append("" if paper is None else f"{paper:.1f}")
            near = "" if paper is None or ours is None else (
                "yes" if 100 * ours["success_mean"] >= paper - 10 else "no"
            )  # fmt: skip
            cells.append(near)
        lines.append(f"| {row['task']} | " + " | ".join(cells) + " |")
    lines += ["", "| task | data | train samples/s (mean over seeds) | eval episodes/min |"]
    lines.append("|---|---|---|---|")
    for row in table["rows"]:
        for data in campaign.data:
            r = row[data]
            if r is None:
                continue
            rates = list(r["train_samples_per_s"].values())
            train = f"{sum(rates) / len(rates):.0f}" if rates else "not recorded"
            epm = r["eval_episodes_per_min"]
            lines.append(
                f"| {row['task']} | {data} | {train} | "
                + ("not recorded" if epm is None else f"{epm:.1f}")
                + " |"
            )
    return "\n".join(lines) + "\n"


def chart(campaign: Campaign, table: dict[str, Any], path: Path) -> None:
    """Grouped bars (one group per task, one bar per data kind, the paper as a tick)."""
    from PIL import Image, ImageDraw

    palette = [(200, 120, 40), (31, 119, 180), (44, 160, 44), (148, 103, 189), (140, 86, 75)]
    colours = {d: palette[i % len(palette)] for i, d in enumerate(campaign.data)}
    n_tasks, n_data = len(table["rows"]), len(campaign.data)
    group = 28 * n_data + 36
    w, h, pad, base = 80 + group * n_tasks, 360, 40, 300
    img = Image.new("RGB", (max(w, 420), h), "white")
    draw = ImageDraw.Draw(img)
    draw.text(
        (pad, 8), f"{campaign.name}: {campaign.policy} success (3 seeds, best ckpt)", fill="black"
    )
    legend_x = pad
    for data in campaign.data:
        draw.rectangle([legend_x, 24, legend_x + 10, 34], fill=colours[data])
        draw.text((legend_x + 14, 23), data, fill="black")
        legend_x += 90
    draw.text((legend_x, 23), "- paper", fill="black")
    scale = base - pad - 20
    for i, row in enumerate(table["rows"]):
        x0 = pad + i * group
        for j, data in enumerate(campaign.data):
            r = row[data]
            x = x0 + 28 * j
            if r is None:
                draw.text((x + 4, base - 12), "-", fill="gray")
                continue
            top = base - scale * r["success_mean"]
            draw.rectangle([x, top, x + 22, base], fill=colours[data])
            err = scale * r["success_std"]
            draw.line([x + 11, top - err, x + 11, min(base, top + err)], fill="black")
            draw.text((x, top - 12), f"{100 * r['success_mean']:.0f}", fill="black")
        for j, data in enumerate(campaign.data):
            if (paper := row["paper"].get(data)) is not None:  # a tick over its own bar
                y = base - scale * paper / 100
                draw.line([x0 + 28 * j - 2, y, x0 + 28 * j + 24, y], fill="black", width=2)
        draw.text((x0, base + 6), row["task"][:11], fill="black")
    draw.line([pad - 4, base, img.width - 10, base], fill="gray")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def report(campaign: Campaign, results: Path) -> dict[str, Any]:
    """Write ``<name>.md``, ``<name>.json`` and ``<name>.png`` into ``results``."""
    table = summary(campaign, results)
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{campaign.name}.json").write_text(json.dumps(table, indent=1) + "\n")
    (results / f"{campaign.name}.md").write_text(markdown(campaign, table))
    chart(campaign, table, results / f"{campaign.name}.png")
    return table


# ------------------------------------------------------------------ leaderboard entry

_POLICY_FILE = '''"""Reference entry: a dexmg-bench baseline checkpoint (.npz, no pickle)."""

import numpy as np


class ReferencePolicy:
    """Loads the checkpoint with dexmg-bench's ``TrainedPolicy`` and acts on each observation."""

    def __init__(self, *, checkpoint: str, task: str, variant: str):
        import torch

        from dexmg_bench.baselines.policy import TrainedPolicy

        torch.set_num_threads(1)
        self.inner = TrainedPolicy(checkpoint)

    def reset(self) -> None:
        """New episode: forget the recurrent context."""
        self.inner.reset()

    def act(self, obs: dict) -> np.ndarray:
        """The network's action in the env's units."""
        return self.inner.act(obs)
'''


def strip_checkpoint(src: Path, dst: Path) -> None:
    """Copy a checkpoint without its optimizer state and RNG (the grader never trains)."""
    import numpy as np

    with np.load(src, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files if not k.startswith("optim/") and k != "torch_rng"}
    meta = json.loads(str(arrays["meta"]))
    meta.pop("optimizer_groups", None)
    meta.pop("numpy_rng", None)
    arrays["meta"] = np.array(json.dumps(meta))
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(dst, "wb") as f:
        np.savez(f, **arrays)


def package(
    campaign: Campaign, task: str, data: str, *, work: Path, results: Path, out: Path, cards: Path
) -> Path:
    """A leaderboard submission folder from one finished cell: checkpoints, claims, yaml.

    The claims are the cell's own results on the public evaluator seeds; the grader reruns every
    checkpoint on hidden seeds. Then ``dexmg leaderboard submit OUT`` and ``grade``.
    """
    from dexmg_bench import __version__
    from dexmg_bench.baselines.checkpoint import run_checkpoints
    from dexmg_bench.datasets.source import kebab
    from dexmg_bench.leaderboard.manifest import card_sha256

    res_path = results_path(results, task, data)
    if not res_path.exists():
        raise InputFileNotFoundError(f"{res_path}: the cell has no results yet; run it first")
    res = json.loads(res_path.read_text())
    run = work / task / data
    for seed in campaign.seeds:
        ckpts = run_checkpoints(run / f"seed{seed}")
        if not ckpts:
            raise InputFileNotFoundError(f"{run / f'seed{seed}'}: no checkpoints to package")
        for ckpt in ckpts:
            strip_checkpoint(ckpt, out / "checkpoints" / f"seed{seed}" / ckpt.name)
    claims = {
        "episodes": res["protocol"]["episodes"],
        "success_rate": {str(s["training_seed"]): s["rates"] for s in res["per_seed"]},
    }
    (out / "claims").mkdir(parents=True, exist_ok=True)
    (out / "claims" / f"{task}-{res['variant']}.json").write_text(json.dumps(claims, indent=1))
    (out / "policy").mkdir(parents=True, exist_ok=True)
    (out / "policy" / "reference_policy.py").write_text(_POLICY_FILE)
    ds = dataset_id(task, data)
    sha = card_sha256(ds, cards) or ""
    from dexmg_bench.datasets.loader import load
    from dexmg_bench.datasets.source import read_source_file, shipped_source_file

    n_demos = load(ds).total_episodes  # a missing dataset is an input error, named
    kind = data_kind(data)
    generated = 0 if kind.generator == "scripted" else min(kind.first or n_demos, n_demos)
    n_source = len(read_source_file(shipped_source_file(task), lazy=True).demos)
    commit = str(res.get("versions", {}).get("dexmg_bench_commit", "unknown"))
    cfg = campaign.bc_rnn if campaign.policy.startswith("bc-rnn") else campaign.diffusion
    lines = [
        f"# Reference entry: {campaign.policy} of the {campaign.name} campaign "
        f"(baselines/configs/{campaign.name}.toml), {task}, trained on {ds}.",
        f"# {json.dumps(cfg.to_json())}",
        f"# {campaign.epochs * campaign.steps_per_epoch} steps, a checkpoint every "
        f"{campaign.ckpt_every * campaign.steps_per_epoch} (optimizer state stripped).",
        "schema_version: 1",
        f'benchmark_version: "{__version__}"',
        "team: dexmg",
        f"method: {campaign.policy}-{campaign.name}-{kebab(task)}-{data}",
        "track: lowdim",
        f"tasks: [{task}-{res['variant']}]",
        "policy:",
        '  entry_point: "reference_policy:ReferencePolicy"',
        "dataset:",
        f"  id: {ds}",
        f"  sha256: {sha}",
        f"  source_demos: {n_source}",  # a generated set was made from the shipped sources
        f"  generated_demos: {generated}",
        f"training_seeds: [{', '.join(str(s) for s in campaign.seeds)}]",
        'checkpoint_selection: "every checkpoint; the grader takes the best per seed"',
        "code:",
        "  url: https://github.com/dexmg-bench/dexmg-bench",
        f'  commit: "{commit[:12]}"',  # quoted: an all-digit hash is a number in YAML
        "license: MIT",
        "contact: maintainers@dexmg-bench.org",
    ]
    (out / "submission.yaml").write_text("\n".join(lines) + "\n")
    return out
