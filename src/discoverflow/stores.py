"""JobStores: embedded on disk (default), MongoDB from a URI, or in memory."""

from __future__ import annotations

from pathlib import Path

from jobflow import JobStore
from maggma.stores import GridFSStore, MemoryStore, MongoStore, MontyStore

from discoverflow.settings import get_settings

DOCS_COLLECTION = "outputs"
DATA_COLLECTION = "outputs_data"
DATABASE = "discoverflow"


def is_mongo_uri(spec: str) -> bool:
    return spec.startswith(("mongodb://", "mongodb+srv://"))


def make_store(spec: str | None = None) -> JobStore:
    """A JobStore with a ``data`` additional store for ``spec``.

    ``spec`` is a folder (embedded MontyDB store with sqlite storage), a
    ``mongodb://`` URI, or ``memory``; by default DISCOVERFLOW_STORE.
    """
    spec = spec or get_settings().STORE
    if spec == "memory":
        docs, data = MemoryStore(DOCS_COLLECTION), MemoryStore(DATA_COLLECTION)
    elif is_mongo_uri(spec):
        docs = MongoStore.from_uri(spec, DOCS_COLLECTION, database=DATABASE)
        data = GridFSStore(DATABASE, DATA_COLLECTION, uri=spec, compression=True)
    else:
        folder = Path(spec).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        docs = MontyStore(DOCS_COLLECTION, database_path=str(folder), storage="sqlite")
        data = MontyStore(DATA_COLLECTION, database_path=str(folder), storage="sqlite")
    return JobStore(docs, additional_stores={"data": data})


def describe_store(spec: str | None = None) -> str:
    """A short human description of where results go."""
    spec = spec or get_settings().STORE
    if spec == "memory":
        return "in-memory store"
    if is_mongo_uri(spec):
        return f"MongoDB ({spec.split('@')[-1]})"
    return f"embedded store at {Path(spec).expanduser().resolve()}"


def default_checkpoint_dir(spec: str | None = None) -> Path | None:
    """Where relaxation checkpoints live for a store spec (None for memory stores)."""
    settings = get_settings()
    if settings.CHECKPOINT_DIR:
        return Path(settings.CHECKPOINT_DIR).expanduser().resolve()
    spec = spec or settings.STORE
    if spec == "memory":
        return None
    if is_mongo_uri(spec):
        return Path("discoverflow-checkpoints").resolve()
    return Path(spec).expanduser().resolve() / "checkpoints"


def default_model_dir(spec: str | None = None) -> Path:
    """Where fine-tuned model files go: DISCOVERFLOW_MODEL_DIR, else beside the embedded store,
    else a user cache folder (never the working directory)."""
    settings = get_settings()
    if settings.MODEL_DIR:
        return Path(settings.MODEL_DIR).expanduser().resolve()
    spec = spec or settings.STORE
    if spec == "memory" or is_mongo_uri(spec):
        return Path("~/.cache/discoverflow/models").expanduser()
    return Path(spec).expanduser().resolve() / "models"
