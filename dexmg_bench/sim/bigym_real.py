"""The real BiGym backend: builds BiGym's envs and reads their MuJoCo state.

:class:`RealBiGym` is ``bigym_backend.BiGymBackend`` on BiGym itself and the one place that
imports BiGym, through :func:`_import` (a missing install raises ``BiGymNotInstalled`` with the
install hint). It comes in three parts: this module builds the envs, steps them and reads poses,
observations, frames and states; ``bigym_ik.RealBiGymIK`` adds the IK on BiGym's model and
``bigym_contacts.RealBiGymTerms`` the contact facts and subtask terms.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from dexmg_bench.sim.bigym_backend import (
    ARMS,
    CROUCHING_TASKS,
    INSTALL_HINT,
    TASK_CLASSES,
    BiGymNotInstalled,
)
from dexmg_bench.sim.bigym_contacts import RealBiGymTerms
from dexmg_bench.sim.bigym_ik import RealBiGymIK


def _import(path: str) -> Any:
    module, attr = path.split(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as err:  # bigym itself, or mojo / dm_control / pyquaternion ...
        raise BiGymNotInstalled(f"{INSTALL_HINT}\n(import failed: {err})") from err


def _pose(pos: np.ndarray, mat: np.ndarray) -> np.ndarray:
    out = np.eye(4)
    out[:3, :3] = np.asarray(mat).reshape(3, 3)
    out[:3, 3] = pos
    return out


def _gripper_state(qpos: np.ndarray, fingers: Any) -> np.ndarray:
    """BiGym's ``Gripper.qpos`` per gripper (joints onto its control range, averaged, rounded).

    ``fingers`` is ``(addresses (grippers, joints), joint range,
    control range)`` where all joints share one range (one ``np.interp`` call, the same values),
    else a list per gripper of ``(address, joint range, control range)``.
    """
    if isinstance(fingers, tuple):
        adr, jr, cr = fingers
        mapped = np.interp(qpos[adr], jr, cr)
        return np.round(np.average(mapped, axis=1), 1).astype(np.float32)
    return np.array(
        [
            np.round(np.average([np.interp(qpos[a], jr, cr) for a, jr, cr in joints]), 1)
            for joints in fingers
        ],
        np.float32,
    )


class RealBiGym(RealBiGymTerms, RealBiGymIK):
    """BiGym at commit ``72d3054``: envs with ``JointPositionActionMode(absolute=True)``."""

    def __init__(self) -> None:
        # Fail at construction, with the install message, not at the first reset.
        self._mode_cls = _import("bigym.action_modes:JointPositionActionMode")
        self._side = _import("bigym.const:HandSide")
        self._mujoco = importlib.import_module("mujoco")
        self._renderers: dict[int, Any] = {}
        self._parts: dict[int, dict[str, tuple[Any, int, int]]] = {}
        self._groups: dict[int, tuple[np.ndarray, dict[str, int], int]] = {}
        self._obs_ids: dict[int, tuple[Any, ...]] = {}
        self._upright: dict[int, tuple[int, float]] = {}
        self._joints: dict[int, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]] = {}
        self._ik: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, Any]] = {}
        self._kp: dict[int, np.ndarray] = {}
        self._limits: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._base_ctrl: dict[int, np.ndarray] = {}
        self._pose_bound: dict[int, tuple[Any, Any, tuple, int]] = {}
        self._readout_bound: dict[int, tuple[Any, ...]] = {}
        self._proprio_bound: dict[int, tuple[Any, Any]] = {}
        self._pose_gains: tuple[Any, np.ndarray, int] = (None, np.empty(0), 0)

    def make(self, task: str, *, control_frequency: int) -> Any:
        """See :class:`BiGymBackend`."""
        cls = _import(TASK_CLASSES[task])
        if task in CROUCHING_TASKS:
            dof = _import("bigym.action_modes:PelvisDof")
            mode = self._mode_cls(
                floating_base=True, absolute=True, floating_dofs=[dof.X, dof.Y, dof.Z, dof.RZ]
            )
        else:
            mode = self._mode_cls(floating_base=True, absolute=True)
        # start_seed is fixed: the adapter reseeds every reset, this only avoids a global draw.
        return cls(action_mode=mode, control_frequency=control_frequency, start_seed=0)

    def _site_pose(self, raw: Any, site_id: int) -> np.ndarray:
        data = raw.mojo.data
        return _pose(data.site_xpos[site_id], data.site_xmat[site_id])

    def _body_pose(self, raw: Any, body: Any) -> np.ndarray:
        data = raw.mojo.data
        return _pose(data.xpos[body.id], data.xmat[body.id])

    def gripper_poses(self, raw: Any) -> np.ndarray:
        """See :class:`BiGymBackend`."""
        grippers = raw.robot.grippers
        sides = {"right": self._side.RIGHT, "left": self._side.LEFT}
        return np.stack([self._site_pose(raw, grippers[sides[arm]]._pinch_site.id) for arm in ARMS])

    def _cabinet_parts(self, raw: Any) -> dict[str, tuple[Any, int, int]]:
        """CupboardsCloseAll's moving parts: name -> (cabinet, joint index, MuJoCo body id).

        BiGym's handles are unnamed geoms, so a part's pose is that of the body its joint moves
        (drawer box or door leaf); ``left``/``right`` are BiGym's names (world -y is ``left``).
        """
        key = id(raw)
        if key not in self._parts:
            drawers, base_left, base_right, wall = raw.all_cabinets
            parts = {f"drawer{i}": (drawers, i) for i in range(len(drawers._joints))}
            parts |= {"base_door_left": (base_left, 0), "base_door_right": (base_right, 0)}
            for i, joint in enumerate(wall._joints):
                parts[f"wall_{joint.mjcf.name}"] = (wall, i)
            bind = raw.mojo.physics.bind
            self._parts[key] = {
                n: (c, i, int(bind(c._joints[i].mjcf.parent).element_id))
                for n, (c, i) in parts.items()
            }
        return self._parts[key]

    def object_poses(self, raw: Any, task: str) -> dict[str, np.ndarray]:
        """See :class:`BiGymBackend`."""
        data = raw.mojo.data
        if task == "FlipCup":
            return {"mug": self._body_pose(raw, raw.cup.body)}
        if task == "DishwasherLoadPlates":
            out = {f"plate{i}": self._body_pose(raw, p.body) for i, p in enumerate(raw.plates)}
            out["drainer"] = self._body_pose(raw, raw.drainer.body)
            out["rack"] = self._body_pose(raw, raw.dishwasher.tray_bottom.body)
            return out
        return {
            n: _pose(data.xpos[b], data.xmat[b])
            for n, (_, _, b) in self._cabinet_parts(raw).items()
        }

    def pos_quat(self, raw: Any, task: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """See :class:`BiGymBackend`; MuJoCo's own quaternions, no matrix round trip.

        Per step: one gather of the objects' positions and one of their quaternions (each
        object's arrays are rows of these), one of the pinch sites' positions.
        """
        mj = self._mujoco
        names, bodies, sites, xpos, xquat, site_xpos, site_xmat = self._observed(raw, task)
        pos, quat = xpos[bodies], xquat[bodies]
        out = {n: (pos[i], quat[i]) for i, n in enumerate(names)}
        site_pos = site_xpos[sites]
        for i, arm in enumerate(ARMS):
            site_quat = np.empty(4)
            mj.mju_mat2Quat(site_quat, site_xmat[sites[i]])
            out[f"{arm}_eef"] = (site_pos[i], site_quat)
        return out

    def _observed(self, raw: Any, task: str) -> tuple[Any, ...]:
        """Object names, body ids, pinch-site ids and the ``MjData`` arrays the observation reads.

        Built once per env and ``MjData`` (see ``_pose_binding``); sites in ``ARMS`` order.
        """
        key, data = id(raw), raw.mojo.data
        bound = self._obs_ids.get(key)
        if bound is None or bound[0] is not data:
            ids = self._body_ids(raw, task)
            grippers = raw.robot.grippers
            sides = {"right": self._side.RIGHT, "left": self._side.LEFT}
            sites = np.array([grippers[sides[a]]._pinch_site.id for a in ARMS])
            arrays = (data.xpos, data.xquat, data.site_xpos, data.site_xmat)
            bound = (data, list(ids), np.array(list(ids.values())), sites, *arrays)
            self._obs_ids[key] = bound
        return bound[1:]

    def _body_ids(self, raw: Any, task: str) -> dict[str, int]:
        if task == "FlipCup":
            return {"mug": raw.cup.body.id}
        if task == "DishwasherLoadPlates":
            out = {f"plate{i}": p.body.id for i, p in enumerate(raw.plates)}
            rack = raw.dishwasher.tray_bottom.body.id
            return out | {"drainer": raw.drainer.body.id, "rack": rack}
        return {n: b for n, (_, _, b) in self._cabinet_parts(raw).items()}

    def step(self, raw: Any, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        """``raw.step(action)``, the same five values, with the observation read cheaper.

        BiGym's step builds its proprioception through dm_control bindings, one joint at a time
        (measured: 0.6 ms of a 2.6 ms FlipCup step, right after the physics, where every read
        misses the cache). Here BiGym steps with ``fast=True`` (its own path for VR teleop: the
        physics, ``_on_step`` and the action memory, no observation) and the same observation is
        read with one index per array: each value is the same float, cast to float32 as BiGym
        casts it (a slow test holds the two equal, bit for bit, along rollouts). BiGym's own
        reward, termination, truncation and info are returned unchanged. Envs observing cameras
        or privileged information step through BiGym's full path.
        """
        bound = self._proprio_binding(raw)
        if bound is None:
            return raw.step(action)
        raw.step(action, fast=True)
        qpos_adr, qvel_adr, fingers, base_q, base = bound
        data = raw.mojo.data
        qpos, qvel = data.qpos, data.qvel
        obs = {
            "proprioception": np.concatenate([qpos[qpos_adr], qvel[qvel_adr]]).astype(np.float32),
            "proprioception_grippers": _gripper_state(qpos, fingers),
        }
        if base is not None:
            obs["proprioception_floating_base"] = qpos[base_q].astype(np.float32)
            obs["proprioception_floating_base_actions"] = np.array(
                base._accumulated_actions, np.float32
            )
        return obs, raw.reward, raw.terminate, raw.truncate, raw.get_info()

    def _proprio_binding(self, raw: Any) -> tuple[Any, ...] | None:
        """``step``'s qpos/qvel addresses, built once per env; None where it cannot apply."""
        key, data = id(raw), raw.mojo.data
        bound = self._proprio_bound.get(key)
        if bound is not None and bound[0] is data:
            return bound[1]
        config = raw.observation_config
        plain = config.proprioception and not config.cameras
        plain = plain and not config.privileged_information
        out = None
        if plain:
            bind, robot = raw.mojo.physics.bind, raw.robot
            joints = [bind(j.mjcf) for j in robot._joints]
            fingers = [
                [
                    (bind(j).qposadr.item(), np.array(bind(j).range), np.asarray(g._config.range))
                    for j in g._actuated_joints
                ]
                for g in robot.grippers.values()
            ]
            _, jr0, cr0 = fingers[0][0]
            same = [
                np.array_equal(jr, jr0) and np.array_equal(cr, cr0)
                for f in fingers
                for _, jr, cr in f
            ]
            if all(same) and len({len(f) for f in fingers}) == 1:
                # H1's Robotiq grippers: every joint has one range, so one np.interp call.
                fingers = (np.array([[a for a, _, _ in f] for f in fingers]), jr0, cr0)
            base = robot.floating_base
            base_q = None
            if base is not None:
                acts = [a for a in base._position_actuators + base._rotation_actuators if a]
                base_q = np.array([bind(a.joint).qposadr.item() for a in acts], np.int64)
            out = (
                np.array([j.qposadr.item() for j in joints], np.int64),
                np.array([j.dofadr.item() for j in joints], np.int64),
                fingers,
                base_q,
                base,
            )
        self._proprio_bound[key] = (data, out)
        return out

    def render(self, raw: Any, *, camera: str, width: int, height: int) -> np.ndarray:
        """See :class:`BiGymBackend`. BiGym's own ``render()`` fails on gymnasium 1.x."""
        mj = self._mujoco
        key = id(raw)
        renderer = self._renderers.get(key)
        if renderer is None or (renderer.width, renderer.height) != (width, height):
            renderer = self._renderers[key] = mj.Renderer(raw.mojo.model, height, width)
        # The robot's cameras are namespaced (``h1/head``); ``external`` is the scene's.
        cam = mj.mj_name2id(raw.mojo.model, mj.mjtObj.mjOBJ_CAMERA, camera)
        if cam < 0:
            cam = mj.mj_name2id(raw.mojo.model, mj.mjtObj.mjOBJ_CAMERA, f"h1/{camera}")
        if cam < 0:
            raise ValueError(f"BiGym has no camera {camera!r}")
        renderer.update_scene(raw.mojo.data, camera=cam)
        return renderer.render().copy()

    def get_state(self, raw: Any) -> np.ndarray:
        """See :class:`BiGymBackend`: MuJoCo's integration state plus the base's action memory.

        BiGym keeps the base's accumulated and last deltas in Python (observed as
        ``proprioception_floating_base_actions``); the leg animation is recomputed every step.
        """
        mj = self._mujoco
        model, data = raw.mojo.model, raw.mojo.data
        spec = mj.mjtState.mjSTATE_INTEGRATION
        out = np.empty(mj.mj_stateSize(model, spec))
        mj.mj_getState(model, data, out, spec)
        base = raw.robot.floating_base
        return np.concatenate([out, base._accumulated_actions, base._last_action])

    def set_state(self, raw: Any, state: np.ndarray) -> None:
        """See :class:`BiGymBackend`."""
        mj = self._mujoco
        model, data = raw.mojo.model, raw.mojo.data
        spec = mj.mjtState.mjSTATE_INTEGRATION
        n = mj.mj_stateSize(model, spec)
        base = raw.robot.floating_base
        k = base._accumulated_actions.size
        state = np.asarray(state, np.float64)
        if state.shape != (n + 2 * k,):
            raise ValueError(f"expected a BiGym state of shape ({n + 2 * k},), got {state.shape}")
        mj.mj_setState(model, data, state[:n], spec)
        base._accumulated_actions[:] = state[n : n + k]
        base._last_action[:] = state[n + k :]
        mj.mj_forward(model, data)

    def close(self, raw: Any) -> None:
        """See :class:`BiGymBackend`."""
        self._ik.pop(id(raw), None)
        self._kp.pop(id(raw), None)
        self._limits.pop(id(raw), None)
        self._base_ctrl.pop(id(raw), None)
        self._pose_bound.pop(id(raw), None)
        self._readout_bound.pop(id(raw), None)
        self._proprio_bound.pop(id(raw), None)
        self._parts.pop(id(raw), None)
        self._groups.pop(id(raw), None)
        self._obs_ids.pop(id(raw), None)
        self._upright.pop(id(raw), None)
        self._joints.pop(id(raw), None)
        renderer = self._renderers.pop(id(raw), None)
        if renderer is not None:
            renderer.close()
        raw.close()
