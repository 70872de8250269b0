"""The config of one training run, apart from ``train.py`` so that reading it needs no torch."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from dexmg_bench.baselines.bc_rnn.config import BCRNNConfig
from dexmg_bench.baselines.data import FEATURES
from dexmg_bench.baselines.diffusion.config import DiffusionConfig
from dexmg_bench.baselines.registry import POLICIES

LR_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """One training run of one seed (also the options of `dexmg train`).

    Attributes:
        dataset: Minari dataset id, e.g. dexmg/threading-v0 (see `dexmg datasets build`).
        policy: bc-rnn (MSE head), bc-rnn-gmm (5-mode Gaussian mixture head) or diffusion
            (Diffusion Policy, 1-D temporal U-Net, DDIM at rollout).
        seed: training seed.
        epochs: training epochs.
        steps_per_epoch: gradient steps per epoch.
        ckpt_every: checkpoint period in epochs (the last epoch is always saved).
        max_episodes: train on the first N episodes only (0 = all).
        images: image track: also feed the dataset's camera images (one ResNet-18 per camera,
            random crop); make such a dataset with `dexmg datasets render`.
        features: orientation features, rot6d (two rotation-matrix columns) or quat (as
            stored; runs made before rot6d existed).
        normalise_actions: scale each action dimension to [-1, 1] (off: runs made before the
            scaling existed).
        obs_noise: Gaussian noise on the training observations, in standard deviations of
            each feature (0 = none); teaches the policy to act from states near the demos'.
        obs_std_floor: smallest standard deviation an observation feature is scaled by; a
            feature nearly constant in the data (an object that never tilts, a position fixed
            in D0) is otherwise blown up at rollout (1e-3: runs made before this option).
        time_input: also give the policy the step index within the episode (over the task's
            horizon; at rollout the policy counts its own steps since reset), as Gymnasium's
            TimeAwareObservation does. Scripted and generated demos follow a clock (fixed
            pauses, replayed segments), which the observations alone may not reveal.
        pose_targets: the policy outputs each arm's world end-effector target (position and
            rot6d) instead of the dataset's delta pose action; at rollout the delta toward it
            is computed from the observed pose, so a small error is steered back instead of
            kept (tasks with delta pose actions: the Panda arms).
        lr_schedule: constant, or cosine decay of the learning rate to 0 over the run (a
            function of the step, so a resumed run follows the same curve).
        device: auto picks CUDA when present.
        threads: torch CPU threads (with both cores of a 2-core machine busy, 2 threads make a
            small LSTM far slower than 1: OpenMP spin-waits).
        bc_rnn: BC-RNN network and optimiser hyperparameters (robomimic's defaults).
        diffusion: Diffusion Policy hyperparameters (the paper's CNN defaults).
    """

    dataset: str
    policy: Literal["bc-rnn", "bc-rnn-gmm", "diffusion"] = "bc-rnn"
    seed: int = 0
    epochs: int = 200
    steps_per_epoch: int = 100
    ckpt_every: int = 50
    max_episodes: int = 0
    images: bool = False
    features: Literal["rot6d", "quat"] = "rot6d"
    normalise_actions: bool = True
    obs_noise: float = 0.0
    obs_std_floor: float = 1e-3
    time_input: bool = False
    pose_targets: bool = False
    lr_schedule: Literal["constant", "cosine"] = "constant"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = 1
    bc_rnn: BCRNNConfig = field(default_factory=BCRNNConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"`policy` must be one of {POLICIES}. Got {self.policy!r}.")
        if self.policy == "bc-rnn-gmm" and not self.bc_rnn.gmm:
            object.__setattr__(self, "bc_rnn", dataclasses.replace(self.bc_rnn, gmm=True))
        for name in ("epochs", "steps_per_epoch", "ckpt_every", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1. Got {getattr(self, name)}.")
        if not (math.isfinite(self.obs_noise) and self.obs_noise >= 0):
            raise ValueError(f"`obs_noise` must be a finite number >= 0. Got {self.obs_noise}.")
        if not (math.isfinite(self.obs_std_floor) and self.obs_std_floor > 0):
            raise ValueError(
                f"`obs_std_floor` must be a finite number > 0. Got {self.obs_std_floor}."
            )
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"`lr_schedule` must be one of {LR_SCHEDULES}. Got {self.lr_schedule!r}."
            )
        if self.features not in FEATURES:
            raise ValueError(f"`features` must be one of {FEATURES}. Got {self.features!r}.")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"`device` must be auto, cpu or cuda. Got {self.device!r}.")

    @property
    def model(self) -> BCRNNConfig | DiffusionConfig:
        """The config of the network this run trains."""
        return self.diffusion if self.policy == "diffusion" else self.bc_rnn

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict with only the trained policy's model config."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del d["bc_rnn"], d["diffusion"]
        d["model"] = self.model.to_json()
        return d
