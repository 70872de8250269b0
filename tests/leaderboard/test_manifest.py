"""MANIFEST.sha256: the id is stable, and changed, added, linked or pickled files are refused."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from dexmg_bench.leaderboard import manifest
from dexmg_bench.leaderboard.manifest import (
    SubmissionError,
    check_files,
    stage,
    verify_manifest,
    write_manifest,
)


def test_id_is_stable_and_verifies(make_submission, tmp_path):
    """The id depends only on the files; the staged copy verifies to the same id."""
    folder = make_submission()
    sid = write_manifest(folder)
    assert len(sid) == 16
    assert verify_manifest(folder) == sid
    assert write_manifest(folder) == sid  # the manifest does not hash itself
    assert stage(folder, tmp_path / "copy") == sid


def test_checkpoint_changed_after_manifest_is_refused(make_submission):
    """Swapping weights after submit changes the hash and is named."""
    folder = make_submission()
    write_manifest(folder)
    np.savez(folder / "checkpoints" / "seed1" / "final.npz", seed=np.array(99))
    with pytest.raises(SubmissionError, match=r"checkpoints/seed1/final.npz: changed after"):
        verify_manifest(folder)


def test_added_file_is_refused(make_submission):
    """A file slipped in after submit is named."""
    folder = make_submission()
    write_manifest(folder)
    (folder / "policy" / "extra.py").write_text("x = 1\n")
    with pytest.raises(SubmissionError, match=r"policy/extra.py: added after"):
        verify_manifest(folder)


def test_pickle_checkpoint_is_refused(make_submission):
    """Pickle formats are refused by name (unpickling runs code)."""
    folder = make_submission()
    with open(folder / "checkpoints" / "seed0" / "final.pt", "wb") as f:
        pickle.dump({"w": 1}, f)
    with pytest.raises(SubmissionError, match="pickle files are refused"):
        check_files(folder)


def test_pickle_content_under_an_allowed_name_is_refused(make_submission):
    """A pickle renamed to .npz is refused by content."""
    folder = make_submission()
    path = folder / "checkpoints" / "seed0" / "final.npz"
    path.write_bytes(pickle.dumps({"w": 1}))
    with pytest.raises(SubmissionError, match="pickle files are refused"):
        check_files(folder)


def test_object_array_in_npz_is_refused(make_submission):
    """Object arrays inside .npz are pickles too."""
    folder = make_submission()
    bad = np.array([{"a": 1}], dtype=object)
    np.savez(folder / "checkpoints" / "seed0" / "final.npz", seed=bad)
    with pytest.raises(SubmissionError, match="dtype object, which is a pickle"):
        check_files(folder)


def test_symlink_and_file_types_are_refused(make_submission):
    """Links could point outside the folder; binaries are not reviewable."""
    folder = make_submission()
    (folder / "policy" / "link.py").symlink_to(folder / "policy" / "policy.py")
    with pytest.raises(SubmissionError, match="symlinks are not allowed"):
        check_files(folder)
    (folder / "policy" / "link.py").unlink()
    (folder / "policy" / "blob.so").write_bytes(b"\x7fELF")
    with pytest.raises(SubmissionError, match=r"policy/blob.so: file type not allowed"):
        check_files(folder)


def test_size_cap(make_submission, monkeypatch):
    """Oversized files are refused with the cap in the message."""
    folder = make_submission()
    monkeypatch.setattr(manifest, "MAX_FILE_BYTES", 100)
    with pytest.raises(SubmissionError, match="over the 100 cap per file"):
        check_files(folder)


def test_safetensors_header_is_checked(make_submission):
    """A .safetensors file must have a JSON header."""
    folder = make_submission()
    good = folder / "checkpoints" / "seed2" / "other.safetensors"
    header = b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
    good.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4)
    check_files(folder)
    good.write_bytes(b"garbage!" * 4)
    with pytest.raises(SubmissionError, match="not a safetensors file"):
        check_files(folder)
