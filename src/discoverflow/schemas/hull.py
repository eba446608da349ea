"""Convex hull and the promising set."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pymatgen.core import Structure

from discoverflow.schemas.base import StageDocument


class HullEntryInfo(BaseModel):
    candidate_id: str
    formula: str
    predicted_formation_energy_per_atom: float | None = None
    formation_energy_per_atom: float
    e_above_hull: float
    promising: bool
    e_above_hull_std: float | None = Field(
        None, description="Spread of the energy above the hull over the ensemble (eV/atom)"
    )
    probability_stable: float | None = Field(
        None, description="Share of the ensemble's hulls on which it is within the threshold"
    )
    known_phase: str | None = Field(None, description="The known phase it matches, if any")


class ExcludedCandidate(BaseModel):
    candidate_id: str
    status: str
    reason: str | None = None


class HullDocument(StageDocument):
    elements: list[str]
    e_above_hull_threshold: float
    elemental_energies: dict[str, float]
    energy_corrections: str | None = Field(
        None, description="Correction scheme applied to all energies (MP2020 for mixed GGA/GGA+U)"
    )
    entries: list[HullEntryInfo] = Field(description="Candidates, lowest e_above_hull first")
    reference_phases: list[HullEntryInfo] = Field(default_factory=list)
    excluded: list[ExcludedCandidate] = Field(
        default_factory=list, description="Candidates left out: failed or unconverged relaxations"
    )
    stable_formulas: list[str] = Field(default_factory=list, description="Phases on the hull")
    n_promising: int = 0
    promising_structures: dict[str, Structure] = Field(
        default_factory=dict, description="candidate_id -> relaxed structure (data store)"
    )
