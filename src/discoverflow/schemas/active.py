"""The coordinate pattern: per-round decisions and fine-tuning."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pymatgen.core import Structure

from discoverflow.schemas.base import StageDocument


class ActiveResult(BaseModel):
    candidate_id: str
    formula: str
    action: str = Field(description="lookup, ml or dft")
    energy_per_atom: float | None = None
    uncertainty: float | None = Field(None, description="Ensemble standard deviation (eV/atom)")
    source: str | None = Field(None, description="Matched result, model or relax engine")
    round: int


class RoundReport(BaseModel):
    round: int
    lookups: int
    ml_accepted: int
    dft_runs: int
    dft_failed: int = 0
    finetuned: bool = False
    mae_before: float | None = Field(None, description="Ensemble MAE on the buffered DFT cases")
    mae_after: float | None = Field(None, description="The same after fine-tuning")
    model_files: list[str] = Field(default_factory=list)


class ActiveState(BaseModel):
    """What carries from one round to the next."""

    round: int = 0
    versions: list[str] = Field(default_factory=lambda: ["0.3.0", "0.2.0"])
    model_files: list[str] = Field(default_factory=list)
    known: dict[str, tuple[Structure, float]] = Field(
        default_factory=dict, description="candidate_id -> (structure, energy per atom)"
    )
    buffer: list[str] = Field(default_factory=list, description="DFT results not yet trained on")
    results: list[ActiveResult] = Field(default_factory=list)
    rounds: list[RoundReport] = Field(default_factory=list)


class ActiveLearningDocument(StageDocument):
    rounds: list[RoundReport]
    results: list[ActiveResult]
    model_files: list[str] = Field(description="The ensemble's members at the end")
