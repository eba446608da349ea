"""Stage results as records: what one stage found for one item, keyed by what produced it.

Records are written insert-only, in bulk, into the ``records`` collection beside the job
outputs; the per-item documents (``candidates``, ``mofs``) are a view of them built for the
current settings (``discoverflow.builders``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

from pydantic import BaseModel, Field

CANDIDATES = "candidates"
MOFS = "mofs"
RECORDS = "records"
ITEM_KEYS = {CANDIDATES: "candidate_id", MOFS: "mof_id"}
"""The id field of each per-item collection."""


def utcnow() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


class Stage(StrEnum):
    """The stages that leave per-item results, in the order a document applies them."""

    REFERENCES = "references"
    GENERATION = "generation"
    VALIDITY = "validity"
    SCREENING = "screening"
    SELECTION = "selection"
    DEDUP = "dedup"
    PROPERTY_SCREEN = "property_screen"
    RELAX = "relax"
    COORDINATE = "coordinate"
    HULL = "hull"
    READ = "read"
    ASSEMBLY = "assembly"
    CHARACTERISATION = "characterisation"
    STABILITY = "stability"
    OPTIMISATION = "optimisation"
    ADSORPTION = "adsorption"


STAGE_ORDER = {stage: rank for rank, stage in enumerate(Stage)}


class Status(StrEnum):
    """Where an item stands after a stage."""

    GENERATED = "generated"
    INVALID = "invalid"
    SCREENED = "screened"
    SCREEN_FAILED = "screen failed"
    SELECTED = "selected"
    SCREENED_OUT = "screened out"
    DUPLICATE = "duplicate"
    PROPERTY_OUT = "property out"
    RELAXED = "relaxed"
    PREDICTED = "predicted"
    LOOKED_UP = "looked up"
    UNCONVERGED = "unconverged"
    FAILED = "failed"
    REJECTED = "rejected"
    ON_HULL = "on hull"
    PROMISING = "promising"
    ABOVE_HULL = "above hull"
    GIVEN = "given"
    TO_RELAX = "to relax"
    READ = "read"
    ASSEMBLED = "assembled"
    PASSED = "passed"
    DONE = "done"
    STABLE = "stable"
    UNSTABLE = "unstable"
    MD_FAILED = "md failed"
    NOT_CONVERGED = "not converged"


REJECTIONS = frozenset(
    {
        Status.INVALID,
        Status.SCREEN_FAILED,
        Status.SCREENED_OUT,
        Status.DUPLICATE,
        Status.PROPERTY_OUT,
    }
)
"""Verdicts after which no later stage applies to a candidate."""

AFTER_SELECTION = frozenset({Stage.RELAX, Stage.COORDINATE, Stage.HULL})
"""Candidate stages that apply only to candidates the current selection kept."""


class StageResult(BaseModel):
    """One stage's result for one item (a record in the ``records`` collection)."""

    record_id: str = Field(
        default_factory=lambda: uuid4().hex, description="Unique: records are never replaced"
    )
    campaign: str = Field(description="Campaign id")
    collection: str = Field(description="The per-item collection it belongs to")
    item_id: str = Field(description="candidate_id or mof_id")
    stage: Stage = Field(description="The stage that produced it")
    fingerprint: str | None = Field(
        None, description="Hash of the stage's settings and inputs that gave this result"
    )
    settings_fingerprint: str | None = Field(
        None, description="Hash of the settings alone, for checkpoints reused across runs"
    )
    settings: dict[str, Any] | None = Field(None, description="The settings, where recorded")
    status: Status = Field(description="The item's status after that stage")
    reason: str | None = Field(None, description="Why it was rejected or failed")
    fields: dict[str, Any] = Field(
        default_factory=dict, description="Document fields the stage sets (emmet names)"
    )
    record: dict[str, Any] | None = Field(
        None, description="The stage's full per-item result (a checkpoint for resuming)"
    )
    job_uuid: str | None = Field(None, description="The jobflow job that wrote it")
    written_at: datetime = Field(default_factory=utcnow, description="UTC")
