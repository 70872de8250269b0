"""Escape tests: each misbehaving policy ends as a PolicyFailure with its reason; the grader lives.

Run with bubblewrap where it is installed and with rlimits + audit hook only (``unsandboxed``)
everywhere; the OS-level cases (a fork bomb through libc, a write through libc) need bubblewrap.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.leaderboard.manifest import stage, write_manifest
from dexmg_bench.leaderboard.sandbox import (
    PolicyFailure,
    SandboxedPolicy,
    SandboxLimits,
    bubblewrap,
)

HAVE_BWRAP = bubblewrap() is not None
NO_BWRAP = "bubblewrap unavailable (apt-get install bubblewrap); sandboxed cases skipped"
MODES = [
    pytest.param(False, id="unsandboxed"),
    pytest.param(
        True,
        id="bubblewrap",
        marks=pytest.mark.skipif(not HAVE_BWRAP, reason=NO_BWRAP),
    ),
]

BODY = """
import gc, os, sys, time
import numpy as np

class Policy:
    def __init__(self, *, checkpoint, task, variant):
        pass

    def reset(self):
        pass

    def act(self, obs):
{act}
"""

ESCAPES = {
    "gc": (
        "for o in gc.get_objects():\n    if hasattr(o, 'unwrapped'):\n        return o.step\n"
        "raise RuntimeError('no env')",
        "violation: gc.get_objects",
    ),
    "frames": (
        "f = sys._getframe()\nwhile f is not None:\n"
        "    if any(hasattr(v, 'unwrapped') for v in f.f_locals.values()):\n"
        "        return np.zeros(14)\n    f = f.f_back\n"
        "raise RuntimeError('no env in any frame')",
        "policy raised act: RuntimeError: no env in any frame",
    ),
    "socket": (
        "import socket\nsocket.create_connection(('127.0.0.1', 80), timeout=1)",
        "violation: socket",
    ),
    "write": ("open('/work/escaped.txt', 'w').write('x')", "violation: write outside tmp"),
    "memory": ("x = np.ones(8 * 2**30, dtype=np.uint8)\nreturn x[:14]", "MemoryError"),
    "sleep": ("time.sleep(10**6)", "timeout: act took longer"),
    "fork": ("while True:\n    os.fork()", "violation: os.fork"),
    "subprocess": ("import subprocess\nsubprocess.run(['true'])", "violation: subprocess.Popen"),
    "kill-parent": ("os.kill(os.getppid(), 9)", "violation: os.kill"),
    "nan": ("return np.full(14, np.nan)", "bad action: contains NaN"),
    "shape": ("return np.zeros(13)", "bad action: shape (13,)"),
    "dtype": ("return np.zeros(14, dtype=np.int64)", "bad action: dtype int64"),
    "object": ("return [object()] * 14", "not numeric"),
    "crash": ("os._exit(3)", "crashed during act (exit code 3"),
}


def _proxy(make_submission, tmp_path, act: str, sandbox: bool, **limits) -> SandboxedPolicy:
    code = BODY.format(act=textwrap.indent(act, " " * 8))
    folder = make_submission(code)
    write_manifest(folder)
    staged = tmp_path / "staged"
    shutil.rmtree(staged, ignore_errors=True)
    stage(folder, staged)
    return SandboxedPolicy(
        staged=staged,
        entry_point="policy:Policy",
        kwargs={"checkpoint": "checkpoints/seed0/final.npz", "task": "Threading", "variant": "D0"},
        obs_keys=("a",),
        action_dim=14,
        limits=SandboxLimits(act_timeout=2.0, **limits),
        sandbox=sandbox,
    )


@pytest.mark.parametrize("sandbox", MODES)
@pytest.mark.parametrize("name", list(ESCAPES))
def test_escape_ends_as_failure_with_reason(make_submission, tmp_path, sandbox, name):
    """Acceptance 2: each escape ends as a PolicyFailure with its reason."""
    act, reason = ESCAPES[name]
    env_like = type("FakeEnv", (), {"unwrapped": True})()  # a target in the grader's frames
    proxy = _proxy(make_submission, tmp_path, act, sandbox)
    assert proxy.sandboxed is sandbox
    proxy.reset()
    with pytest.raises(PolicyFailure) as err:
        proxy.act({"a": np.zeros(3), "secret": np.ones(2)})
    assert reason in str(err.value)
    assert proxy._proc.poll() is not None  # the child is gone
    assert env_like.unwrapped  # the grader is unharmed and carries on
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.parametrize("sandbox", MODES)
def test_child_sees_only_the_track_keys(make_submission, tmp_path, sandbox):
    """The child gets the track's keys only, no simulator modules, no secrets."""
    act = (
        "assert sorted(obs) == ['a'], sorted(obs)\n"
        "sim = ('mujoco', 'gymnasium', 'dexmg_bench')\n"
        "assert not any(m.split('.')[0] in sim for m in sys.modules)\n"
        "assert 'DEXMG_ROUND_KEY' not in os.environ and len(os.environ) < 20\n"
        "return np.full(14, obs['a'].sum())"
    )
    proxy = _proxy(make_submission, tmp_path, act, sandbox)
    proxy.reset()
    action = proxy.act({"a": np.array([0.25, 0.25]), "secret": np.ones(2)})
    np.testing.assert_array_equal(action, np.full(14, 0.5))
    proxy.close()


