"""Errors caused by what the user gave: an option, a name, a file, a spec or a submission.

They form one family so that the ``dexmg`` command can print them as one line and exit 2,
while any other exception (a bug) keeps its traceback. The base class is a ``ValueError``, and
a missing file is also a ``FileNotFoundError``, so callers that catch those keep working.

Two outcomes that are not bugs either are printed as one line too: a stop request (``Stopped``,
raised where a job polls the flag that SIGINT/SIGTERM set) and a full disk (``DiskFullError``,
raised by ``writing``, which also removes what was half-written).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import re
import shutil
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = [
    "DiskFullError",
    "InputFileNotFoundError",
    "Stopped",
    "UserInputError",
    "check_min",
    "from_options",
    "is_disk_full",
    "reading",
    "writing",
]


class UserInputError(ValueError):
    """Input the user gave is wrong; the message names it and says what is valid."""


class InputFileNotFoundError(UserInputError, FileNotFoundError):
    """A file, folder or dataset the user named does not exist."""


class Stopped(Exception):
    """The user asked the command to stop (SIGINT/SIGTERM); what finished is kept on disk."""


class DiskFullError(OSError):
    """No space was left on the device while writing ``filename``; nothing half-written is kept."""

    def __init__(self, path: str | Path | None) -> None:
        super().__init__(errno.ENOSPC, "no space left on the device", path and str(path))

    def __str__(self) -> str:
        where = f"{self.filename}: " if self.filename else ""
        return (
            f"{where}the disk is full (no space left on the device); free some space and run "
            "the same command again (a generation job resumes where it stopped)"
        )


# HDF5 sets errno 28 on its OSError; quota exhaustion is the same fault for the user.
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(err: BaseException) -> bool:
    """Whether ``err`` is the OS saying the disk (or the user's quota) is full."""
    return isinstance(err, OSError) and err.errno in _DISK_FULL


@contextlib.contextmanager
def writing(path: str | Path, *, partial: str | Path | None = None) -> Iterator[None]:
    """Write ``path``: a full disk raises a ``DiskFullError`` naming it.

    ``partial`` (a temporary file or folder that becomes ``path`` once complete) is removed on any
    failure, so a half-written file never stays behind to be mistaken for output or to hold the
    space the user must free.
    """
    try:
        yield
    except BaseException as err:
        if partial is not None:
            _remove(Path(partial))
        if is_disk_full(err) and not isinstance(err, DiskFullError):
            raise DiskFullError(path) from err
        raise


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def from_options(config: Callable[..., T], /, **options: Any) -> T:
    """Build a config from command-line options: its validation errors are input errors.

    A config's ``__post_init__`` raises ``ValueError`` with the field in backquotes (as in
    "`max_steps` must be >= 0"); here that becomes a ``UserInputError`` naming the option
    ("--max-steps must be >= 0"), which the ``dexmg`` command prints as one line.
    """
    try:
        return config(**options)
    except UserInputError:
        raise
    except ValueError as err:
        raise UserInputError(option_message(err)) from err


def option_message(err: ValueError, prefix: str = "") -> str:
    """A config's message with each backquoted field named as its option (``--<prefix>field``)."""
    return re.sub(r"(\w+\.)?`(\w+)`", lambda m: f"--{prefix}{m[2].replace('_', '-')}", str(err))


def check_min(option: str, value: float, minimum: float) -> None:
    """Refuse an option below its minimum, and nan or inf (comparisons with nan pass silently).

    Checked before any work starts, so that a wrong count fails in a second, not after a run.
    """
    if not math.isfinite(value):
        raise UserInputError(f"--{option} must be a finite number. Got {value}.")
    if value < minimum:
        raise UserInputError(f"--{option} must be >= {minimum}. Got {value}.")


@contextlib.contextmanager
def reading(path: str | Path, expected: str) -> Iterator[None]:
    """Read a user-given file: any failure to open or parse it names the file and what it needs.

    ``expected`` completes "expected ...", e.g. ``"a round key file"``.

    Covers a missing path, a folder where a file is expected, unreadable or truncated files,
    binary files where text is expected, and TOML, JSON, zip or HDF5 (missing group) errors.
    """
    path = Path(path)
    try:
        if not path.exists():
            raise InputFileNotFoundError(f"{path}: no such file (expected {expected})")
        if path.is_dir():
            raise UserInputError(f"{path} is a folder, not a file (expected {expected})")
        yield
    except UserInputError:
        raise
    except (
        OSError,
        EOFError,
        KeyError,
        UnicodeDecodeError,
        tomllib.TOMLDecodeError,
        json.JSONDecodeError,
        zipfile.BadZipFile,
    ) as err:
        what = "the file is empty" if _is_empty(path) else f"{type(err).__name__}: {err}"
        raise UserInputError(f"{path} cannot be read as {expected} ({what})") from err


def _is_empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False
