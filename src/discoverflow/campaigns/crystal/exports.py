"""A crystal campaign's ``output_dir``, written from its current results after every run."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from jobflow import JobStore

from discoverflow.builders.documents import build_documents
from discoverflow.campaigns.base import CampaignRecord
from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.core.crystal.outputs import (
    clear_hull_outputs,
    formation_diagram,
    write_hull_outputs,
    write_run_record,
)
from discoverflow.core.crystal.stability import HullRow
from discoverflow.makers.views import campaign_selection
from discoverflow.schemas.candidate import CANDIDATES
from discoverflow.schemas.hull import HullDocument, HullEntryInfo

ROW_FIELDS = {f.name for f in fields(HullRow)}


def hull_row(entry: HullEntryInfo) -> HullRow:
    return HullRow(**entry.model_dump(include=ROW_FIELDS))


def store_location(store: JobStore) -> str:
    """Where a JobStore's documents are: a database folder, a MongoDB host, or memory."""
    docs = store.docs_store
    for attribute in ("database_path", "uri", "host"):
        if value := getattr(docs, attribute, None):
            return f"{type(docs).__name__} {str(value).split('@')[-1]}"
    return type(docs).__name__


def refresh_results(
    config: CampaignConfig, store: JobStore, fingerprints: dict[str, str], build: bool = True
) -> list[Path]:
    """Bring the campaign's documents up to date with its records for these settings (with
    ``build``; a flow that ran its documents job did), then write ``output_dir`` from the
    hull result of the same settings (before a hull, the hull files of another state are
    removed), with ``run.json`` saying which store and hull result it shows."""
    if build:
        build_documents(store, config.name, CANDIDATES, campaign_selection(fingerprints))
    record = CampaignRecord(store, config.name)
    found = record.docs("hull", criteria={"metadata.fingerprints.hull": fingerprints["hull"]})
    folder = Path(config.output_dir)
    run = {"campaign": config.name, "store": store_location(store)}
    if not found:
        if folder.is_dir():
            clear_hull_outputs(folder)
            write_run_record(folder, {**run, "hull_job": None}, [])
        return []
    hull = HullDocument.model_validate(record.output(found[-1], load=True))
    rows = [hull_row(entry) for entry in hull.entries]
    diagram = formation_diagram(
        hull.elements, rows + [hull_row(entry) for entry in hull.reference_phases]
    )
    files = write_hull_outputs(
        folder,
        diagram,
        rows,
        hull.promising_structures,
        hull.elements,
        config.hull,
        {entry.candidate_id: entry.known_phase for entry in hull.entries},
    )
    run |= {"hull_job": found[-1]["uuid"], "hull_fingerprint": fingerprints["hull"]}
    return [*files, write_run_record(folder, run, files)]
