"""The MOF campaign as the commands see it."""

from __future__ import annotations

from pathlib import Path

from jobflow import Flow, JobStore
from rich.console import RenderableType

from discoverflow.campaigns.base import Campaign
from discoverflow.campaigns.mof.config import MOFCampaignConfig
from discoverflow.campaigns.mof.driver import build_mof_flow, check_mof_inputs
from discoverflow.campaigns.mof.report import campaign_rounds, mofs_table, rounds_table


class MOFCampaign(Campaign):
    """MOFA's MOF discovery for CO2 capture, in rounds with online learning."""

    kind = "mof"
    config_type = MOFCampaignConfig
    config: MOFCampaignConfig

    def describe(self) -> str:
        return f"MOFs: {self.config.assembly.node} on {self.config.assembly.topology}"

    def check_inputs(self) -> list[str]:
        return check_mof_inputs(self.config)

    def build_flow(self, store: JobStore, checkpoint_dir: Path | None = None) -> Flow | None:
        return build_mof_flow(self.config, store, checkpoint_dir)

    def status_report(self, store: JobStore) -> list[RenderableType]:
        rounds, _, finished, _ = campaign_rounds(store, self.name)
        return [rounds_table(self.name, rounds, finished)]

    def results_report(
        self, store: JobStore, everything: bool = False, limit: int | None = None
    ) -> list[RenderableType]:
        rounds, results, finished, plot = campaign_rounds(store, self.name)
        report = [rounds_table(self.name, rounds, finished), mofs_table(self.name, results)]
        return report + ([f"strain per round: {plot}"] if plot else [])

    def results_json(self, store: JobStore, everything: bool = False) -> list[dict]:
        _, results, _, _ = campaign_rounds(store, self.name)
        return [r.model_dump() for r in results]

    def run_report(self, store: JobStore) -> list[RenderableType]:
        return self.results_report(store)
