"""Convex hull and the promising set."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pymatgen.core import Structure

from discoverflow.schemas.base import StageDocument


class HullEntryInfo(BaseModel):
    """A relaxed candidate (or known phase) placed on the convex hull."""

    candidate_id: str = Field(description="Candidate id (or known phase id)")
    formula: str = Field(description="Reduced formula")
    predicted_formation_energy_per_atom: float | None = Field(
        None, description="The screening model's formation energy (eV/atom)"
    )
    formation_energy_per_atom: float = Field(description="Relaxed formation energy (eV/atom)")
    e_above_hull: float = Field(description="Energy above the hull (eV/atom)")
    promising: bool = Field(description="Within the hull threshold")
    e_above_hull_std: float | None = Field(
        None, description="Spread of the energy above the hull over the ensemble (eV/atom)"
    )
    probability_stable: float | None = Field(
        None, description="Share of the ensemble's hulls on which it is within the threshold"
    )
    known_phase: str | None = Field(None, description="The known phase it matches, if any")


class ExcludedCandidate(BaseModel):
    """A candidate left off the hull, with its relaxation's status."""

    candidate_id: str = Field(description="Candidate id")
    status: str = Field(description="The relaxation's status (failed, unconverged)")
    reason: str | None = Field(None, description="Why, if known")


class HullDocument(StageDocument):
    """The output of the hull stage: every entry's distance to the hull, the
    promising set and the files written."""

    elements: list[str] = Field(description="The system's elements")
    e_above_hull_threshold: float = Field(description="Promising within this of the hull (eV/atom)")
    elemental_energies: dict[str, float] = Field(
        description="Elemental reference energies (eV/atom)"
    )
    energy_corrections: str | None = Field(
        None, description="Correction scheme applied to all energies (MP2020 for mixed GGA/GGA+U)"
    )
    entries: list[HullEntryInfo] = Field(description="Candidates, lowest e_above_hull first")
    reference_phases: list[HullEntryInfo] = Field(
        default_factory=list, description="Known phases on the diagram"
    )
    excluded: list[ExcludedCandidate] = Field(
        default_factory=list, description="Candidates left out: failed or unconverged relaxations"
    )
    stable_formulas: list[str] = Field(default_factory=list, description="Phases on the hull")
    n_promising: int = Field(0, description="Candidates within the threshold")
    promising_structures: dict[str, Structure] = Field(
        default_factory=dict, description="candidate_id -> relaxed structure (data store)"
    )
