"""A reader that leaves early (``dexmg envs | head -1``) ends ``dexmg`` quietly."""

from __future__ import annotations

import os
import subprocess
import sys

from dexmg_bench.cli import BROKEN_PIPE_STATUS


def test_a_closed_stdout_ends_quietly_with_sigpipes_status():
    """No traceback, and the status a shell gives a writer whose pipe closed."""
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "osmesa")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dexmg_bench.cli", "envs"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()  # before the command has imported anything, so its first write fails
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == BROKEN_PIPE_STATUS, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
