"""A maggma Store in one SQLite file per folder: one table per collection, documents as JSON,
expression indexes on the fields looked up by key.

A query's indexable part (equality, ``$in`` and ranges on indexed fields, under ``$and``)
becomes SQL on the indexes; the full filter then runs in Python on those rows, so answers are
MongoDB's. An indexed field is answered from its index only while no document holds an array
(or a document) on its path; one that does turns that field back to a scan, as the
``discoverflow_fields`` table records. Every write is one transaction, committed before it
returns (WAL journal: an acknowledged write survives the process being killed); SQLite runs
one writer at a time, so concurrent writers wait for each other instead of losing updates.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from maggma.core import Sort, Store, StoreError

from discoverflow.locations import DATABASE_FILE
from discoverflow.mongo_query import MISSING, grouped, matches, project, sort_docs, values_at
from discoverflow.sqlite_codec import collector_paused, decode, hashable, json_value, stored
from discoverflow.sqlite_pushdown import (
    INDEXED,
    Pushdown,
    extract,
    field_columns,
    indexable,
    is_scalar,
    refresh_statistics,
    top_level_fields,
)

FIELDS_TABLE = "discoverflow_fields"
FIELDS_COLUMNS = "collection TEXT, field TEXT, scalar INTEGER, PRIMARY KEY (collection, field)"
DOC_COLUMNS = "id INTEGER PRIMARY KEY, doc TEXT NOT NULL"
BUSY_TIMEOUT_S = 600.0
BATCH = 500


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_only_connection(path: Path) -> sqlite3.Connection:
    """A connection that only reads ``path``: through the WAL where its files can be had, else
    the file as it is (a store copied read-only has no WAL files and cannot make them)."""
    for options in ("mode=ro", "mode=ro&immutable=1"):
        connection = sqlite3.connect(
            f"{path.as_uri()}?{options}", uri=True, check_same_thread=False
        )
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return connection
        except sqlite3.OperationalError as error:
            connection.close()
            reason = error
    raise StoreError(f"cannot read {path}: {reason}")


class SQLiteStore(Store):
    """A collection of documents in ``<database_path>/discoverflow.sqlite``."""

    def __init__(
        self,
        collection_name: str,
        database_path: str,
        key: str = "task_id",
        indexes: list[str] | None = None,
        read_only: bool = False,
        **kwargs,
    ) -> None:
        self.collection_name = collection_name
        self.database_path = str(database_path)
        self.read_only = read_only
        self.indexes = list(INDEXED if indexes is None else indexes)
        self.kwargs = kwargs
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._table = quoted(collection_name)
        super().__init__(key=key, **kwargs)

    @property
    def path(self) -> Path:
        return Path(self.database_path).expanduser() / DATABASE_FILE

    @property
    def name(self) -> str:
        return f"sqlite://{self.path}/{self.collection_name}"

    @property
    def _collection(self) -> None:
        """There is no pymongo collection: ``hasattr(store, "_collection")`` is False, so
        code that wants one (jobflow-remote's index creation) uses the Store methods."""
        raise AttributeError(f"{self.name} has no pymongo collection; use the Store methods")

    @property
    def connection(self) -> sqlite3.Connection:
        """The open SQLite connection."""
        if self._connection is None:
            raise StoreError(f"{self.name} is not connected")
        return self._connection

    def connect(self, force_reset: bool = False) -> None:
        if self._connection is not None and not force_reset:
            return
        self.close()
        if self.read_only:
            self._connection = self.open_read_only()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        self._connection = connection
        with self._write() as db:
            db.execute(f"CREATE TABLE IF NOT EXISTS {FIELDS_TABLE} ({FIELDS_COLUMNS})")
            db.execute(f"CREATE TABLE IF NOT EXISTS {self._table} ({DOC_COLUMNS})")
            for field in dict.fromkeys([*self.indexes, self.key]):
                self._index(db, field, unique=False)

    def open_read_only(self) -> sqlite3.Connection:
        """A connection that only reads; a collection the file lacks reads as empty."""
        connection = read_only_connection(self.path)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        for table, columns in ((FIELDS_TABLE, FIELDS_COLUMNS), (self.collection_name, DOC_COLUMNS)):
            if table not in tables:
                connection.execute(f"CREATE TEMP TABLE {quoted(table)} ({columns})")
        return connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (SQLite's lock taken at once, so reads in it are current)."""
        if self.read_only:
            raise StoreError(f"{self.path} is read-only: nothing can be written to it")
        self.connect()
        with self._lock:
            db = self.connection
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _read(self, sql: str, parameters: Any = ()) -> list[tuple]:
        self.connect()
        with self._lock:
            return self.connection.execute(sql, parameters).fetchall()

    def _scalar_fields(self, db: sqlite3.Connection | None = None) -> dict[str, bool]:
        """Indexed fields, mapped to whether their index answers equality (no arrays)."""
        sql = f"SELECT field, scalar FROM {FIELDS_TABLE} WHERE collection = ?"
        parameters = (self.collection_name,)
        rows = db.execute(sql, parameters).fetchall() if db else self._read(sql, parameters)
        return {field: bool(scalar) for field, scalar in rows}

    def _index(self, db: sqlite3.Connection, field: str, unique: bool) -> None:
        if not indexable(field):
            return
        digest = hashlib.sha1(f"{self.collection_name}\0{field}".encode()).hexdigest()[:12]
        kind = "UNIQUE INDEX" if unique else "INDEX"
        name = quoted(f"{self.collection_name}_{'unique_' if unique else ''}{digest}")
        db.execute(f"CREATE {kind} IF NOT EXISTS {name} ON {self._table} ({extract(field)})")
        known = db.execute(
            f"SELECT 1 FROM {FIELDS_TABLE} WHERE collection = ? AND field = ?",
            (self.collection_name, field),
        ).fetchone()
        if known is None:
            scalar = all(
                is_scalar(decode(text), field)
                for (text,) in db.execute(f"SELECT doc FROM {self._table}")
            )
            db.execute(
                f"INSERT INTO {FIELDS_TABLE} VALUES (?, ?, ?)",
                (self.collection_name, field, int(scalar)),
            )

    def ensure_index(self, key: str, unique: bool = False) -> bool:
        """Index ``key`` (a dotted field); False if it cannot be (a unique index on duplicate
        values, or a field name no JSON path spells)."""
        if not indexable(key):
            return False
        try:
            with self._write() as db:
                self._index(db, key, unique)
        except sqlite3.IntegrityError:
            return False
        return True

    def _candidates(
        self, criteria: dict | None, db: sqlite3.Connection | None = None
    ) -> tuple[list[int], bool]:
        """Row ids that may match ``criteria`` (from the indexes where it allows), and whether
        they match it exactly."""
        plan = Pushdown(criteria or {}, self._scalar_fields(db))
        sql = f"SELECT id FROM {self._table}{plan.where} ORDER BY id"
        rows = (
            db.execute(sql, plan.parameters).fetchall() if db else self._read(sql, plan.parameters)
        )
        return [row[0] for row in rows], plan.exact

    def _documents(self, ids: list[int], db: sqlite3.Connection | None = None) -> Iterator[dict]:
        """The documents of ``ids``, in that order, ``_id`` their row id."""
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            sql = f"SELECT id, doc FROM {self._table} WHERE id IN (SELECT value FROM json_each(?))"
            parameters = (str(chunk),)
            rows = db.execute(sql, parameters).fetchall() if db else self._read(sql, parameters)
            texts = dict(rows)
            with collector_paused():
                batch = [{"_id": i, **decode(texts[i])} for i in chunk if i in texts]
            yield from batch

    def _matching(self, criteria: dict | None, db: sqlite3.Connection | None = None):
        ids, exact = self._candidates(criteria, db)
        for doc in self._documents(ids, db):
            if exact or matches(doc, criteria):
                yield doc

    def query(
        self,
        criteria: dict | None = None,
        properties: dict | list | None = None,
        sort: dict[str, Sort | int] | None = None,
        skip: int = 0,
        limit: int = 0,
        **kwargs,
    ) -> Iterator[dict]:
        """Documents matching ``criteria`` as MongoDB returns them (``_id`` is the row id).
        Top-level fields of documents the indexes alone select are read without decoding the
        rest of each document."""
        fields = top_level_fields(properties)
        if fields is not None and not sort:
            ids, exact = self._candidates(criteria)
            if exact:
                keep_id = not (isinstance(properties, dict) and properties.get("_id") == 0)
                wanted = ids[skip : skip + limit] if limit else ids[skip:]
                yield from self._fields(wanted, fields, keep_id)
                return
        found: Iterator[dict] = self._matching(criteria)
        if sort:
            found = iter(sort_docs(list(found), sort))
        for position, doc in enumerate(found):
            if position < skip:
                continue
            if limit and position >= skip + limit:
                return
            yield project(doc, properties)

    def count(self, criteria: dict | None = None, **kwargs) -> int:
        ids, exact = self._candidates(criteria)
        if exact:
            return len(ids)
        return sum(1 for doc in self._documents(ids) if matches(doc, criteria))

    def _fields(self, ids: list[int], fields: list[str], keep_id: bool) -> Iterator[dict]:
        """The top-level ``fields`` of the documents of ``ids``, in that order."""
        sql = f"SELECT id, {field_columns(fields)} FROM {self._table} WHERE id IN "
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            rows = {
                r[0]: r[1:]
                for r in self._read(sql + "(SELECT value FROM json_each(?))", (str(chunk),))
            }
            for i in (i for i in chunk if i in rows):
                kinds = zip(fields, rows[i][::2], rows[i][1::2], strict=True)
                found = {f: json_value(kind, v) for f, kind, v in kinds if kind is not None}
                yield {"_id": i, **found} if keep_id else found

    def distinct(self, field: str, criteria: dict | None = None, all_exist: bool = False) -> list:
        """The distinct values of ``field`` (array elements counted one by one)."""
        seen: dict[Any, Any] = {}
        found: Iterator[dict] = self._matching(criteria)
        if top_level_fields([field]):
            ids, exact = self._candidates(criteria)
            if exact:
                found = self._fields(ids, [field], keep_id=False)
        for doc in found:
            for value in values_at(doc, field):
                for item in value if isinstance(value, list) else [value]:
                    if item is not MISSING:
                        seen.setdefault(hashable(item), item)
        return list(seen.values())

    def groupby(
        self,
        keys: list[str] | str,
        criteria: dict | None = None,
        properties: dict | list | None = None,
        sort: dict[str, Sort | int] | None = None,
        skip: int = 0,
        limit: int = 0,
    ) -> Iterator[tuple[dict, list[dict]]]:
        """Documents grouped by the values of ``keys`` (those lacking one left out)."""
        keys = [keys] if isinstance(keys, str) else list(keys)
        wanted = list(properties or [])
        fields = None if properties is None else [*keys, *wanted]
        yield from grouped(self.query(criteria, fields, sort, skip, limit), keys)

    def update(self, docs: list[dict] | dict, key: list | str | None = None) -> None:
        """Replace, or insert, each document with the same ``key`` field(s) (the store's key
        by default), all in one transaction."""
        docs = [docs] if isinstance(docs, dict) else list(docs)
        key = key or self.key
        fields = [key] if isinstance(key, str) else list(key)
        sanitized = []
        for doc, text in map(stored, docs):
            if self.validator and not self.validator.is_valid(doc):
                if self.validator.strict:
                    raise ValueError(self.validator.validation_errors(doc))
                self.logger.error(self.validator.validation_errors(doc))
                continue
            sanitized.append(({k: doc[k] for k in fields}, doc, text))
        if not sanitized:
            return
        with self._write() as db:
            for field in fields:
                self._index(db, field, unique=False)
            self._forget_scalars(db, [doc for _, doc, _ in sanitized])
            for search, _, text in sanitized:
                found = next(iter(self._candidate_rows(search, db)), None)
                if found is None:
                    db.execute(f"INSERT INTO {self._table} (doc) VALUES (?)", (text,))
                else:
                    db.execute(f"UPDATE {self._table} SET doc = ? WHERE id = ?", (text, found))
            refresh_statistics(db, self._table, self.collection_name)

    def _forget_scalars(self, db: sqlite3.Connection, docs: list[dict]) -> None:
        """Turn indexed fields that ``docs`` hold arrays on back to scans."""
        for field, scalar in self._scalar_fields(db).items():
            if scalar and not all(is_scalar(doc, field) for doc in docs):
                db.execute(
                    f"UPDATE {FIELDS_TABLE} SET scalar = 0 WHERE collection = ? AND field = ?",
                    (self.collection_name, field),
                )

    def _candidate_rows(self, search: dict, db: sqlite3.Connection) -> Iterator[int]:
        ids, exact = self._candidates(search, db)
        if exact:
            yield from ids
            return
        for doc in self._documents(ids, db):
            if matches(doc, search):
                yield doc["_id"]

    def insert(self, docs: list[dict]) -> int:
        """Add ``docs`` as new documents (no key looked up), in one transaction; how many."""
        prepared = [stored(doc) for doc in docs]
        with self._write() as db:
            self._forget_scalars(db, [doc for doc, _ in prepared])
            db.executemany(
                f"INSERT INTO {self._table} (doc) VALUES (?)", [(text,) for _, text in prepared]
            )
            refresh_statistics(db, self._table, self.collection_name)
        return len(prepared)

    def explain(self, criteria: dict | None = None) -> list[str]:
        """SQLite's plan for selecting the rows that may match ``criteria``."""
        plan = Pushdown(criteria or {}, self._scalar_fields())
        sql = f"EXPLAIN QUERY PLAN SELECT id FROM {self._table}{plan.where} ORDER BY id"
        return [row[-1] for row in self._read(sql, plan.parameters)]

    def remove_docs(self, criteria: dict) -> None:
        """Delete the documents matching ``criteria``, in one transaction."""
        with self._write() as db:
            ids = [doc["_id"] for doc in self._matching(criteria, db)]
            db.execute(
                f"DELETE FROM {self._table} WHERE id IN (SELECT value FROM json_each(?))",
                (str(ids),),
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SQLiteStore):
            return False
        return (self.path.resolve(), self.collection_name, self.last_updated_field) == (
            other.path.resolve(),
            other.collection_name,
            other.last_updated_field,
        )

    def __hash__(self) -> int:
        return hash((str(self.path.resolve()), self.collection_name, self.last_updated_field))
