"""``submission.yaml`` as frozen dataclasses; errors name the file, the field and what is valid.

A submission is one folder ``<team>__<method>/``: ``submission.yaml``, ``policy/`` (pure Python),
``checkpoints/[<Task>-<Variant>/]seed<k>/<name>.{npz,safetensors}`` (at most 5 per training seed),
``claims/<Task>-<Variant>.json`` (the submitter's own per-checkpoint rates on public dev seeds) and
``MANIFEST.sha256``. Nothing here imports the submission's code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dexmg_bench.datasets.minari_io import DATASET_ID
from dexmg_bench.errors import UserInputError

SCHEMA_VERSION = 1
TRACKS = ("lowdim", "image")
MAX_CHECKPOINTS = 5
CHECKPOINT_SUFFIXES = (".npz", ".safetensors")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_ENTRY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
_TASK_VARIANT = re.compile(r"^([A-Za-z]+)-(D[012])$")


class SubmissionError(UserInputError):
    """A submission that cannot be accepted; the message says where and what is valid."""


def _need(cond: bool, field: str, valid: str, got: Any) -> None:
    if not cond:
        raise ValueError(f"`{field}` must be {valid}; got {got!r}")


@dataclass(frozen=True, kw_only=True)
class DatasetRef:
    """The training data: Minari id with version, its sha256, and how many demos were used."""

    id: str
    sha256: str
    source_demos: int
    generated_demos: int

    def __post_init__(self) -> None:
        _need(bool(DATASET_ID.match(self.id)), "dataset.id", "'namespace/name-vN'", self.id)
        _need(bool(_SHA256.match(self.sha256)), "dataset.sha256", "64 hex digits", self.sha256)
        for f in ("source_demos", "generated_demos"):
            v = getattr(self, f)
            _need(isinstance(v, int) and v >= 0, f"dataset.{f}", "an integer >= 0", v)


@dataclass(frozen=True, kw_only=True)
class CodeRef:
    """Where the training code lives, pinned to a commit."""

    url: str
    commit: str

    def __post_init__(self) -> None:
        _need(self.url.startswith("https://"), "code.url", "an https:// URL", self.url)
        _need(bool(_COMMIT.match(self.commit)), "code.commit", "7-40 hex digits", self.commit)


@dataclass(frozen=True, kw_only=True)
class Submission:
    """One ``submission.yaml``, validated; ``folder`` is where it was read from."""

    schema_version: int
    benchmark_version: str
    team: str
    method: str
    track: str
    tasks: tuple[str, ...]
    entry_point: str
    dataset: DatasetRef
    training_seeds: tuple[int, ...]
    checkpoint_selection: str
    code: CodeRef
    license: str
    contact: str

    def __post_init__(self) -> None:
        _need(self.schema_version == SCHEMA_VERSION, "schema_version", str(SCHEMA_VERSION), None)
        _need(bool(_NAME.match(self.team)), "team", "lower-case [a-z0-9-], <= 40", self.team)
        _need(bool(_NAME.match(self.method)), "method", "lower-case [a-z0-9-], <= 40", self.method)
        _need(self.track in TRACKS, "track", f"one of {TRACKS}", self.track)
        _need(len(self.tasks) >= 1, "tasks", "a non-empty list like ['Threading-D0']", self.tasks)
        for tv in self.tasks:
            _need(bool(_TASK_VARIANT.match(tv)), "tasks", "items like 'Threading-D0'", tv)
        _need(len(set(self.tasks)) == len(self.tasks), "tasks", "without duplicates", self.tasks)
        _need(bool(_ENTRY.match(self.entry_point)), "policy.entry_point", "'module:Class'", None)
        seeds = self.training_seeds
        _need(
            len(seeds) == 3 and len(set(seeds)) == 3 and all(isinstance(s, int) for s in seeds),
            "training_seeds",
            "3 distinct integers",
            seeds,
        )
        _need(bool(self.checkpoint_selection.strip()), "checkpoint_selection", "non-empty", "")
        _need(bool(self.license.strip()), "license", "an SPDX id such as MIT", self.license)
        _need("@" in self.contact, "contact", "an e-mail address", self.contact)

    @property
    def folder_name(self) -> str:
        """``<team>__<method>``, the folder this submission must live in."""
        return f"{self.team}__{self.method}"


def _get(d: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in d:
        raise ValueError(f"`{where}{key}` is missing")
    v = d[key]
    if kind is float and isinstance(v, int):
        v = float(v)
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        hint = ""
        if kind is str and isinstance(v, int | float):  # YAML reads 519371473049 as a number
            hint = f' (YAML read it as a number; quote it: {key}: "{v}")'
        raise ValueError(f"`{where}{key}` must be a {kind.__name__}; got {v!r}{hint}")
    return v


def parse_submission(data: Any) -> Submission:
    """A ``Submission`` from the parsed YAML mapping (``ValueError`` names the field)."""
    if not isinstance(data, dict):
        raise ValueError("the top level must be a mapping")
    known = {
        "schema_version", "benchmark_version", "team", "method", "track", "tasks", "policy",
        "dataset", "training_seeds", "checkpoint_selection", "code", "license", "contact",
    }  # fmt: skip
    extra = sorted(set(data) - known)
    if extra:
        raise ValueError(f"unknown fields {extra}; valid fields: {sorted(known)}")
    policy = _get(data, "policy", dict, "")
    ds = _get(data, "dataset", dict, "")
    code = _get(data, "code", dict, "")
    return Submission(
        schema_version=_get(data, "schema_version", int, ""),
        benchmark_version=str(_get(data, "benchmark_version", str, "")),
        team=_get(data, "team", str, ""),
        method=_get(data, "method", str, ""),
        track=_get(data, "track", str, ""),
        tasks=tuple(_get(data, "tasks", list, "")),
        entry_point=_get(policy, "entry_point", str, "policy."),
        dataset=DatasetRef(
            id=_get(ds, "id", str, "dataset."),
            sha256=_get(ds, "sha256", str, "dataset."),
            source_demos=_get(ds, "source_demos", int, "dataset."),
            generated_demos=_get(ds, "generated_demos", int, "dataset."),
        ),
        training_seeds=tuple(_get(data, "training_seeds", list, "")),
        checkpoint_selection=_get(data, "checkpoint_selection", str, ""),
        code=CodeRef(
            url=_get(code, "url", str, "code."), commit=_get(code, "commit", str, "code.")
        ),
        license=_get(data, "license", str, ""),
        contact=_get(data, "contact", str, ""),
    )


def load_submission(folder: Path) -> Submission:
    """Read and validate ``folder/submission.yaml``; errors start with the file's path."""
    import yaml

    path = folder / "submission.yaml"
    if not path.is_file():
        raise SubmissionError(f"{path}: missing (every submission folder needs one)")
    try:
        sub = parse_submission(yaml.safe_load(path.read_text()))
    except yaml.YAMLError as err:
        raise SubmissionError(f"{path}: not valid YAML ({err})") from err
    except ValueError as err:
        raise SubmissionError(f"{path}: {err}") from err
    if folder.resolve().name != sub.folder_name:
        raise SubmissionError(
            f"{path}: `team`/`method` say the folder must be named {sub.folder_name!r}; "
            f"it is {folder.resolve().name!r}"
        )
    return sub


