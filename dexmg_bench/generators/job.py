"""What a generation job is: its config, the checks made before any simulation, its generator.

Kept apart from ``run.py`` (the job loop) and ``pool.py`` (where attempts run) so that worker
processes and Ray actors can build their generator from the config alone.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from dexmg_bench import envs  # task_entry through the module: the one resolver
from dexmg_bench.datasets.source import SourceFile, read_source_file
from dexmg_bench.envs import TaskEntry
from dexmg_bench.errors import UserInputError
from dexmg_bench.generators.warp import check_time_warp

GENERATORS = ("dexmgen", "demo-noise")
BACKENDS = ("process", "ray")


@dataclass(frozen=True, kw_only=True)
class GenerateConfig:
    """One generation job (also the options of `dexmg generate` and `dexmg demo`).

    Attributes:
        task: task name (see `dexmg envs`).
        variant: reset distribution to generate in (the source demos are from D0).
        n: successful demos to keep.
        seed: run seed; attempt k is a pure function of (seed, k).
        workers: attempts run in parallel (worker processes, or Ray actors).
        source: source-demo HDF5 file (default: the task's shipped scripted demos).
        spec: generator spec TOML (default: the task's shipped spec).
        max_attempts: give up after this many attempts (0 = 20 * n).
        generator: dexmgen (DexMimicGen) or demo-noise (the paper's baseline: noisy replay of
            the source demos, D0 only).
        action_noise: demo-noise only: one arm-pose noise scale (default: the spec's per
            subtask).
        backend: process (local pool) or ray (needs the `ray` extra).
        address: Ray cluster to join (default: start a local Ray with --workers CPUs).
        time_warp: dexmgen only: replay each source demo at a random speed from
            [1 - w, 1 + w] per attempt (timing variety; 0 = as recorded).
    """

    task: str
    variant: str = "D0"
    n: int = 10
    seed: int = 0
    workers: int = 1
    source: str = ""
    spec: str = ""
    max_attempts: int = 0
    generator: Literal["dexmgen", "demo-noise"] = "dexmgen"
    action_noise: float | None = None
    backend: Literal["process", "ray"] = "process"
    address: str = ""
    time_warp: float = 0.0

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"`n` must be >= 1. Got {self.n}.")
        if self.workers < 1:
            raise ValueError(f"`workers` must be >= 1. Got {self.workers}.")
        if self.seed < 0:
            raise ValueError(f"`seed` must be >= 0. Got {self.seed}.")
        if self.max_attempts < 0:
            raise ValueError(f"`max_attempts` must be >= 0. Got {self.max_attempts}.")
        if self.generator not in GENERATORS:
            raise ValueError(f"`generator` must be one of {GENERATORS}. Got {self.generator!r}.")
        if self.backend not in BACKENDS:
            raise ValueError(f"`backend` must be one of {BACKENDS}. Got {self.backend!r}.")
        if self.action_noise is not None and not 0 <= self.action_noise < math.inf:
            raise ValueError(f"`action_noise` must be >= 0 and finite. Got {self.action_noise}.")
        if self.action_noise is not None and self.generator != "demo-noise":
            raise ValueError(
                "`action_noise` applies to --generator demo-noise only; DexMimicGen takes its "
                "noise from the spec's `action_noise` per subtask."
            )
        check_time_warp(self.time_warp)
        if self.time_warp and self.generator != "dexmgen":
            raise ValueError("`time_warp` applies to the DexMimicGen generator only.")
        if self.address and self.backend != "ray":
            raise ValueError(f"`address` needs --backend ray. Got backend {self.backend!r}.")

    @property
    def attempt_budget(self) -> int:
        """Most attempts the job may make."""
        return self.max_attempts or 20 * self.n

    @cached_property
    def entry(self) -> TaskEntry:
        """The task's registry entry, resolved once per config (everything below reads it).

        Raises:
            UserInputError: an unknown task (naming the close matches).
        """
        return envs.task_entry(self.task)

    @property
    def source_path(self) -> Path:
        """The source-demo file the job reads."""
        return Path(self.source) if self.source else self.entry.source_path

    @property
    def spec_path(self) -> Path:
        """The generator spec file the job reads."""
        return Path(self.spec) if self.spec else self.entry.spec_path


def _env_class(entry: TaskEntry) -> Any:
    """The task's env class, for its declared objects and signals (nothing is simulated)."""
    module, name = entry.entry_point.split(":")
    return getattr(importlib.import_module(module), name)


def check_inputs(config: GenerateConfig) -> SourceFile:
    """Fail before any simulation on a bad spec, source file or task/source mismatch.

    Raises:
        UserInputError: an unknown task or variant, a file that is not source demos (or lacks
            datagen info), source demos of another env, a spec naming objects or signals the
            env lacks, or Demo-Noise asked for another variant than the source demos'.
        InputFileNotFoundError: a missing source or spec file.
    """
    from dexmg_bench.generators.spec import ARMS, load_spec, validate_against

    entry = config.entry  # unknown task names the close matches
    entry.env_id(config.variant)  # an unknown variant names the valid ones
    src = read_source_file(config.source_path)
    if src.task != config.task:
        raise UserInputError(
            f"source demos are for {src.task!r} ({src.env_id}), not for {config.task!r}"
        )
    expected = entry.env_id(src.variant)
    if src.env_id != expected:
        raise UserInputError(
            f"{config.source_path}: source demos were recorded in {src.env_id}, but this "
            f"version of the task is {expected}; re-record or replay them in {expected}"
        )
    if not src.demos:
        raise UserInputError(f"{config.source_path} holds no demos")
    spec = load_spec(config.spec_path)
    if spec.task != config.task:
        raise UserInputError(f"{config.spec_path} is a spec for {spec.task!r}, not {config.task!r}")
    env_cls = _env_class(entry)
    if hasattr(env_cls, "declared"):  # one adapter class for several tasks (BiGym's)
        validate_against(spec, *env_cls.declared(config.task))
    else:
        validate_against(spec, env_cls.object_names, env_cls.subtask_names)
    for k, demo in enumerate(src.demos):
        for arm in ARMS:
            if len(demo.boundaries.get(arm, ())) != len(spec.subtasks[arm]):
                raise UserInputError(
                    f"{config.source_path}: demo {k} has no segmentation of arm {arm!r} into "
                    f"the spec's {len(spec.subtasks[arm])} subtasks (datagen boundaries missing)"
                )
    if config.generator == "demo-noise" and config.variant != src.variant:
        raise UserInputError(
            f"Demo-Noise replays the source demos' own initial states, so it generates only in "
            f"their variant {src.variant}, not {config.variant} (use --generator dexmgen)"
        )
    return src


def build_generator(config: GenerateConfig) -> Any:
    """The env and generator one worker runs attempts with (``.attempt(seed, index)``)."""
    from dexmg_bench.generators.spec import load_spec

    src = read_source_file(config.source_path)
    env = config.entry.make_env(config.variant)
    spec = load_spec(config.spec_path)
    if config.generator == "demo-noise":
        from dexmg_bench.generators.demo_noise import DemoNoise

        return DemoNoise(env, spec, src.demos, action_noise=config.action_noise)
    from dexmg_bench.generators.execute import DexMimicGen

    horizon = config.entry.horizon
    return DexMimicGen(env, spec, src.demos, horizon=horizon, time_warp=config.time_warp)
