"""Documents as strict JSON text (what SQLite's JSON functions read) and back.

Types JSON lacks are written as MongoDB extended JSON: ``{"$date": ISO 8601}`` (aware
datetimes keep their offset, naive ones stay naive), ``{"$numberDouble": "NaN"}`` for non-finite
floats, ``{"$oid": hex}`` and ``{"$binary": base64}``; reading turns them back. A stored
document's own one-key ``{"$date": ...}`` dict would come back as a datetime, as with
``bson.json_util``.
"""

from __future__ import annotations

import base64
import gc
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson
from bson import ObjectId
from monty.json import jsanitize

MARKER = '{"$'
"""Only a dict with a key starting with ``$`` puts this in JSON text (inside a JSON string
the quote would be escaped), so text without it needs no reviving."""


def encode(doc: dict) -> str:
    """``doc`` as compact JSON text (json, not orjson, which writes NaN as null)."""
    try:
        return json.dumps(doc, separators=(",", ":"), allow_nan=False, default=extended)
    except ValueError:
        return json.dumps(finite(doc), separators=(",", ":"), allow_nan=False, default=extended)


def stored(doc: dict) -> tuple[dict, str]:
    """``doc`` as it is stored, without ``_id``, and its text. A document that holds more than
    JSON, datetimes, ObjectIds and bytes is jsanitized first, as maggma's stores do (the
    documents jobflow and discoverflow write are sanitized already: skipping it is 5x faster)."""
    plain = {k: v for k, v in doc.items() if k != "_id"}
    try:
        return plain, encode(plain)
    except TypeError:
        clean = jsanitize(plain, allow_bson=True, recursive_msonable=True)
        return clean, encode(clean)


def extended(value: Any) -> dict:
    if isinstance(value, datetime):
        return {"$date": value.isoformat()}
    if isinstance(value, ObjectId):
        return {"$oid": str(value)}
    if isinstance(value, bytes):
        return {"$binary": base64.b64encode(value).decode()}
    raise TypeError(f"a {type(value).__name__} cannot be stored in a document")


def finite(value: Any) -> Any:
    """``value`` with non-finite floats as ``{"$numberDouble": ...}``."""
    if isinstance(value, float) and not math.isfinite(value):
        return {
            "$numberDouble": "NaN"
            if math.isnan(value)
            else f"{value:+}"[0].replace("+", "") + "Infinity"
        }
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def decode(text: str) -> dict:
    """The document stored as ``text`` (orjson reads it several times faster than json; json
    only for what orjson refuses, integers beyond 64 bits)."""
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        doc = json.loads(text)
    if MARKER not in text:
        return doc
    wanted = text.count(MARKER)
    for key, value in doc.items():
        if isinstance(value, dict) and len(value) == 1:
            revived = special(value)
            if revived is not value:
                doc[key] = revived
                wanted -= 1
    return revive(doc) if wanted > 0 else doc


def decode_value(text: str) -> Any:
    """A JSON value as ``decode`` would give it inside a document."""
    value = orjson.loads(text)
    return revive(value) if MARKER in text else value


def revive(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            revived = special(value)
            if revived is not value:
                return revived
        return {k: revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [revive(v) for v in value]
    return value


def special(value: dict) -> Any:
    """The value an extended-JSON dict stands for (``value`` itself if it is none)."""
    ((key, inner),) = value.items()
    if not isinstance(inner, str):
        return value
    try:
        if key == "$date":
            return datetime.fromisoformat(inner)
        if key == "$numberDouble":
            return float(inner)
        if key == "$oid":
            return ObjectId(inner)
        if key == "$binary":
            return base64.b64decode(inner, validate=True)
    except ValueError:
        pass
    return value


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a batch of documents is decoded: it would otherwise
    run every 700 new dicts and lists and walk every live one (3x the decoding time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def hashable(value: Any) -> Any:
    """A key under which equal values (as MongoDB's distinct sees them) coincide."""
    if isinstance(value, dict | list):
        return ("json", encode({"v": value}))
    return (type(value) is bool, value)


def json_value(kind: str, value: Any) -> Any:
    """The Python value of what SQLite's ``json_extract`` gave for a value of JSON type
    ``kind`` (``json_type``)."""
    if kind in ("object", "array"):
        return decode_value(value)
    if kind in ("true", "false"):
        return kind == "true"
    return value
