"""The coordinate pattern as a crystal campaign's relax stage: the selected candidates are
looked up among the results the store already holds, predicted by the ensemble, or relaxed."""

from __future__ import annotations

from jobflow import Flow, Response, job
from pymatgen.core import Structure

from discoverflow.core.crystal.coordinate import Action
from discoverflow.makers.coordinate import CoordinateMaker
from discoverflow.makers.crystal.chunks import READS_CHUNKS, candidate_structures
from discoverflow.makers.crystal.references import PHASE_PREFIX
from discoverflow.makers.documents import WRITES_RECORDS, StageRecords, structure_fields
from discoverflow.routing import JobStage, RunsOn, placed, route_new_jobs
from discoverflow.schemas.active import ActiveLearningDocument, ActiveResult
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.schemas.records import Stage, Status
from discoverflow.schemas.relax import ReferenceDocument, RelaxBatchDocument, RelaxRecordInfo
from discoverflow.schemas.screen import DedupDocument, ScreenDocument

ENERGY_SOURCES = {Action.LOOKUP: "lookup", Action.ML: "prediction", Action.RELAX: "relaxation"}
STATUS = {
    Action.LOOKUP: Status.LOOKED_UP,
    Action.ML: Status.PREDICTED,
    Action.RELAX: Status.RELAXED,
}


def known_record(key: str, structure: Structure, energy_per_atom: float) -> RelaxRecordInfo:
    return RelaxRecordInfo(
        candidate_id=key,
        formula=structure.composition.reduced_formula,
        status="relaxed",
        energy=energy_per_atom * len(structure),
        energy_per_atom=energy_per_atom,
    )


def computed_results(
    references: ReferenceDocument,
    records: StageRecords | None,
    formulas: set[str],
) -> tuple[RelaxBatchDocument, dict[str, Structure]]:
    """The results a candidate of these reduced formulas can be looked up in: the known
    phases on the campaign's hull, and every converged relaxation with the campaign's engine
    in the store's records (any campaign), with the structures those relaxations started
    from."""
    known = RelaxBatchDocument(engine=references.engine)
    inputs: dict[str, Structure] = {}
    for phase in references.phases:
        structure = references.structures.get(f"{PHASE_PREFIX}{phase.name}")
        if phase.energy_per_atom is not None and structure is not None:
            key = f"{PHASE_PREFIX}{phase.name}"
            known.records.append(known_record(key, structure, phase.energy_per_atom))
            known.structures[key] = structure
    if records is None or not formulas:
        return known, inputs
    criteria = {
        "stage": Stage.RELAX.value,
        "status": Status.RELAXED.value,
        "fields.relax_engine": references.engine,
        "fields.formula_pretty": {"$in": sorted(formulas)},
        "fields.role": "candidate",
    }
    relaxed = {}
    for doc in records.store.query(criteria, properties=["item_id", "record"]):
        record = doc.get("record") or {}
        if doc["item_id"] not in known.structures and record.get("structure"):
            relaxed[doc["item_id"]] = record
    for key, record in relaxed.items():
        structure = Structure.from_dict(record["structure"])
        known.records.append(known_record(key, structure, record["energy_per_atom"]))
        known.structures[key] = structure
    generated = records.store.query(
        {"stage": Stage.GENERATION.value, "item_id": {"$in": sorted(relaxed)}},
        properties=["item_id", "fields.structure_initial"],
    )
    for doc in generated:
        if initial := doc.get("fields", {}).get("structure_initial"):
            inputs[doc["item_id"]] = Structure.from_dict(initial)
    return known, inputs


def energy_record(
    result: ActiveResult, structure: Structure | None
) -> tuple[RelaxRecordInfo, dict]:
    """A coordinate result as the hull reads it, and its candidate document's fields."""
    usable = result.energy_per_atom is not None and structure is not None
    status = STATUS[result.action] if usable else (result.relax_status or "failed")
    source = ENERGY_SOURCES[result.action]
    spread = None if result.action == "lookup" else result.uncertainty
    energy = result.energy_per_atom * len(structure) if usable else None
    record = RelaxRecordInfo(
        candidate_id=result.candidate_id,
        formula=result.formula,
        status=status,
        reason=None if usable else result.source,
        energy=energy,
        energy_per_atom=result.energy_per_atom,
        energy_source=source,
        energy_per_atom_std=spread,
        models=result.models,
        round=result.round,
        predicted_energy_per_atom=result.predicted_energy_per_atom,
    )
    fields = {
        "energy_source": source,
        "energy_per_atom_std": spread,
        "coordinate_round": result.round,
        "energy_models": result.models,
        "looked_up_from": result.source if result.action == "lookup" else None,
    }
    if usable:
        fields |= {"energy_per_atom": result.energy_per_atom, "energy": energy}
    if usable and result.action == "lookup":
        fields |= structure_fields(structure)
    return record, fields


@job(
    config=WRITES_RECORDS,
    data="structures",
    output_schema=RelaxBatchDocument,
    metadata=placed(JobStage.RELAX, RunsOn.CPU),
)
def coordinate_relaxations(
    active: ActiveLearningDocument, structures: dict[str, Structure], engine: str
) -> RelaxBatchDocument:
    """The coordinate pattern's energies as one relaxation document for the hull: relaxed,
    looked up (the match's structure) or predicted (the candidate as generated); each
    candidate's document records which (``energy_source``), the spread and the models."""
    batch = RelaxBatchDocument(engine=f"coordinate({engine})")
    items, status, reasons = {}, {}, {}
    for result in active.results:
        structure = active.structures.get(result.candidate_id)
        if result.action == "ml":
            structure = structures[result.candidate_id]
        record, fields = energy_record(result, structure)
        batch.records.append(record)
        if structure is not None and record.energy_per_atom is not None:
            batch.structures[result.candidate_id] = structure
        items[result.candidate_id] = fields
        status[result.candidate_id], reasons[result.candidate_id] = record.status, record.reason
    if (stage_results := StageRecords.of_running_job()) is not None:
        stage_results.write(Stage.COORDINATE, items, status, reasons)
    return batch


@job(config=READS_CHUNKS, metadata=placed(JobStage.RELAX_FANOUT, RunsOn.CPU))
def coordinate_selected(
    maker: CoordinateMaker,
    generation: GenerationDocument,
    selection: ScreenDocument | DedupDocument,
    references: ReferenceDocument,
) -> Response:
    """The coordinate pattern on the selected candidates, with lookups among the known phases
    and the store's relaxations; its output is the relax stage's ``RelaxBatchDocument``."""
    structures = candidate_structures(generation, [r.candidate_id for r in selection.kept])
    formulas = {s.composition.reduced_formula for s in structures.values()}
    known, inputs = computed_results(references, StageRecords.of_running_job(), formulas)
    rounds = maker.make(structures, known, inputs)
    collect = coordinate_relaxations(rounds.output, structures, references.engine)
    flow = Flow([rounds, collect], output=collect.output, name="coordinate candidates")
    return Response(replace=route_new_jobs(flow))
