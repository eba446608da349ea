"""Jobs record what they finish as stage results (insert-only, in bulk) in the ``records``
collection, and read their own checkpoints back; the per-item documents are built from the
records by ``discoverflow.builders`` and never written here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from copy import copy
from functools import lru_cache
from typing import Any

from emmet.core.structure import StructureMetadata
from jobflow import CURRENT_JOB, JobConfig
from maggma.core import Store
from monty.json import jsanitize
from pymatgen.core import Composition, Structure

from discoverflow.core.checkpoint import fingerprint
from discoverflow.core.crystal.hull import ON_HULL_TOLERANCE
from discoverflow.core.crystal.stability import HullAnalysis
from discoverflow.core.structures import cell_density, composition_mass, elements_mass
from discoverflow.faults import records_written
from discoverflow.schemas.candidate import CANDIDATES
from discoverflow.schemas.records import RECORDS, Stage, StageResult, Status
from discoverflow.schemas.structures import element_sites, sites_dict
from discoverflow.sqlite_codec import collector_paused
from discoverflow.stores import add_new, document_store

WRITES_RECORDS = JobConfig(expose_store=True)
"""The config of a job that records its per-item results (it needs the store)."""
DEFAULT_CAMPAIGN = "default"
"""The campaign of records written by flows composed in Python without one."""
FINGERPRINT_KEYS = {
    Stage.REFERENCES: "references",
    Stage.GENERATION: "generation",
    Stage.VALIDITY: "validity",
    Stage.SCREENING: "screen_model",
    Stage.SELECTION: "screen",
    Stage.DEDUP: "dedup",
    Stage.PROPERTY_SCREEN: "property_screen",
    Stage.RELAX: "relax_engine",
    Stage.COORDINATE: "relax",
    Stage.HULL: "hull",
}
"""Which of a crystal campaign's fingerprints (``metadata.fingerprints``) keys each stage's
records: the builder projects the records of the current fingerprints."""


def running_fingerprint(key: str) -> str | None:
    """The fingerprint the campaign gave ``key`` for the running job, if any."""
    job = CURRENT_JOB.job
    return (job.metadata.get("fingerprints") or {}).get(key) if job is not None else None


def structure_fields(structure: Structure) -> dict[str, Any]:
    """emmet's structure metadata (formula_pretty, chemsys, symmetry, ...) and the structure."""
    metadata = StructureMetadata.from_structure(structure).model_dump()
    return {**metadata, "structure": structure}


def generated_fields(structure: Structure) -> dict[str, Any]:
    """emmet's structure metadata without the symmetry (spglib: the builder adds it for the
    candidates that pass the screen), and the structure as generated, all as stored (JSON
    types, for ``StageRecords.write(plain=True)``)."""
    sites = element_sites(structure)
    if sites is None:
        composition = structure.composition
        metadata = composition_fields(composition, len(structure))
        mass = composition_mass(composition)
    else:
        counts = Counter(symbol for symbol, _ in sites)
        metadata = counted_fields(counts)
        mass = elements_mass((symbol, float(count)) for symbol, count in counts.items())
    volume = structure.volume
    return {
        **metadata,
        "volume": volume,
        "density": cell_density(mass, volume),
        "density_atomic": volume / len(structure),
        "structure_initial": sites_dict(structure, sites),
    }


def composition_fields(composition: Composition, nsites: int) -> dict[str, Any]:
    """emmet's metadata of a structure of ``composition`` (JSON types), its cell left out."""
    metadata = StructureMetadata.from_composition(composition, nsites=nsites)
    return jsanitize(metadata.model_dump(), strict=True, allow_bson=True)


def counted_fields(counts: Counter[str]) -> dict[str, Any]:
    """``composition_fields`` of a crystal with these element counts (in the order of its
    sites), computed once per composition: every candidate of one composition shares them,
    whatever the template. Only the composition's order follows the sites."""
    shared = sorted_counted_fields(tuple(sorted(counts.items())))
    return {key: copy(value) for key, value in shared.items()} | {
        key: {symbol: shared[key][symbol] for symbol in counts}
        for key in ("composition", "composition_reduced")
    }


@lru_cache(maxsize=4096)
def sorted_counted_fields(counts: tuple[tuple[str, int], ...]) -> dict[str, Any]:
    composition = Composition({symbol: float(count) for symbol, count in counts})
    return composition_fields(composition, sum(count for _, count in counts))


