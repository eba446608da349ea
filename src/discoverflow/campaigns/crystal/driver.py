"""The campaign driver: config -> flow, resumed from what the store already holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jobflow import Flow, JobStore, Maker, OutputReference
from pydantic import ValidationError
from pymatgen.core import Structure

from discoverflow.campaigns.base import CampaignRecord, run_flow_locally
from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.campaigns.crystal.exports import refresh_results
from discoverflow.campaigns.crystal.fingerprints import stage_fingerprints
from discoverflow.campaigns.crystal.inputs import check_inputs
from discoverflow.campaigns.crystal.phases import load_known_phases, materials_project_cache
from discoverflow.core.crystal.known_phases import KnownPhase
from discoverflow.core.structures import read_structure_folder
from discoverflow.errors import ConfigError
from discoverflow.makers import (
    CoordinateMaker,
    CrystalDiscoveryMaker,
    DedupMaker,
    FinishedStages,
    HullMaker,
    MLRelaxMaker,
    MLScreenMaker,
    PropertyScreenMaker,
    SubstitutionMaker,
    ValidityFilterMaker,
    VaspRelaxMaker,
)
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.outputs import write_hull_files
from discoverflow.makers.crystal.scorecard import AuditMaker, write_scorecard
from discoverflow.makers.relax import merge_relax_batches
from discoverflow.makers.task_relax import TaskRelaxMaker, maker_from_dict
from discoverflow.plugins import GENERATORS, load_plugin
from discoverflow.routing import JobStage
from discoverflow.schemas.relax import RelaxBatchDocument
from discoverflow.stores import make_store


@dataclass
class CampaignInputs:
    templates: dict[str, Structure]
    known_phases: list[KnownPhase] = field(default_factory=list)


def relax_maker(config: CampaignConfig) -> Maker:
    """A Maker given as its dict, VASP (one structure per job) or an ML potential (a batch
    per job), from the config."""
    if config.relax.maker:
        return TaskRelaxMaker(maker=maker_from_dict(config.relax.maker))
    if config.relax.engine == "vasp":
        return VaspRelaxMaker(settings=config.relax.vasp)
    return MLRelaxMaker(settings=config.relax.ml())


def load_inputs(config: CampaignConfig, store: JobStore | None = None) -> CampaignInputs:
    problems = check_inputs(config, store)
    if problems:
        raise ConfigError(
            problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        )
    templates = {}
    if config.inputs.templates is not None:
        templates, _ = read_structure_folder(config.inputs.templates)
    try:
        phases = load_known_phases(config, materials_project_cache(store))
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if config.generation.method == "substitution-predictor":  # known phases are templates too
        templates |= {f"known:{p.name}": p.structure for p in phases}
    return CampaignInputs(templates, phases)


def generation_maker(config: CampaignConfig) -> Maker:
    """Substitution with the config's settings, or another generator plugin by name."""
    generation = config.generation
    if generation.method == "substitution":
        return SubstitutionMaker(settings=generation.substitution())
    plugin = load_plugin(GENERATORS, generation.method)
    try:
        if issubclass(plugin, StageMaker):
            return plugin(settings=generation.options)
        return plugin(**generation.options)
    except (TypeError, ValidationError) as exc:
        raise ConfigError(f"generation.options: {exc}") from None


def coordinate_maker(config: CampaignConfig) -> CoordinateMaker | None:
    """The coordinate pattern's Maker when ``relax.pattern`` is coordinate (else None); its
    fine-tuned models go to the worker's model folder (``default_model_dir``)."""
    if config.relax.pattern != "coordinate":
        return None
    return CoordinateMaker(settings=config.relax.coordinate, relax_maker=relax_maker(config))


def discovery_maker(config: CampaignConfig) -> CrystalDiscoveryMaker:
    """The composed Maker with every stage's settings taken from the config."""
    return CrystalDiscoveryMaker(
        generation_maker=generation_maker(config),
        validity_maker=ValidityFilterMaker(settings=config.validity.model_dump(exclude={"enabled"}))
        if config.validity.enabled
        else None,
        screen_maker=MLScreenMaker(settings=config.screening),
        dedup_maker=DedupMaker(settings=config.dedup.model_dump(exclude={"enabled"}))
        if config.dedup.enabled
        else None,
        property_maker=PropertyScreenMaker(
            settings=config.property_screen.model_dump(exclude={"enabled"})
        )
        if config.property_screen.enabled
        else None,
        relax_maker=relax_maker(config),
        coordinate_maker=coordinate_maker(config),
        hull_maker=HullMaker(settings=config.hull),
        audit_maker=AuditMaker(settings=config.screening),
    )


def reference(doc: dict | None) -> OutputReference | None:
    return OutputReference(doc["uuid"]) if doc else None


