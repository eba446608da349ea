"""The coordinate pattern: per-round decisions and fine-tuning."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, Field, field_validator
from pymatgen.core import Structure

from discoverflow.schemas.base import StageDocument


class ActiveResult(BaseModel):
    """What the coordinate pattern did with one candidate in one round."""

    candidate_id: str = Field(description="Candidate id")
    formula: str = Field(description="Reduced formula")
    action: str = Field(description="lookup, ml or relax (older results said dft: read as relax)")
    energy_per_atom: float | None = Field(
        None, description="The energy it got: looked up, predicted or relaxed (eV/atom)"
    )
    uncertainty: float | None = Field(None, description="Ensemble standard deviation (eV/atom)")
    predicted_energy_per_atom: float | None = Field(
        None, description="The model's mean before any relaxation (eV/atom)"
    )
    source: str | None = Field(None, description="Matched result, model or relax engine")
    relax_status: str | None = Field(None, description="The relaxation's status (relax only)")
    models: list[str] = Field(
        default_factory=list, description="The ensemble's members then (fine-tuned: file stem)"
    )
    round: int = Field(description="The round it was decided in")

    @field_validator("action", mode="before")
    @classmethod
    def relax_was_dft(cls, action: str) -> str:
        return "relax" if action == "dft" else action


class RoundReport(BaseModel):
    """The counts and the model's error of one round of the coordinate pattern."""

    round: int = Field(description="Round number, from 0")
    lookups: int = Field(description="Candidates whose energy was looked up among computed results")
    ml_accepted: int = Field(
        description="Candidates whose predicted energy was accepted (spread below the threshold)"
    )
    relax_runs: int = Field(
        validation_alias=AliasChoices("relax_runs", "dft_runs"),
        description="Candidates relaxed with the relax engine",
    )
    relax_failed: int = Field(
        0,
        validation_alias=AliasChoices("relax_failed", "dft_failed"),
        description="Of those, relaxations that failed or did not converge",
    )
    finetuned: bool = Field(False, description="Whether the model was fine-tuned after this round")
    mae_before: float | None = Field(None, description="Ensemble MAE on the buffered relaxations")
    mae_after: float | None = Field(None, description="The same after fine-tuning")
    model_options: dict[str, Any] | None = Field(
        None, description="The fine-tuned ensemble's options (its members' files)"
    )


class ActiveState(BaseModel):
    """What carries from one round to the next."""

    round: int = Field(0, description="The next round's number")
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
    results: list[ActiveResult] = Field(default_factory=list, description="Every result so far")
    rounds: list[RoundReport] = Field(
        default_factory=list, description="Every round's report so far"
    )


class ActiveLearningDocument(StageDocument):
    """The output of the coordinate pattern: its rounds, each candidate's result and
    the model it ended with."""

    rounds: list[RoundReport] = Field(description="One report per round")
    results: list[ActiveResult] = Field(description="One result per candidate")
    model: str = Field(description="Uncertainty model plugin")
    model_options: dict[str, Any] = Field(description="Its options at the end")
    structures: dict[str, Structure] = Field(
        default_factory=dict,
        description="candidate_id -> the structure of its energy: relaxed, looked up (the "
        "match's) or predicted (as given) (data store)",
    )
