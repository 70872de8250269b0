"""BiGym's demo files: the safetensors reader, the metadata checks, the folder search, ``inspect``.

CI (no BiGym): on small files written here in the layout BiGym's ``Demo.save`` writes (with the
``safetensors`` package where installed, else with the format written out by hand), each error
message included. Genuine files written by BiGym itself are read in ``test_bigym_import.py``'s
slow tier.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.datasets.bigym_demo_files import (
    BiGymDemoError,
    find_demos,
    frequency_from_path,
    parse_demo,
    read_safetensors,
)

_CODES = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.bool_): "BOOL"}
_CODES |= {np.dtype(np.uint8): "U8", np.dtype(np.int64): "I64"}


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """The safetensors layout: u64 header length, JSON header (+ ``__metadata__``), raw bytes."""
    header: dict = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, t in tensors.items():
        raw = np.ascontiguousarray(t).astype(t.dtype.newbyteorder("<")).tobytes()
        header[name] = {
            "dtype": _CODES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def _save(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write with the ``safetensors`` package when it is installed (BiGym's writer), else ours."""
    try:
        from safetensors.numpy import save_file
    except ImportError:
        write_safetensors(path, tensors, metadata)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(path), metadata)


def bigym_metadata(env_name: str = "CupboardsCloseAll", seed: int = 7, **env: object) -> dict:
    """Metadata as BiGym's ``Metadata.ready_for_safetensors`` writes it (each value JSON)."""
    environment = {
        "env_name": env_name,
        "action_mode_name": "JointPositionActionMode",
        "floating_base": True,
        "observation_config": {
            "cameras": [],
            "proprioception": True,
            "privileged_information": False,
        },
        "action_mode_absolute": True,
        "floating_dofs": ["pelvis_x", "pelvis_y", "pelvis_rz"],
        "reset_positions": [],
        "robot_name": "H1",
    } | env
    return {
        "seed": json.dumps(seed),
        "observation_mode": json.dumps("lightweight"),
        "environment_data": json.dumps(environment),
        "package_versions": json.dumps({"mujoco": "3.5.0", "bigym": "0.0.0"}),
        "date": json.dumps("2026-11-26_10-00-00"),
        "uuid": json.dumps("abc123"),
    }


def lightweight_demo(path: Path, actions: np.ndarray, metadata: dict | None = None) -> Path:
    """A lightweight BiGym demo: actions, termination and truncation flags, empty reward."""
    tensors = {
        "reward": np.zeros(0),
        "termination": np.zeros(len(actions), bool),
        "truncation": np.zeros(len(actions), bool),
        "info_demo_action": np.asarray(actions, np.float64),
    }
    _save(path, tensors, metadata or bigym_metadata())
    return path


def test_reader_round_trips_tensors_and_metadata(tmp_path):
    """Every dtype BiGym writes (float64, float32, bool, uint8), empty tensors and metadata."""
    tensors = {
        "info_demo_action": np.arange(30.0).reshape(2, 15) / 7,
        "obs_rgb_head": np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        "obs_proprioception": np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3),
        "termination": np.array([False, True]),
        "reward": np.zeros(0),
    }
    write_safetensors(tmp_path / "a.safetensors", tensors, {"seed": "3"})
    got, meta = read_safetensors(tmp_path / "a.safetensors")
    assert meta == {"seed": "3"} and set(got) == set(tensors)
    for k, v in tensors.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape, k
        np.testing.assert_array_equal(got[k], v)
    only, _ = read_safetensors(tmp_path / "a.safetensors", names=("termination",))
    assert list(only) == ["termination"]


