"""The one place that imports BiGym (chernyadev/bigym): builds its envs and reads its MuJoCo state.

BiGym is optional and not on PyPI, so it is imported lazily, on first use, and a missing install
raises :class:`BiGymNotInstalled` saying exactly what to run. The adapter env
(``dexmg_bench.envs.bigym``) only talks to a :class:`BiGymBackend`, which makes the backend
swappable: tests drive the adapter through a small fake with the same API surface, CI has no BiGym.

Everything here was checked against BiGym commit ``72d3054`` (its last), with
``mojo-mujoco-wrapper==0.1.1``.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

import numpy as np

BIGYM_COMMIT = "72d305437d5a13800ea633479a1060619fc14e54"  # 72d3054, its last commit
INSTALL_HINT = (
    "BiGym is not installed. Install the optional extra and BiGym itself (not on PyPI), pinned:\n"
    "    pip install 'dexmg-bench[bigym]'\n"
    f"    pip install --no-deps 'bigym @ git+https://github.com/chernyadev/bigym@{BIGYM_COMMIT}'\n"
    "(never `pip install mojo`: that PyPI name is an unrelated toolchain; the extra installs "
    "mojo-mujoco-wrapper==0.1.1, which BiGym imports as `mojo`)."
)

# BiGym's env classes of the three tasks DexMimicGen uses.
TASK_CLASSES = {
    "FlipCup": "bigym.envs.manipulation:FlipCup",
    "DishwasherLoadPlates": "bigym.envs.dishwasher_plates:DishwasherLoadPlates",
    "CupboardsCloseAll": "bigym.envs.cupboards:CupboardsCloseAll",
}
ARMS = ("right", "left")
# The joints the arm-control layer solves for, in BiGym's action order: floating base (x, y, yaw),
# left arm 5, right arm 5 (shoulder pitch, roll, yaw, elbow, wrist roll).
ARM_JOINTS = ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow", "wrist")
IK_DOFS = ("pelvis_x", "pelvis_y", "pelvis_rz") + tuple(
    f"{side}_{j}" for side in ("left", "right") for j in ARM_JOINTS
)
# ``RealBiGym.readout``'s contact arrays where a task's terms need no contacts.
_NO_CONTACTS = (np.zeros(0), np.zeros(0, np.int32), np.zeros(0, np.int32))
# IKGains' fields, in the order bigym_ik_kernel.pose_joint_action takes them.
_GAIN_FIELDS = (
    "rot_weight",
    "damping",
    "max_joint_step",
    "min_joint_step",
    "tolerance",
    "rot_tolerance",
)
# Tasks whose floating base also crouches (BiGym's ``pelvis_z``, 0.4-1.0 m); there the base has
# x, y, z, yaw (BiGym's order) and the IK solves for 14 joints, ``pelvis_z`` after ``pelvis_y``.
# DishwasherLoadPlates: the bottom rack is below the standing H1's reach (its pinch sites get no
# lower than 0.65 m; a plate standing in the rack has its rim at 0.57 m). FlipCup: standing, a
# hand cannot point horizontally at the mug's handle (IK 5-7 cm and, turned over, 0.56 rad
# short); crouching, every step of the 180-degree turn about that horizontal line is reachable.
CROUCHING_TASKS = ("DishwasherLoadPlates", "FlipCup")


class BiGymNotInstalled(ImportError):
    """BiGym (or one of its dependencies) cannot be imported."""


class BiGymBackend(Protocol):
    """What the adapter needs from BiGym; the real one is :class:`RealBiGym`, tests use a fake."""

    def make(self, task: str, *, control_frequency: int) -> Any:
        """A raw BiGym env of ``task`` (gymnasium API, joint-position actions, floating base)."""

    def gripper_poses(self, raw: Any) -> np.ndarray:
        """World poses (2, 4, 4) of the gripper pinch sites, in ``ARMS`` order."""

    def object_poses(self, raw: Any, task: str) -> dict[str, np.ndarray]:
        """World poses (4, 4) of the task objects, by name."""

    def terms(self, raw: Any, task: str) -> dict[str, bool]:
        """Named boolean facts about the scene that subtask signals are built from."""

    def pos_quat(self, raw: Any, task: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Position and wxyz quaternion of the objects and of ``<arm>_eef``, for observations."""

    def render(self, raw: Any, *, camera: str, width: int, height: int) -> np.ndarray:
        """An RGB frame (height, width, 3) uint8, offscreen."""

    def close(self, raw: Any) -> None:
        """Release the env and any renderer made for it."""

    def ik_joints(self, raw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``IK_DOFS`` (+ ``pelvis_z`` if crouching): positions, lower and upper limits."""

    def kinematics(self, raw: Any, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pinch-site poses (2, 4, 4) and Jacobians (2, 6, n) (linear; angular, world) at ``q``.

        ``q`` sets the ``IK_DOFS`` joints; every other joint stays where the scene has it. The
        scene itself is not changed.
        """

    def base_command(self, raw: Any) -> np.ndarray:
        """The floating base's current servo targets (x, y[, z], yaw): what base deltas add to."""

    def servo_sag(self, raw: Any) -> np.ndarray:
        """Per arm joint (10, BiGym order), how far its position servo sits below its target.

        A position servo holds ``kp (target - q) = bias`` (gravity, Coriolis) at rest, so a joint
        commanded to ``q`` settles at ``q - bias / kp``; adding this offset cancels that sag.
        """

    def get_state(self, raw: Any) -> np.ndarray:
        """Everything needed to continue exactly from here (a flat float64 vector)."""

    def set_state(self, raw: Any, state: np.ndarray) -> None:
        """Restore a state from ``get_state``."""


def load_backend(name: str = "bigym") -> BiGymBackend:
    """The real backend for ``"bigym"``; any other name is a module exposing ``BACKEND``."""
    if name == "bigym":
        return RealBiGym()
    return importlib.import_module(name).BACKEND


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


class RealBiGym:
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

    def _contact_groups(self, raw: Any) -> tuple[np.ndarray, dict[str, int], int]:
        """The colliders BiGym's contact checks use, as one group label per geom, built once.

        Returns the labels (``ngeom``; 0 for a geom in no group), each group's label and the
        number of labels. The groups (each gripper's pads, the mug, each plate, the rack) share no
        geom, so a contact's two labels say which groups it joins.
        """
        key = id(raw)
        if key not in self._groups:
            bind, ngeom = raw.mojo.physics.bind, raw.mojo.model.ngeom
            groups = {
                f"{arm}_pads": raw.robot.grippers[side]._pad_geoms
                for arm, side in (("right", self._side.RIGHT), ("left", self._side.LEFT))
            }
            if hasattr(raw, "cup"):
                groups["mug"] = raw.cup.colliders
            if hasattr(raw, "plates"):
                groups |= {f"plate{i}": p.colliders for i, p in enumerate(raw.plates)}
                groups["rack"] = raw.dishwasher.tray_bottom.colliders
            labels = np.zeros(ngeom, np.int64)
            index = {}
            for label, (name, geoms) in enumerate(groups.items(), start=1):
                ids = np.asarray(bind([g.mjcf for g in geoms]).element_id, int)
                if labels[ids].any():
                    raise RuntimeError(f"BiGym model: collider group {name!r} shares geoms")
                labels[ids] = label
                index[name] = label
            self._groups[key] = (labels, index, len(groups) + 1)
        return self._groups[key]

    def _contacts(self, raw: Any) -> set[int]:
        """The group pairs of the active contacts (BiGym's margin: dist <= 1e-8), as codes.

        A contact between geoms of labels ``l1, l2`` has code ``l1 * n + l2`` (``n`` labels);
        ``data.contact`` holds exactly the ``ncon`` active contacts.
        """
        labels, _, n = self._contact_groups(raw)
        c = raw.mojo.data.contact
        keep = c.dist <= 1e-8
        return set((labels[c.geom1[keep]] * n + labels[c.geom2[keep]]).tolist())

    def _touching(self, raw: Any, contacts: set[int], a: str, b: str) -> bool:
        """BiGym's ``has_collided_collections`` of groups ``a`` and ``b``, from ``_contacts``."""
        _, index, n = self._contact_groups(raw)
        la, lb = index[a], index[b]
        return la * n + lb in contacts or lb * n + la in contacts

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

    def _part_joints(self, raw: Any) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Names, qpos addresses, range low and ``low + high`` of the cabinet parts' joints."""
        key = id(raw)
        if key not in self._joints:
            bind, model = raw.mojo.physics.bind, raw.mojo.model
            names, adr, low, span = [], [], [], []
            for n, (cabinet, i, _) in self._cabinet_parts(raw).items():
                joint = cabinet._joints[i].mjcf
                names.append(n)
                adr.append(model.jnt_qposadr[int(bind(joint).element_id)])
                low.append(joint.range[0])
                span.append(joint.range[0] + joint.range[1])
            self._joints[key] = (names, np.array(adr), np.array(low), np.array(span))
        return self._joints[key]

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

    def _mug_upright_check(self, raw: Any) -> tuple[int, float]:
        """FlipCup: the mug's body id and the cosine of BiGym's upright tolerance, built once."""
        key = id(raw)
        if key not in self._upright:
            self._upright[key] = (raw.cup.body.id, float(np.cos(raw._TOLERANCE)))
        return self._upright[key]

    def terms(self, raw: Any, task: str) -> dict[str, bool]:
        """See :class:`BiGymBackend`."""
        touching = None
        if task != "CupboardsCloseAll":
            contacts = self._contacts(raw)
            touching = {
                pair: self._touching(raw, contacts, *pair) for pair in self._contact_pairs(raw)
            }
        mug = raw.mojo.data.xquat[self._mug_upright_check(raw)[0]] if task == "FlipCup" else None
        return self._terms(raw, task, touching, mug)

    def _contact_pairs(self, raw: Any) -> list[tuple[str, str]]:
        """The collider-group pairs the terms ask about (none in CupboardsCloseAll)."""
        if hasattr(raw, "cup"):
            return [(f"{arm}_pads", "mug") for arm in ARMS]
        if hasattr(raw, "plates"):
            plates = [f"plate{i}" for i in range(len(raw.plates))]
            return [(f"{a}_pads", p) for a in ARMS for p in plates] + [(p, "rack") for p in plates]
        return []

    def _terms(
        self,
        raw: Any,
        task: str,
        touching: dict[tuple[str, str], bool] | None,
        mug_quat: np.ndarray | None,
    ) -> dict[str, bool]:
        """``terms`` from the contact facts of ``_contact_pairs`` and the mug's wxyz quaternion."""
        out: dict[str, bool] = {}
        if task == "FlipCup":
            for arm in ARMS:
                out[f"{arm}_holds_mug"] = touching[f"{arm}_pads", "mug"]
            _, x, y, _ = mug_quat.tolist()  # wxyz
            # z of the mug frame in world is R(q)[:, 2]; its world-z component is 1 - 2(x^2 + y^2).
            out["mug_upright"] = 1 - 2 * (x * x + y * y) > self._mug_upright_check(raw)[1]
        elif task == "DishwasherLoadPlates":
            plates = range(len(raw.plates))
            held = {(a, i): touching[f"{a}_pads", f"plate{i}"] for a in ARMS for i in plates}
            for arm in ARMS:
                out[f"{arm}_holds_plate"] = any(held[arm, i] for i in plates)
            for i in plates:
                out[f"plate{i}_in_rack"] = touching[f"plate{i}", "rack"]
                # BiGym's per-plate success terms less the angle: in the rack, let go of.
                out[f"plate{i}_loaded"] = out[f"plate{i}_in_rack"] and not any(
                    held[a, i] for a in ARMS
                )
            out["right_holds_plate0"] = held["right", 0]
            out["left_holds_plate1"] = held["left", 1]
        else:
            names, adr, low, span = self._part_joints(raw)
            # BiGym's normalised joint state (its formula, ``(q - lo) / (lo + hi)``; 0 closed),
            # read from qpos at once, with its success tolerance 0.1.
            state = ((raw.mojo.data.qpos[adr] - low) / span).tolist()
            out |= {f"{n}_closed": abs(v) <= 0.1 for n, v in zip(names, state, strict=True)}
            out["drawers_closed"] = all(v for k, v in out.items() if k.startswith("drawer"))
            out["base_doors_closed"] = all(out[f"base_door_{s}_closed"] for s in ("left", "right"))
        return out

    def readout(
        self, raw: Any, task: str
    ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, bool]]:
        """``(pos_quat(raw, task), terms(raw, task))``, the same values, in one compiled call.

        Right after BiGym's step every separate MuJoCo or numpy call of ours paid cache misses
        (measured: reading ``data.ncon`` 6.6 us there against 0.16 us warm), so a step's reads
        go through one kernel (``bigym_ik_kernel.readout``) on arrays bound once per env.
        """
        kernel, fixed, names, pairs, contacts = self._readout_binding(raw, task)
        n = len(names)
        pos, quat = np.empty((n, 3)), np.empty((n, 4))
        site_pos, site_quat = np.empty((len(ARMS), 3)), np.empty((len(ARMS), 4))
        touching = np.empty(len(pairs), np.bool_)
        if contacts:
            c = raw.mojo.data.contact
            dist, geom1, geom2 = c.dist, c.geom1, c.geom2
        else:
            dist, geom1, geom2 = _NO_CONTACTS
        kernel(*fixed, dist, geom1, geom2, pos, quat, site_pos, site_quat, touching)
        obs = {name: (pos[i], quat[i]) for i, name in enumerate(names)}
        for i, arm in enumerate(ARMS):
            obs[f"{arm}_eef"] = (site_pos[i], site_quat[i])
        facts = dict(zip(pairs, touching.tolist(), strict=True)) if contacts else None
        return obs, self._terms(raw, task, facts, quat[0] if task == "FlipCup" else None)

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

    def _readout_binding(self, raw: Any, task: str) -> tuple[Any, tuple, list, list, bool]:
        """``readout``'s kernel and per-env arguments, built once per env and ``MjData``."""
        key, data = id(raw), raw.mojo.data
        bound = self._readout_bound.get(key)
        if bound is None or bound[0] is not data:
            from dexmg_bench.sim.bigym_ik_kernel import MAT2QUAT, readout

            names, bodies, sites, xpos, xquat, site_xpos, site_xmat = self._observed(raw, task)
            pairs = self._contact_pairs(raw)
            if pairs:
                labels, index, _ = self._contact_groups(raw)
                codes = np.array([[index[a], index[b]] for a, b in pairs], np.int64)
            else:
                labels, codes = np.zeros(1, np.int64), np.zeros((0, 2), np.int64)
            fixed = (
                MAT2QUAT,
                xpos,
                xquat,
                site_xpos,
                site_xmat,
                np.asarray(bodies, np.int64),
                np.asarray(sites, np.int64),
                labels,
                codes,
            )
            bound = (data, readout, fixed, names, pairs, bool(pairs))
            self._readout_bound[key] = bound
        return bound[1:]

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

    def _ik_binding(self, raw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        """Qpos and dof addresses of ``IK_DOFS``, pinch-site ids (``ARMS`` order), scratch data."""
        key = id(raw)
        if key not in self._ik:
            mj, model = self._mujoco, raw.mojo.model
            names = [mj.mj_id2name(model, mj.mjtObj.mjOBJ_JOINT, i) for i in range(model.njnt)]
            dofs = IK_DOFS
            if any(n and n.split("/")[-1] == "pelvis_z" for n in names):  # a crouching task
                dofs = IK_DOFS[:2] + ("pelvis_z",) + IK_DOFS[2:]
            ids = []
            for dof in dofs:
                found = [i for i, n in enumerate(names) if n and n.split("/")[-1] == dof]
                if len(found) != 1:
                    raise RuntimeError(f"BiGym model: joint {dof!r} matches {len(found)} joints")
                ids.append(found[0])
            ids_arr = np.array(ids)
            grippers = raw.robot.grippers
            sides = {"right": self._side.RIGHT, "left": self._side.LEFT}
            sites = np.array([grippers[sides[a]]._pinch_site.id for a in ARMS])
            self._ik[key] = (
                model.jnt_qposadr[ids_arr].copy(),
                model.jnt_dofadr[ids_arr].copy(),
                sites,
                mj.MjData(model),
            )
        return self._ik[key]

    def ik_joints(self, raw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """See :class:`BiGymBackend`; unlimited joints (base x, y, yaw) get +-inf."""
        qadr, dadr, _, _ = self._ik_binding(raw)
        key = id(raw)
        if key not in self._limits:  # per step: the limits never change
            model = raw.mojo.model
            jnt = model.dof_jntid[dadr]
            limited = model.jnt_limited[jnt].astype(bool)
            lower = np.where(limited, model.jnt_range[jnt, 0], -np.inf)
            upper = np.where(limited, model.jnt_range[jnt, 1], np.inf)
            self._limits[key] = (lower, upper)
        lower, upper = self._limits[key]
        return raw.mojo.data.qpos[qadr], lower.copy(), upper.copy()

    def kinematics(self, raw: Any, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """See :class:`BiGymBackend`; forward kinematics on a scratch ``MjData``."""
        mj, model = self._mujoco, raw.mojo.model
        qadr, dadr, sites, scratch = self._ik_binding(raw)
        scratch.qpos[:] = raw.mojo.data.qpos
        scratch.qpos[qadr] = q
        mj.mj_kinematics(model, scratch)
        mj.mj_comPos(model, scratch)
        poses = np.tile(np.eye(4), (len(ARMS), 1, 1))
        jac = np.empty((len(ARMS), 6, len(qadr)))
        jacp, jacr = np.empty((3, model.nv)), np.empty((3, model.nv))
        for i, site in enumerate(sites):
            poses[i, :3, :3] = scratch.site_xmat[site].reshape(3, 3)
            poses[i, :3, 3] = scratch.site_xpos[site]
            mj.mj_jacSite(model, scratch, jacp, jacr, site)
            jac[i, :3], jac[i, 3:] = jacp[:, dadr], jacr[:, dadr]
        return poses, jac

    def solve_ik(  # noqa: PLR0913 (the arguments of envs.bigym.solve_ik)
        self,
        raw: Any,
        q0: np.ndarray,
        targets: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        *,
        cost: np.ndarray,
        gains: Any,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``envs.bigym.solve_ik`` with this model's kinematics, compiled (``bigym_ik_kernel``).

        Same iteration and result (to ~1e-12) as the numpy reference, 30-100x cheaper (measured
        on far targets: 0.12-0.16 ms against 4-17 ms).
        """
        from dexmg_bench.sim.bigym_ik_kernel import solve_on

        qadr, dadr, sites, scratch = self._ik_binding(raw)
        return solve_on(
            raw.mojo.model,
            scratch,
            raw.mojo.data.qpos,
            qadr,
            dadr,
            sites,
            q0,
            targets,
            lower,
            upper,
            cost=cost,
            gains=gains,
        )

    def pose_joint_action(  # noqa: PLR0913 (the adapter's pose-to-joint inputs)
        self,
        raw: Any,
        targets: np.ndarray,
        hand: np.ndarray,
        *,
        cost: np.ndarray,
        gains: Any,
        base_step: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """BiGym's joint action (``low.dtype``) for pinch-site targets, and the IK's position error.

        ``BiGymAdapterEnv._pose_to_joint_action`` (IK from the scene, base deltas clamped to
        ``base_step``, servo sag, grippers ``hand`` in [-1, 1], clamped to ``[low, high]``) in one
        compiled call (``bigym_ik_kernel.pose_joint_action``), the same bits: its numpy glue cost
        more than the IK itself. Everything but the targets and grippers is bound once per env.
        """
        kernel, fixed, nq = self._pose_binding(raw)
        if gains is not self._pose_gains[0]:  # frozen: the arguments of one gains object, once
            values = [getattr(gains, f) for f in _GAIN_FIELDS]
            self._pose_gains = (gains, np.array(values, np.float64), int(gains.iterations))
        _, gain_values, iterations = self._pose_gains
        out_q, out_err = np.empty(nq), np.empty(len(ARMS))
        out_joint = np.empty(low.size, low.dtype)
        kernel(
            *fixed,
            np.ascontiguousarray(targets, np.float64),
            np.asarray(hand, np.float64),
            cost,
            gain_values,
            iterations,
            base_step,
            low,
            high,
            out_q,
            out_err,
            out_joint,
        )
        return out_joint, out_err

    def _pose_binding(self, raw: Any) -> tuple[Any, tuple, int]:
        """The kernel, its per-env arguments and ``len(IK dofs)``, once per env and ``MjData``.

        MuJoCo's arrays are views into its ``MjData``, whose buffers live as long as it does;
        BiGym keeps one ``MjData`` across resets (checked by identity on every call).
        """
        key, data = id(raw), raw.mojo.data
        bound = self._pose_bound.get(key)
        if bound is None or bound[0] is not data:
            from dexmg_bench.sim.bigym_ik_kernel import FUNCTIONS, pose_joint_action

            qadr, dadr, sites, scratch = self._ik_binding(raw)
            lower, upper = self.ik_joints(raw)[1:]
            self.base_command(raw)  # the base actuator ids
            self.servo_sag(raw)  # the servo gains
            model = raw.mojo.model
            fixed = (
                FUNCTIONS,
                np.uint64(model._address),
                np.uint64(scratch._address),
                scratch.qpos,
                scratch.site_xpos,
                scratch.site_xmat,
                data.qpos,
                data.ctrl,
                data.qfrc_bias,
                np.asarray(self._base_ctrl[key], np.int64),
                np.asarray(qadr, np.int64),
                np.asarray(dadr, np.int64),
                np.asarray(sites, np.int32),
                lower,
                upper,
                self._kp[key],
                np.empty((3, model.nv)),  # Jacobian scratch
                np.empty((3, model.nv)),
            )
            bound = (data, pose_joint_action, fixed, len(qadr))
            self._pose_bound[key] = bound
        return bound[1:]

    def base_command(self, raw: Any) -> np.ndarray:
        """See :class:`BiGymBackend`."""
        key = id(raw)
        if key not in self._base_ctrl:  # actuator ids once (dm_control's bind costs ~7 us each)
            bind = raw.mojo.physics.bind
            ids = [int(bind(a).element_id) for a in raw.robot.floating_base.all_actuators]
            self._base_ctrl[key] = np.array(ids)
        return raw.mojo.data.ctrl[self._base_ctrl[key]].astype(np.float64)

    def servo_sag(self, raw: Any) -> np.ndarray:
        """See :class:`BiGymBackend`."""
        key = id(raw)
        if key not in self._kp:
            bind = raw.mojo.physics.bind
            ids = np.array([int(bind(a).element_id) for a in raw.robot.limb_actuators])
            self._kp[key] = raw.mojo.model.actuator_gainprm[ids, 0].copy()
        _, dadr, _, _ = self._ik_binding(raw)
        return raw.mojo.data.qfrc_bias[dadr[-len(ARM_JOINTS) * 2 :]] / self._kp[key]

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