class StageRecords:
    """Stage results of one campaign's items (one per-item collection), insert-only."""

    def __init__(self, store: Store, campaign: str, collection: str = CANDIDATES) -> None:
        self.store = store
        self.campaign = campaign
        self.collection = collection
        store.connect()

    @classmethod
    def of_running_job(cls, collection: str = CANDIDATES) -> StageRecords | None:
        """The running job's records (campaign from its metadata, else the default one);
        None where the job was not given the store."""
        job, store = CURRENT_JOB.job, CURRENT_JOB.store
        if job is None or store is None:
            return None
        campaign = job.metadata.get("campaign") or DEFAULT_CAMPAIGN
        return cls(document_store(store, RECORDS), campaign, collection)

    def write(
        self,
        stage: Stage,
        items: Mapping[str, dict[str, Any]],
        status: Mapping[str, Status | str] | Status | str,
        reasons: Mapping[str, str | None] | None = None,
        records: Mapping[str, dict] | None = None,
        fingerprint_: str | None = None,
        settings: dict[str, Any] | None = None,
        plain: bool = False,
    ) -> None:
        """Record ``items`` (id -> document fields) as ``stage``'s results, in one bulk write
        (``plain``: the fields hold JSON types only, and are stored as they are).

        The fingerprint is the one given, else the campaign's for the stage
        (``FINGERPRINT_KEYS``), else that of ``settings``; ``settings`` (with ``records``, the
        full per-item results) make a checkpoint that a rerun with the same settings reuses.
        """
        if not items:
            return
        stage = Stage(stage)
        job = CURRENT_JOB.job
        settings_stamp = fingerprint(settings) if settings is not None else None
        stamp = (
            fingerprint_
            or running_fingerprint(FINGERPRINT_KEYS.get(stage, stage.value))
            or settings_stamp
        )
        documents = []
        for item_id, fields in items.items():
            result = StageResult(
                campaign=self.campaign,
                collection=self.collection,
                item_id=item_id,
                stage=stage,
                fingerprint=stamp,
                settings_fingerprint=settings_stamp,
                settings=settings,
                status=status if isinstance(status, str) else status[item_id],
                reason=(reasons or {}).get(item_id),
                fields={} if plain else fields,
                record=(records or {}).get(item_id),
                job_uuid=job.uuid if job is not None else None,
            )
            document = jsanitize(
                result.model_dump(), strict=True, allow_bson=True, enum_values=True
            )
            if plain:
                document["fields"] = fields
            documents.append(document)
        add_new(self.store, documents, key="record_id")
        records_written(stage.value)

    def written(self, stage: Stage, stamp: str | None, among: list[str] | None = None) -> set[str]:
        """The items (of ``among``, if given) with a result of ``stage`` under ``stamp``."""
        criteria = {"campaign": self.campaign, "stage": Stage(stage).value, "fingerprint": stamp}
        if among is not None:
            criteria["item_id"] = {"$in": among}
        return set(self.store.distinct("item_id", criteria))

    def checkpoint(self, item_id: str, stage: Stage, settings_fingerprint: str) -> dict | None:
        """The latest record holding a full result of ``stage`` for ``item_id`` under these
        settings (its ``record``, ``fields``, ``status`` and ``reason``)."""
        found = self.store.query_one(
            {
                "campaign": self.campaign,
                "item_id": item_id,
                "stage": Stage(stage).value,
                "settings_fingerprint": settings_fingerprint,
                "record": {"$ne": None},
            },
            properties=["record", "fields", "status", "reason"],
            sort={"written_at": -1},
        )
        return found or None


