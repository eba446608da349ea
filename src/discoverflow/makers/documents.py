"""Jobs write what they finish into the campaign's per-item documents (``candidates``,
``mofs``), read them back to resume, and say which settings produced each result."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jobflow import CURRENT_JOB
from maggma.core import Store
from monty.json import jsanitize
from pymatgen.core import Structure

from discoverflow.core.checkpoint import fingerprint
from discoverflow.schemas.candidate import CANDIDATES, StageRecord, utcnow
from discoverflow.stores import document_store

KEYS = {CANDIDATES: "candidate_id", "mofs": "mof_id"}


def running_fingerprint(stage: str) -> str | None:
    """The fingerprint the campaign gave ``stage`` for the running job, if any."""
    job = CURRENT_JOB.job
    return (job.metadata.get("fingerprints") or {}).get(stage) if job is not None else None


def structure_fields(structure: Structure, prefix: str = "") -> dict[str, Any]:
    """emmet's structure metadata (formula_pretty, chemsys, symmetry, ...) and the structure."""
    from emmet.core.structure import StructureMetadata

    metadata = StructureMetadata.from_structure(structure).model_dump()
    return {**metadata, f"{prefix}structure": structure}


class CampaignDocuments:
    """A campaign's documents in one collection, keyed by campaign and item id."""

    def __init__(self, store: Store, campaign: str, collection: str = CANDIDATES) -> None:
        self.store = store
        self.campaign = campaign
        self.key = KEYS[collection]
        store.connect()

    @classmethod
    def of_running_job(cls, collection: str = CANDIDATES) -> CampaignDocuments | None:
        """The running job's campaign documents; None outside a campaign (plain flows)."""
        job, store = CURRENT_JOB.job, CURRENT_JOB.store
        campaign = job.metadata.get("campaign") if job is not None else None
        if campaign is None or store is None:
            return None
        return cls(document_store(store, collection), campaign, collection)

    def find(self, ids: Iterable[str], properties: list[str] | None = None) -> dict[str, dict]:
        wanted = list(ids)
        if not wanted:
            return {}
        criteria = {"campaign": self.campaign, self.key: {"$in": wanted}}
        fields = [self.key, *properties] if properties else None
        return {doc[self.key]: doc for doc in self.store.query(criteria, properties=fields)}

    def write(
        self,
        stage: str,
        items: Mapping[str, dict[str, Any]],
        status: Mapping[str, str] | str,
        reasons: Mapping[str, str | None] | None = None,
        records: Mapping[str, dict] | None = None,
        fingerprint_: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """Merge ``items`` (id -> fields) into their documents and record the stage.

        Each document's ``status`` becomes the stage's verdict for it; the stage record keeps
        the verdict, reason, fingerprint (the running job's by default), job and, with
        ``records``, the full per-item result that a resumed job reuses.
        """
        if not items:
            return
        job = CURRENT_JOB.job
        uuid = job.uuid if job is not None else None
        stamp = fingerprint_ or running_fingerprint(stage)
        existing = self.find(items)
        docs = []
        for item_id, fields in items.items():
            doc = existing.get(item_id) or {"campaign": self.campaign, self.key: item_id}
            verdict = status if isinstance(status, str) else status[item_id]
            reason = (reasons or {}).get(item_id)
            doc.update(fields)
            doc.update(status=verdict, reason=reason, last_updated=utcnow())
            doc.setdefault("stages", {})[stage] = StageRecord(
                status=verdict,
                reason=reason,
                fingerprint=stamp,
                settings=settings,
                job_uuid=uuid,
                record=(records or {}).get(item_id),
            ).model_dump()
            if uuid and uuid not in doc.setdefault("job_uuids", []):
                doc["job_uuids"].append(uuid)
            docs.append(jsanitize(doc, strict=True, allow_bson=True))
        self.store.update(docs, key=["campaign", self.key])

    def stage_record(self, item_id: str, stage: str) -> dict | None:
        found = self.find([item_id], [f"stages.{stage}"]).get(item_id)
        return (found or {}).get("stages", {}).get(stage)


class DocumentCheckpoint:
    """Per-item results of a stage kept in the campaign's documents (``load`` / ``save`` as
    ``each_checkpointed`` expects): a killed job, on any worker, resumes from the store."""

    def __init__(
        self,
        documents: CampaignDocuments,
        stage: str,
        settings: dict[str, Any],
        fields: Any = None,
    ) -> None:
        self.documents = documents
        self.stage = stage
        self.settings = settings
        self.fingerprint = fingerprint(settings)
        self.fields = fields  # record -> document fields to set, or None

    @classmethod
    def of_running_job(
        cls, collection: str, stage: str, settings: dict[str, Any], fields: Any = None
    ) -> DocumentCheckpoint | None:
        """The running job's checkpoint in its campaign's documents; None outside campaigns."""
        documents = CampaignDocuments.of_running_job(collection)
        return cls(documents, stage, settings, fields) if documents is not None else None

    def load(self, key: str) -> dict | None:
        found = self.documents.stage_record(key, self.stage)
        if not found or found.get("fingerprint") != self.fingerprint:
            return None
        return found.get("record")

    def save(self, key: str, data: dict) -> None:
        fields = self.fields(key, data) if self.fields else {}
        self.documents.write(
            self.stage,
            {key: fields},
            data.get("status", "done"),
            {key: data.get("reason")},
            {key: data},
            self.fingerprint,
            self.settings,
        )


def relax_fields(collection: str, engine: str, role: str = "candidate"):
    """Document fields of a finished relaxation (``RelaxRecord.to_json``), for a checkpoint."""

    def fields(key: str, data: dict) -> dict[str, Any]:
        found = {k: data.get(k) for k in ("energy", "energy_per_atom", "n_steps", "max_force")}
        structure = Structure.from_dict(data["structure"]) if data.get("structure") else None
        if collection == CANDIDATES:
            found |= {"role": role, "relax_engine": engine}
        else:
            found |= {
                "optimisation_engine": engine,
                "optimisation_converged": data.get("status") == "relaxed",
                "scf_steps": data.get("scf_steps"),
                "seconds_per_scf_step": data.get("seconds_per_scf_step"),
            }
            if structure is not None:
                found["lattice_abc"] = list(structure.lattice.abc)
        if structure is not None:
            found |= structure_fields(structure)
        return found

    return fields


def candidate_fields(info, structure: Structure) -> dict[str, Any]:
    """A generated candidate's document fields: provenance, metadata, initial structure."""
    return {
        **structure_fields(structure),
        "role": "candidate",
        "structure_initial": structure,
        "template": info.template,
        "species_map": info.species_map,
        "scale": info.scale,
    }


HULL_FIELDS = (
    "energy_above_hull",
    "is_stable",
    "promising",
    "formation_energy_per_atom",
    "decomposes_to",
)


def record_generation(chunks: Iterable, removed: dict[str, str] | None = None) -> None:
    """Documents for a generation's candidates (``chunks``: the documents holding them; once
    per generation fingerprint), or for the ``removed`` ones with the reason; candidates of
    earlier generations of the campaign that this one no longer has are marked superseded,
    their hull values cleared."""
    documents = CampaignDocuments.of_running_job()
    if documents is None:
        return
    stamp = running_fingerprint("validity") or running_fingerprint("generation")
    if removed:
        for chunk in chunks:
            infos = {c.candidate_id: c for c in chunk.candidates}
            documents.write(
                "validity",
                {
                    cid: candidate_fields(infos[cid], chunk.structures[cid])
                    for cid in removed
                    if cid in infos
                },
                "invalid",
                removed,
            )
        return
    current = []
    for chunk in chunks:
        infos = {c.candidate_id: c for c in chunk.candidates}
        current.extend(infos)
        existing = documents.find(infos, ["stages.generation.fingerprint"])
        todo = {
            cid: candidate_fields(info, chunk.structures[cid])
            for cid, info in infos.items()
            if (existing.get(cid, {}).get("stages", {}).get("generation") or {}).get("fingerprint")
            != stamp
        }
        documents.write("generation", todo, "generated", fingerprint_=stamp)
    stale = documents.store.query(
        {
            "campaign": documents.campaign,
            "role": "candidate",
            "candidate_id": {"$nin": current},
            "status": {"$nin": ["superseded", "invalid"]},
        },
        properties=["candidate_id"],
    )
    cleared = dict.fromkeys(HULL_FIELDS) | {"decomposes_to": []}
    documents.write(
        "generation",
        {doc["candidate_id"]: cleared for doc in stale},
        "superseded",
        fingerprint_=stamp,
    )


def hull_fields(analysis) -> tuple[dict[str, dict], dict[str, str], dict[str, str | None]]:
    """Per-candidate hull fields, verdicts and reasons of a ``HullAnalysis`` (for ``write``)."""
    items, status, reasons = {}, {}, {}
    for row in analysis.candidates:
        entry = next(
            e
            for e in analysis.diagram.all_entries
            if getattr(e, "attribute", None) == row.candidate_id
        )
        decomposition = analysis.diagram.get_decomposition(entry.composition)
        on_hull = row.e_above_hull <= 1e-8
        items[row.candidate_id] = {
            "formation_energy_per_atom": row.formation_energy_per_atom,
            "energy_above_hull": row.e_above_hull,
            "is_stable": on_hull,
            "promising": row.promising,
            "decomposes_to": sorted({e.composition.reduced_formula for e in decomposition}),
            "energy_corrections": analysis.corrections,
        }
        status[row.candidate_id] = (
            "on hull" if on_hull else "promising" if row.promising else "above hull"
        )
    for excluded in analysis.excluded:
        items[excluded.candidate_id] = dict.fromkeys(HULL_FIELDS)
        status[excluded.candidate_id] = excluded.status
        reasons[excluded.candidate_id] = excluded.reason
    return items, status, reasons
