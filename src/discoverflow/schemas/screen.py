"""ML screening and near-duplicate removal."""

from __future__ import annotations

from pydantic import BaseModel, Field

from discoverflow.schemas.base import StageDocument


class ScreenRecord(BaseModel):
    """One candidate's predicted energy."""

    candidate_id: str = Field(description="Candidate id")
    formula: str = Field(description="Reduced formula")
    energy_per_atom: float = Field(description="Predicted total energy (eV/atom)")
    energy_spread: float | None = Field(
        None, description="Std of an ensemble's members' energies (eV/atom), if an ensemble"
    )
    formation_energy_per_atom: float | None = Field(
        None, description="Predicted formation energy (eV/atom), set by the selection"
    )


class ScreenBatchDocument(StageDocument):
    """The output of one screening job: a batch of predicted energies."""

    model: str = Field(description="Energy model name")
    records: list[ScreenRecord] = Field(
        default_factory=list, description="One record per candidate screened"
    )
    failures: dict[str, str] = Field(default_factory=dict, description="candidate_id -> reason")


class ScreenDocument(StageDocument):
    """The output of the screening selection: the candidates kept below the
    formation-energy threshold."""

    model: str = Field(description="Energy model name")
    formation_energy_threshold: float = Field(
        description="Kept below this formation energy (eV/atom)"
    )
    max_candidates: int | None = Field(
        None, description="At most this many kept, lowest first (None: no limit)"
    )
    reference_energies: dict[str, float] = Field(
        description="The model's elemental energies (eV/atom)"
    )
    n_screened: int = Field(description="Candidates screened")
    n_below_threshold: int = Field(description="Candidates below the threshold")
    n_kept: int = Field(0, description="Candidates kept")
    kept: list[ScreenRecord] = Field(
        description="Candidates kept, lowest formation energy first (data store)"
    )
    failures: dict[str, str] = Field(
        default_factory=dict, description="candidate_id -> reason (data store)"
    )


class DedupDocument(StageDocument):
    """The output of near-duplicate removal: distinct candidates and what each
    removed one duplicates."""

    ltol: float = Field(description="StructureMatcher's fractional length tolerance")
    stol: float = Field(description="StructureMatcher's site tolerance")
    angle_tol: float = Field(description="StructureMatcher's angle tolerance (degrees)")
    n_input: int = Field(description="Candidates compared")
    n_kept: int = Field(0, description="Distinct candidates kept")
    kept: list[ScreenRecord] = Field(description="Distinct candidates kept (data store)")
    duplicate_of: dict[str, str] = Field(
        default_factory=dict, description="removed candidate_id -> kept candidate_id (data store)"
    )


class PropertyScreenDocument(StageDocument):
    """The output of the surrogate filter on a predicted property."""

    model: str = Field(description="Property model name")
    property_name: str = Field(description="The property predicted")
    unit: str = Field(description="Its unit")
    minimum: float | None = Field(None, description="Kept at or above this, if given")
    maximum: float | None = Field(None, description="Kept at or below this, if given")
    values: dict[str, float] = Field(description="candidate_id -> predicted property (data store)")
    n_kept: int = Field(0, description="Candidates kept")
    kept: list[ScreenRecord] = Field(
        description="Candidates within the range, in input order (data store)"
    )
