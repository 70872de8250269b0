"""The simulator layer: the only subpackage that imports mujoco or robosuite.

It chooses a headless OpenGL backend before MuJoCo loads: EGL where a GPU is visible, OSMesa
otherwise (EGL fails on CPU-only machines). Set ``MUJOCO_GL`` yourself to override.
"""

import logging
import os
from pathlib import Path

# robosuite logs setup advice on import (private macro file, optional robot packages, GR1's IK
# module); none of it concerns our users. A filter survives robosuite resetting the logger level.
logging.getLogger("robosuite_logs").addFilter(lambda record: record.levelno >= logging.ERROR)

if "MUJOCO_GL" not in os.environ and not os.environ.get("DISPLAY"):
    os.environ["MUJOCO_GL"] = "egl" if Path("/dev/nvidia0").exists() else "osmesa"
if os.environ.get("MUJOCO_GL") == "osmesa":
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

from dexmg_bench.sim.physics import Physics  # noqa: E402

__all__ = ["Physics"]
