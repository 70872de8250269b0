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


class RealBiGym:
    """BiGym at commit ``72d3054``: envs with ``JointPositionActionMode(absolute=True)``."""

    def __init__(self) -> None:
        # Fail at construction, with the install message, not at the first reset.
        self._mode_cls = _import("bigym.action_modes:JointPositionActionMode")
        self._side = _import("bigym.const:HandSide")
        self._mujoco = importlib.import_module("mujoco")
        self._renderers: dict[int, Any] = {}
        self._parts: dict[int, dict[str, tuple[Any, int, int]]] = {}
        self._masks: dict[int, dict[str, np.ndarray]] = {}
        self._joints: dict[int, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]] = {}

    def make(self, task: str, *, control_frequency: int) -> Any:
        """See :class:`BiGymBackend`."""
        cls = _import(TASK_CLASSES[task])
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

    def _geom_masks(self, raw: Any) -> dict[str, np.ndarray]:
        """Boolean masks over geoms of the colliders BiGym's contact checks use, built once."""
        key = id(raw)
        if key not in self._masks:
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
            masks = {}
            for name, geoms in groups.items():
                mask = np.zeros(ngeom, bool)
                mask[np.asarray(bind([g.mjcf for g in geoms]).element_id, int)] = True
                masks[name] = mask
            self._masks[key] = masks
        return self._masks[key]

    def _contacts(self, raw: Any) -> tuple[np.ndarray, np.ndarray]:
        """Geom pairs of the active contacts, with BiGym's margin (dist <= 1e-8)."""
        data = raw.mojo.data
        n = data.ncon
        c = data.contact
        keep = c.dist[:n] <= 1e-8
        return c.geom1[:n][keep], c.geom2[:n][keep]

    def _touching(self, raw: Any, contacts: tuple[np.ndarray, np.ndarray], a: str, b: str) -> bool:
        """BiGym's ``has_collided_collections``, vectorised over the contacts."""
        masks = self._geom_masks(raw)
        g1, g2 = contacts
        ma, mb = masks[a], masks[b]
        return bool(np.any((ma[g1] & mb[g2]) | (ma[g2] & mb[g1])))

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
            return out
        return {
            n: _pose(data.xpos[b], data.xmat[b])
            for n, (_, _, b) in self._cabinet_parts(raw).items()
        }

    def pos_quat(self, raw: Any, task: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """See :class:`BiGymBackend`; MuJoCo's own quaternions, no matrix round trip."""
        data, mj = raw.mojo.data, self._mujoco
        ids = self._body_ids(raw, task)
        out = {n: (data.xpos[b].copy(), data.xquat[b].copy()) for n, b in ids.items()}
        grippers = raw.robot.grippers
        for arm, side in (("right", self._side.RIGHT), ("left", self._side.LEFT)):
            site = grippers[side]._pinch_site.id
            quat = np.empty(4)
            mj.mju_mat2Quat(quat, data.site_xmat[site])
            out[f"{arm}_eef"] = (data.site_xpos[site].copy(), quat)
        return out

    def _body_ids(self, raw: Any, task: str) -> dict[str, int]:
        if task == "FlipCup":
            return {"mug": raw.cup.body.id}
        if task == "DishwasherLoadPlates":
            out = {f"plate{i}": p.body.id for i, p in enumerate(raw.plates)}
            return out | {"drainer": raw.drainer.body.id}
        return {n: b for n, (_, _, b) in self._cabinet_parts(raw).items()}

    def terms(self, raw: Any, task: str) -> dict[str, bool]:
        """See :class:`BiGymBackend`."""
        out: dict[str, bool] = {}
        contacts = self._contacts(raw) if task != "CupboardsCloseAll" else None
        if task == "FlipCup":
            for arm in ARMS:
                out[f"{arm}_holds_mug"] = self._touching(raw, contacts, f"{arm}_pads", "mug")
            _, x, y, _ = raw.mojo.data.xquat[raw.cup.body.id]  # wxyz
            # z of the mug frame in world is R(q)[:, 2]; its world-z component is 1 - 2(x^2 + y^2).
            out["mug_upright"] = bool(1 - 2 * (x * x + y * y) > np.cos(raw._TOLERANCE))
        elif task == "DishwasherLoadPlates":
            for arm in ARMS:
                out[f"{arm}_holds_plate"] = any(
                    self._touching(raw, contacts, f"{arm}_pads", f"plate{i}")
                    for i in range(len(raw.plates))
                )
            for i in range(len(raw.plates)):
                out[f"plate{i}_in_rack"] = self._touching(raw, contacts, f"plate{i}", "rack")
        else:
            names, adr, low, span = self._part_joints(raw)
            # BiGym's normalised joint state (its formula, ``(q - lo) / (lo + hi)``; 0 closed),
            # read from qpos at once, with its success tolerance 0.1.
            state = (raw.mojo.data.qpos[adr] - low) / span
            out |= {f"{n}_closed": bool(abs(v) <= 0.1) for n, v in zip(names, state, strict=True)}
        return out

    def render(self, raw: Any, *, camera: str, width: int, height: int) -> np.ndarray:
        """See :class:`BiGymBackend`. BiGym's own ``render()`` fails on gymnasium 1.x."""
        mj = self._mujoco
        key = id(raw)
        renderer = self._renderers.get(key)
        if renderer is None or (renderer.width, renderer.height) != (width, height):
            renderer = self._renderers[key] = mj.Renderer(raw.mojo.model, height, width)
        cam = mj.mj_name2id(raw.mojo.model, mj.mjtObj.mjOBJ_CAMERA, camera)
        if cam < 0:
            raise ValueError(f"BiGym has no camera {camera!r}")
        renderer.update_scene(raw.mojo.data, camera=cam)
        return renderer.render().copy()

    def close(self, raw: Any) -> None:
        """See :class:`BiGymBackend`."""
        self._parts.pop(id(raw), None)
        self._masks.pop(id(raw), None)
        self._joints.pop(id(raw), None)
        renderer = self._renderers.pop(id(raw), None)
        if renderer is not None:
            renderer.close()
        raw.close()
