"""Settings shared by every task config; each task adds its own reset ranges on top."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

OBS_MODES = ("state", "rgb")


@dataclass(frozen=True, kw_only=True)
class TaskConfig:
    """What every DexMG task needs to know besides its reset distribution.

    Attributes:
        variant: reset-distribution name (``D0`` is the paper's default).
        obs_mode: ``state`` (low-dim dict) or ``rgb`` (adds ``<camera>_image`` keys).
        cameras: cameras rendered into observations when ``obs_mode="rgb"``.
        image_size: side of the square camera observations, pixels.
        render_camera: camera used by ``render()``.
        render_size: side of the square ``render()`` image, pixels.
        control_freq: policy steps per second; MuJoCo runs at 500 Hz underneath.
        joint_noise: std of Gaussian noise on the arms' rest posture at reset (rad).
        terminate_on_success: end the episode on the first successful step.
    """

    variant: str = "D0"
    obs_mode: str = "state"
    cameras: tuple[str, ...] = ("overview", "robot0_eye_in_hand", "robot1_eye_in_hand")
    image_size: int = 84
    render_camera: str = "overview"
    render_size: int = 256
    control_freq: int = 20
    joint_noise: float = 0.02
    terminate_on_success: bool = False

    def __post_init__(self) -> None:
        if self.obs_mode not in OBS_MODES:
            raise ValueError(f"`obs_mode` must be one of {OBS_MODES}. Got {self.obs_mode!r}.")
        if self.image_size < 8 or self.render_size < 8:
            raise ValueError(
                f"image sizes must be >= 8 px. Got {self.image_size} and {self.render_size}."
            )
        if self.control_freq <= 0 or 500 % self.control_freq:
            raise ValueError(f"`control_freq` must divide 500 Hz. Got {self.control_freq}.")
        if self.joint_noise < 0:
            raise ValueError(f"`joint_noise` must be >= 0. Got {self.joint_noise}.")
        if self.obs_mode == "rgb" and not self.cameras:
            raise ValueError("`obs_mode='rgb'` needs at least one camera in `cameras`.")

    def to_json(self) -> str:
        """The config as JSON, the form stored with datasets and results."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def check_range(name: str, value: Any) -> None:
    """Raise if ``value`` is not a ``(low, high)`` pair with ``low <= high``."""
    if len(value) != 2 or not value[0] <= value[1]:
        raise ValueError(f"`{name}` must be a (low, high) pair with low <= high. Got {value}.")
