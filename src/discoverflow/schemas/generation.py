"""Substitution candidates."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from discoverflow.schemas.base import StageDocument
from discoverflow.schemas.structures import CompactStructure


class CandidateInfo(BaseModel):
    candidate_id: str
    formula: str
    template: str
    species_map: dict[str, str] = Field(description="Template element -> target element")
    scale: float = Field(description="Lattice-parameter scale")
    n_sites: int
    provenance: dict[str, Any] = Field(
        default_factory=dict,
        description="What else the generator did: the orbit and share of a partial "
        "substitution, the probability of a predicted substitution, ...",
    )


class SkippedTemplateInfo(BaseModel):
    template: str
    reason: str


class GenerationDocument(StageDocument):
    elements: list[str]
    n_templates: int
    assignments_total: int = Field(description="Element assignments before symmetry reduction")
    assignments_distinct: int
    skipped_templates: list[SkippedTemplateInfo] = Field(default_factory=list)
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
