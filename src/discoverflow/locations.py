"""Where results go, as a store spec (a folder, a MongoDB URI or ``memory``), worked out
without opening or importing any store."""

from __future__ import annotations

import os
from pathlib import Path

from discoverflow.settings import get_settings

DATABASE_FILE = "discoverflow.sqlite"
"""The embedded store's one file, in its folder."""
DEFAULT_STORE_FOLDER = "discoverflow-data"
"""The embedded store's folder, beside the campaign file, when neither --store nor
DISCOVERFLOW_STORE names a store."""


def is_mongo_uri(spec: str) -> bool:
    return spec.startswith(("mongodb://", "mongodb+srv://"))


def store_spec(spec: str | None = None, beside: Path | None = None) -> str:
    """Where results go, by one rule: ``spec`` (``--store``), else DISCOVERFLOW_STORE, else the
    embedded store ``discoverflow-data`` in the folder ``beside`` (the campaign file's folder;
    the current folder when there is no campaign file)."""
    chosen = spec or get_settings().STORE
    if chosen:
        return chosen
    return str((beside or Path.cwd()).resolve() / DEFAULT_STORE_FOLDER)


def embedded_folder(spec: str | None = None) -> Path | None:
    """The folder of an embedded store spec (None for MongoDB and memory)."""
    spec = store_spec(spec)
    if spec == "memory" or is_mongo_uri(spec):
        return None
    return Path(spec).expanduser().resolve()


def is_read_only(folder: Path) -> bool:
    """Whether the embedded store in ``folder`` exists and cannot be written (permissions or a
    read-only file system)."""
    path = folder / DATABASE_FILE
    return path.exists() and not (os.access(folder, os.W_OK) and os.access(path, os.W_OK))
