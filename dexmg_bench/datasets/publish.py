"""Push datasets to a Minari remote and fetch the newest version of one back.

Remotes are Minari's: ``hf://<org>`` (the project's real remote) or ``gcp://<bucket>``. Offline
and in tests the ``gcp://`` remote is a loopback GCS emulator (``gcp-storage-emulator``, with
``STORAGE_EMULATOR_HOST`` set), so ``minari download`` runs its real code path against it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

from dexmg_bench.datasets.loader import DatasetError, load
from dexmg_bench.datasets.minari_io import ensure_namespace, missing_metadata
from dexmg_bench.errors import InputFileNotFoundError, UserInputError


class IncompleteMetadataError(DatasetError):
    """A dataset lacks metadata that publishing requires (see ``minari_io.missing_metadata``)."""


@contextlib.contextmanager
def _remote(remote: str) -> Iterator[None]:
    """Minari reads its remote from ``MINARI_REMOTE`` in several places: set it for the call."""
    if "://" not in remote:
        raise UserInputError(f"remote must look like 'hf://org' or 'gcp://bucket'. Got {remote!r}.")
    old = os.environ.get("MINARI_REMOTE")
    os.environ["MINARI_REMOTE"] = remote
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MINARI_REMOTE", None)
        else:
            os.environ["MINARI_REMOTE"] = old


def check_publishable(ds_id: str) -> Any:
    """Load with integrity checks and refuse incomplete metadata; returns the dataset."""
    ds = load(ds_id, verify=True)
    missing = missing_metadata(ds.storage.metadata)
    if missing:
        raise IncompleteMetadataError(
            f"refusing to publish {ds_id}: metadata lacks {missing}; rebuild it with "
            "`dexmg datasets build` or write it with `minari_io.write_minari`"
        )
    return ds


def publish(ids: Sequence[str], *, remote: str, token: str | None = None) -> list[str]:
    """Upload datasets (and the ``dexmg`` namespace metadata) to ``remote``; returns the ids sent.

    Every dataset is checked before anything is uploaded, so a bad one stops the whole batch.
    A dataset already on the remote is an error: versions are immutable, bump ``-vN`` instead.

    Args:
        ids: local dataset ids, e.g. ``dexmg/threading-v0``.
        remote: ``hf://<org>`` or ``gcp://<bucket>``.
        token: Hugging Face token or GCP service-account key file; None = anonymous (emulator).
    """
    import minari

    for ds_id in ids:
        check_publishable(ds_id)
    ensure_namespace()
    with _remote(remote):
        present = set(minari.list_remote_datasets())
        clash = sorted(set(ids) & present)
        if clash:
            raise FileExistsError(f"{clash} already on {remote}; publish a new version (-vN)")
        for ds_id in ids:
            minari.upload_dataset(ds_id, token)  # type: ignore[arg-type]  (None = anonymous)
    return list(ids)


def latest_remote_id(name: str, *, remote: str) -> str:
    """``dexmg/threading`` -> ``dexmg/threading-vN`` with the highest N on the remote.

    Minari 0.5.3 cannot parse an id without ``-vN`` (``minari download dexmg/threading`` raises
    TypeError) and lists remote datasets by string prefix, so ``dexmg/threading`` would also match
    ``dexmg/threading-source-v0``; this matches the name exactly.
    """
    import minari

    if re.search(r"-v\d+$", name):
        return name
    pattern = re.compile(rf"^{re.escape(name)}-v(\d+)$")
    with _remote(remote):
        ids = list(minari.list_remote_datasets(prefix=name))
    versions = [int(m.group(1)) for i in ids if (m := pattern.match(i))]
    if not versions:
        raise InputFileNotFoundError(f"no version of {name} on {remote} (found {sorted(ids)})")
    return f"{name}-v{max(versions)}"


def download(name: str, *, remote: str, force: bool = False) -> str:
    """Download the newest version of ``name`` (or the exact ``-vN``) from ``remote``; its id."""
    import minari

    ds_id = latest_remote_id(name, remote=remote)
    with _remote(remote):
        minari.download_dataset(ds_id, force_download=force)
    load(ds_id, verify=True)  # integrity of what arrived, checksum included
    return ds_id
