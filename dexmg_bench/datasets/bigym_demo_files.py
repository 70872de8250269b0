"""Read BiGym's own demonstration files: the safetensors format, their metadata, a task's demos.

BiGym (chernyadev/bigym, ``72d3054``) ships its demos as one safetensors file per episode
(its ``demonstrations`` package; a zip on its data releases, downloaded by the user). Facts this
module relies on, read from that commit:

* File: safetensors (8-byte little-endian header length, a JSON header of tensor dtypes, shapes
  and byte offsets plus string ``__metadata__``, then the raw bytes). Per-step tensors are named
  ``obs_<key>``, ``reward``, ``termination``, ``truncation`` and ``info_<key>``; the executed
  action is ``info_demo_action`` (float64, ``(T, A)``). "Lightweight" demos keep only the actions
  and the termination flags.
* Metadata (each value a JSON string): ``seed`` (the seed BiGym's ``reset`` reseeded its global
  RNG with, so the scene), ``observation_mode``, ``environment_data`` (``env_name``,
  ``action_mode_name``, ``action_mode_absolute``, ``floating_base``, ``floating_dofs``,
  ``robot_name``, ...), ``package_versions``, ``date``, ``uuid``.
* Rate: demos are recorded at BiGym's physics rate, 500 Hz, one action per physics step; its
  store caches re-recorded copies at other rates in ``<n>hz`` folders.

Parsing needs neither BiGym nor the ``safetensors`` package; ``bigym_import`` turns the parsed
demos into source demos.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dexmg_bench.errors import UserInputError

BIGYM_RATE = 500  # Hz: BiGym's physics rate, the rate its demos are recorded at
ACTION_KEY = "info_demo_action"
JOINT_ACTION_MODE = "JointPositionActionMode"
DEFAULT_FLOATING_DOFS = ("pelvis_x", "pelvis_y", "pelvis_rz")
N_ARM_JOINTS = 10  # 5 per arm
N_GRIPPERS = 2
_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U64": np.uint64,
    "U32": np.uint32,
    "U16": np.uint16,
    "U8": np.uint8,
    "BOOL": np.bool_,
}


class BiGymDemoError(UserInputError):
    """A file or folder that is not what the import expects (the message says what is wrong)."""


@dataclass(frozen=True)
class BiGymDemo:
    """One BiGym demo file, parsed: where it came from and its actions at ``frequency``.

    Attributes:
        path: the file.
        env_name: BiGym's task class name (e.g. ``CupboardsCloseAll``).
        seed: the seed BiGym reset with (fixes the scene).
        absolute: whether the arm actions are absolute joint targets (else deltas).
        floating_dofs: the floating base's action dofs, in order.
        robot_name: BiGym's robot class name.
        uuid: BiGym's demo id.
        frequency: the rate the actions were recorded at (Hz).
        actions: ``(T, A)`` float64, BiGym's action layout.
    """

    path: Path
    env_name: str
    seed: int
    absolute: bool
    floating_dofs: tuple[str, ...]
    robot_name: str
    uuid: str
    frequency: int
    actions: np.ndarray


def read_safetensors(
    path: str | Path, names: tuple[str, ...] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Tensors (only ``names`` if given) and the string metadata of a safetensors file.

    A small reader of the format (header length, JSON header, raw little-endian bytes), so that
    parsing needs neither BiGym nor the ``safetensors`` package.

    Raises:
        BiGymDemoError: if the file is not a readable safetensors file.
    """
    path = Path(path)
    data = path.read_bytes()
    if len(data) < 8:  # noqa: PLR2004 (the header-length field)
        raise BiGymDemoError(f"{path}: not a safetensors file (only {len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise BiGymDemoError(f"{path}: not a safetensors file (header of {n} bytes does not fit)")
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BiGymDemoError(f"{path}: not a safetensors file (header is not JSON: {err})") from err
    if not isinstance(header, dict):
        raise BiGymDemoError(f"{path}: not a safetensors file (header is not a JSON object)")
    metadata = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n :]
    tensors = {}
    for name, info in header.items():
        if names is not None and name not in names:
            continue
        try:
            dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
            start, stop = info["data_offsets"]
            shape = tuple(info["shape"])
        except (KeyError, TypeError, ValueError) as err:
            raise BiGymDemoError(f"{path}: tensor {name!r} has a malformed entry {info}") from err
        count = int(np.prod(shape, dtype=np.int64))
        if stop - start != count * dtype.itemsize or stop > len(body):
            raise BiGymDemoError(f"{path}: tensor {name!r} does not match its byte range")
        tensors[name] = (
            np.frombuffer(body[start:stop], dtype=dtype)
            .reshape(shape)
            .astype(dtype.newbyteorder("="))
        )
    return tensors, metadata


