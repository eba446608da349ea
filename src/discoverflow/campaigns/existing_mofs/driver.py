"""An evaluation of existing MOFs from its config: nothing to do when the last one had the
same MOFs and settings, else a flow whose stages take finished MOFs from their documents."""

from __future__ import annotations

from jobflow import Flow, JobStore

from discoverflow.campaigns.base import CampaignRecord, campaign_flow
from discoverflow.campaigns.existing_mofs.config import ExistingMOFsConfig
from discoverflow.campaigns.mof.driver import stage_makers
from discoverflow.core.checkpoint import fingerprint
from discoverflow.core.mof.inputs import cif_files, mof_id
from discoverflow.makers.mof.existing import ExistingMOFsMaker
from discoverflow.routing import JobStage
from discoverflow.schemas.candidate import MOFS
from discoverflow.schemas.mof import MOFEvaluationDocument

STAGES = {"characterisation", "stability", "optimisation", "adsorption"}


def evaluation_fingerprint(config: ExistingMOFsConfig) -> str:
    """Of the folder's MOFs (their ids hash their files) and every stage's settings."""
    stages = config.model_dump(mode="json", include=STAGES)
    return fingerprint({"mofs": [mof_id(p) for p in cif_files(config.inputs.mofs)], **stages})


def stored_evaluation(store: JobStore, name: str) -> MOFEvaluationDocument | None:
    """The last finished evaluation's document, if any."""
    record = CampaignRecord(store, name)
    output = record.output(record.latest(JobStage.MOF_EVALUATION), load=True)
    return MOFEvaluationDocument.model_validate(output) if output else None


def existing_mofs_maker(config: ExistingMOFsConfig) -> ExistingMOFsMaker:
    return ExistingMOFsMaker(**stage_makers(config))


def build_existing_flow(config: ExistingMOFsConfig, store: JobStore) -> Flow | None:
    """The flow that evaluates the folder; None when the last evaluation had the same MOFs and
    settings."""
    stamp = evaluation_fingerprint(config)
    done = stored_evaluation(store, config.name)
    if done is not None and done.fingerprint == stamp:
        return None
    maker = existing_mofs_maker(config)
    return campaign_flow(maker.make(config.inputs.mofs, stamp), config.name, MOFS)
