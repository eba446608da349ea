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
    candidate_id: str
    formula: str
    status: Literal["relaxed", "unconverged", "failed", "predicted", "looked up"]
    reason: str | None = None
    energy: float | None = Field(None, description="Total energy (eV)")
    energy_per_atom: float | None = None
    n_steps: int = 0
    max_force: float | None = None
    scf_steps: int | None = Field(None, description="DFT: SCF iterations over the optimisation")
    scf_converged: bool | None = Field(None, description="DFT: every SCF converged")
    seconds_per_scf_step: float | None = Field(None, description="DFT: wall time per SCF step")
    task_dir: str | None = None
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
    engine: str
    records: list[RelaxRecordInfo] = Field(default_factory=list)
    structures: dict[str, Structure] = Field(
        default_factory=dict, description="candidate_id -> relaxed structure (data store)"
    )
    task_documents: dict[str, Any] = Field(
        default_factory=dict, description="candidate_id -> full atomate2 TaskDoc (data store)"
    )


class ReferencePhase(BaseModel):
    name: str = Field(description="Known phase id: its entry id or file stem")
    formula: str
    energy_per_atom: float | None = Field(None, description="On the hull (eV/atom)")
    status: str
    reason: str | None = None
    entry: ComputedEntry | None = None
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
    engine: str
    elements: list[str]
    elemental_energies: dict[str, float] = Field(
        description="Lowest relaxed energy per atom of each element (eV/atom)"
    )
    elemental_sources: dict[str, str] = Field(
        description="Which structure set each element's energy"
    )
    elemental_entries: dict[str, ComputedEntry] = Field(
        default_factory=dict, description="DFT entries of the elemental references, if any"
    )
    phases: list[ReferencePhase] = Field(default_factory=list)
    structures: dict[str, Structure] = Field(
        default_factory=dict, description="reference name -> relaxed structure (data store)"
    )
