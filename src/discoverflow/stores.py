"""JobStores: embedded on disk (default), MongoDB from a URI, or in memory."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout
from jobflow import JobStore
from jobflow_remote.remote.data import MinimalFileStore
from maggma.core import Store, StoreError
from maggma.stores import GridFSStore, JSONStore, MemoryStore, MongoStore, MontyStore

from discoverflow.errors import DiscoverflowError
from discoverflow.locations import embedded_folder, is_mongo_uri, is_read_only, store_spec
from discoverflow.settings import get_settings
from discoverflow.sqlite_store import DATABASE_FILE, SQLiteStore, read_only_connection

LOCK_FILE = "run.lock"
OWNER_FILE = "run.owner.json"
DOCS_COLLECTION = "outputs"
DATA_COLLECTION = "outputs_data"
LOCAL_COPIES = (JSONStore, MinimalFileStore)
"""The file stores a jobflow-remote worker runs jobs on (uploaded to the project when done)."""
DOCUMENT_COLLECTIONS = ("candidates", "mofs", "records", "campaigns")
"""Per-item documents (one per candidate crystal, one per MOF), the stage records they are
built from, and one summary (scorecard) per campaign, beside the job outputs."""
DOCUMENT_INDEXES = (
    "campaign",
    "candidate_id",
    "mof_id",
    "chemsys",
    "formula_pretty",
    "energy_above_hull",
    "status",
    "item_id",
    "stage",
    "fingerprint",
    "job_uuid",
    "record_id",
)


def make_store(spec: str | None = None, reading: bool = False) -> JobStore:
    """A JobStore with a ``data`` additional store for ``spec``.

    ``spec`` is a folder (the embedded store, one SQLite file), a
    ``mongodb://`` URI, or ``memory``; by default as ``store_spec`` says. An embedded store
    whose files are damaged, or whose folder cannot be made, is a DiscoverflowError; one that
    cannot be written is opened read-only when only ``reading``, else refused as read-only.
    """
    spec = store_spec(spec)
    read_only = False
    if is_mongo_uri(spec):
        check_reachable(spec)
    elif spec != "memory":
        folder = Path(spec).expanduser().resolve()
        read_only = is_read_only(folder)
        if read_only and not reading:
            raise DiscoverflowError(
                f"the store at {folder} is read-only: `status` and `results` can read it; "
                "a run needs a writable copy or another --store"
            )
        check_embedded(folder, read_only)
    docs = collection_store(spec, DOCS_COLLECTION, read_only)
    if is_mongo_uri(spec):
        database = get_settings().DATABASE
        data = GridFSStore(database, DATA_COLLECTION, uri=spec, compression=True)
    else:
        data = collection_store(spec, DATA_COLLECTION, read_only)
    documents = {name: sibling_store(docs, name) for name in DOCUMENT_COLLECTIONS}
    return JobStore(docs, additional_stores={"data": data, **documents})


MONGO_PING_TIMEOUT_MS = 2000


def check_reachable(uri: str) -> None:
    """Fail in seconds, with one line naming the host, when a MongoDB server is not there
    (pymongo would wait 30 s per operation)."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError
    from pymongo.uri_parser import parse_uri

    try:
        nodes = parse_uri(uri)["nodelist"]
    except (PyMongoError, ValueError) as error:
        raise DiscoverflowError(f"not a valid MongoDB URI: {error}") from None
    hosts = ", ".join(f"{h}:{p}" for h, p in nodes) or uri
    refused = [refusal(host, port) for host, port in nodes]
    if nodes and all(refused):  # no server listens: say so now, not after the ping's wait
        raise DiscoverflowError(f"MongoDB at {hosts} is not reachable ({refused[0]})")
    client = MongoClient(uri, serverSelectionTimeoutMS=MONGO_PING_TIMEOUT_MS)
    try:
        client.admin.command("ping")
    except PyMongoError as error:
        reason = str(error).split(",")[0].split(" (")[0]
        raise DiscoverflowError(f"MongoDB at {hosts} is not reachable ({reason})") from None
    finally:
        client.close()


def refusal(host: str, port: int) -> str | None:
    """Why nothing accepts a TCP connection at host:port (None when something does)."""
    try:
        socket.create_connection((host, port), timeout=MONGO_PING_TIMEOUT_MS / 1000).close()
    except OSError as error:
        return f"{host}:{port}: {error}"
    return None


