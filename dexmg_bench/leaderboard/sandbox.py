"""The grader's side of the policy worker: a ``Policy`` proxy whose policy runs in a sandbox.

The evaluator's ``rollout`` calls ``reset()`` and ``act(obs)`` on ``SandboxedPolicy`` as on any
policy; each call is forwarded over a pipe to a child process (``worker.py``) that holds the
submission's code. The child gets the track's observation keys and nothing else: no env, info,
reward, seed or episode index. With bubblewrap the child has no network, a read-only file system,
a private /tmp and pid namespace, and runs as ``nobody``; rlimits and per-call timeouts apply
in all cases. Any crash, timeout, bad action or violation raises ``PolicyFailure``.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dexmg_bench.leaderboard import worker as wire

WORKER = Path(wire.__file__).resolve()
_SANDBOX_ROOT = "/tmp/submission"  # where the staged submission appears inside bubblewrap


class PolicyFailure(RuntimeError):
    """The submission's policy crashed, timed out, misbehaved or broke a sandbox rule."""


class SandboxUnavailable(RuntimeError):
    """Grading would run policies without bubblewrap, and unsandboxed grading was not allowed."""


@dataclass(frozen=True, kw_only=True)
class SandboxLimits:
    """Resource limits of one worker and timeouts of each call (seconds)."""

    memory_bytes: int = 4 * 2**30
    cpu_seconds: int = 3600
    open_files: int = 256
    processes: int = 256
    file_bytes: int = 64 * 2**20
    tmp_bytes: int = 256 * 2**20
    init_timeout: float = 180.0
    reset_timeout: float = 30.0
    act_timeout: float = 10.0
    episode_timeout: float = 900.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value <= 0:
                raise ValueError(f"SandboxLimits.`{name}` must be > 0. Got {value}.")

    def rlimits(self) -> dict[str, int]:
        """The rlimits the worker sets on itself before importing the submission."""
        return {
            "as": self.memory_bytes,
            "cpu": self.cpu_seconds,
            "nofile": self.open_files,
            "nproc": self.processes,
            "fsize": self.file_bytes,
        }


def bubblewrap() -> str | None:
    """The ``bwrap`` binary if it is installed and can build a sandbox here, else None."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = subprocess.run(
        [path, "--unshare-net", "--ro-bind", "/", "/", "--dev", "/dev", "true"],
        capture_output=True,
        check=False,
    )
    return path if probe.returncode == 0 else None


def sandbox_label(sandboxed: bool) -> str:
    """``bubblewrap`` or ``unsandboxed`` (rlimits and audit hook only), as results record it."""
    return "bubblewrap" if sandboxed else "unsandboxed"


def grading_sandbox(*, allow_unsandboxed: bool = False) -> bool:
    """Whether grading runs every policy under bubblewrap: True wherever bubblewrap works.

    Where it does not, board results would rest on rlimits and an audit hook alone, so grading
    refuses unless ``allow_unsandboxed`` (the results are then labelled ``unsandboxed``).

    Raises:
        SandboxUnavailable: bubblewrap cannot build a sandbox here and it was not allowed.
    """
    if bubblewrap() is not None:
        return True
    if allow_unsandboxed:
        return False
    raise SandboxUnavailable(
        "bubblewrap (`bwrap`) is not installed or cannot build a sandbox here, so the policies "
        "would run with rlimits and the audit hook only; install it (apt-get install "
        "bubblewrap), or pass --allow-unsandboxed to grade anyway (labelled `unsandboxed`)"
    )


def _bwrap_argv(
    bwrap: str, staged: Path, limits: SandboxLimits, hide: tuple[Path, ...], empty: Path
) -> list[str]:
    argv = [
        bwrap, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--die-with-parent", "--new-session",
        "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
        "--size", str(limits.tmp_bytes), "--perms", "01777", "--tmpfs", "/tmp",
        "--ro-bind", str(staged), _SANDBOX_ROOT,
        "--ro-bind", str(WORKER), "/tmp/worker.py",
        "--perms", "0755", "--tmpfs", "/root",
    ]  # fmt: skip
    # Python (pyenv under /root), the venv and this package (a checkout under /tmp, as CI makes)
    # may live where the sandbox mounts fresh folders; show each one's top folder read-only, as the
    # rest of the file system is (the top folder, so no mount point bwrap creates hides it from
    # ``nobody``).
    package_root = Path(__file__).resolve().parents[2]
    tops = set()
    for prefix in {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), package_root}:
        for shadowed in (Path("/root"), Path("/tmp")):
            if prefix.is_relative_to(shadowed) and prefix != shadowed:
                tops.add(shadowed / prefix.relative_to(shadowed).parts[0])
    for top in sorted(tops):
        argv += ["--ro-bind", str(top), str(top)]
    for path in hide:
        argv += ["--ro-bind", str(empty), str(path)]  # reads as an empty file
    return argv


def _child_env(tmp: str) -> dict[str, str]:
    """A clean environment: no keys, tokens or grader settings reach the policy."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": tmp,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMBA_CACHE_DIR": os.path.join(tmp, "numba"),
        "MUJOCO_GL": "osmesa",
        "PYTHONDONTWRITEBYTECODE": "1",
        **_glfw_library(),
    }


