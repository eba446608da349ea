"""Finished work as one JSON file per item, written atomically, so killed jobs resume; and the
one loop that does per-item work through such a checkpoint."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from monty.json import MontyEncoder


def fingerprint(settings: dict[str, Any]) -> str:
    """A short id of the settings that make results comparable.

    Parameters
    ----------
    settings
        The settings, JSON-serialisable (others by ``str``).

    Returns
    -------
    str
        Twelve hex digits of the SHA-1 of their sorted JSON.
    """
    return hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:12]


class JsonCheckpoint:
    """``load(key)`` / ``save(key, data)`` in ``folder/<name>-<fingerprint>/<key>.json``.

    Parameters
    ----------
    folder
        Where checkpoints are kept.
    name
        The kind of work (e.g. ``relax``).
    settings
        The settings that make results comparable; their fingerprint names the subfolder.
    """

    def __init__(self, folder: Path, name: str, settings: dict[str, Any]) -> None:
        self.folder = Path(folder) / f"{name}-{fingerprint(settings)}"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def load(self, key: str) -> dict | None:
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            return None

    def save(self, key: str, data: dict) -> None:
        path = self._path(key)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, cls=MontyEncoder))
        os.replace(tmp, path)


Item = TypeVar("Item")
Record = TypeVar("Record")


def each_checkpointed(
    items: Mapping[str, Item],
    compute: Callable[[str, Item], Record],
    failed: Callable[[str, Exception], Record],
    checkpoint: JsonCheckpoint | None = None,
    encode: Callable[[Record], dict] | None = None,
    decode: Callable[[dict], Record] | None = None,
    on_done: Callable[[Record], None] | None = None,
) -> list[Record]:
    """``compute(key, item)`` for every item in order, reusing checkpointed records.

    An exception becomes ``failed(key, error)``, a record like any other, and the loop goes
    on; every new record is checkpointed the moment it exists (``encode`` / ``decode``
    convert records to and from JSON; a record that no longer decodes is recomputed).

    Parameters
    ----------
    items
        Key -> item.
    compute
        Makes an item's record.
    failed
        Makes the record of an item whose ``compute`` raised.
    checkpoint
        Where records are kept, if anywhere.
    encode, decode
        Record to JSON and back.
    on_done
        Called with each record as it is made or reused.

    Returns
    -------
    list
        One record per item, in the input order.
    """
    records = []
    for key, item in items.items():
        record = None
        if checkpoint is not None and (data := checkpoint.load(key)) is not None:
            try:
                record = decode(data)
            except (TypeError, KeyError, ValueError):
                record = None
        if record is None:
            try:
                record = compute(key, item)
            except Exception as error:
                record = failed(key, error)
            if checkpoint is not None:
                checkpoint.save(key, encode(record))
        records.append(record)
        if on_done is not None:
            on_done(record)
    return records
