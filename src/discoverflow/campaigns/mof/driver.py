"""A MOF campaign's flow from its config, resumed from the last finished round in the store."""

from __future__ import annotations

from typing import Any

from jobflow import Flow, JobStore

from discoverflow.campaigns.base import CampaignRecord, campaign_flow
from discoverflow.campaigns.mof.config import MOFCampaignConfig, MOFStagesConfig
from discoverflow.core.mof.adsorption import AdsorptionSettings
from discoverflow.core.mof.checks import CharacterisationSettings
from discoverflow.makers.mof import (
    AdsorptionMaker,
    LinkerGenerationMaker,
    MOFAssemblyMaker,
    MOFCharacterisationMaker,
    MOFDiscoveryMaker,
    MOFStabilityMaker,
)
from discoverflow.makers.mof.optimisation import CP2KCellMaker
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.routing import JobStage
from discoverflow.schemas.candidate import MOFS
from discoverflow.schemas.mof import MOFCampaignDocument, MOFCampaignState


def optimise_maker(config: MOFStagesConfig) -> MLRelaxMaker | CP2KCellMaker:
    """CP2K (one MOF per CPU job) or an ML potential (a batch per GPU job), from the config."""
    if config.optimisation.engine == "cp2k":
        return CP2KCellMaker(settings=config.optimisation.cp2k)
    optimisation = config.optimisation.ml()
    optimisation.engine_options = {
        "model_name": config.stability.model,
        **optimisation.engine_options,
    }
    return MLRelaxMaker(name="mof cell optimisation", settings=optimisation, documents=MOFS)


def stage_makers(config: MOFStagesConfig) -> dict[str, Any]:
    """The Makers of checks and pores, MD, cell optimisation and GCMC with the config's
    settings (None for a disabled stage), as ``MOFDiscoveryMaker`` and
    ``ExistingMOFsMaker`` take them."""
    return {
        "characterise_maker": MOFCharacterisationMaker(
            settings=CharacterisationSettings(
                **config.characterisation.model_dump(exclude={"enabled"})
            )
        )
        if config.characterisation.enabled
        else None,
        "stability_maker": MOFStabilityMaker(settings=config.stability),
        "optimise_maker": optimise_maker(config) if config.optimisation.enabled else None,
        "adsorption_maker": AdsorptionMaker(
            settings=AdsorptionSettings(**config.adsorption.model_dump(exclude={"enabled"}))
        )
        if config.adsorption.enabled
        else None,
        "per_round": config.optimisation.per_round,
        "output_dir": str(config.output_dir),
    }


def mof_discovery_maker(config: MOFCampaignConfig) -> MOFDiscoveryMaker:
    """The composed Maker with every stage's settings taken from the config."""
    return MOFDiscoveryMaker(
        rounds=config.rounds,
        linker_maker=LinkerGenerationMaker(
            settings=config.linkers, anchors=config.assembly.anchors
        ),
        assembly_maker=MOFAssemblyMaker(settings=config.assembly, seed=config.seed),
        retraining=config.retraining,
        seed=config.seed,
        **stage_makers(config),
    )


def stored_summary(store: JobStore, name: str) -> MOFCampaignDocument | None:
    """The campaign's final document, if it finished."""
    record = CampaignRecord(store, name)
    output = record.output(record.latest(JobStage.MOF_SUMMARY), load=True)
    return MOFCampaignDocument.model_validate(output) if output else None


def round_states(store: JobStore, name: str) -> list[MOFCampaignState]:
    """The state after each finished round (after its retraining, where one ran), oldest
    first."""
    record = CampaignRecord(store, name)
    states: dict[int, MOFCampaignState] = {}
    for doc in [*record.docs(JobStage.MOF_UPDATE), *record.docs(JobStage.MOF_RETRAIN)]:
        # the job's own output (index 1), not that of the round that replaced it
        found = store.query_one({"uuid": doc["uuid"], "index": 1}, load=True)
        if found and isinstance(found.get("output"), dict) and "round" in found["output"]:
            state = MOFCampaignState.model_validate(found["output"])
            if state.round not in states or state.trained_on > states[state.round].trained_on:
                states[state.round] = state
    return [states[k] for k in sorted(states)]


def stored_state(store: JobStore, name: str) -> MOFCampaignState | None:
    """The state after the last finished round, if any."""
    states = round_states(store, name)
    return states[-1] if states else None


def build_mof_flow(config: MOFCampaignConfig, store: JobStore) -> Flow | None:
    """The flow that finishes the campaign from its last finished round; None if complete."""
    summary = stored_summary(store, config.name)
    if summary is not None and len(summary.rounds) >= config.rounds:
        return None
    state = stored_state(store, config.name)
    return campaign_flow(mof_discovery_maker(config).make(resume=state), config.name, MOFS)