def split_task(task_variant: str) -> tuple[str, str]:
    """``'Threading-D0'`` -> ``('Threading', 'D0')``."""
    m = _TASK_VARIANT.match(task_variant)
    if m is None:
        raise ValueError(f"not a task-variant like 'Threading-D0': {task_variant!r}")
    return m.group(1), m.group(2)


def checkpoints(folder: Path, sub: Submission, task_variant: str) -> dict[int, dict[str, Path]]:
    """``{training_seed: {name: path}}``, 1 to 5 per seed, sorted by name.

    From ``checkpoints/<Task>-<Variant>/seed<k>/`` if it exists, else ``checkpoints/seed<k>/``.
    """
    base = folder / "checkpoints" / task_variant
    if not base.is_dir():
        base = folder / "checkpoints"
    out: dict[int, dict[str, Path]] = {}
    for seed in sub.training_seeds:
        d = base / f"seed{seed}"
        files = sorted(p for p in d.glob("*") if p.suffix in CHECKPOINT_SUFFIXES)
        if not 1 <= len(files) <= MAX_CHECKPOINTS:
            raise SubmissionError(
                f"{d}: needs 1 to {MAX_CHECKPOINTS} checkpoints ({'/'.join(CHECKPOINT_SUFFIXES)}) "
                f"for training seed {seed} of {task_variant}; found {len(files)}"
            )
        out[seed] = {p.stem: p for p in files}
    return out


@dataclass(frozen=True, kw_only=True)
class Claims:
    """The submitter's own rates on public dev seeds: ``{seed: {checkpoint: rate}}`` of N each."""

    episodes: int
    rates: dict[int, dict[str, float]]

    def __post_init__(self) -> None:
        _need(self.episodes >= 1, "episodes", "an integer >= 1", self.episodes)
        for seed, per in self.rates.items():
            for name, r in per.items():
                _need(0.0 <= r <= 1.0, f"success_rate.{seed}.{name}", "in [0, 1]", r)


def load_claims(folder: Path, task_variant: str, ckpts: dict[int, dict[str, Path]]) -> Claims:
    """``claims/<Task>-<Variant>.json``: ``{"episodes": N, "success_rate": {"<seed>": {...}}}``."""
    path = folder / "claims" / f"{task_variant}.json"
    if not path.is_file():
        raise SubmissionError(f"{path}: missing (claimed per-checkpoint rates on dev seeds)")
    try:
        data = json.loads(path.read_text())
        rates = {
            int(s): {str(k): float(v) for k, v in per.items()}
            for s, per in _get(data, "success_rate", dict, "").items()
        }
        claims = Claims(episodes=_get(data, "episodes", int, ""), rates=rates)
    except (ValueError, AttributeError, TypeError) as err:
        raise SubmissionError(f"{path}: {err}") from err
    want = {s: sorted(c) for s, c in ckpts.items()}
    got = {s: sorted(per) for s, per in claims.rates.items()}
    if want != got:
        raise SubmissionError(
            f"{path}: `success_rate` must give a rate for exactly the checkpoints {want}; got {got}"
        )
    return claims
