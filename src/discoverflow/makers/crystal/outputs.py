"""The files a crystal campaign leaves in its ``output_dir``, from a stored hull result."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from jobflow import CURRENT_JOB, JobStore, job

from discoverflow.core.crystal.outputs import (
    clear_hull_outputs,
    formation_diagram,
    write_hull_outputs,
    write_run_record,
)
from discoverflow.core.crystal.stability import HullRow, HullSettings
from discoverflow.makers.documents import WRITES_RECORDS
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.hull import HullDocument, HullEntryInfo
from discoverflow.stores import embedded_folder_of

ROW_FIELDS = {f.name for f in fields(HullRow)}


def hull_row(entry: HullEntryInfo) -> HullRow:
    return HullRow(**entry.model_dump(include=ROW_FIELDS))


def store_location(store: JobStore | None) -> str:
    """Where a JobStore's documents are: a database folder, a MongoDB host, or memory."""
    docs = store.docs_store if store is not None else None
    for attribute in ("database_path", "uri", "host"):
        if value := getattr(docs, attribute, None):
            return f"{type(docs).__name__} {str(value).split('@')[-1]}"
    return type(docs).__name__


def hull_files(
    hull: HullDocument | None,
    folder: Path,
    settings: HullSettings,
    run: dict[str, Any],
    store: JobStore | None = None,
) -> list[Path]:
    """``folder`` as the hull result shows it (promising CIFs, table, plots drawn again from
    its formation energies) with ``run.json`` (``run`` and the files); without a hull, the
    hull files of another state are removed. HTML plots load plotly.js from one copy in
    ``store``'s folder (an embedded store), else from a copy in ``folder``."""
    if hull is None:
        if folder.is_dir():
            clear_hull_outputs(folder)
            write_run_record(folder, {**run, "hull_job": None}, [])
        return []
    rows = [hull_row(entry) for entry in hull.entries]
    phases = [hull_row(entry) for entry in hull.reference_phases]
    files = write_hull_outputs(
        folder,
        formation_diagram(hull.elements, rows + phases),
        rows,
        hull.promising_structures,
        hull.elements,
        settings,
        {entry.candidate_id: entry.known_phase for entry in hull.entries},
        scripts=embedded_folder_of(store),
    )
    return [*files, write_run_record(folder, run, files)]


@job(config=WRITES_RECORDS, metadata=placed(JobStage.HULL_OUTPUTS, RunsOn.CPU))
def write_hull_files(
    hull: HullDocument, hull_job: str, output_dir: str, settings: HullSettings
) -> list[str]:
    """A campaign's ``output_dir`` from its hull result (the job ``hull_job``)."""
    running = CURRENT_JOB.job
    run = {
        "campaign": running.metadata.get("campaign") if running else None,
        "store": store_location(CURRENT_JOB.store),
        "hull_job": hull_job,
        "hull_fingerprint": (running.metadata.get("fingerprints") or {}).get("hull")
        if running
        else None,
    }
    return [str(p) for p in hull_files(hull, Path(output_dir), settings, run, CURRENT_JOB.store)]