class RecordCheckpoint:
    """Per-item results of a stage kept as records (``load`` / ``save`` as
    ``each_checkpointed`` expects): a killed job, on any worker, resumes from the store."""

    def __init__(
        self,
        records: StageRecords,
        stage: Stage,
        settings: dict[str, Any],
        fields: Any = None,
    ) -> None:
        self.records = records
        self.stage = Stage(stage)
        self.settings = settings
        self.fingerprint = fingerprint(settings)
        self.fields = fields  # (key, record) -> document fields to set, or None

    @classmethod
    def of_running_job(
        cls, collection: str, stage: Stage, settings: dict[str, Any], fields: Any = None
    ) -> RecordCheckpoint | None:
        """The running job's checkpoint in its campaign's records; None without the store."""
        records = StageRecords.of_running_job(collection)
        return cls(records, stage, settings, fields) if records is not None else None

    def load(self, key: str) -> dict | None:
        """The finished result of ``key`` under these settings, recorded again (without the
        checkpoint) for the running job, whose fingerprint the documents select."""
        found = self.records.checkpoint(key, self.stage, self.fingerprint)
        if found is None:
            return None
        self.records.write(
            self.stage,
            {key: found.get("fields") or {}},
            found["status"],
            {key: found.get("reason")},
            settings=self.settings,
        )
        return found["record"]

    def save(self, key: str, data: dict) -> None:
        fields = self.fields(key, data) if self.fields else {}
        self.records.write(
            self.stage,
            {key: fields},
            data.get("status", Status.DONE),
            {key: data.get("reason")},
            {key: data},
            settings=self.settings,
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
    """A generated candidate's document fields: provenance, metadata, initial structure (JSON
    types)."""
    fields = {
        **generated_fields(structure),
        "role": "candidate",
        "template": info.template,
        "species_map": dict(info.species_map),
        "scale": info.scale,
    }
    if info.provenance:
        fields["provenance"] = jsanitize(
            info.provenance, strict=True, allow_bson=True, enum_values=True
        )
    return fields


class GenerationRecorder:
    """Records generated candidates (each once per generation fingerprint) and the validity
    verdicts of the removed ones, for the running job."""

    def __init__(self) -> None:
        self.records = StageRecords.of_running_job()
        self.stamp = running_fingerprint(FINGERPRINT_KEYS[Stage.GENERATION])

    def missing(self, ids: list[str]) -> set[str]:
        """Those of ``ids`` without a generation record under the running fingerprint."""
        if self.records is None:
            return set()
        if self.stamp is None:
            return set(ids)
        return set(ids) - self.records.written(Stage.GENERATION, self.stamp, among=ids)

    def record(
        self, chunk, removed: dict[str, str] | None = None, status: Status = Status.INVALID
    ) -> None:
        """``chunk``'s candidates (a generation chunk document) and, for the ``removed`` ones
        (id -> reason), their validity verdicts (``status``)."""
        if self.records is None:
            return
        infos = {c.candidate_id: c for c in chunk.candidates}
        todo = self.missing(list(infos))
        with collector_paused():  # the records are garbage once written
            self.records.write(
                Stage.GENERATION,
                {
                    cid: candidate_fields(infos[cid], chunk.structures[cid])
                    for cid in infos
                    if cid in todo
                },
                Status.GENERATED,
                fingerprint_=self.stamp,
                plain=True,
            )
        if removed:
            self.records.write(
                Stage.VALIDITY,
                {cid: {} for cid in removed if cid in infos},
                status,
                removed,
            )


def hull_status(e_above_hull: float, promising: bool) -> Status:
    """A candidate's verdict from its place on the hull."""
    if e_above_hull <= ON_HULL_TOLERANCE:
        return Status.ON_HULL
    return Status.PROMISING if promising else Status.ABOVE_HULL


def hull_fields(
    analysis: HullAnalysis,
) -> tuple[dict[str, dict], dict[str, Status], dict[str, str | None]]:
    """Per-candidate hull fields, verdicts and reasons of a ``HullAnalysis`` (for ``write``)."""
    items, status, reasons = {}, {}, {}
    for row in analysis.candidates:
        entry = next(
            e
            for e in analysis.diagram.all_entries
            if getattr(e, "attribute", None) == row.candidate_id
        )
        decomposition = analysis.diagram.get_decomposition(entry.composition)
        items[row.candidate_id] = {
            "formation_energy_per_atom": row.formation_energy_per_atom,
            "energy_above_hull": row.e_above_hull,
            "is_stable": row.e_above_hull <= ON_HULL_TOLERANCE,
            "promising": row.promising,
            "decomposes_to": sorted({e.composition.reduced_formula for e in decomposition}),
            "energy_corrections": analysis.corrections,
        }
        status[row.candidate_id] = hull_status(row.e_above_hull, row.promising)
    for excluded in analysis.excluded:
        items[excluded.candidate_id] = {}
        status[excluded.candidate_id] = excluded.status
        reasons[excluded.candidate_id] = excluded.reason
    return items, status, reasons
