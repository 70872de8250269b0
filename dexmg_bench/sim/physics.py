"""A thin wrapper over ``mujoco.MjModel``/``MjData``: named poses, exact state, offscreen images."""

from __future__ import annotations

import mujoco
import numpy as np

# Everything MuJoCo needs to continue our simulations bit for bit: the physics state, the controls
# and the solver's warm start. Applied forces are left out: no task uses them, and they would make
# states four times larger.
_STATE_SPEC = (
    mujoco.mjtState.mjSTATE_FULLPHYSICS
    | mujoco.mjtState.mjSTATE_CTRL
    | mujoco.mjtState.mjSTATE_WARMSTART
)


class Physics:
    """Owns one compiled model and its data; every env talks to MuJoCo through this class."""

    def __init__(self, model: mujoco.MjModel):
        self.model = model
        self.data = mujoco.MjData(model)
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        # Sites are debugging markers (robosuite's grip cylinders among them): never in images.
        self._scene_option = mujoco.MjvOption()
        self._scene_option.sitegroup[:] = 0
        self.state_size = mujoco.mj_stateSize(model, _STATE_SPEC)

    # ----------------------------------------------------------------- names
    def id(self, kind: str, name: str) -> int:
        """Index of a named element; ``kind`` is an ``mjtObj`` suffix such as ``"body"``."""
        obj = getattr(mujoco.mjtObj, f"mjOBJ_{kind.upper()}")
        idx = mujoco.mj_name2id(self.model, obj, name)
        if idx < 0:
            raise KeyError(f"no {kind} named {name!r} in the model")
        return idx

    def joint_qpos_adr(self, name: str) -> int:
        """Start of a joint's coordinates in ``qpos``."""
        return int(self.model.jnt_qposadr[self.id("joint", name)])

    def joint_dof_adr(self, name: str) -> int:
        """Start of a joint's degrees of freedom in ``qvel``."""
        return int(self.model.jnt_dofadr[self.id("joint", name)])

    # ----------------------------------------------------------------- poses
    def body_pose(self, body_id: int) -> np.ndarray:
        """World pose (4x4) of a body, valid after ``forward``/``step``."""
        pose = np.eye(4)
        pose[:3, :3] = self.data.xmat[body_id].reshape(3, 3)
        pose[:3, 3] = self.data.xpos[body_id]
        return pose

    def site_pose(self, site_id: int) -> np.ndarray:
        """World pose (4x4) of a site."""
        pose = np.eye(4)
        pose[:3, :3] = self.data.site_xmat[site_id].reshape(3, 3)
        pose[:3, 3] = self.data.site_xpos[site_id]
        return pose

    def set_free_joint(self, name: str, pos: np.ndarray, wxyz: np.ndarray) -> None:
        """Place a free-floating object and zero its velocity."""
        qa, da = self.joint_qpos_adr(name), self.joint_dof_adr(name)
        self.data.qpos[qa : qa + 3] = pos
        self.data.qpos[qa + 3 : qa + 7] = wxyz
        self.data.qvel[da : da + 6] = 0.0

    # ----------------------------------------------------------------- state
    def get_state(self) -> np.ndarray:
        """Flat copy of the full integration state (time, qpos, qvel, act, ctrl, warm start...)."""
        state = np.empty(self.state_size)
        mujoco.mj_getState(self.model, self.data, state, _STATE_SPEC)
        return state

    def set_state(self, state: np.ndarray) -> None:
        """Restore a state from ``get_state``; derived quantities are recomputed."""
        state = np.asarray(state, dtype=np.float64)
        if state.shape != (self.state_size,):
            raise ValueError(f"expected a state of shape ({self.state_size},), got {state.shape}")
        mujoco.mj_setState(self.model, self.data, state, _STATE_SPEC)
        mujoco.mj_forward(self.model, self.data)

    def reset(self) -> None:
        """Back to the model's default configuration."""
        mujoco.mj_resetData(self.model, self.data)

    def forward(self) -> None:
        """Recompute positions, contacts and forces without advancing time."""
        mujoco.mj_forward(self.model, self.data)

    def contact_between(self, geoms_a: frozenset[int], geoms_b: frozenset[int]) -> bool:
        """Whether any active contact touches one geom of each set."""
        con = self.data.contact
        for i in range(self.data.ncon):
            g1, g2 = int(con.geom1[i]), int(con.geom2[i])
            if (g1 in geoms_a and g2 in geoms_b) or (g1 in geoms_b and g2 in geoms_a):
                return True
        return False

    def body_geoms(self, body_name: str, *, subtree: bool = True) -> frozenset[int]:
        """Geom ids of a body (and of its descendants when ``subtree``)."""
        root = self.id("body", body_name)
        bodies = {root}
        if subtree:
            for b in range(self.model.nbody):
                parent = b
                while parent > 0 and parent not in bodies:
                    parent = int(self.model.body_parentid[parent])
                if parent in bodies:
                    bodies.add(b)
        return frozenset(g for g in range(self.model.ngeom) if self.model.geom_bodyid[g] in bodies)

    # ----------------------------------------------------------------- images
    def render(self, camera: str, width: int, height: int) -> np.ndarray:
        """An RGB image (height, width, 3) uint8 from a named camera, rendered offscreen."""
        key = (width, height)
        if key not in self._renderers:
            self._renderers[key] = mujoco.Renderer(self.model, height=height, width=width)
        renderer = self._renderers[key]
        renderer.update_scene(self.data, camera=camera, scene_option=self._scene_option)
        # Shadows and floor reflections double the cost of software (OSMesa) rendering and carry
        # nothing a policy needs.
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
        return renderer.render().copy()

    def close(self) -> None:
        """Free the rendering contexts."""
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()
