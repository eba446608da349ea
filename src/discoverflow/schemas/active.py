"""The coordinate pattern: per-round decisions and fine-tuning."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, Field, field_validator
from pymatgen.core import Structure

from discoverflow.schemas.base import StageDocument


class ActiveResult(BaseModel):
    candidate_id: str
    formula: str
    action: str = Field(description="lookup, ml or relax (older results said dft: read as relax)")
    energy_per_atom: float | None = None
    uncertainty: float | None = Field(None, description="Ensemble standard deviation (eV/atom)")
    predicted_energy_per_atom: float | None = Field(
        None, description="The model's mean before any relaxation (eV/atom)"
    )
    source: str | None = Field(None, description="Matched result, model or relax engine")
    relax_status: str | None = Field(None, description="The relaxation's status (relax only)")
    models: list[str] = Field(
        default_factory=list, description="The ensemble's members then (fine-tuned: file stem)"
    )
    round: int

    @field_validator("action", mode="before")
    @classmethod
    def relax_was_dft(cls, action: str) -> str:
        return "relax" if action == "dft" else action


class RoundReport(BaseModel):
    round: int
    lookups: int
    ml_accepted: int
    relax_runs: int = Field(validation_alias=AliasChoices("relax_runs", "dft_runs"))
    relax_failed: int = Field(0, validation_alias=AliasChoices("relax_failed", "dft_failed"))
    finetuned: bool = False
    mae_before: float | None = Field(None, description="Ensemble MAE on the buffered relaxations")
    mae_after: float | None = Field(None, description="The same after fine-tuning")
    model_options: dict[str, Any] | None = Field(
        None, description="The fine-tuned ensemble's options (its members' files)"
    )


class ActiveState(BaseModel):
    """What carries from one round to the next."""

    round: int = 0
    model: str = Field(description="Uncertainty model plugin")
    model_options: dict[str, Any] = Field(
        default_factory=dict, description="Its options now (after the fine-tunes so far)"
    )
    known: dict[str, tuple[Structure, float]] = Field(
        default_factory=dict, description="candidate_id -> (structure, energy per atom)"
    )
    inputs: dict[str, Structure] = Field(
        default_factory=dict,
        description="candidate_id -> the structure a known result was computed from (a "
        "candidate matching it is looked up too)",
    )
    buffer: list[str] = Field(
        default_factory=list, description="Relaxation results not yet trained on"
    )
    results: list[ActiveResult] = Field(default_factory=list)
    rounds: list[RoundReport] = Field(default_factory=list)


class ActiveLearningDocument(StageDocument):
    rounds: list[RoundReport]
    results: list[ActiveResult]
    model: str = Field(description="Uncertainty model plugin")
    model_options: dict[str, Any] = Field(description="Its options at the end")
    structures: dict[str, Structure] = Field(
        default_factory=dict,
        description="candidate_id -> the structure of its energy: relaxed, looked up (the "
        "match's) or predicted (as given) (data store)",
    )
