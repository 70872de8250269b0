"""Train a baseline policy on a Minari dataset: seeded, checkpointed, resumable, with a curve.

Layout of ``--out DIR`` (one folder per training seed, so 3 seeds can share a run)::

    DIR/seed<k>/train.json           the config; a rerun with another config is refused, except
                                     a constant-lr run trained on for more epochs (below)
    DIR/seed<k>/ckpt_epoch<E>.npz    every ``ckpt_every`` epochs and at the end
    DIR/seed<k>/log.jsonl            loss and samples/s per epoch
    DIR/seed<k>/loss.png             the loss curve

With a constant learning rate, a finished run given more ``epochs`` (and any ``ckpt_every``)
trains on from its last checkpoint: its weights, optimiser and random streams are restored, so
the result is bit for bit that of one longer run. Its earlier checkpoints stay in the folder;
`run_checkpoints` leaves out those off the new schedule.
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from dexmg_bench import __version__
from dexmg_bench.baselines.checkpoint import (
    load_checkpoint,
    model_state,
    optimizer_state,
    save_checkpoint,
)
from dexmg_bench.baselines.data import Demos, SequenceSampler, load_demos
from dexmg_bench.baselines.plot import save_curve
from dexmg_bench.baselines.registry import build_network, config_from_json
from dexmg_bench.baselines.train_config import TrainConfig
from dexmg_bench.errors import UserInputError
from dexmg_bench.processes import die_with_parent


def learning_rate(config: TrainConfig, step: int) -> float:
    """The learning rate of gradient step ``step`` (0-based) under the run's schedule."""
    base = config.model.learning_rate
    if config.lr_schedule == "constant":
        return base
    total = config.epochs * config.steps_per_epoch
    return 0.5 * base * (1.0 + math.cos(math.pi * min(step, total) / total))


def _device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def build_model(meta: dict[str, Any]) -> Any:
    """The network a checkpoint's ``meta`` describes (weights not loaded)."""
    config = config_from_json(meta["policy"], meta["model"])
    shape = tuple(meta["image_shape"]) if meta.get("image_shape") else None
    return build_network(meta["policy"], config, meta["obs_dim"], meta["action_dim"], shape)


def _latest(run: Path) -> Path | None:
    ckpts = sorted(run.glob("ckpt_epoch*.npz"))
    return ckpts[-1] if ckpts else None


def _meta(config: TrainConfig, demos: Demos, epoch: int, losses: list[float]) -> dict[str, Any]:
    return {
        "format": "dexmg-checkpoint-v1",
        "policy": config.policy,
        "train": config.to_json(),
        "model": config.model.to_json(),
        "obs_keys": list(demos.obs_keys),
        "features": demos.features,
        "time_horizon": demos.time_horizon,
        "pose_frame": demos.pose_frame.to_json() if demos.pose_frame else None,
        "obs_dim": demos.obs_dim,
        "action_dim": demos.action_dim,
        "env_id": demos.env_id,
        "env_kwargs": demos.env_kwargs,
        "image_keys": list(demos.image_keys),
        "image_shape": list(demos.image_shape) if demos.image_shape else None,
        "dataset": config.dataset,
        "epoch": epoch,
        "seed": config.seed,
        "losses": losses,
        "code_version": __version__,
    }


