"""The MOF campaign as the commands see it."""

from __future__ import annotations

from jobflow import Flow, JobStore
from rich.console import RenderableType

from discoverflow.campaigns.base import Campaign, ResultFilter, documents_csv, json_ready
from discoverflow.campaigns.mof.config import MOFCampaignConfig
from discoverflow.campaigns.mof.driver import build_mof_flow
from discoverflow.campaigns.mof.inputs import check_mof_inputs
from discoverflow.campaigns.mof.report import (
    campaign_rounds,
    mof_documents,
    mofs_table,
    rounds_table,
)
from discoverflow.schemas.candidate import MOFS
from discoverflow.stores import document_store


class MOFCampaign(Campaign):
    """MOFA's MOF discovery for CO2 capture, in rounds with online learning."""

    kind = "mof"
    config_type = MOFCampaignConfig
    collection = MOFS
    config: MOFCampaignConfig

    def check_inputs(self) -> list[str]:
        return check_mof_inputs(self.config)

    def build_flow(self, store: JobStore) -> Flow | None:
        return build_mof_flow(self.config, store)

    def status_report(self, store: JobStore) -> list[RenderableType]:
        rounds, _, finished, _ = campaign_rounds(store, self.name)
        return [rounds_table(self.name, rounds, finished)]

    def results_report(
        self, store: JobStore, wanted: ResultFilter | None = None, limit: int | None = None
    ) -> list[RenderableType]:
        rounds, results, finished, plot = campaign_rounds(store, self.name)
        wanted = wanted or ResultFilter()
        shown = [
            r
            for r in results
            if (r.stable or not wanted.stable)
            and (wanted.formula is None or r.formula == wanted.formula)
        ]
        report = [rounds_table(self.name, rounds, finished), mofs_table(self.name, shown)]
        return report + ([f"strain per round: {plot}"] if plot else [])

    def documents(self, store: JobStore, wanted: ResultFilter | None) -> list[dict]:
        campaign_rounds(store, self.name)  # says so when the campaign has not run
        found = document_store(store, MOFS)
        return mof_documents(found, self.name, wanted or ResultFilter())

    def results_json(self, store: JobStore, wanted: ResultFilter | None = None) -> list[dict]:
        return [json_ready(doc) for doc in self.documents(store, wanted)]

    def results_csv(self, store: JobStore, wanted: ResultFilter | None = None) -> str:
        return documents_csv(self.documents(store, wanted))

    def run_report(self, store: JobStore) -> list[RenderableType]:
        return self.results_report(store)