@pytest.mark.skipif(not HAVE_BWRAP, reason=NO_BWRAP)
def test_os_layer_contains_what_the_audit_hook_cannot_see(make_submission, tmp_path):
    """Libc calls bypass Python's audit hook; bubblewrap and rlimits still hold."""
    write = (
        "import ctypes\nlibc = ctypes.CDLL(None)\n"
        "fd = libc.open(b'/work/escaped.txt', 0o101, 0o644)\n"
        "raise RuntimeError(f'libc open returned {fd}')"
    )
    proxy = _proxy(make_submission, tmp_path, write, True)
    proxy.reset()
    with pytest.raises(PolicyFailure, match="libc open returned -1"):
        proxy.act({"a": np.zeros(1)})
    bomb = "import ctypes\nlibc = ctypes.CDLL(None)\nwhile True:\n    libc.fork()"
    proxy = _proxy(make_submission, tmp_path, bomb, True, processes=64)
    proxy.reset()
    inner = Path(f"/proc/{proxy._proc.pid}/task/{proxy._proc.pid}/children").read_text().split()
    namespace = os.readlink(f"/proc/{inner[0]}/ns/pid")  # the sandbox's own pid namespace
    with pytest.raises(PolicyFailure, match="timeout"):
        proxy.act({"a": np.zeros(1)})
    deadline = time.monotonic() + 20.0  # killed at once; reaping 64 of them waits for a core
    while (left := [p for p in Path("/proc").glob("[0-9]*") if _pid_ns(p) == namespace]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert left == [], f"processes of the sandbox survived: {left}"


def _pid_ns(proc: Path) -> str | None:
    """A live process's pid namespace (zombies wait for a reaper but run nothing)."""
    try:
        if "\nState:\tZ" in (proc / "status").read_text():
            return None
        return os.readlink(proc / "ns" / "pid")
    except OSError:
        return None


@pytest.mark.skipif(not HAVE_BWRAP, reason=NO_BWRAP)
def test_round_key_file_is_masked(make_submission, tmp_path):
    """The grader's key file reads as empty inside the sandbox, even at its real path."""
    keydir = Path(tempfile.mkdtemp(dir="/var/tmp"))  # outside /tmp, which the sandbox replaces
    key = keydir / "round.key"
    key.write_text("secret-round-key")
    key.chmod(0o644)
    keydir.chmod(0o755)
    act = f"return np.full(14, float(len(open({str(key)!r}).read()) > 0))"
    code = BODY.format(act=textwrap.indent(act, " " * 8))
    folder = make_submission(code)
    write_manifest(folder)
    stage(folder, tmp_path / "staged")
    try:
        for hide, readable in (((), 1.0), ((key,), 0.0)):  # readable unless masked
            proxy = SandboxedPolicy(
                staged=tmp_path / "staged",
                entry_point="policy:Policy",
                kwargs={"checkpoint": "checkpoints/seed0/final.npz", "task": "T", "variant": "D0"},
                obs_keys=("a",),
                action_dim=14,
                sandbox=True,
                hide=hide,
            )
            proxy.reset()
            assert proxy.act({"a": np.zeros(1)})[0] == readable
            proxy.close()
    finally:
        shutil.rmtree(keydir)


@pytest.mark.skipif(not HAVE_BWRAP, reason=NO_BWRAP)
def test_submission_is_read_only_and_policy_runs_as_nobody(make_submission, tmp_path):
    """The policy's folder sits under its writable /tmp but is root's and mounted read-only."""
    act = (
        "assert os.getuid() == 65534, os.getuid()\n"
        "open('/tmp/submission/policy/policy.py', 'a').write('# patched')"
    )
    proxy = _proxy(make_submission, tmp_path, act, True)
    proxy.reset()
    with pytest.raises(PolicyFailure, match=r"PermissionError|Read-only file system"):
        proxy.act({"a": np.zeros(1)})