def _with_defaults(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored run config with the defaults of options added since, so old runs resume."""
    defaults = {
        f.name: f.default
        for f in dataclasses.fields(TrainConfig)
        if f.default is not dataclasses.MISSING and f.name not in ("bc_rnn", "diffusion")
    }
    out = {**defaults, **stored}
    if "model" in out:  # model fields added since take their defaults too
        out["model"] = config_from_json(out["policy"], out["model"]).to_json()
    return out


_EXTENDABLE = ("ckpt_every", "epochs")


def _check_same_run(stored: dict[str, Any], config: TrainConfig, run: Path) -> None:
    """Refuse a folder holding another run, unless the new config only trains it for longer.

    Under a constant learning rate, epochs and the checkpoint period do not change any step
    already taken; under cosine decay the rate of every step depends on the total.
    """
    new = config.to_json()
    differ = sorted(k for k in stored.keys() | new.keys() if stored.get(k) != new.get(k))
    if not differ:
        return
    longer = config.epochs >= int(stored.get("epochs", 0))
    if set(differ) <= set(_EXTENDABLE) and config.lr_schedule == "constant" and longer:
        return
    hint = ""
    if set(differ) <= set(_EXTENDABLE):
        hint = (
            " Only a constant-lr run can be trained on for more epochs"
            f" (this one: lr_schedule {config.lr_schedule}, epochs {stored.get('epochs')}"
            f" -> {config.epochs})."
        )
    raise UserInputError(
        f"{run} holds a run with another config ({', '.join(differ)} differ); use a new --out."
        + hint
    )


def train(config: TrainConfig, out: Path, *, progress: bool = True) -> Path:
    """Train (or resume) one seed; returns the last checkpoint's path."""
    run = out / f"seed{config.seed}"
    run.mkdir(parents=True, exist_ok=True)
    spec = run / "train.json"
    if spec.exists():
        _check_same_run(_with_defaults(json.loads(spec.read_text())), config, run)
    spec.write_text(json.dumps(config.to_json(), indent=1))

    demos = load_demos(
        config.dataset,
        max_episodes=config.max_episodes,
        images=config.images,
        features=config.features,
        obs_std_floor=config.obs_std_floor,
        time_input=config.time_input,
        pose_targets=config.pose_targets,
    )
    if not config.normalise_actions:
        ones = np.ones(demos.action_dim, dtype=np.float32)
        demos = dataclasses.replace(demos, action_centre=0 * ones, action_half_range=ones)
    sampler = SequenceSampler(demos, config.model.window, config.model.pad_before)
    device = _device(config.device)
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    model = build_network(
        config.policy, config.model, demos.obs_dim, demos.action_dim, demos.image_shape
    ).to(device)
    optim = torch.optim.Adam(model.parameters(), lr=config.model.learning_rate)
    rng = np.random.default_rng(config.seed)
    losses: list[float] = []
    start = 0
    last = _latest(run)
    if last is not None:
        meta, arrays = load_checkpoint(last)
        model.load_state_dict(model_state(arrays))
        optim.load_state_dict(optimizer_state(meta, arrays))
        rng.bit_generator.state = json.loads(meta["numpy_rng"])
        torch.set_rng_state(torch.from_numpy(arrays["torch_rng"].copy()))  # diffusion noise
        losses, start = list(meta["losses"]), int(meta["epoch"])
    if start >= config.epochs:
        return last  # type: ignore[return-value]

    log = open(run / "log.jsonl", "a")  # noqa: SIM115 (closed below, kept open across epochs)
    bar = tqdm(range(start, config.epochs), desc=f"seed {config.seed}", disable=not progress)
    path = last
    try:
        for epoch in bar:
            t0, total = time.perf_counter(), 0.0
            for i in range(config.steps_per_epoch):
                for group in optim.param_groups:
                    group["lr"] = learning_rate(config, epoch * config.steps_per_epoch + i)
                obs, act, img = sampler.batch(rng, config.model.batch_size)
                if config.obs_noise > 0:
                    obs = obs + config.obs_noise * rng.standard_normal(obs.shape, np.float32)
                images = None if img is None else torch.from_numpy(img).to(device)
                loss = model.loss(
                    torch.from_numpy(obs).to(device), torch.from_numpy(act).to(device), images
                )
                optim.zero_grad()
                loss.backward()
                optim.step()
                total += float(loss.detach())
            losses.append(total / config.steps_per_epoch)
            rate = config.steps_per_epoch * config.model.batch_size / (time.perf_counter() - t0)
            log.write(json.dumps({"epoch": epoch + 1, "loss": losses[-1], "samples_per_s": rate}))
            log.write("\n")
            log.flush()
            bar.set_postfix(loss=f"{losses[-1]:.4g}", samples_s=f"{rate:.0f}")
            done = epoch + 1
            if done % config.ckpt_every == 0 or done == config.epochs:
                meta = _meta(config, demos, done, losses)
                meta["numpy_rng"] = json.dumps(rng.bit_generator.state)
                path = run / f"ckpt_epoch{done:05d}.npz"
                arrays = {
                    "obs_mean": demos.obs_mean,
                    "obs_std": demos.obs_std,
                    "action_centre": demos.action_centre,
                    "action_half_range": demos.action_half_range,
                    "torch_rng": torch.get_rng_state().numpy(),
                }
                save_checkpoint(path, model=model, meta=meta, arrays=arrays, optimizer=optim)
                save_curve(run / "loss.png", losses, title=f"{config.policy} seed {config.seed}")
    finally:
        log.close()
        bar.close()
    assert path is not None
    return path


def train_seeds(
    configs: Sequence[TrainConfig], out: Path, *, processes: int = 1, progress: bool = True
) -> list[Path]:
    """Train (or resume) several seeds into ``out``, ``processes`` at a time; last checkpoints.

    A seed is a pure function of its config (``threads`` torch threads, its own seed), so it
    writes the same checkpoints in a worker process as in this one; with one thread a seed uses
    one core, and the protocol's 3 seeds would leave the second core of a 2-core machine idle.
    In parallel, one bar counts the epochs of all seeds.
    """
    if processes < 1:
        raise ValueError(f"`processes` must be >= 1. Got {processes}.")
    if processes == 1 or len(configs) <= 1:
        return [train(c, out, progress=progress) for c in configs]
    ctx = mp.get_context("spawn")  # fresh interpreters: no inherited torch thread pools
    with ctx.Pool(min(processes, len(configs)), _init_worker, (os.getpid(),)) as pool:
        pending = [pool.apply_async(train, (c, out), {"progress": False}) for c in configs]
        total = sum(c.epochs for c in configs)
        with tqdm(total=total, desc="training seeds", unit="epoch", disable=not progress) as bar:
            while not all(p.ready() for p in pending):
                bar.update(_epochs_done(configs, out) - bar.n)
                time.sleep(1.0)
            bar.update(_epochs_done(configs, out) - bar.n)
        return [p.get() for p in pending]  # a worker's exception is raised here


def _init_worker(parent_pid: int) -> None:
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it ends the pool


def _epochs_done(configs: Sequence[TrainConfig], out: Path) -> int:
    """Epochs finished over all seeds, from the last line of each seed's ``log.jsonl``."""
    done = 0
    for c in configs:
        log = out / f"seed{c.seed}" / "log.jsonl"
        try:
            lines = log.read_text().splitlines()
            done += min(int(json.loads(lines[-1])["epoch"]), c.epochs) if lines else 0
        except (OSError, ValueError, KeyError):
            continue  # not started yet, or a line being written
    return done