def test_parse_demo_reads_what_the_import_needs(tmp_path):
    """Task, seed, action mode, base dofs, rate (500 Hz, or the cache's ``<n>hz`` folder)."""
    actions = np.random.default_rng(0).uniform(-0.1, 0.1, (40, 15))
    path = lightweight_demo(tmp_path / "CupboardsCloseAll" / "u1.safetensors", actions)
    demo = parse_demo(path)
    assert (demo.env_name, demo.seed, demo.absolute, demo.frequency) == (
        "CupboardsCloseAll",
        7,
        True,
        500,
    )
    assert demo.floating_dofs == ("pelvis_x", "pelvis_y", "pelvis_rz") and demo.uuid == "abc123"
    np.testing.assert_array_equal(demo.actions, actions)
    cached = lightweight_demo(tmp_path / "x" / "lightweight" / "20hz" / "u2.safetensors", actions)
    assert frequency_from_path(cached) == 20 and parse_demo(cached).frequency == 20
    assert parse_demo(cached, frequency=50).frequency == 50


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"drop": "seed"}, "metadata lacks 'seed'"),
        ({"drop": "environment_data"}, "metadata lacks 'environment_data'"),
        ({"env": {"action_mode_name": "TorqueActionMode"}}, "only JointPositionActionMode"),
        ({"env": {"floating_base": False}}, "without the floating base"),
        ({"seed": -1}, "is not a BiGym seed"),
        ({"width": 14}, "expected (T, 15)"),
        ({"no_actions": True}, "no 'info_demo_action' tensor"),
    ],
)
def test_parse_demo_errors_name_the_problem(tmp_path, change, message):
    """Missing metadata, unsupported modes, bad seeds and action shapes: clear errors."""
    meta = bigym_metadata(seed=change.get("seed", 7), **change.get("env", {}))
    meta.pop(change.get("drop", ""), None)
    actions = np.zeros((5, change.get("width", 15)))
    path = tmp_path / "d.safetensors"
    if change.get("no_actions"):
        _save(path, {"termination": np.zeros(5, bool)}, meta)
    else:
        lightweight_demo(path, actions, meta)
    with pytest.raises(BiGymDemoError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_demo(path)


def test_not_a_safetensors_file(tmp_path):
    """A truncated or foreign file is refused with its name."""
    bad = tmp_path / "demo.safetensors"
    bad.write_bytes(b"\x05\x00")
    with pytest.raises(BiGymDemoError, match="not a safetensors file"):
        parse_demo(bad)
    bad.write_bytes(struct.pack("<Q", 4) + b"nope")
    with pytest.raises(BiGymDemoError, match="header is not JSON"):
        parse_demo(bad)


def test_find_demos_wrong_folder_and_wrong_task(tmp_path):
    """No folder, no demo files, or only other tasks' demos: each says so; mixed folders filter."""
    with pytest.raises(BiGymDemoError, match="is not a folder"):
        find_demos(tmp_path / "missing", "CupboardsCloseAll")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BiGymDemoError, match="no \\*.safetensors files"):
        find_demos(tmp_path / "empty", "CupboardsCloseAll")
    actions = np.zeros((3, 15))
    lightweight_demo(tmp_path / "mix" / "a.safetensors", actions, bigym_metadata("FlipCup"))
    lightweight_demo(tmp_path / "mix" / "b.safetensors", actions, bigym_metadata("FlipCup"))
    with pytest.raises(BiGymDemoError, match=r"no CupboardsCloseAll demos; it has: FlipCup \(2\)"):
        find_demos(tmp_path / "mix", "CupboardsCloseAll")
    lightweight_demo(tmp_path / "mix" / "sub" / "c.safetensors", actions)
    demos, summary = find_demos(tmp_path / "mix", "CupboardsCloseAll")
    assert [d.path.name for d in demos] == ["c.safetensors"]
    assert "skipped 2 of other tasks" in summary


def test_inspect_lists_files_and_fails_on_an_empty_folder(tmp_path, capsys):
    """``dexmg bigym inspect`` works without BiGym: one line per demo file."""
    from dexmg_bench.cli import main

    lightweight_demo(tmp_path / "d" / "500" / "u.safetensors", np.zeros((12, 15)))
    main(["bigym", "inspect", str(tmp_path / "d")])
    out = capsys.readouterr().out
    assert "CupboardsCloseAll seed 7, absolute joints, base pelvis_x/pelvis_y/pelvis_rz" in out
    assert "12 steps at 500 Hz" in out
    with pytest.raises(SystemExit, match="no BiGym demo files"):
        main(["bigym", "inspect", str(tmp_path / "nothing")])
