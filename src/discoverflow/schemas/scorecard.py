"""A crystal campaign's scorecard: the audit sample of rejected candidates and the summary
document (one per campaign, collection ``campaigns``) with the figures of its screen."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from discoverflow.core.crystal.scorecard import (
    ErrorMetrics,
    Rate,
    RoundFigures,
    ScreenMetrics,
    SpreadCoverage,
)
from discoverflow.schemas.base import StageDocument
from discoverflow.schemas.hull import HullEntryInfo
from discoverflow.schemas.records import utcnow
from discoverflow.schemas.screen import ScreenRecord

CAMPAIGNS = "campaigns"


class AuditDocument(StageDocument):
    """Rejected candidates relaxed as a control sample, placed against the campaign's hull
    (not on it: they do not change it)."""

    audit_fraction: float = Field(description="Share of the rejected candidates relaxed")
    seed: int = Field(description="Seed of the random sample")
    n_rejected: int = Field(description="Candidates the screen rejected")
    kept: list[ScreenRecord] = Field(
        default_factory=list, description="The sample: rejected candidates to relax"
    )
    entries: list[HullEntryInfo] = Field(
        default_factory=list,
        description="Audited candidates with energies: e_above_hull against the campaign's "
        "hull (negative: below it)",
    )
    failed: dict[str, str] = Field(
        default_factory=dict, description="candidate_id -> why its relaxation gave no energy"
    )


class ScorecardDoc(StageDocument):
    """The campaign's figures, after the hull: how many relaxed candidates it confirmed and how
    well its screen predicted that; every rate carries the counts it rests on (k of n) and its
    Wilson 95% interval."""

    elements: list[str] = Field(default_factory=list, description="The campaign's elements")
    chemsys: str | None = Field(None, description="Its chemical system")
    formation_energy_threshold: float = Field(
        description="The screen kept candidates predicted below this (eV/atom)"
    )
    e_above_hull_threshold: float = Field(
        description="Stable here: within this of the hull after relaxing (eV/atom)"
    )
    audit_fraction: float = Field(
        description="Share of the rejected candidates relaxed as a control sample"
    )
    n_screened: int = Field(description="Candidates screened")
    n_relaxed: int = Field(description="Kept candidates with a relaxed (or looked-up) energy")
    n_audited: int = Field(description="Rejected candidates relaxed as a control sample")
    n_failed: int = Field(0, description="Kept candidates whose relaxation gave no energy")
    n_predicted: int = Field(
        0, description="Coordinate pattern: candidates with the model's energy only (not scored)"
    )
    hit_rate: Rate = Field(description="Relaxed candidates within the hull threshold")
    on_hull: Rate = Field(description="Relaxed candidates on the hull")
    screen: ScreenMetrics = Field(
        description="The screen's keep/reject against stable/unstable after relaxing"
    )
    formation_energy_error: ErrorMetrics = Field(
        description="Screen's predicted vs relaxed formation energy (eV/atom)"
    )
    spread_coverage: SpreadCoverage | None = Field(
        None, description="An ensemble screen: relaxed values within 1 and 2 spreads"
    )
    rounds: list[RoundFigures] = Field(
        default_factory=list,
        description="Per coordinate round (one round without the coordinate pattern)",
    )
    fingerprint: str | None = Field(None, description="The campaign's hull fingerprint")
    last_updated: datetime = Field(default_factory=utcnow, description="UTC")
