"""The live keyboard device on a virtual display (Xvfb + xdotool); skipped without them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.datasets.source import read_source_file

pytestmark = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="needs Debian's xvfb and xdotool (apt-get install xvfb xdotool)",
)


def test_keyboard_opens_the_viewer_moves_the_active_arm_and_marks_a_boundary(tmp_path):
    """Up arrows and '.' move the right hand, 'n' marks its boundary, Enter keeps the episode."""
    display = ":93"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1024x768x24"])
    env = {**os.environ, "DISPLAY": display, "MUJOCO_GL": "glfw"}
    log = tmp_path / "teleop.log"
    out = tmp_path / "live"
    try:
        time.sleep(1.5)
        dexmg = str(Path(sys.executable).parent / "dexmg")
        cmd = [dexmg, "teleop", "--task", "Threading",
               "--device", "keyboard", "--out", str(out), "--keep-failures"]  # fmt: skip
        with open(log, "w") as f:
            proc = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while "ctrl+q" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.5)
        help_text = log.read_text()
        for key in ("up / down / left / right", "spacebar", "switch the active arm", "enter"):
            assert key in help_text
        time.sleep(1.0)

        def keys(*names: str) -> None:
            for name in names:
                subprocess.run(["xdotool", "key", name], env=env, check=True)
                time.sleep(0.05)

        keys(*["Up"] * 15, "n", *["period"] * 10)
        time.sleep(1.0)
        keys("Return")
        proc.wait(timeout=60)
    finally:
        xvfb.terminate()
    demo = read_source_file(out / "threading-d0.hdf5").demos[0]
    right, left = demo.eef_pose[:, 0, :3, 3], demo.eef_pose[:, 1, :3, 3]
    assert np.linalg.norm(right[-1] - right[0]) > 0.05  # the active (right) hand moved
    assert np.linalg.norm(left[-1] - left[0]) < 0.01  # the other one held still
    assert len(demo.boundaries["right"]) == 2 and demo.boundaries["right"][0] < demo.num_steps
