"""The crystal campaign as the commands see it."""

from __future__ import annotations

from jobflow import Flow, JobStore
from rich.console import RenderableType
from rich.table import Table

from discoverflow.builders.documents import RecordSelection
from discoverflow.campaigns.base import (
    Campaign,
    CampaignRecord,
    ResultFilter,
    documents_csv,
    json_ready,
)
from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.campaigns.crystal.driver import build_flow, load_inputs
from discoverflow.campaigns.crystal.exports import refresh_results
from discoverflow.campaigns.crystal.fingerprints import stage_fingerprints
from discoverflow.campaigns.crystal.inputs import check_inputs
from discoverflow.campaigns.crystal.report import (
    REDOES,
    campaign_status,
    candidate_documents,
    novelty,
    stage_reuse,
)
from discoverflow.campaigns.crystal.screen_note import empty_screen_note
from discoverflow.errors import NotStarted
from discoverflow.makers.views import campaign_selection
from discoverflow.schemas.candidate import CANDIDATES
from discoverflow.stores import document_store

PROMISING = ("on hull", "promising")
TABLE_FIELDS = [
    "candidate_id",
    "formula_pretty",
    "template",
    "symmetry.symbol",
    "predicted_formation_energy_per_atom",
    "formation_energy_per_atom",
    "energy_above_hull",
    "energy_source",
    "energy_per_atom_std",
    "status",
    "reason",
    "known_phase",
    "is_new",
]


def energy(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def candidates_table(title: str, docs: list[dict]) -> Table:
    table = Table(title=title)
    for column in ("candidate_id", "formula", "template", "space group"):
        table.add_column(column, no_wrap=True)
    for column in ("Ef pred (eV/atom)", "Ef relaxed (eV/atom)", "E hull (eV/atom)"):
        table.add_column(column, justify="right", no_wrap=True)
    ensemble = any(doc.get("probability_stable") is not None for doc in docs)
    if ensemble:
        table.add_column("E hull std (eV/atom)", justify="right", no_wrap=True)
        table.add_column("P(stable)", justify="right", no_wrap=True)
    coordinate = any(doc.get("energy_source") for doc in docs)
    if coordinate:
        table.add_column("energy source", no_wrap=True)
        table.add_column("E std (eV/atom)", justify="right", no_wrap=True)
    table.add_column("status")
    table.add_column("known / new")
    for doc in docs:
        reason = doc.get("reason")
        shown = f" ({reason})" if reason and doc["status"] != "duplicate" else ""
        if reason and reason.startswith(doc["status"]):  # "duplicate of <id> (<template>)"
            shown = reason.removeprefix(doc["status"])
        spread = doc.get("energy_above_hull_std"), doc.get("probability_stable")
        table.add_row(
            doc["candidate_id"],
            doc.get("formula_pretty") or "",
            doc.get("template") or "",
            (doc.get("symmetry") or {}).get("symbol") or "",
            energy(doc.get("predicted_formation_energy_per_atom")),
            energy(doc.get("formation_energy_per_atom")),
            energy(doc.get("energy_above_hull")),
            *(
                [energy(spread[0]), "" if spread[1] is None else f"{spread[1]:.2f}"]
                if ensemble
                else []
            ),
            *(
                [doc.get("energy_source") or "", energy(doc.get("energy_per_atom_std"))]
                if coordinate
                else []
            ),
            doc["status"] + shown,
            doc["known_phase"] if doc.get("known_phase") else novelty(doc),
        )
    return table


class CrystalCampaign(Campaign):
    """exa-AMD's crystal discovery: templates x elements -> screen -> relax -> hull."""

    kind = "crystal"
    config_type = CampaignConfig
    collection = CANDIDATES
    config: CampaignConfig

    def check_inputs(self) -> list[str]:
        return check_inputs(self.config)

    def build_flow(self, store: JobStore) -> Flow | None:
        return build_flow(self.config, store)

    def record(self, store: JobStore) -> CampaignRecord:
        record = CampaignRecord(store, self.name)
        if not record.exists():
            raise NotStarted(f"campaign {self.name!r} not started: no results in this store")
        return record

    def fingerprints(self, store: JobStore | None = None) -> dict[str, str]:
        inputs = load_inputs(self.config, store)
        return stage_fingerprints(self.config, inputs.templates, inputs.known_phases)

    def view_selection(self, store: JobStore) -> RecordSelection:
        return campaign_selection(self.fingerprints(store))

    def build_view(self, store: JobStore, documents_built: bool = False) -> None:
        """The candidates' documents and ``output_dir``, for the current settings (the flow
        that just ran wrote them)."""
        if not documents_built:
            refresh_results(self.config, store, self.fingerprints(store))

    def status_report(self, store: JobStore) -> list[RenderableType]:
        record = self.record(store)
        fingerprints = self.fingerprints(store)
        reuse = stage_reuse(record, fingerprints)
        table = Table(title=f"{self.name}: stages")
        for column in ("stage", "state", "a rerun", "detail"):
            table.add_column(column)
        for stage in campaign_status(record, fingerprints):
            state = "[green]done[/green]" if stage.done else "[yellow]to do[/yellow]"
            rerun = reuse[stage.stage]
            rerun = rerun if rerun != REDOES else f"[yellow]{rerun}[/yellow]"
            table.add_row(stage.stage, state, rerun, stage.detail)
        note = empty_screen_note(record, fingerprints)
        return [table, *([f"[yellow]note[/yellow]: {note}"] if note else [])]

    def documents(self, store: JobStore, wanted: ResultFilter | None, properties=None):
        self.record(store)
        found = document_store(store, CANDIDATES)
        wanted = wanted or ResultFilter()
        if properties and wanted.sort:  # the table's columns and the field it is sorted by
            properties = [*properties, wanted.sort.removeprefix("-")]
        return candidate_documents(found, self.name, wanted, properties)

    def results_report(
        self, store: JobStore, wanted: ResultFilter | None = None, limit: int | None = None
    ) -> list[RenderableType]:
        docs = self.documents(store, wanted, TABLE_FIELDS)
        title = f"{self.name}: candidates ({len(docs)})"
        return [candidates_table(title, docs[:limit] if limit else docs)]

    def results_json(self, store: JobStore, wanted: ResultFilter | None = None) -> list[dict]:
        return [json_ready(doc) for doc in self.documents(store, wanted)]

    def results_csv(self, store: JobStore, wanted: ResultFilter | None = None) -> str:
        folder = self.output_dir / "promising"
        rows = []
        for doc in self.documents(store, wanted):
            cif = folder / f"{doc['candidate_id']}.cif"
            rows.append({**doc, "novelty": novelty(doc), "cif": str(cif) if cif.is_file() else ""})
        return documents_csv(rows)

    def run_report(self, store: JobStore) -> list[RenderableType]:
        docs = [d for d in self.documents(store, None, TABLE_FIELDS) if d["status"] in PROMISING]
        title = f"{self.name}: promising candidates ({len(docs)})"
        return [*self.status_report(store), candidates_table(title, docs[:15])]
