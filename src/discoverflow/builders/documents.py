"""The per-item documents (``candidates``, ``mofs``) as a view of the stage records: a maggma
Builder projects the records of the current settings into validated ``CandidateDoc`` /
``MOFDoc`` documents, in bulk, rewriting only the documents whose records changed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from emmet.core.symmetry import SymmetryData
from jobflow import JobStore
from maggma.core import Builder, Store
from monty.json import jsanitize
from pymatgen.core import Structure

from discoverflow.core.checkpoint import fingerprint
from discoverflow.schemas.candidate import CANDIDATES, MOFS, CandidateDoc, MOFDoc
from discoverflow.schemas.records import (
    AFTER_SELECTION,
    ITEM_KEYS,
    RECORDS,
    REJECTIONS,
    STAGE_ORDER,
    Stage,
    Status,
)
from discoverflow.stores import document_store

DOCUMENT_TYPES = {CANDIDATES: CandidateDoc, MOFS: MOFDoc}
SELECTING = (Stage.SELECTION, Stage.DEDUP, Stage.PROPERTY_SCREEN)
"""Stages whose verdict decides whether a candidate goes on to relaxation."""
CANDIDATE_ONLY = frozenset({Stage.GENERATION, Stage.VALIDITY, Stage.SCREENING, *SELECTING})
UNSCREENED = frozenset({Status.GENERATED, Status.SCREENED, *REJECTIONS})
"""Candidates the builder leaves without symmetry (spglib) unless a stage gave them one."""
LEAN = ["record"]
"""Record fields the view leaves out (the full checkpoints)."""


@dataclass
class RecordSelection:
    """Which records make the view: those of the current fingerprint per stage (a crystal
    campaign), of the given jobs (a flow composed in Python), or else every record."""

    fingerprints: dict[Stage, str] = field(default_factory=dict)
    job_uuids: list[str] | None = None

    def parts(self) -> list[dict[str, Any]]:
        """Criteria whose union is the selection, each answered by an index."""
        if self.fingerprints:
            return [
                {"stage": stage.value, "fingerprint": stamp}
                for stage, stamp in self.fingerprints.items()
            ]
        if self.job_uuids is not None:
            return [{"job_uuid": {"$in": list(self.job_uuids)}}]
        return [{}]

    def admits(self, record: dict[str, Any]) -> bool:
        if self.fingerprints:
            stage = Stage(record["stage"])
            return self.fingerprints.get(stage) == record.get("fingerprint")
        if self.job_uuids is not None:
            return record.get("job_uuid") in self.jobs
        return True

    @cached_property
    def jobs(self) -> frozenset[str]:
        return frozenset(self.job_uuids or ())


STRUCTURES = ("structure", "structure_initial")


def without_structures(doc: dict[str, Any]) -> dict[str, Any]:
    """The document to validate: its structures are ``Structure.as_dict()`` of the records'
    writers, and building them again would double the cost of a build."""
    return {key: value for key, value in doc.items() if key not in STRUCTURES}


def symmetry_of(structure: dict | None) -> dict | None:
    """emmet's symmetry data of a stored structure."""
    if structure is None:
        return None
    return jsanitize(SymmetryData.from_structure(Structure.from_dict(structure)).model_dump())


def merged_document(
    campaign: str, collection: str, item_id: str, records: list[dict]
) -> dict[str, Any] | None:
    """One item's document from its records; None for a candidate that the current
    generation does not have. A candidate's records apply in pipeline order and stop at a
    rejection; relaxation and hull results apply only to candidates the current selection
    kept."""
    stages = {Stage(r["stage"]) for r in records}
    candidate = collection == CANDIDATES and (
        stages & CANDIDATE_ONLY or any(r["fields"].get("role") == "candidate" for r in records)
    )
    if candidate and Stage.GENERATION not in stages:
        return None
    if candidate:  # results of several runs: in the order of the pipeline
        records = sorted(records, key=lambda r: (STAGE_ORDER[Stage(r["stage"])], r["written_at"]))
    else:  # references, known phases, MOFs: in the order they were found
        records = sorted(records, key=lambda r: r["written_at"])
    doc: dict[str, Any] = {ITEM_KEYS[collection]: item_id, "campaign": campaign, "stages": {}}
    status, selected, used = None, False, []
    for record in records:
        stage = Stage(record["stage"])
        if candidate and (status in REJECTIONS or (stage in AFTER_SELECTION and not selected)):
            continue
        doc.update(record["fields"])
        status = Status(record["status"])
        selected = status == Status.SELECTED if stage in SELECTING else selected
        doc["status"], doc["reason"] = status.value, record.get("reason")
        earlier = doc["stages"].get(stage.value, {})
        doc["stages"][stage.value] = {
            "status": status.value,
            "reason": record.get("reason"),
            "fingerprint": record.get("fingerprint") or earlier.get("fingerprint"),
            "settings": record.get("settings") or earlier.get("settings"),
            "job_uuid": record.get("job_uuid"),
            "updated_at": record["written_at"],
        }
        used.append(record)
    if doc.get("structure") is None and doc.get("structure_initial") is not None:
        doc["structure"] = doc["structure_initial"]
    doc["job_uuids"] = list(dict.fromkeys(r["job_uuid"] for r in used if r.get("job_uuid")))
    doc["last_updated"] = max(r["written_at"] for r in used)
    doc["builder_hash"] = fingerprint(
        {"records": [[r["stage"], r.get("fingerprint"), r.get("job_uuid")] for r in used]}
        | {"written": [str(r["written_at"]) for r in used]}
    )
    return doc


