"""``HumanoidEnv``: the base of the GR-1 tasks (absolute hand poses through whole-body IK).

It is ``DexMGEnv`` (``base.py``) with the ``WholeBodyIKArms`` controller (``controllers.py``):
IK + joint servos instead of per-arm OSC torques. The task hooks, the config (``TaskConfig``), the
observation keys and the generator interface are the base's, so scripted experts, source
recording and the generator run unchanged. Its tasks' ``_reset_objects`` take the reset
``options`` (each task checks its own).

Action (24 values in [-1, 1]; per arm in ``ARMS`` order ``right, left``, see ``action_layout``):
    ``pos`` (3): **absolute** end-effector (``grip_site``) position in the robot base frame,
    ``[-1, 1] -> +-1 m`` about the base origin (the base sits at the task's ``base_xyz``,
    axes aligned with the world);
    ``rot`` (3): **absolute** orientation as world-frame axis-angle, ``[-1, 1] -> +-pi`` per
    component;
    ``hand`` (6): finger joint-position commands (``robots/gr1.py``).
Unlike the reference (right pose, left pose, right hand, left hand) each arm's hand follows its
pose, the per-arm layout every DexMG task uses. An all-zero action sends both hands toward the
base origin, out of reach: "hold" is the current pose, ``target_pose_to_action(eef_poses())``.
``action_layout`` also names the pose part ``dpos``/``drot``: the generator reads those keys for
every embodiment; here they are absolute, not deltas.

Each step solves IK once (``sim/ik.py``: mink's QP in a compiled kernel, joint limits enforced)
from the measured joints to the two targets and sends the solution to the joints' position servos
for ``500 / control_freq`` physics substeps: one ``mj_step(nstep=...)`` call, no Python per
substep. A target already met (both hands within ``IKConfig.tolerance``) costs no iteration.
``info["ik_error"]`` reports the IK's remaining position error per hand (m):
an unreachable target is followed as far as it can be, never an error.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from dexmg_bench.envs.base import DexMGEnv
from dexmg_bench.envs.controllers import ARMS, Controller, WholeBodyIKArms
from dexmg_bench.envs.robots import gr1
from dexmg_bench.sim import Physics
from dexmg_bench.sim.ik import IKServo, copy_model
from dexmg_bench.sim.scene import compile_model


class HumanoidEnv(DexMGEnv):
    """The GR-1 with two Fourier hands at a table, driven by absolute hand poses."""

    embodiment: ClassVar[str] = "GR-1 humanoid, Fourier hands"
    torso: ClassVar[bool] = False  # whether the waist joints take part in the IK
    base_xyz: ClassVar[tuple[float, float, float]] = gr1.BASE_XYZ

    def _make_controller(self, scene_xml: str) -> Controller:
        # A private model: tasks may recolour geoms (Can Sorting's can).
        physics = Physics(copy_model(compile_model(scene_xml)))
        return WholeBodyIKArms(
            physics, scene_xml=scene_xml, torso=self.torso, base_xyz=self.base_xyz
        )

    def _reset_task(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        self._reset_objects(rng, options)

    def _reset_objects(  # type: ignore[override]  # the GR-1 tasks take reset options
        self, rng: np.random.Generator, options: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    @property
    def servo(self) -> IKServo:
        """The whole-body IK and its joint servos."""
        assert isinstance(self.controller, WholeBodyIKArms)
        return self.controller.servo


__all__ = ["ARMS", "HumanoidEnv"]
