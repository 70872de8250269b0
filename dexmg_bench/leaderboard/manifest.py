"""What a submission folder may contain, its ``MANIFEST.sha256``, and the submission id.

The id is the sha256 of the manifest, so any byte changed after ``submit`` changes the id, and
the grader (which re-hashes a private copy before running anything) refuses the folder.
Checkpoints are arrays only: pickle files are refused by name and by content.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct
import zipfile
from pathlib import Path

from dexmg_bench.leaderboard.schema import SubmissionError

MANIFEST = "MANIFEST.sha256"
MAX_FILE_BYTES = 50 * 2**20
MAX_TOTAL_BYTES = 200 * 2**20
# (folder, suffixes) a file may have; top-level files are listed by name.
ALLOWED = {
    "policy": (".py", ".json", ".yaml", ".txt"),
    "checkpoints": (".npz", ".safetensors"),
    "claims": (".json",),
}
TOP_LEVEL = ("submission.yaml", "README.md", "LICENSE", MANIFEST)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".bin", ".joblib")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


def _check_npz(path: Path) -> None:
    """Refuse object arrays (pickled) inside an ``.npz``; read headers only."""
    import numpy as np

    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if not name.endswith(".npy"):
                    raise SubmissionError(f"{path}: member {name!r} is not a .npy array")
                with z.open(name) as f:
                    version = np.lib.format.read_magic(f)
                    header = np.lib.format._read_array_header(f, version)  # (shape, fortran, dtype)
                    if header[2].hasobject:
                        raise SubmissionError(
                            f"{path}: array {name!r} has dtype object, which is a pickle; "
                            "checkpoints must be plain numeric arrays"
                        )
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        if isinstance(err, SubmissionError):
            raise
        raise SubmissionError(f"{path}: not a readable .npz ({err})") from err


def _check_safetensors(path: Path) -> None:
    """A safetensors file is an 8-byte header length, a JSON header, then raw bytes."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        raw = f.read(8)
        n = struct.unpack("<Q", raw)[0] if len(raw) == 8 else -1
        if not 2 <= n <= min(size - 8, 2**24):
            raise SubmissionError(f"{path}: not a safetensors file (bad header length)")
        try:
            header = json.loads(f.read(n))
        except ValueError as err:
            raise SubmissionError(f"{path}: safetensors header is not JSON ({err})") from err
    if not isinstance(header, dict):
        raise SubmissionError(f"{path}: safetensors header must be a JSON object")


def _is_pickle(path: Path) -> bool:
    """Pickle protocol 2+ starts with 0x80 <protocol>; protocol 0/1 files start with '(' or ']'."""
    with open(path, "rb") as f:
        head = f.read(2)
    return len(head) == 2 and head[0] == 0x80 and head[1] <= 5


def check_files(folder: Path) -> list[Path]:  # noqa: PLR0912 (one flat list of file rules)
    """Every file of the folder (relative paths, sorted) after the type, size and link rules."""
    if not folder.is_dir():
        raise SubmissionError(f"{folder}: not a folder")
    files, total = [], 0
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_symlink():
            raise SubmissionError(f"{rel}: symlinks are not allowed (copy the file instead)")
        if p.is_dir():
            if p.name == "__pycache__" or p.name.startswith("."):
                raise SubmissionError(f"{rel}: remove this folder (no caches or hidden folders)")
            continue
        if not p.is_file():
            raise SubmissionError(f"{rel}: only regular files are allowed")
        if p.suffix in PICKLE_SUFFIXES or _is_pickle(p):
            raise SubmissionError(
                f"{rel}: pickle files are refused (unpickling runs code); "
                "save checkpoints as .npz (allow_pickle=False) or .safetensors"
            )
        top = rel.parts[0]
        if len(rel.parts) == 1:
            if rel.name not in TOP_LEVEL:
                raise SubmissionError(f"{rel}: top-level files may only be {TOP_LEVEL}")
        elif top not in ALLOWED or p.suffix not in ALLOWED[top]:
            valid = "; ".join(f"{k}/: {' '.join(v)}" for k, v in ALLOWED.items())
            raise SubmissionError(f"{rel}: file type not allowed here (allowed: {valid})")
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SubmissionError(f"{rel}: {size} bytes, over the {MAX_FILE_BYTES} cap per file")
        total += size
        if p.suffix == ".npz":
            _check_npz(p)
        elif p.suffix == ".safetensors":
            _check_safetensors(p)
        files.append(rel)
    if total > MAX_TOTAL_BYTES:
        raise SubmissionError(f"{folder}: {total} bytes in all, over the {MAX_TOTAL_BYTES} cap")
    return files


def manifest_text(folder: Path) -> str:
    """``sha256sum`` format over every file but the manifest, sorted by path."""
    files = [f for f in check_files(folder) if f.as_posix() != MANIFEST]
    return "".join(f"{sha256_file(folder / f)}  {f.as_posix()}\n" for f in files)


def submission_id(text: str) -> str:
    """The id: the first 16 hex digits of the manifest's sha256."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def write_manifest(folder: Path) -> str:
    """Write ``MANIFEST.sha256`` and return the submission id."""
    text = manifest_text(folder)
    (folder / MANIFEST).write_text(text)
    return submission_id(text)


def verify_manifest(folder: Path) -> str:
    """The id, if every file matches the manifest; otherwise name the file that changed."""
    actual = {f.as_posix() for f in check_files(folder)} - {MANIFEST}
    path = folder / MANIFEST
    if not path.is_file():
        raise SubmissionError(f"{path}: missing; run `dexmg leaderboard submit {folder}` first")
    text = path.read_text()
    listed = {}
    for line in text.splitlines():
        m = re.match(r"^([0-9a-f]{64})  (.+)$", line)
        if m is None:
            raise SubmissionError(f"{path}: malformed line {line!r}")
        listed[m.group(2)] = m.group(1)
    for name in sorted(actual | set(listed)):
        if name not in listed:
            raise SubmissionError(f"{name}: added after the manifest was written")
        if name not in actual:
            raise SubmissionError(f"{name}: listed in {MANIFEST} but missing")
        if sha256_file(folder / name) != listed[name]:
            raise SubmissionError(f"{name}: changed after the manifest was written")
    return submission_id(text)


def stage(folder: Path, dest: Path) -> str:
    """Copy the folder to ``dest`` (world-readable, for the sandbox user) and verify the copy.

    Running the verified copy, not the original, means the files cannot change between the check
    and the run.
    """
    shutil.copytree(folder, dest, symlinks=True)
    for p in [dest, *dest.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return verify_manifest(dest)


def card_sha256(dataset_id: str, cards: Path) -> str | None:
    """The sha256 a dataset card lists for its data, or None when the card gives none."""
    card = cards / f"{dataset_id}.md"
    if not card.is_file():
        raise SubmissionError(f"dataset.id: no dataset card {card} for {dataset_id!r}")
    m = re.search(r"sha256[^0-9a-f\n]*([0-9a-f]{64})", card.read_text(), flags=re.IGNORECASE)
    return m.group(1) if m else None