def mongo_uri_of(store: Store) -> str | None:
    """A URI to ping the MongoDB server of a MongoStore (None for other stores, including
    the in-memory and MontyDB stores that maggma derives from MongoStore)."""
    if not isinstance(store, MongoStore) or isinstance(store, MemoryStore):
        return None
    if getattr(store, "uri", None):
        return store.uri
    return f"mongodb://{store.host}:{store.port}"


def collection_store(spec: str, collection: str, read_only: bool = False) -> Store:
    """One collection of the store ``spec``: a folder (SQLite), a URI or memory."""
    if spec == "memory":
        return MemoryStore(collection)
    if is_mongo_uri(spec):
        return MongoStore.from_uri(spec, collection, database=get_settings().DATABASE)
    folder = Path(spec).expanduser().resolve()
    if read_only:
        return SQLiteStore(collection, database_path=str(folder), read_only=True)
    return SQLiteStore(collection, database_path=str(make_folder(folder)))


def make_folder(folder: Path) -> Path:
    """``folder``, made if need be, and writable; else a DiscoverflowError naming it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DiscoverflowError(
            f"cannot make the store folder {folder}: {error.strerror or error}"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DiscoverflowError(f"the store folder {folder} is not writable")
    return folder


def check_embedded(folder: Path, read_only: bool = False) -> None:
    """Refuse an embedded store whose database file is damaged (sqlite's quick check), before
    anything reads or writes it; copy an older MontyDB store in the folder into it first."""
    if folder.exists() and not folder.is_dir():
        raise DiscoverflowError(f"the store {folder} is a file, not a store folder")
    if montydb_collections(folder) and not (folder / DATABASE_FILE).exists():
        migrate_montydb(folder)
    path = folder / DATABASE_FILE
    if not path.exists():
        return
    try:
        connection = read_only_connection(path) if read_only else sqlite3.connect(path)
        try:
            verdict = connection.execute("PRAGMA quick_check(1)").fetchone()[0]
        finally:
            connection.close()
    except (sqlite3.Error, StoreError) as error:
        verdict = str(error)
    if verdict != "ok":
        raise DiscoverflowError(
            f"the store at {folder} is damaged: {DATABASE_FILE}: {verdict} "
            "(restore it from a copy or give another --store)"
        )


def montydb_collections(folder: Path) -> list[str]:
    """The collections of a MontyDB store (sqlite storage) in ``folder``, as discoverflow
    wrote before its embedded store was one SQLite file."""
    return sorted(path.stem for path in folder.glob("db/*.collection"))


def migrate_montydb(folder: Path) -> dict[str, int]:
    """Copy every collection of the MontyDB store in ``folder`` into its SQLite file, once
    (the MontyDB files stay, unread); the number of documents copied per collection.

    The copy is built beside the store and moved into place whole, so a killed copy is
    simply redone."""
    with FileLock(folder / "migrate.lock"):
        target = folder / DATABASE_FILE
        if target.exists():
            return {}
        staging = folder / "migrating"
        for leftover in staging.glob(f"{DATABASE_FILE}*"):
            leftover.unlink()
        copied = {}
        for name in montydb_collections(folder):
            old = MontyStore(name, database_path=str(folder), storage="sqlite")
            new = SQLiteStore(name, database_path=str(staging))
            try:
                old.connect()
                copied[name] = sum(new.insert(batch) for batch in batches(old.query()))
            except Exception as error:
                raise DiscoverflowError(
                    f"cannot read the MontyDB store at {folder}: db/{name}.collection: {error}"
                    " (restore it from a copy or give another --store)"
                ) from None
            finally:
                old.close()
                new.close()
        os.replace(staging / DATABASE_FILE, target)
        shutil.rmtree(staging, ignore_errors=True)
        print(
            f"discoverflow: copied the MontyDB store in {folder / 'db'} ("
            + ", ".join(f"{name}: {n} documents" for name, n in copied.items())
            + f") into {target}; the MontyDB files are kept and no longer read",
            file=sys.stderr,
        )
        return copied


def batches(docs: Iterable[dict], size: int = 1000) -> Iterator[list[dict]]:
    """``docs`` without their MontyDB ``_id``, ``size`` at a time."""
    batch = []
    for doc in docs:
        batch.append({k: v for k, v in doc.items() if k != "_id"})
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def add_new(store: Store, docs: list[dict], key: str) -> None:
    """Write ``docs`` whose ``key`` is new (fresh ids): the embedded store inserts them
    without looking each key up; any other store updates by ``key`` as usual."""
    if isinstance(store, SQLiteStore):
        store.insert(docs)
    else:
        store.update(docs, key=key)


@contextmanager
def exclusive_run(spec: str) -> Iterator[None]:
    """Hold the embedded store at ``spec`` for one run: a second run on it refuses at once,
    naming the process that holds it (MongoDB and memory stores take no lock)."""
    folder = embedded_folder(spec)
    if folder is None:
        yield
        return
    make_folder(folder)
    lock = FileLock(folder / LOCK_FILE)
    owner = folder / OWNER_FILE
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise DiscoverflowError(
            f"the store at {folder} is in use by {holder(owner)}; wait for it to finish, "
            "or give another --store"
        ) from None
    try:
        owner.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "command": " ".join(["discoverflow", *sys.argv[1:]]),
                    "since": datetime.now().isoformat(timespec="seconds"),
                }
            )
        )
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


def holder(owner: Path) -> str:
    """Who holds a store, from the record its holder wrote."""
    try:
        info = json.loads(owner.read_text())
        pid, host, command, since = info["pid"], info["host"], info["command"], info["since"]
        return f"process {pid} on {host} (`{command}`, since {since})"
    except (OSError, ValueError, KeyError):
        return "another process"


def embedded_folder_of(store: JobStore | None) -> Path | None:
    """The folder of a JobStore's embedded database (None for MongoDB and memory)."""
    docs = store.docs_store if store is not None else None
    return Path(docs.database_path) if isinstance(docs, SQLiteStore) else None


def sibling_store(store: Store, collection: str) -> Store:
    """A store of another collection in the same database as ``store`` (same class and
    connection settings; a plain in-memory store has no database to share)."""
    if type(store) is MemoryStore:
        return MemoryStore(collection)
    settings = store.as_dict()
    settings["collection_name"] = collection
    return type(store).from_dict(settings)


def document_store(job_store: JobStore, collection: str) -> Store:
    """The per-item documents (``candidates``, ``mofs``) or stage ``records`` of a JobStore: its
    additional store of that name (as ``make_store`` sets up), else the same collection
    beside its job outputs. A jobflow-remote worker runs jobs on a local copy of the JobStore
    (JSON files uploaded when the job ends); there the documents are the collection of
    DISCOVERFLOW_STORE, which the worker must point at the project's database (the starter
    project does), so that finished work is in the database at once."""
    extra = job_store.additional_stores.get(collection)
    if extra is not None and not isinstance(extra, LOCAL_COPIES):
        return extra
    if isinstance(job_store.docs_store, LOCAL_COPIES):
        return collection_store(store_spec(), collection)
    detached = vars(job_store).setdefault("discoverflow_documents", {})
    if collection not in detached:
        detached[collection] = sibling_store(job_store.docs_store, collection)
    return detached[collection]


_shared: dict[str, JobStore] = {}


def shared_job_store(job_store: JobStore) -> JobStore:
    """A JobStore holding every job's outputs: ``job_store`` itself, or on a jobflow-remote
    worker (which runs a job on a local copy holding that job's output only) the store
    DISCOVERFLOW_STORE names, as for the per-item documents."""
    if not isinstance(job_store.docs_store, LOCAL_COPIES):
        return job_store
    spec = store_spec()
    if spec not in _shared:
        _shared[spec] = make_store(spec)
        _shared[spec].connect()
    return _shared[spec]


def ensure_document_indexes(store: Store) -> bool:
    """Indexes for the queries users run on per-item documents; False where the backend has
    none (MontyDB scans its collections)."""
    if isinstance(store, MontyStore):
        return False
    store.connect()
    return all(store.ensure_index(field) for field in DOCUMENT_INDEXES)


def describe_store(spec: str | None = None) -> str:
    """A short human description of where results go."""
    spec = store_spec(spec)
    if spec == "memory":
        return "in-memory store"
    if is_mongo_uri(spec):
        return f"MongoDB ({spec.split('@')[-1]})"
    folder = Path(spec).expanduser().resolve()
    return f"embedded store at {folder}" + (" (read-only)" if is_read_only(folder) else "")


def default_model_dir(spec: str | None = None) -> Path:
    """Where fine-tuned model files go: DISCOVERFLOW_MODEL_DIR, else beside the embedded store
    (``spec`` or DISCOVERFLOW_STORE), else a user cache folder (never the working directory)."""
    settings = get_settings()
    if settings.MODEL_DIR:
        return Path(settings.MODEL_DIR).expanduser().resolve()
    spec = spec or settings.STORE
    if not spec or spec == "memory" or is_mongo_uri(spec):
        return Path("~/.cache/discoverflow/models").expanduser()
    return Path(spec).expanduser().resolve() / "models"
