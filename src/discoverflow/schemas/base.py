"""What every stage document carries."""

from __future__ import annotations

from jobflow import CURRENT_JOB
from pydantic import BaseModel, ConfigDict, Field


def current_campaign() -> str | None:
    """The campaign id from the running job's metadata, if any."""
    running = CURRENT_JOB.job
    return running.metadata.get("campaign") if running is not None else None


class StageDocument(BaseModel):
    """The output of a stage job: the fields every stage document carries."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    campaign: str | None = Field(default_factory=current_campaign, description="Campaign id")
