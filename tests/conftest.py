"""Shared fixtures: sandboxed global state (Minari path, Gymnasium registry) and a seeded rng."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("MUJOCO_GL", "osmesa")


@pytest.fixture(autouse=True)
def _minari_in_tmp(tmp_path, monkeypatch):
    """Datasets written by a test never land in the user's ~/.minari."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator."""
    return np.random.default_rng(0)


@pytest.fixture
def restore_registry():
    """Undo any registration a test makes."""
    import gymnasium as gym

    saved = dict(gym.registry)
    yield
    gym.registry.clear()
    gym.registry.update(saved)


@pytest.fixture
def threading_source() -> str:
    """Three shipped Threading scripted demos as the Minari dataset dexmg/threading-source-v0."""
    import dataclasses

    from dexmg_bench.datasets.minari_io import source_info, write_minari
    from dexmg_bench.datasets.source import read_source_file, shipped_source_file

    src = read_source_file(shipped_source_file("Threading"))
    src = dataclasses.replace(src, demos=src.demos[:3])
    write_minari(src, source_info(src))
    return "dexmg/threading-source-v0"


@pytest.fixture
def ends_quietly():
    """``ends_quietly(code)``: ``code`` run in a fresh interpreter exits 0 and prints nothing.

    For worker initialisers that must end their process at once when the parent is gone (the
    code calls them with a parent id that is not its parent, then prints if still alive).
    """

    def check(code: str) -> None:
        done = subprocess.run(
            [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == "" and done.stderr == ""

    return check
