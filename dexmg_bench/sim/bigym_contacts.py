"""The contact facts and subtask terms of the real BiGym backend (``RealBiGymTerms``).

Which gripper pads touch which object, whether a plate rests on the rack, how far the mug tilts
and how open each cabinet part is are read from BiGym's MuJoCo state here (BiGym's own checks,
vectorised); what they mean for a task (``<arm>_holds_mug``, ``plate0_loaded``,
``drawers_closed``, ...) is ``envs.bigym_tasks``'. ``readout`` reads a step's observation
additions and contact facts in one compiled call (``bigym_ik_kernel.readout``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dexmg_bench.envs.bigym_tasks import cupboards_terms, dishwasher_terms, flip_cup_terms
from dexmg_bench.sim.bigym_backend import ARMS

# ``RealBiGym.readout``'s contact arrays where a task's terms need no contacts.
_NO_CONTACTS = (np.zeros(0), np.zeros(0, np.int32), np.zeros(0, np.int32))


class RealBiGymTerms:
    """``RealBiGym``'s ``terms`` and ``readout``: contact facts, mug tilt, cabinet joint states.

    A part of :class:`~dexmg_bench.sim.bigym_real.RealBiGym`, which owns the per-env caches
    (made in its ``__init__``, dropped in its ``close``) and ``_cabinet_parts`` / ``_observed``.
    """

    _side: Any
    _groups: dict[int, tuple[np.ndarray, dict[str, int], int]]
    _upright: dict[int, tuple[int, float]]
    _joints: dict[int, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]]
    _readout_bound: dict[int, tuple[Any, ...]]

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
        """``terms`` from the contact facts of ``_contact_pairs`` and the mug's wxyz quaternion.

        The facts are read here; ``envs.bigym_tasks`` says what they mean for the task.
        """
        if task == "FlipCup":
            return flip_cup_terms(touching, mug_quat, self._mug_upright_check(raw)[1])
        if task == "DishwasherLoadPlates":
            return dishwasher_terms(touching, len(raw.plates))
        names, adr, low, span = self._part_joints(raw)
        # BiGym's normalised joint state (its formula, ``(q - lo) / (lo + hi)``; 0 closed),
        # read from qpos at once.
        state = ((raw.mojo.data.qpos[adr] - low) / span).tolist()
        return cupboards_terms(names, state)

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
