"""The crystal campaign as the commands see it."""

from __future__ import annotations

from pathlib import Path

from jobflow import Flow, JobStore
from rich.console import RenderableType
from rich.table import Table

from discoverflow.campaigns.base import Campaign, CampaignRecord
from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.campaigns.crystal.driver import build_flow, check_inputs
from discoverflow.campaigns.crystal.report import (
    CandidateRow,
    campaign_results,
    campaign_status,
)
from discoverflow.errors import DiscoverflowError

PROMISING = ("on hull", "promising")


def energy(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def candidates_table(title: str, rows: list[CandidateRow]) -> Table:
    table = Table(title=title)
    for column in ("candidate_id", "formula", "template"):
        table.add_column(column, no_wrap=True)
    for column in ("Ef pred (eV/atom)", "Ef relaxed (eV/atom)", "E hull (eV/atom)"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("status")
    for row in rows:
        shown_reason = row.reason and row.status != "duplicate"
        table.add_row(
            row.candidate_id,
            row.formula,
            row.template or "",
            energy(row.predicted_formation_energy),
            energy(row.relaxed_formation_energy),
            energy(row.e_above_hull),
            row.status + (f" ({row.reason})" if shown_reason else ""),
        )
    return table


class CrystalCampaign(Campaign):
    """exa-AMD's crystal discovery: templates x elements -> screen -> relax -> hull."""

    kind = "crystal"
    config_type = CampaignConfig
    config: CampaignConfig

    def describe(self) -> str:
        return "-".join(self.config.elements)

    def check_inputs(self) -> list[str]:
        return check_inputs(self.config)

    def build_flow(self, store: JobStore, checkpoint_dir: Path | None = None) -> Flow | None:
        return build_flow(self.config, store, checkpoint_dir)

    def record(self, store: JobStore) -> CampaignRecord:
        record = CampaignRecord(store, self.name)
        if not record.exists():
            raise DiscoverflowError(f"no results for campaign {self.name!r} in this store")
        return record

    def status_report(self, store: JobStore) -> list[RenderableType]:
        table = Table(title=f"{self.name}: stages")
        for column in ("stage", "state", "detail"):
            table.add_column(column)
        for stage in campaign_status(self.record(store)):
            state = "[green]done[/green]" if stage.done else "[yellow]to do[/yellow]"
            table.add_row(stage.stage, state, stage.detail)
        return [table]

    def results_report(
        self, store: JobStore, everything: bool = False, limit: int | None = None
    ) -> list[RenderableType]:
        rows = campaign_results(self.record(store), everything)
        title = f"{self.name}: candidates ({len(rows)})"
        return [candidates_table(title, rows[:limit] if limit else rows)]

    def results_json(self, store: JobStore, everything: bool = False) -> list[dict]:
        return [row.as_dict() for row in campaign_results(self.record(store), everything)]

    def run_report(self, store: JobStore) -> list[RenderableType]:
        rows = [r for r in campaign_results(self.record(store)) if r.status in PROMISING]
        title = f"{self.name}: promising candidates ({len(rows)})"
        return [*self.status_report(store), candidates_table(title, rows[:15])]
