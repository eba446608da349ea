"""The evaluation of existing MOFs as the commands see it."""

from __future__ import annotations

from jobflow import Flow, JobStore
from rich.console import RenderableType

from discoverflow.campaigns.base import Campaign, ResultFilter, documents_csv, json_ready
from discoverflow.campaigns.existing_mofs.config import ExistingMOFsConfig
from discoverflow.campaigns.existing_mofs.driver import build_existing_flow, evaluation_fingerprint
from discoverflow.campaigns.existing_mofs.inputs import check_existing_inputs
from discoverflow.campaigns.existing_mofs.report import evaluated_mofs, mofs_table, progress_table
from discoverflow.schemas.candidate import MOFS


class ExistingMOFsCampaign(Campaign):
    """Checks and pores, MD stability, cell optimisation and CO2 uptake of the MOFs in a folder
    of CIFs."""

    kind = "existing-mofs"
    config_type = ExistingMOFsConfig
    collection = MOFS
    config: ExistingMOFsConfig

    def check_inputs(self) -> list[str]:
        return check_existing_inputs(self.config)

    def build_flow(self, store: JobStore) -> Flow | None:
        return build_existing_flow(self.config, store)

    def status_report(self, store: JobStore) -> list[RenderableType]:
        stamp = evaluation_fingerprint(self.config) if self.config.inputs.mofs.is_dir() else ""
        return [progress_table(store, self.name, stamp)]

    def results_report(
        self, store: JobStore, wanted: ResultFilter | None = None, limit: int | None = None
    ) -> list[RenderableType]:
        docs = evaluated_mofs(store, self.name, wanted or ResultFilter())
        return [mofs_table(self.name, docs[:limit])]

    def results_json(self, store: JobStore, wanted: ResultFilter | None = None) -> list[dict]:
        docs = evaluated_mofs(store, self.name, wanted or ResultFilter())
        return [json_ready(doc) for doc in docs]

    def results_csv(self, store: JobStore, wanted: ResultFilter | None = None) -> str:
        return documents_csv(evaluated_mofs(store, self.name, wanted or ResultFilter()))

    def run_report(self, store: JobStore) -> list[RenderableType]:
        return [*self.status_report(store), *self.results_report(store)]