class ItemDocumentBuilder(Builder):
    """Records -> per-item documents of one campaign and collection, for a selection.

    Documents whose records did not change are not rewritten; documents of items the
    selection no longer has (another generation, say) are removed from the view (their
    records stay).
    """

    def __init__(
        self,
        records: Store,
        documents: Store,
        campaign: str,
        collection: str = CANDIDATES,
        selection: RecordSelection | None = None,
        chunk_size: int = 1000,
    ) -> None:
        self.records = records
        self.documents = documents
        self.campaign = campaign
        self.collection = collection
        self.selection = selection or RecordSelection()
        self.chunk_size = chunk_size
        self.key = ITEM_KEYS[collection]
        self.written = 0
        self.removed = 0
        super().__init__(sources=[records], targets=[documents], chunk_size=chunk_size)

    def base_criteria(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "collection": self.collection}

    def get_items(self) -> Iterator[tuple[list[str], list[dict], dict[str, str]]]:
        """Chunks of items: their ids, their selected records, their documents' hashes."""
        base = self.base_criteria()
        ids = sorted(
            {
                item_id
                for part in self.selection.parts()
                for item_id in self.records.distinct("item_id", {**base, **part})
            }
        )
        self.current = set()
        for start in range(0, len(ids), self.chunk_size):
            chunk = ids[start : start + self.chunk_size]
            found = [
                record
                for record in self.records.query(
                    {**base, "item_id": {"$in": chunk}}, properties={name: 0 for name in LEAN}
                )
                if self.selection.admits(record)
            ]
            hashes = {
                doc[self.key]: doc.get("builder_hash")
                for doc in self.documents.query(
                    {"campaign": self.campaign, self.key: {"$in": chunk}},
                    properties=[self.key, "builder_hash"],
                )
            }
            yield chunk, found, hashes

    def process_item(self, item: tuple[list[str], list[dict], dict[str, str]]) -> list[dict]:
        ids, found, hashes = item
        grouped: dict[str, list[dict]] = {item_id: [] for item_id in ids}
        for record in found:
            grouped[record["item_id"]].append(record)
        schema = DOCUMENT_TYPES[self.collection]
        changed = []
        for item_id, records in grouped.items():
            doc = merged_document(self.campaign, self.collection, item_id, records)
            if doc is None:
                continue
            self.current.add(item_id)
            if hashes.get(item_id) == doc["builder_hash"]:
                continue
            if doc.get("symmetry") is None and doc["status"] not in UNSCREENED:
                doc["symmetry"] = symmetry_of(doc.get("structure"))
            schema.model_validate(without_structures(doc))  # else nothing is written
            changed.append(doc)
        return changed

    def update_targets(self, items: list[list[dict]]) -> None:
        docs = [doc for chunk in items for doc in chunk]
        if docs:
            self.documents.update(docs, key=["campaign", self.key])
            self.written += len(docs)

    def finalize(self) -> None:
        """Remove the documents this builder wrote of items no longer in the view (documents
        from before the records, without ``builder_hash``, are left alone; the stores stay
        open: they are the JobStore's)."""
        built = {
            doc[self.key]
            for doc in self.documents.query(
                {"campaign": self.campaign}, properties=[self.key, "builder_hash"]
            )
            if "builder_hash" in doc
        }
        stale = built - self.current
        stale_ids = sorted(stale)
        for start in range(0, len(stale_ids), self.chunk_size):
            chunk = stale_ids[start : start + self.chunk_size]
            self.documents.remove_docs({"campaign": self.campaign, self.key: {"$in": chunk}})
        self.removed = len(stale_ids)

    def run(self, log_level: int = 30) -> None:
        """Build the view in this process (maggma's serial run, without its logging)."""
        self.connect()
        for chunk in self.get_items():
            self.update_targets([self.process_item(chunk)])
        self.finalize()


def build_documents(
    store: JobStore, campaign: str, collection: str, selection: RecordSelection | None = None
) -> ItemDocumentBuilder:
    """Bring a campaign's ``collection`` documents in ``store`` up to date with its records."""
    builder = ItemDocumentBuilder(
        document_store(store, RECORDS),
        document_store(store, collection),
        campaign,
        collection,
        selection,
    )
    builder.run()
    return builder
