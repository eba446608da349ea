"""The keys every campaign file has, and what a file says of itself before anything runs:
light to import, so that reading and checking a file never loads the flow machinery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from discoverflow.settings import StageSettings

CAMPAIGN_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class WorkerRoute(StageSettings):
    """Where one kind of job runs under jobflow-remote."""

    worker: str = Field(description="jobflow-remote worker name")
    exec_config: str | None = Field(None, description="A named exec_config of the project")
    resources: dict[str, Any] = Field(
        default_factory=dict, description="Queue resources (qtoolkit QResources keys)"
    )


class ResourcesConfig(StageSettings):
    """Where GPU and CPU jobs run (``runs_on`` of each job) under jobflow-remote."""

    gpu: WorkerRoute = Field(
        default_factory=lambda: WorkerRoute(worker="gpu"),
        description="Where ML inference, training and generation jobs run",
    )
    cpu: WorkerRoute = Field(
        default_factory=lambda: WorkerRoute(worker="cpu"),
        description="Where DFT, MD, dedup and hull jobs run",
    )

    def routing_table(self) -> dict[str, dict]:
        """runs_on -> manager_config entries (worker, exec_config, resources)."""
        table = {}
        for kind, route in (("gpu", self.gpu), ("cpu", self.cpu)):
            entry = {"worker": route.worker}
            if route.exec_config:
                entry["exec_config"] = route.exec_config
            if route.resources:
                entry["resources"] = route.resources
            table[kind] = entry
        return table


class CampaignConfigBase(StageSettings):
    """The keys every campaign file has."""

    name: str = Field(pattern=CAMPAIGN_NAME, description="Campaign id")
    output_dir: Path = Field(Path("results"), description="Plots, CIFs and tables go here")
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)

    def resolve_paths(self, base: Path) -> CampaignConfigBase:
        """Make relative paths absolute against ``base`` (the campaign file's folder)."""
        self.output_dir = resolve_path(self.output_dir, base)
        return self

    def describe(self) -> str:
        """A few words on what the campaign explores."""
        raise NotImplementedError


def resolve_path(path: Path | None, base: Path) -> Path | None:
    if path is None:
        return None
    path = path.expanduser()
    return path if path.is_absolute() else (base / path).resolve()
