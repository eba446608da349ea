"""Substitution candidates."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from discoverflow.schemas.base import StageDocument
from discoverflow.schemas.structures import CompactStructure


class CandidateInfo(BaseModel):
    """Where a generated candidate comes from: its template and substitution."""

    candidate_id: str = Field(description="Deterministic id derived from the structure")
    formula: str = Field(description="Reduced formula")
    template: str = Field(description="Name of the template (or prototype) it was made from")
    species_map: dict[str, str] = Field(description="Template element -> target element")
    scale: float = Field(description="Lattice-parameter scale")
    n_sites: int = Field(description="Sites in its cell")
    provenance: dict[str, Any] = Field(
        default_factory=dict,
        description="What else the generator did: the orbit and share of a partial "
        "substitution, the probability of a predicted substitution, ...",
    )


class SkippedTemplateInfo(BaseModel):
    """A template the generator left out, and why."""

    template: str = Field(description="Template name")
    reason: str = Field(description="Why it was skipped")


class GenerationDocument(StageDocument):
    """The output of a generator: counts and provenance of its candidates, the
    candidates themselves or the chunk jobs that hold them."""

    elements: list[str] = Field(description="Target elements")
    n_templates: int = Field(description="Templates read")
    assignments_total: int = Field(description="Element assignments before symmetry reduction")
    assignments_distinct: int = Field(description="Element assignments after symmetry reduction")
    skipped_templates: list[SkippedTemplateInfo] = Field(
        default_factory=list, description="Templates left out, with the reason"
    )
    n_candidates: int = Field(0, description="Number of candidates (the length of candidates)")
    candidates: list[CandidateInfo] = Field(
        default_factory=list, description="Provenance per candidate (data store)"
    )
    filter_counts: dict[str, int] = Field(
        default_factory=dict, description="Validity filter -> candidates it removed"
    )
    structures: dict[str, CompactStructure] = Field(
        default_factory=dict, description="candidate_id -> structure (data store)"
    )
    chunks: list[str] = Field(
        default_factory=list,
        description="uuids of the jobs whose outputs hold the candidates, a bounded chunk "
        "each; empty when this document holds its candidates itself",
    )
