"""What the generators and the recorder need from an env, declared once (numpy and typing only).

``SimInterface`` is the scheduler's narrow view: the poses it reads when an arm starts a
subtask. ``GeneratorEnv`` is everything DexMimicGen, Demo-Noise and the datagen recorder call:
poses, the conversion between actions and target poses, simulator state, subtask signals and the
Gymnasium ``reset``/``step`` whose info carries ``success`` and ``subtask_signals``. Every env
type of the registry (the gripper and Inspire arms, the GR-1 humanoid, BiGym's adapter)
implements it structurally, which ``tests/envs/test_generator_protocol.py`` checks over the
whole registry, so the generators are typed against this and import no env class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class SimInterface(Protocol):
    """What the scheduler reads from the world when an arm starts a subtask."""

    def eef_poses(self) -> np.ndarray:
        """World end-effector poses ``(n_arms, 4, 4)`` in ``ARMS`` order."""
        ...

    def object_poses(self) -> Mapping[str, np.ndarray]:
        """World object poses ``{name: (4, 4)}``."""
        ...


@runtime_checkable
class GeneratorEnv(SimInterface, Protocol):
    """An unwrapped env that the generators can drive and the datagen recorder can record."""

    @property
    def object_names(self) -> Sequence[str]:
        """The objects whose poses ``object_poses`` returns (a spec's ``object_ref`` names one)."""
        ...

    @property
    def subtask_names(self) -> Mapping[str, Sequence[str]]:
        """Per arm, its subtask termination signals in order (a spec's ``signal`` names one)."""
        ...

    @property
    def action_layout(self) -> Mapping[str, Mapping[str, Sequence[int]]]:
        """Per arm, index ranges ``[start, stop)`` of the action parts (``dpos``, ``drot``...)."""
        ...

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Gymnasium reset; the info holds ``success`` at the first state."""
        ...

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Gymnasium step; the info holds ``success`` and ``subtask_signals``."""
        ...

    def get_state(self) -> np.ndarray:
        """The flat simulator state that ``set_state`` restores exactly."""
        ...

    def set_state(self, state: np.ndarray) -> None:
        """Restore a ``get_state`` vector (Demo-Noise starts from a source demo's first state)."""
        ...

    def subtask_signals(self) -> dict[str, dict[str, bool]]:
        """Per arm, whether each subtask's termination condition holds now."""
        ...

    def target_pose_to_action(self, target: np.ndarray, hand: np.ndarray) -> np.ndarray:
        """The action that drives each arm to a world target pose ``(n_arms, 4, 4)``."""
        ...

    def action_to_target_pose(self, action: np.ndarray) -> np.ndarray:
        """The world target poses ``(n_arms, 4, 4)`` an action commands (recorded per step)."""
        ...

    def hand_command(self) -> np.ndarray:
        """The last hand command per arm ``(n_arms, hand_dim)`` (the scheduler starts from it)."""
        ...


__all__ = ["GeneratorEnv", "SimInterface"]
