"""A crystal campaign's documents and ``output_dir``, from its current results."""

from __future__ import annotations

from pathlib import Path

from jobflow import JobStore

from discoverflow.builders.documents import build_documents
from discoverflow.campaigns.base import CampaignRecord
from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.core.crystal.campaign_page import write_campaign_page
from discoverflow.core.crystal.outputs import formation_diagram
from discoverflow.makers.crystal.outputs import hull_files, hull_row, store_location
from discoverflow.makers.crystal.scorecard import save_summary, scorecard_files
from discoverflow.makers.views import campaign_selection
from discoverflow.routing import JobStage
from discoverflow.schemas.candidate import CANDIDATES
from discoverflow.schemas.hull import HullDocument
from discoverflow.schemas.scorecard import CAMPAIGNS, ScorecardDoc
from discoverflow.stores import document_store


def refresh_results(
    config: CampaignConfig, store: JobStore, fingerprints: dict[str, str]
) -> list[Path]:
    """After a run that reused everything: the campaign's documents brought up to date with
    its records for these settings, and ``output_dir`` written from the hull result of the
    same settings (a flow that runs does both in its last jobs)."""
    build_documents(store, config.name, CANDIDATES, campaign_selection(fingerprints))
    record = CampaignRecord(store, config.name)
    found = record.docs(
        JobStage.HULL, criteria={"metadata.fingerprints.hull": fingerprints["hull"]}
    )
    hull = current_hull(record, fingerprints)
    run = {
        "campaign": config.name,
        "store": store_location(store),
        "hull_job": found[-1]["uuid"] if found else None,
        "hull_fingerprint": fingerprints["hull"],
    }
    files = hull_files(hull, Path(config.output_dir), config.hull, run, store)
    card = current_scorecard(record, fingerprints)
    if card is not None:
        save_summary(store, card)
        files += scorecard_files(card, Path(config.output_dir))
    else:
        document_store(store, CAMPAIGNS).remove_docs({"campaign": config.name})
    return files


def current_hull(record: CampaignRecord, fingerprints: dict[str, str]) -> HullDocument | None:
    """The hull result of these settings, if any."""
    found = record.docs(
        JobStage.HULL, criteria={"metadata.fingerprints.hull": fingerprints["hull"]}
    )
    return HullDocument.model_validate(record.output(found[-1], load=True)) if found else None


def campaign_page(
    config: CampaignConfig, store: JobStore, fingerprints: dict[str, str], docs: list[dict]
) -> Path:
    """``output_dir/campaign.html`` from the candidates' documents ``docs``, the scorecard
    and the hull of these settings."""
    record = CampaignRecord(store, config.name)
    hull = current_hull(record, fingerprints)
    diagram = None
    if hull is not None:
        rows = [hull_row(e) for e in [*hull.entries, *hull.reference_phases]]
        diagram = formation_diagram(hull.elements, rows)
    card = current_scorecard(record, fingerprints)
    summary = card.model_dump(mode="json") if card else None
    title = f"{config.name}: {'-'.join(config.elements)}"
    return write_campaign_page(Path(config.output_dir), title, summary, docs, diagram)


def current_scorecard(record: CampaignRecord, fingerprints: dict[str, str]) -> ScorecardDoc | None:
    """The scorecard of these settings, if the campaign got that far."""
    criteria = {"metadata.fingerprints.audit": fingerprints["audit"]}
    found = record.docs(JobStage.SCORECARD, criteria=criteria)
    return ScorecardDoc.model_validate(record.output(found[-1], load=True)) if found else None
