"""Relaxations of candidates and of reference phases."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pymatgen.core import Structure
from pymatgen.entries.computed_entries import ComputedEntry

from discoverflow.schemas.base import StageDocument

HAS_ENERGY = ("relaxed", "predicted", "looked up")
"""Statuses of a record whose energy goes on the hull (predicted, looked up: the coordinate
pattern's accepted predictions and reused results)."""


class RelaxRecordInfo(BaseModel):
    """The result of relaxing one structure (or of the coordinate pattern's lookup
    or prediction in its place)."""

    candidate_id: str = Field(description="Candidate id")
    formula: str = Field(description="Reduced formula")
    status: Literal["relaxed", "unconverged", "failed", "predicted", "looked up"] = Field(
        description="Outcome; relaxed, predicted and looked up have an energy for the hull"
    )
    reason: str | None = Field(None, description="Why it failed or did not converge")
    energy: float | None = Field(None, description="Total energy (eV)")
    energy_per_atom: float | None = Field(None, description="Final energy (eV/atom)")
    n_steps: int = Field(0, description="Optimiser steps taken")
    max_force: float | None = Field(None, description="Largest force on an atom at the end (eV/A)")
    scf_steps: int | None = Field(None, description="DFT: SCF iterations over the optimisation")
    scf_converged: bool | None = Field(None, description="DFT: every SCF converged")
    seconds_per_scf_step: float | None = Field(None, description="DFT: wall time per SCF step")
    task_dir: str | None = Field(None, description="Folder of the DFT calculation, if any")
    energy_source: Literal["lookup", "prediction", "relaxation"] = Field(
        "relaxation", description="Where energy_per_atom comes from (coordinate pattern)"
    )
    energy_per_atom_std: float | None = Field(
        None, description="Coordinate pattern: the ensemble's spread on it (eV/atom)"
    )
    models: list[str] = Field(
        default_factory=list, description="Coordinate pattern: the ensemble's members then"
    )
    round: int | None = Field(None, description="Coordinate pattern: the round it was in")
    predicted_energy_per_atom: float | None = Field(
        None, description="Coordinate pattern: the model's mean before relaxing (eV/atom)"
    )
    entry: ComputedEntry | None = Field(
        None, description="DFT entry with its run parameters (for energy corrections)"
    )


class RelaxBatchDocument(StageDocument):
    """The output of a relax job: one record per structure and the relaxed
    structures."""

    engine: str = Field(description="Relax engine name (and version)")
    records: list[RelaxRecordInfo] = Field(
        default_factory=list, description="One record per structure"
    )
    structures: dict[str, Structure] = Field(
        default_factory=dict, description="candidate_id -> relaxed structure (data store)"
    )
    task_documents: dict[str, Any] = Field(
        default_factory=dict, description="candidate_id -> full atomate2 TaskDoc (data store)"
    )


class ReferencePhase(BaseModel):
    """A known phase on the hull, with where its energy comes from."""

    name: str = Field(description="Known phase id: its entry id or file stem")
    formula: str = Field(description="Reduced formula")
    energy_per_atom: float | None = Field(None, description="On the hull (eV/atom)")
    status: str = Field(description="Its relaxation's status")
    reason: str | None = Field(None, description="Why it failed, if it did")
    entry: ComputedEntry | None = Field(None, description="Its computed entry on the hull")
    source: str | None = Field(None, description="Where it comes from (file, Materials Project)")
    energy_source: str | None = Field(
        None, description="Which energy it carries: 'relaxed with <engine>' or 'given (<engine>)'"
    )
    source_energy_per_atom: float | None = Field(
        None, description="The energy its source gave, if any (eV/atom)"
    )
    source_engine: str | None = Field(None, description="The method behind that energy")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.source})" if self.source else self.name


class ReferenceDocument(StageDocument):
    """The output of the reference stage: elemental energies and known phases,
    all from one relax engine."""

    engine: str = Field(description="Relax engine name (and version) behind every energy")
    elements: list[str] = Field(description="Elements of the system")
    elemental_energies: dict[str, float] = Field(
        description="Lowest relaxed energy per atom of each element (eV/atom)"
    )
    elemental_sources: dict[str, str] = Field(
        description="Which structure set each element's energy"
    )
    elemental_entries: dict[str, ComputedEntry] = Field(
        default_factory=dict, description="DFT entries of the elemental references, if any"
    )
    phases: list[ReferencePhase] = Field(default_factory=list, description="Known phases")
    structures: dict[str, Structure] = Field(
        default_factory=dict, description="reference name -> relaxed structure (data store)"
    )
