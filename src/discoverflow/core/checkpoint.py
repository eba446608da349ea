"""Finished work as one JSON file per item, written atomically, so killed jobs resume."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from monty.json import MontyEncoder


def fingerprint(settings: dict[str, Any]) -> str:
    """A short id of the settings that make results comparable."""
    return hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:12]


class JsonCheckpoint:
    """``load(key)`` / ``save(key, data)`` in ``folder/<name>-<fingerprint>/<key>.json``."""

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
