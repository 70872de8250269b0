"""Errors caused by what the user gave: an option, a name, a file, a spec or a submission.

They form one family so that the ``dexmg`` command can print them as one line and exit 2,
while any other exception (a bug) keeps its traceback. The base class is a ``ValueError``, and
a missing file is also a ``FileNotFoundError``, so callers that catch those keep working.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = [
    "InputFileNotFoundError",
    "UserInputError",
    "check_min",
    "from_options",
    "reading",
]


class UserInputError(ValueError):
    """Input the user gave is wrong; the message names it and says what is valid."""


class InputFileNotFoundError(UserInputError, FileNotFoundError):
    """A file, folder or dataset the user named does not exist."""


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
        message = re.sub(r"(\w+\.)?`(\w+)`", lambda m: "--" + m[2].replace("_", "-"), str(err))
        raise UserInputError(message) from err


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
