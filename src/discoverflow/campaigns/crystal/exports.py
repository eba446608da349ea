"""A crystal campaign's documents and ``output_dir``, from its current results."""

from __future__ import annotations

from pathlib import Path

from jobflow import JobStore

from discoverflow.builders.documents import build_documents
from discoverflow.campaigns.base import CampaignRecord
from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.makers.crystal.outputs import hull_files, store_location
from discoverflow.makers.views import campaign_selection
from discoverflow.schemas.candidate import CANDIDATES
from discoverflow.schemas.hull import HullDocument


def refresh_results(
    config: CampaignConfig, store: JobStore, fingerprints: dict[str, str]
) -> list[Path]:
    """After a run that reused everything: the campaign's documents brought up to date with
    its records for these settings, and ``output_dir`` written from the hull result of the
    same settings (a flow that runs does both in its last jobs)."""
    build_documents(store, config.name, CANDIDATES, campaign_selection(fingerprints))
    record = CampaignRecord(store, config.name)
    found = record.docs("hull", criteria={"metadata.fingerprints.hull": fingerprints["hull"]})
    hull = HullDocument.model_validate(record.output(found[-1], load=True)) if found else None
    run = {
        "campaign": config.name,
        "store": store_location(store),
        "hull_job": found[-1]["uuid"] if found else None,
        "hull_fingerprint": fingerprints["hull"],
    }
    return hull_files(hull, Path(config.output_dir), config.hull, run, store)
