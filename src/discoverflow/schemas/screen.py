"""ML screening and near-duplicate removal."""

from __future__ import annotations

from pydantic import BaseModel, Field

from discoverflow.schemas.base import StageDocument


class ScreenRecord(BaseModel):
    candidate_id: str
    formula: str
    energy_per_atom: float = Field(description="Predicted total energy (eV/atom)")
    energy_spread: float | None = Field(
        None, description="Std of an ensemble's members' energies (eV/atom), if an ensemble"
    )
    formation_energy_per_atom: float | None = Field(
        None, description="Predicted formation energy (eV/atom), set by the selection"
    )


class ScreenBatchDocument(StageDocument):
    model: str
    records: list[ScreenRecord] = Field(default_factory=list)
    failures: dict[str, str] = Field(default_factory=dict, description="candidate_id -> reason")


class ScreenDocument(StageDocument):
    model: str
    formation_energy_threshold: float
    max_candidates: int | None = None
    reference_energies: dict[str, float]
    n_screened: int
    n_below_threshold: int
    n_kept: int = 0
    kept: list[ScreenRecord] = Field(
        description="Candidates kept, lowest formation energy first (data store)"
    )
    failures: dict[str, str] = Field(
        default_factory=dict, description="candidate_id -> reason (data store)"
    )


class DedupDocument(StageDocument):
    ltol: float
    stol: float
    angle_tol: float
    n_input: int
    n_kept: int = 0
    kept: list[ScreenRecord] = Field(description="Distinct candidates kept (data store)")
    duplicate_of: dict[str, str] = Field(
        default_factory=dict, description="removed candidate_id -> kept candidate_id (data store)"
    )


class PropertyScreenDocument(StageDocument):
    model: str
    property_name: str
    unit: str
    minimum: float | None = None
    maximum: float | None = None
    values: dict[str, float] = Field(description="candidate_id -> predicted property (data store)")
    n_kept: int = 0
    kept: list[ScreenRecord] = Field(
        description="Candidates within the range, in input order (data store)"
    )