def finished_stages(
    record: CampaignRecord, config: CampaignConfig, fingerprints: dict[str, str]
) -> FinishedStages:
    """What earlier runs finished with the same settings and inputs (the same fingerprints):
    those stages are reused, the others run again."""
    generation = record.latest(JobStage.GENERATION, ["output.elements"])
    if generation and generation["output"]["elements"] != config.elements:
        raise ConfigError(
            f"campaign {config.name!r} in the store was run for elements "
            f"{generation['output']['elements']}, not {config.elements}; choose another name"
        )

    def matching(stage: str, key: str, properties: list[str] | None = None) -> list[dict]:
        criteria = {f"metadata.fingerprints.{key}": fingerprints[key]}
        return record.docs(stage, properties, criteria)

    def latest(stage: str, key: str | None = None) -> OutputReference | None:
        found = matching(stage, key or stage)
        return reference(found[-1]) if found else None

    def latest_chunked(stage: str) -> tuple[OutputReference | None, list[str]]:
        """The latest output of ``stage`` and those of its chunk jobs that never finished
        (a run killed while they ran)."""
        found = matching(stage, stage, ["output.chunks"])
        if not found:
            return None, []
        chunks = found[-1]["output"].get("chunks") or []
        done = {
            d["uuid"] for d in record.store.query({"uuid": {"$in": chunks}, "index": 1}, ["uuid"])
        }
        return reference(found[-1]), [uuid for uuid in chunks if uuid not in done]

    generation, generation_missing = latest_chunked(JobStage.GENERATION)
    validity, validity_missing = (
        latest_chunked(JobStage.VALIDITY) if config.validity.enabled else (None, [])
    )

    return FinishedStages(
        references=latest(JobStage.REFERENCES),
        generation=generation,
        generation_missing_chunks=generation_missing,
        validity=validity,
        validity_missing_chunks=validity_missing,
        screen_batches=[reference(d) for d in matching(JobStage.SCREEN_BATCH, "screen_model")],
        screen=latest(JobStage.SCREEN),
        dedup=latest(JobStage.DEDUP) if config.dedup.enabled else None,
        property_screen=latest(JobStage.PROPERTY_SCREEN, "property_screen")
        if config.property_screen.enabled
        else None,
        relax_batches=[reference(d) for d in matching(JobStage.RELAX_BATCH, "relax_engine")],
        relax=latest(JobStage.RELAX),
        hull=latest(JobStage.HULL),
        scorecard=latest(JobStage.SCORECARD, "audit"),
    )


def build_flow(config: CampaignConfig, store: JobStore) -> Flow | None:
    """The flow that finishes the campaign, or None when the store says it is complete."""
    inputs = load_inputs(config, store)
    fingerprints = stage_fingerprints(config, inputs.templates, inputs.known_phases)
    finished = finished_stages(CampaignRecord(store, config.name), config, fingerprints)
    if finished.hull is not None and finished.scorecard is not None:
        return None
    discovery = discovery_maker(config).make(
        inputs.templates, config.elements, inputs.known_phases, finished
    )
    hull = discovery.output
    files = write_hull_files(hull, hull.uuid, str(config.output_dir), config.hull)
    jobs = [discovery, files]
    score = next((j for j in discovery.jobs if j.name == "score_campaign"), None)
    if score is not None:
        jobs.append(write_scorecard(score.output, str(config.output_dir)))
    flow = Flow(jobs, output=hull, name=discovery.name)
    flow.update_metadata({"campaign": config.name, "fingerprints": fingerprints}, dynamic=True)
    flow.update_config({"expose_store": True}, attributes="expose_store", dynamic=True)
    return flow


def run_campaign(config: CampaignConfig, store_spec: str | None = None) -> dict | None:
    """Run (or finish) a campaign in this process; return the hull document."""
    store = make_store(store_spec)
    flow = build_flow(config, store)
    if flow is not None:
        run_flow_locally(flow, store, Path(config.output_dir))
    inputs = load_inputs(config, store)
    fingerprints = stage_fingerprints(config, inputs.templates, inputs.known_phases)
    if flow is None:
        refresh_results(config, store, fingerprints)
    record = CampaignRecord(store, config.name)
    return record.output(record.latest(JobStage.HULL))


def stored_relaxations(store: JobStore, elements: list[str]) -> RelaxBatchDocument:
    """Every converged relaxation in the store (any campaign) within a chemical system, e.g.
    the ``known`` results an CoordinateMaker looks candidates up in."""
    store.connect()
    system = set(elements)
    batches = []
    for doc in store.query({"metadata.stage": JobStage.RELAX_BATCH.value}, properties=["uuid"]):
        output = store.get_output(doc["uuid"], load=True)
        batch = RelaxBatchDocument.model_validate(output)
        keep = [
            r
            for r in batch.records
            if r.status == "relaxed"
            and r.candidate_id in batch.structures
            and {str(e) for e in batch.structures[r.candidate_id].composition.elements} <= system
        ]
        structures = {r.candidate_id: batch.structures[r.candidate_id] for r in keep}
        batches.append(batch.model_copy(update={"records": keep, "structures": structures}))
    return merge_relax_batches(batches)
