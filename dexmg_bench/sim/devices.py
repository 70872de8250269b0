"""Live teleoperation devices (robosuite's keyboard and SpaceMouse) and MuJoCo's passive viewer.

robosuite's devices expect a robosuite env only to know how many arms there are; we hand them a
small stand-in. Every way a device can be unavailable ends in one ``DeviceError`` line that says
what to do instead (``--device replay --inputs FILE`` works anywhere).
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import numpy as np

# Keys handled by us on top of robosuite's keyboard map (see KEYBOARD_HELP).
MARK_KEY, KEEP_KEY, DISCARD_KEY, MIRROR_KEY = "n", "enter", "backspace", "m"

KEYBOARD_HELP = """\
keys (robosuite's keyboard map plus boundary and episode keys):
  up / down / left / right   move the active hand in the x-y plane
  . / ;                      move down / up
  o / p                      yaw        y / h   pitch        e / r   roll
  spacebar                   toggle grasp (open <-> closed; dexterous hands: power grasp)
  s                          switch the active arm (right <-> left)
  m                          mirror: both arms follow the device (y and rotations mirrored)
  n                          mark a subtask boundary for the active arm
  enter                      end the episode and keep it (if successful, or with --keep-failures)
  backspace                  end the episode and discard it
  ctrl+q                     reset the episode"""


class DeviceError(RuntimeError):
    """A live device cannot be used here; the message says what to do instead."""


def _require_display(what: str) -> None:
    if not os.environ.get("DISPLAY"):
        raise DeviceError(
            f"{what} needs a display and DISPLAY is empty: use --device replay --inputs FILE, "
            "or run under a virtual display (xvfb-run dexmg teleop ...)."
        )


class LiveDevice:
    """Reads a robosuite device as per-arm normalised pose deltas, grasp scalars and events."""

    def __init__(self, kind: str, arms: tuple[str, ...], max_dpos: float, max_drot: float):
        self.arms, self.max_dpos, self.max_drot = arms, max_dpos, max_drot
        self.events: list[str] = []
        self.mirror = False
        shim = SimpleNamespace(robots=[SimpleNamespace(arms=list(arms))])
        if kind == "keyboard":
            _require_display("the keyboard device")
            try:
                from pynput.keyboard import Key, Listener
                from robosuite.devices import Keyboard
            except Exception as err:  # noqa: BLE001 (pynput fails in many ways without X)
                raise DeviceError(f"the keyboard device cannot start ({err}).") from err
            self.device = Keyboard(env=shim)
            names = {Key.enter: KEEP_KEY, Key.backspace: DISCARD_KEY}

            def on_press(key: Any) -> None:
                name = names.get(key, getattr(key, "char", None))
                if name in (MARK_KEY, KEEP_KEY, DISCARD_KEY):
                    self.events.append(name)
                elif name == MIRROR_KEY:
                    self.mirror = not self.mirror

            self.listener = Listener(on_press=on_press)
            self.listener.start()
        elif kind == "spacemouse":
            try:
                import hid  # noqa: F401 (robosuite's SpaceMouse reads through it)
                from robosuite.devices import SpaceMouse

                self.device = SpaceMouse(env=shim)
            except Exception as err:  # noqa: BLE001 (no package, no device, no permission)
                raise DeviceError(
                    f"no SpaceMouse available ({err}): install `hidapi`, plug one in, or use "
                    "--device keyboard or --device replay --inputs FILE."
                ) from err
            self.listener = None
        else:
            raise DeviceError(f"unknown device {kind!r}: use keyboard, spacemouse or replay.")
        self.device.start_control()

    def read(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """(dpos, drot) (n_arms, 3) in [-1, 1], grasp (n_arms,), and events since the last read."""
        state = self.device.get_controller_state()
        n = len(self.arms)
        dpos, drot = np.zeros((n, 3)), np.zeros((n, 3))
        active = int(getattr(self.device, "active_arm_index", 0)) % n
        d = np.clip(np.asarray(state["dpos"]) / self.max_dpos, -1, 1)
        r = np.clip(np.asarray(state["raw_drotation"]) / self.max_drot, -1, 1)
        dpos[active], drot[active] = d, r
        if self.mirror:
            other = 1 - active
            dpos[other] = d * np.array([1.0, -1.0, 1.0])
            drot[other] = r * np.array([-1.0, 1.0, -1.0])
        grasp = np.full(n, float(bool(state["grasp"])))
        events, self.events = [f"{e}:{self.arms[active]}" for e in self.events], []
        return dpos, drot, grasp, events

    def close(self) -> None:
        """Stop listening."""
        if self.listener is not None:
            self.listener.stop()


def open_viewer(physics: Any) -> Any:
    """MuJoCo's passive viewer on the env's model and data (a display is required)."""
    _require_display("the live viewer")
    import mujoco.viewer

    return mujoco.viewer.launch_passive(physics.model, physics.data)
