"""The crystal campaign as the commands see it."""

from __future__ import annotations

from pathlib import Path

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
from discoverflow.campaigns.crystal.exports import campaign_page, refresh_results
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
from discoverflow.schemas.scorecard import CAMPAIGNS
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


def share(rate: dict | None) -> tuple[str, str, str]:
    """A rate's value, the counts it rests on and its 95% interval, as table cells."""
    if not rate or rate.get("value") is None:
        return "", f"{(rate or {}).get('k', 0)}/{(rate or {}).get('n', 0)}", ""
    return (
        f"{rate['value']:.3f}",
        f"{rate['k']}/{rate['n']}",
        f"{rate['low']:.3f}-{rate['high']:.3f}",
    )


def number(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def scorecard_tables(doc: dict) -> list[Table]:
    """The summary document as two tables: the campaign's figures, and per round."""
    screen, error = doc["screen"], doc["formation_energy_error"]
    title = (
        f"{doc['campaign']}: scorecard (screen at E_f < {doc['formation_energy_threshold']} "
        f"eV/atom, stable within {doc['e_above_hull_threshold']} eV/atom of the hull)"
    )
    table = Table(title=title)
    for column in ("figure", "value", "rests on", "95% interval"):
        table.add_column(column, no_wrap=True)
    table.add_row("hit rate (within threshold)", *share(doc["hit_rate"]))
    table.add_row("on the hull", *share(doc["on_hull"]))
    table.add_row("precision", *share(screen["precision"]))
    audit = screen["audit_miss_rate"]
    rests = f"{screen['n_kept']} kept, {screen['n_rejected']} rejected ({audit['n']} audited)"
    interval = (
        f"{screen['recall_low']:.3f}-{screen['recall_high']:.3f}"
        if screen.get("recall_low") is not None
        else ""
    )
    table.add_row("recall", number(screen.get("recall")), rests, interval)
    table.add_row("F1", number(screen.get("f1")), rests, "")
    table.add_row("DAF", number(screen.get("daf"), 2), rests, "")
    table.add_row("stable among audited rejects", *share(audit))
    counted = f"{error['n']} relaxed"
    table.add_row("MAE E_f (eV/atom)", number(error.get("mae")), counted, "")
    table.add_row("RMSE E_f (eV/atom)", number(error.get("rmse")), counted, "")
    table.add_row("R^2 E_f", number(error.get("r2")), counted, "")
    if coverage := doc.get("spread_coverage"):
        table.add_row("within 1 spread", *share(coverage["within_1"]))
        table.add_row("within 2 spreads", *share(coverage["within_2"]))
    rounds = Table(title=f"{doc['campaign']}: per round")
    for column in ("round", "relaxed", "hit rate", "95% interval", "on hull", "MAE E_f"):
        rounds.add_column(column, justify="right", no_wrap=True)
    modelled = any(r.get("model_error") for r in doc["rounds"])
    if modelled:
        rounds.add_column("model MAE E", justify="right", no_wrap=True)
        rounds.add_column("within 1 / 2 spreads", justify="right", no_wrap=True)
    for r in doc["rounds"]:
        value, _, interval = share(r["hit_rate"])
        cells = [str(r["round"]), str(r["hit_rate"]["n"]), value, interval]
        cells += [str(r["on_hull"]["k"]), number(r["formation_energy_error"].get("mae"))]
        if modelled:
            coverage = r.get("model_coverage")
            cells += [
                number((r.get("model_error") or {}).get("mae")),
                f"{share(coverage['within_1'])[0]} / {share(coverage['within_2'])[0]}"
                if coverage
                else "",
            ]
        rounds.add_row(*cells)
    return [table, rounds]


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
        summary = self.summary(store)
        return [
            table,
            *([f"[yellow]note[/yellow]: {note}"] if note else []),
            *(scorecard_tables(summary)[:1] if summary else []),
        ]

    def summary(self, store: JobStore) -> dict | None:
        """The campaign's summary document (the scorecard of its current settings), if any."""
        found = document_store(store, CAMPAIGNS)
        found.connect()
        doc = found.query_one({"campaign": self.name})
        return json_ready(doc) if doc else None

    def summary_json(self, store: JobStore) -> dict:
        self.record(store)
        summary = self.summary(store)
        if summary is None:
            raise NotStarted(
                f"campaign {self.name!r} has no scorecard yet (it comes after the hull)"
            )
        return summary

    def summary_report(self, store: JobStore) -> list[RenderableType]:
        return scorecard_tables(self.summary_json(store))

    def summary_page(self, store: JobStore) -> Path:
        docs = []
        for doc in self.documents(store, ResultFilter(everything=True)):
            doc = json_ready(doc)
            doc["space_group"] = (doc.get("symmetry") or {}).get("symbol")
            doc["novelty"] = doc.get("known_phase") or novelty(doc)
            docs.append(doc)
        return campaign_page(self.config, store, self.fingerprints(store), docs)

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
