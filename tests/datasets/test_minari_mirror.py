"""Publishing to a Minari remote and ``minari download`` from a loopback GCS emulator, for real.

The emulator test needs ``minari[gcs]`` and ``gcp-storage-emulator`` (the ``dev`` extra); without
them it is skipped with the reason. Nothing in Minari is mocked: the ``minari`` console script
downloads over HTTP from the emulator.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.datasets import loader, minari_io, publish
from dexmg_bench.datasets.source import SourceFile, read_source_file, shipped_source_file

BIN = Path(sys.executable).parent
HAVE_GCS = (
    importlib.util.find_spec("google.cloud.storage") is not None
    and shutil.which("gcp-storage-emulator", path=str(BIN)) is not None
)
needs_gcs = pytest.mark.skipif(
    not HAVE_GCS,
    reason="needs `minari[gcs]` and `gcp-storage-emulator` (pip install -e '.[dev]')",
)


def short_source(steps: int = 5) -> SourceFile:
    """Two shipped Threading demos cut short (publishing does not care about success)."""
    src = read_source_file(shipped_source_file("Threading"))
    demos = tuple(
        dataclasses.replace(d, actions=d.actions[:steps], states=d.states[: steps + 1])
        for d in src.demos[:2]
    )
    return dataclasses.replace(src, demos=demos)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gcs_remote(monkeypatch):
    """A loopback GCS emulator with one bucket; yields the Minari remote ``gcp://<bucket>``."""
    port = _free_port()
    bucket = "dexmg-mirror"
    proc = subprocess.Popen(
        [
            str(BIN / "gcp-storage-emulator"),
            "start",
            "--host=127.0.0.1",
            f"--port={port}",
            "--in-memory",
            f"--default-bucket={bucket}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gcp-storage-emulator did not start") from None
                time.sleep(0.1)
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
        yield f"gcp://{bucket}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_publish_refuses_incomplete_metadata(tmp_path):
    """A dataset whose metadata lost a required field is refused before any network access."""
    src = short_source()
    minari_io.write_minari(src, minari_io.source_info(src))
    meta_path = tmp_path / "minari" / "dexmg" / "threading-source-v0" / "data" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    del meta["dexmg"]["seeds"]
    meta["description"] = ""
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(publish.IncompleteMetadataError, match=r"dexmg\.seeds") as err:
        publish.publish(["dexmg/threading-source-v0"], remote="gcp://nowhere")
    assert "description" in str(err.value)


def test_latest_id_keeps_versioned_names():
    """An id with -vN is used as given (no remote access)."""
    assert publish.latest_remote_id("dexmg/threading-v3", remote="gcp://x") == "dexmg/threading-v3"


@needs_gcs
def test_minari_download_from_local_mirror(tmp_path, gcs_remote, monkeypatch):
    """Acceptance 2: publish, then the plain ``minari download`` CLI fetches it; load works."""
    import minari

    src = short_source()
    minari_io.write_minari(src, minari_io.source_info(src))
    info = minari_io.DatasetInfo(
        generator="dexmimicgen",
        generator_config={"task": "Threading", "seed": 0},
        source_dataset="dexmg/threading-source-v0",
        generation_stats={"kept": 2, "attempts": 2, "success_rate": 1.0},
        description="test stand-in for the flagship generated set",
    )
    gen = dataclasses.replace(src, origin="generated")
    minari_io.write_minari(gen, info, dataset="dexmg/threading-v0")
    ids = ["dexmg/threading-source-v0", "dexmg/threading-v0"]
    assert publish.publish(ids, remote=gcs_remote) == ids
    with pytest.raises(FileExistsError, match="already on"):
        publish.publish(ids[:1], remote=gcs_remote)

    fresh = tmp_path / "fresh"
    env = {**os.environ, "MINARI_DATASETS_PATH": str(fresh), "MINARI_REMOTE": gcs_remote}
    listed = subprocess.run(
        [str(BIN / "minari"), "list", "remote"], env=env, capture_output=True, text=True, check=True
    )
    assert "dexmg/threading-v0" in listed.stdout
    subprocess.run(
        [str(BIN / "minari"), "download", "dexmg/threading-v0"], env=env, check=True, timeout=120
    )
    assert (fresh / "dexmg" / "namespace_metadata.json").exists()

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(fresh))
    ds = minari.load_dataset("dexmg/threading-v0")
    assert ds.storage.metadata["dexmg"]["source_dataset"] == "dexmg/threading-source-v0"
    for episode, demo in zip(ds.iterate_episodes(), gen.demos, strict=True):
        np.testing.assert_array_equal(episode.actions, demo.actions)
        np.testing.assert_array_equal(episode.infos["state"], demo.states)

    # Unversioned name -> newest version of exactly that name (not threading-source).
    assert publish.download("dexmg/threading-source", remote=gcs_remote) == ids[0]
    assert loader.load(ids[0]).total_episodes == 2
    assert publish.latest_remote_id("dexmg/threading", remote=gcs_remote) == "dexmg/threading-v0"
