"""The part of a MongoDB filter SQLite's expression indexes can answer, as a WHERE clause."""

from __future__ import annotations

import json
import math
import sqlite3
from typing import Any

from discoverflow.mongo_query import is_operator_dict

RANGES = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def indexable(field: str) -> bool:
    """Whether ``field`` (dotted) can be written as a SQLite JSON path."""
    return bool(field) and not any(c in field for c in "'\"$") and all(field.split("."))


INDEXED = (
    "uuid",
    "index",
    "blob_uuid",
    "metadata.campaign",
    "metadata.stage",
    "campaign",
    "candidate_id",
    "mof_id",
    "item_id",
    "collection",
    "stage",
    "fingerprint",
)
"""Fields every collection is indexed on: job outputs by uuid and index, data blobs by
blob_uuid, per-item documents by campaign and item id, stage records by collection, stage and
fingerprint."""


def field_columns(fields: list[str]) -> str:
    """SQL columns giving each field's JSON type and value (``json_value`` reads them)."""
    return ", ".join(
        f"json_type(doc, '{json_path(f)}'), json_extract(doc, '{json_path(f)}')" for f in fields
    )


def top_level_fields(properties: dict | list | None) -> list[str] | None:
    """The fields a projection includes where all are top-level names (else None)."""
    if isinstance(properties, dict):
        if any(not v for k, v in properties.items() if k != "_id"):
            return None
        properties = [k for k in properties if k != "_id"]
    if not properties or not all(indexable(f) and "." not in f for f in properties):
        return None
    return list(dict.fromkeys(properties))


def json_path(field: str) -> str:
    return "$" + "".join(f'."{part}"' for part in field.split("."))


def extract(field: str) -> str:
    """The SQL expression of ``field``'s value; an index on it is on this exact text."""
    return f"json_extract(doc, '{json_path(field)}')"


def is_scalar(doc: Any, field: str) -> bool:
    """Whether ``field``'s path in ``doc`` meets no array and ends on no array or document:
    then SQL equality on its value is MongoDB's."""
    value = doc
    for part in field.split("."):
        if isinstance(value, list | tuple):
            return False
        if not isinstance(value, dict) or part not in value:
            return True
        value = value[part]
    return not isinstance(value, dict | list | tuple)


def kind(value: Any) -> str | None:
    """The SQL test that a stored value has ``value``'s JSON type (None: not pushable)."""
    if isinstance(value, bool):
        return "= 'true'" if value else "= 'false'"
    if isinstance(value, str):
        return "= 'text'"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return "IN ('integer', 'real')"
    return None


class Pushdown:
    """``where`` and ``parameters`` select a superset of the documents ``criteria`` matches,
    through the indexes of ``scalar`` fields (those mapped to True); ``exact`` when the
    selection is the answer itself."""

    def __init__(self, criteria: dict, scalar: dict[str, bool]) -> None:
        self.scalar = scalar
        self.clauses: list[str] = []
        self.parameters: list[Any] = []
        self.exact = True
        self.add(criteria)

    @property
    def where(self) -> str:
        return f" WHERE {' AND '.join(self.clauses)}" if self.clauses else ""

    def add(self, criteria: dict) -> None:
        for key, condition in criteria.items():
            if key == "$and":
                for part in condition:
                    self.add(part)
            elif not self.scalar.get(key) or not indexable(key):
                self.exact = False
            else:
                ops = condition if is_operator_dict(condition) else {"$eq": condition}
                for op, arg in ops.items():
                    self.exact = self.operator(key, op, arg) and self.exact

    def operator(self, field: str, op: str, arg: Any) -> bool:
        """Add the clause of one operator; whether it is exact."""
        expr = extract(field)
        guard = f"json_type(doc, '{json_path(field)}')"
        if op == "$eq" and arg is None:
            self.clauses.append(f"{expr} IS NULL")
            return True
        if op == "$eq" and isinstance(arg, str):  # only a JSON string extracts as text
            self.clauses.append(f"{expr} = ?")
            self.parameters.append(arg)
            return True
        if op in ("$eq", *RANGES) and kind(arg) is not None:
            if op != "$eq" and isinstance(arg, bool):
                return False
            self.clauses.append(f"({expr} {RANGES.get(op, '=')} ? AND {guard} {kind(arg)})")
            self.parameters.append(arg)
            return True
        if op == "$in" and isinstance(arg, list | tuple):
            values = [v for v in arg if v is not None]
            if not all(kind(v) is not None for v in values):
                return False
            clause = f"{expr} IN (SELECT value FROM json_each(?))"
            if len(values) < len(arg):
                clause = f"({clause} OR {expr} IS NULL)"
            self.clauses.append(clause)
            self.parameters.append(json.dumps(values))
            return all(isinstance(v, str) for v in values)
        return False


STATISTICS_FROM_ROWS = 1000
"""Below this many rows any plan is fast; from it on, SQLite's planner gets statistics."""


def refresh_statistics(db: sqlite3.Connection, table: str, name: str) -> None:
    """``ANALYZE`` ``table`` (quoted; ``name`` unquoted) once it holds STATISTICS_FROM_ROWS
    rows and again each time it has grown fourfold since: without statistics SQLite takes
    any equality index as selective and, for ``campaign = ? AND item_id IN (...)``, scans a
    whole campaign through its ``campaign`` index instead of looking the ids up."""
    rows = db.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
    if rows < STATISTICS_FROM_ROWS:
        return
    try:
        found = db.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = ? LIMIT 1", (name,))
        stat = found.fetchone()
    except sqlite3.OperationalError:  # no statistics in this database yet
        stat = None
    if stat is None or rows >= 4 * int(stat[0].split()[0]):
        db.execute(f"ANALYZE {table}")
