"""The sandboxed policy worker: runs a submission's policy, sees only observations.

Started by ``sandbox.py`` as a *script* (``python -I -B worker.py``), so it imports neither
``dexmg_bench`` nor any simulator: it needs the standard library and numpy only. Messages on the
pipe are a 4-byte length, a JSON header and raw array bytes; never pickle, because the grader
must not unpickle what a submission sends. Before the submission's code is imported the worker
sets rlimits, drops root, and installs an audit hook that ends the process on a socket, a fork,
a write outside its tmp, ``gc.get_objects`` or a signal to another process, after reporting it.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from typing import Any

MAX_HEADER = 1 << 16
MAX_BODY = 1 << 24
DTYPES = ("float64", "float32", "float16", "int64", "int32", "uint8", "bool")


def encode(header: dict[str, Any], arrays: dict[str, Any] | None = None) -> bytes:
    """One frame: header (with the arrays' names, dtypes, shapes) then the arrays' bytes."""
    import numpy as np

    arrays = arrays or {}
    body = []
    header = dict(header, arrays=[])
    for name, value in arrays.items():
        a = np.ascontiguousarray(value)
        header["arrays"].append([name, a.dtype.str, list(a.shape)])
        body.append(a.tobytes())
    raw = json.dumps(header).encode()
    return struct.pack(">I", len(raw)) + raw + b"".join(body)


def body_size(header: dict[str, Any]) -> int:
    """Bytes of array data announced by a header (validated: known dtypes, sane shapes)."""
    import numpy as np

    total = 0
    for item in header.get("arrays", []):
        name, dtype, shape = item
        dt = np.dtype(dtype)
        if dt.name not in DTYPES or not all(isinstance(s, int) and 0 <= s < 1 << 20 for s in shape):
            raise ValueError(f"array {name!r}: dtype {dtype} shape {shape} not allowed")
        total += dt.itemsize * int(np.prod(shape, dtype=np.int64))
    if total > MAX_BODY:
        raise ValueError(f"frame body of {total} bytes is over {MAX_BODY}")
    return total


def decode_arrays(header: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The arrays of a frame, as writable numpy arrays."""
    import numpy as np

    out, offset = {}, 0
    for name, dtype, shape in header.get("arrays", []):
        dt = np.dtype(dtype)
        n = dt.itemsize * int(np.prod(shape, dtype=np.int64))
        flat = np.frombuffer(body, dtype=dt, count=n // dt.itemsize, offset=offset)
        out[name] = flat.reshape(shape).copy()
        offset += n
    return out


def _read_exact(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        b = os.read(fd, left)
        if not b:
            raise EOFError
        chunks.append(b)
        left -= len(b)
    return b"".join(chunks)


class _Channel:
    def __init__(self, rfd: int, wfd: int):
        self.rfd, self.wfd = rfd, wfd

    def recv(self) -> tuple[dict[str, Any], dict[str, Any]]:
        (n,) = struct.unpack(">I", _read_exact(self.rfd, 4))
        header = json.loads(_read_exact(self.rfd, n))
        return header, decode_arrays(header, _read_exact(self.rfd, body_size(header)))

    def send(self, header: dict[str, Any], arrays: dict[str, Any] | None = None) -> None:
        data = encode(header, arrays)
        while data:
            data = data[os.write(self.wfd, data) :]


def _set_limits(limits: dict[str, int]) -> None:
    import resource

    for name, value in limits.items():
        res = getattr(resource, f"RLIMIT_{name.upper()}")
        resource.setrlimit(res, (value, value))


def _drop_root() -> None:
    """Run as ``nobody``: the process limit (RLIMIT_NPROC) does not apply to root."""
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)


def _install_audit_hook(chan: _Channel, tmp: str) -> Any:
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    tmp = os.path.realpath(tmp) + os.sep
    banned = {
        "socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo",
        "os.kill", "os.killpg", "signal.pthread_kill",
        "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.remote_exec",
    }  # fmt: skip
    # Libraries probe the machine with subprocesses while they import (robosuite runs lscpu),
    # so starting processes is allowed while the policy is built and forbidden once it acts.
    spawn = {
        "os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
        "subprocess.Popen", "pty.spawn",
    }  # fmt: skip

    def violation(what: str) -> None:
        try:
            chan.send({"op": "violation", "reason": what[:300]})
        finally:
            os._exit(70)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in banned or (event in spawn and not building):
            violation(f"{event} {args!r}"[:200])
        elif event == "open" and len(args) >= 3 and isinstance(args[0], str | bytes):
            path, mode, flags = args[0], args[1], args[2]
            writes = (mode is not None and any(c in str(mode) for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags
            )
            if writes:
                real = os.path.realpath(os.fsdecode(path))
                if not (real + os.sep).startswith(tmp) and real != os.devnull:
                    violation(f"write outside tmp: {real}")

    building = True

    def built() -> None:
        nonlocal building
        building = False

    sys.addaudithook(hook)
    return built


def _policy(init: dict[str, Any]) -> Any:
    import importlib

    sys.path.insert(0, init["policy_dir"])
    module, cls = init["entry_point"].split(":")
    policy = getattr(importlib.import_module(module), cls)(**init["kwargs"])
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    for name in ("reset", "act"):
        if not callable(getattr(policy, name, None)):
            raise TypeError(f"{init['entry_point']} has no method {name}()")
    return policy


def _error(err: BaseException) -> str:
    """``Type: message (at file:line)``: where in the submission's code it failed."""
    import traceback

    frames = traceback.extract_tb(err.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(err).__name__}: {err}"[:400] + where[:200]


def main() -> None:
    """Serve ``init``, then ``reset``/``act`` until ``close`` or EOF."""
    proto_out = os.dup(1)
    os.dup2(2, 1)  # the policy's prints go to stderr, never into the protocol
    sys.stdout = sys.stderr
    chan = _Channel(0, proto_out)
    header, _ = chan.recv()
    try:
        _set_limits(header["limits"])
        if header.get("drop_root"):
            _drop_root()
        os.chdir(header["tmp"])
        built = _install_audit_hook(chan, header["tmp"])
        policy = _policy(header)
        built()
    except BaseException as err:  # noqa: BLE001 (any failure of foreign code is reported)
        chan.send({"op": "error", "reason": f"init: {_error(err)}"})
        return
    chan.send({"op": "ready"})
    import numpy as np

    while True:
        try:
            header, arrays = chan.recv()
        except EOFError:
            return
        op = header.get("op")
        try:
            if op == "reset":
                policy.reset()
                chan.send({"op": "ok"})
            elif op == "act":
                action = np.asarray(policy.act(arrays))
                if action.dtype.name not in DTYPES:
                    raise TypeError(f"action dtype {action.dtype} is not numeric")
                chan.send({"op": "action"}, {"action": action})
            else:
                return
        except BaseException as err:  # noqa: BLE001
            chan.send({"op": "error", "reason": f"{op}: {_error(err)}"})
            return


if __name__ == "__main__":
    main()