def _glfw_library() -> dict[str, str]:
    """Point pyglfw (imported by robosuite via mujoco.viewer) at its bundled library.

    Otherwise its import probes candidate libraries in subprocesses, which the worker forbids.
    """
    import importlib.util

    spec = importlib.util.find_spec("glfw")
    if spec is None or spec.origin is None:
        return {}
    lib = Path(spec.origin).parent / "x11" / "libglfw.so"
    return {"PYGLFW_LIBRARY": str(lib)} if lib.is_file() else {}


class SandboxedPolicy:
    """A ``Policy`` whose ``reset``/``act`` run in a sandboxed child process.

    Args:
        staged: the verified copy of the submission folder (see ``manifest.stage``).
        entry_point: ``module:Class`` inside ``policy/``.
        kwargs: constructor arguments (checkpoint path relative to the folder, task, variant).
        obs_keys: the track's observation keys; nothing else is sent.
        action_dim: expected action length.
        limits: rlimits and timeouts.
        sandbox: use bubblewrap (None = when available).
        hide: files to mask inside the sandbox (e.g. the round key).
    """

    def __init__(
        self,
        *,
        staged: Path,
        entry_point: str,
        kwargs: dict[str, Any],
        obs_keys: tuple[str, ...],
        action_dim: int,
        limits: SandboxLimits | None = None,
        sandbox: bool | None = None,
        hide: tuple[Path, ...] = (),
    ):
        self.limits = limits or SandboxLimits()
        self.obs_keys, self.action_dim = obs_keys, action_dim
        self.act_seconds: list[float] = []
        bwrap = bubblewrap() if sandbox is not False else None
        if sandbox and bwrap is None:
            raise PolicyFailure("bubblewrap was requested but is not available")
        self.sandboxed = bwrap is not None
        self._host_tmp = tempfile.mkdtemp(prefix="dexmg-policy-")
        os.chmod(self._host_tmp, 0o777)
        self._stderr = tempfile.TemporaryFile()
        if bwrap:
            root, tmp = _SANDBOX_ROOT, "/tmp"
            empty = Path(self._host_tmp, "empty")
            empty.touch(mode=0o644)
            argv = [*_bwrap_argv(bwrap, staged, self.limits, hide, empty), sys.executable]
            argv += ["-I", "-B", "/tmp/worker.py"]
        else:
            root, tmp = str(staged), self._host_tmp
            argv = [sys.executable, "-I", "-B", str(WORKER)]
        kwargs = dict(kwargs)
        if "checkpoint" in kwargs:
            kwargs["checkpoint"] = os.path.join(root, kwargs["checkpoint"])
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=_child_env(tmp),
            cwd=self._host_tmp,
            start_new_session=True,
        )
        self._episode_start = time.monotonic()
        self._call(
            {
                "op": "init",
                "limits": self.limits.rlimits(),
                "drop_root": bool(bwrap),
                "tmp": tmp,
                "policy_dir": os.path.join(root, "policy"),
                "entry_point": entry_point,
                "kwargs": kwargs,
            },
            None,
            self.limits.init_timeout,
            expect="ready",
        )

    # -- the pipe ---------------------------------------------------------------------------
    def _read(self, n: int, deadline: float, what: str) -> bytes:
        assert self._proc.stdout is not None
        fd, chunks, left = self._proc.stdout.fileno(), [], n
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                self._fail(f"timeout: {what} took longer than its limit")
            b = os.read(fd, left)
            if not b:
                self._fail(f"crashed during {what}{self._exit_note()}")
            chunks.append(b)
            left -= len(b)
        return b"".join(chunks)

    def _call(
        self, header: dict[str, Any], arrays: dict[str, Any] | None, timeout: float, expect: str
    ) -> dict[str, np.ndarray]:
        what = header["op"]
        deadline = time.monotonic() + timeout
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(wire.encode(header, arrays))
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._fail(f"crashed before {what}{self._exit_note()}")
        (n,) = struct.unpack(">I", self._read(4, deadline, what))
        if n > wire.MAX_HEADER:
            self._fail(f"violation: {n}-byte message header during {what}")
        try:
            reply = __import__("json").loads(self._read(n, deadline, what))
            body = self._read(wire.body_size(reply), deadline, what)
            out = wire.decode_arrays(reply, body)
        except (ValueError, TypeError, KeyError) as err:
            self._fail(f"violation: malformed reply to {what} ({err})")
        op = reply.get("op")
        if op == "violation":
            self._fail(f"violation: {reply.get('reason')}")
        if op == "error":
            self._fail(f"policy raised {reply.get('reason')}")
        if op != expect:
            self._fail(f"violation: replied {op!r} to {what}")
        return out

    def _exit_note(self) -> str:
        try:
            code = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return ""
        self._stderr.seek(0)
        tail = self._stderr.read()[-300:].decode(errors="replace").strip().splitlines()
        sig = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        return f" ({sig}{': ' + tail[-1] if tail else ''})"

    def _fail(self, reason: str) -> None:
        self.close()
        raise PolicyFailure(reason)

    # -- the Policy protocol ----------------------------------------------------------------
    def reset(self) -> None:
        """Start an episode in the child (and its episode clock here)."""
        self._episode_start = time.monotonic()
        self._call({"op": "reset"}, None, self.limits.reset_timeout, expect="ok")

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Forward the track's observation keys; check the action's shape, dtype and values."""
        if time.monotonic() - self._episode_start > self.limits.episode_timeout:
            self._fail(f"timeout: episode exceeded {self.limits.episode_timeout:.0f} s")
        sent = {k: obs[k] for k in self.obs_keys}
        t0 = time.perf_counter()
        out = self._call({"op": "act"}, sent, self.limits.act_timeout, expect="action")
        self.act_seconds.append(time.perf_counter() - t0)
        action = out.get("action")
        if action is None or action.shape != (self.action_dim,):
            shape = None if action is None else action.shape
            self._fail(f"bad action: shape {shape}, expected ({self.action_dim},)")
        if action.dtype.kind != "f":
            self._fail(f"bad action: dtype {action.dtype}, expected a float dtype")
        if not np.all(np.isfinite(action)):
            self._fail("bad action: contains NaN or inf")
        return np.clip(action.astype(np.float64), -1.0, 1.0)

    def close(self) -> None:
        """Kill the child and everything it started; remove its tmp."""
        if self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._proc.wait()
        for f in (self._proc.stdin, self._proc.stdout):
            if f is not None:
                f.close()
        shutil.rmtree(self._host_tmp, ignore_errors=True)

    def __del__(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            self.close()