def _json_field(metadata: dict[str, str], key: str, path: Path) -> Any:
    if key not in metadata:
        raise BiGymDemoError(
            f"{path}: metadata lacks {key!r} (has {sorted(metadata)}); a BiGym demo file stores "
            "seed, observation_mode, environment_data, package_versions, date and uuid"
        )
    try:
        return json.loads(metadata[key])
    except json.JSONDecodeError as err:
        raise BiGymDemoError(f"{path}: metadata {key!r} is not JSON: {metadata[key]!r}") from err


def frequency_from_path(path: Path) -> int:
    """The rate of a demo from BiGym's cache layout (a ``<n>hz`` folder), else 500 Hz."""
    for part in reversed(path.parent.parts):
        match = re.fullmatch(r"(\d+)hz", part)
        if match:
            return int(match.group(1))
    return BIGYM_RATE


def parse_demo(path: str | Path, frequency: int = 0) -> BiGymDemo:
    """Read one BiGym demo file; ``frequency`` 0 takes it from the path (see above).

    Raises:
        BiGymDemoError: naming what is missing or unsupported (metadata, actions, action mode).
    """
    path = Path(path)
    tensors, metadata = read_safetensors(path, names=(ACTION_KEY,))
    seed = _json_field(metadata, "seed", path)
    env = _json_field(metadata, "environment_data", path)
    if not isinstance(env, dict) or "env_name" not in env or "action_mode_name" not in env:
        raise BiGymDemoError(f"{path}: metadata environment_data lacks env_name/action_mode_name")
    if not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise BiGymDemoError(f"{path}: seed {seed!r} is not a BiGym seed (an int in [0, 2^32))")
    if env["action_mode_name"] != JOINT_ACTION_MODE:
        raise BiGymDemoError(
            f"{path}: action mode {env['action_mode_name']!r}; only {JOINT_ACTION_MODE} demos "
            "(what BiGym's dataset has) can be imported"
        )
    if not env.get("floating_base", False):
        raise BiGymDemoError(f"{path}: recorded without the floating base; the adapter needs it")
    dofs = tuple(env.get("floating_dofs") or DEFAULT_FLOATING_DOFS)
    if ACTION_KEY not in tensors:
        raise BiGymDemoError(f"{path}: no {ACTION_KEY!r} tensor (the executed actions)")
    actions = np.asarray(tensors[ACTION_KEY], np.float64)
    width = len(dofs) + N_ARM_JOINTS + N_GRIPPERS
    if actions.ndim != 2 or actions.shape[1] != width or len(actions) == 0:  # noqa: PLR2004
        raise BiGymDemoError(
            f"{path}: actions of shape {actions.shape}, expected (T, {width}) for base {dofs}"
        )
    freq = frequency or frequency_from_path(path)
    return BiGymDemo(
        path=path,
        env_name=str(env["env_name"]),
        seed=int(seed),
        absolute=bool(env.get("action_mode_absolute", False)),
        floating_dofs=dofs,
        robot_name=str(env.get("robot_name") or ""),
        uuid=str(_json_field(metadata, "uuid", path)) if "uuid" in metadata else path.stem,
        frequency=int(freq),
        actions=actions,
    )


def find_demos(folder: str | Path, task: str, frequency: int = 0) -> tuple[list[BiGymDemo], str]:
    """The demos of ``task`` (BiGym's class name) under ``folder``, by path; and a summary line.

    Raises:
        BiGymDemoError: if the folder does not exist, holds no BiGym demo files, or none of
            ``task`` (the message lists the tasks it found).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BiGymDemoError(f"{folder} is not a folder (give the folder BiGym's demos unzip to)")
    files = sorted(folder.rglob("*.safetensors"))
    if not files:
        raise BiGymDemoError(f"{folder} holds no *.safetensors files (BiGym's demo files)")
    demos, others = [], {}
    for f in files:
        demo = parse_demo(f, frequency)
        if demo.env_name == task:
            demos.append(demo)
        else:
            others[demo.env_name] = others.get(demo.env_name, 0) + 1
    if not demos:
        found = ", ".join(f"{k} ({v})" for k, v in sorted(others.items()))
        raise BiGymDemoError(f"{folder} has no {task} demos; it has: {found}")
    skipped = f", skipped {sum(others.values())} of other tasks" if others else ""
    return demos, f"{len(demos)} {task} demo files under {folder}{skipped}"
