"""The coordinate pattern's decisions: reuse a stored result, trust the model, or compute."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field
from pymatgen.core import Structure

from discoverflow.core.crystal.dedup import DedupSettings
from discoverflow.settings import PositiveInt, StageSettings


class CoordinateSettings(StageSettings):
    """The coordinate pattern: look up, else predict with an uncertainty, relax only when the
    model is unsure, and fine-tune the model on what was relaxed."""

    uncertainty_threshold: float = Field(
        0.05,
        gt=0,
        description="Largest spread (standard deviation of the members, eV/atom) at which the "
        "ensemble's mean energy is accepted instead of a relaxation",
    )
    batch_size: PositiveInt = Field(16, description="Candidates per round")
    buffer_size: PositiveInt = Field(
        8, description="New relaxations that trigger a fine-tune of the members"
    )
    finetune_epochs: int = Field(30, ge=0, description="Epochs per fine-tune (0: never)")
    learning_rate: float = Field(1e-3, gt=0, description="Learning rate of the fine-tunes")
    model: str = Field(
        "ensemble",
        description="Uncertainty model plugin (mean and spread per structure): 'ensemble' "
        "(members of any architecture) or 'chgnet-ensemble' (CHGNet versions)",
    )
    model_options: dict[str, Any] = Field(
        default_factory=lambda: {"members": ["chgnet", "sevennet"]},
        description="Keyword arguments of the model, e.g. {'members': ['chgnet', 'sevennet']}",
    )


@dataclass
class KnownResult:
    """A computed result the coordinate pattern may look a candidate up in.

    Parameters
    ----------
    candidate_id
        Id of the result's item.
    structure
        Its (relaxed) structure.
    energy_per_atom
        Its energy (eV/atom)."""

    candidate_id: str
    structure: Structure
    energy_per_atom: float


class ResultLookup:
    """Computed results by reduced formula; a match needs StructureMatcher to agree."""

    def __init__(self, known: Sequence[KnownResult] = (), settings: DedupSettings | None = None):
        self.matcher = (settings or DedupSettings()).matcher()
        self.by_formula: dict[str, list[KnownResult]] = defaultdict(list)
        for result in known:
            self.add(result)

    def add(self, result: KnownResult) -> None:
        self.by_formula[result.structure.composition.reduced_formula].append(result)

    def find(self, structure: Structure) -> KnownResult | None:
        for result in self.by_formula.get(structure.composition.reduced_formula, []):
            if self.matcher.fit(result.structure, structure):
                return result
        return None


class Action(StrEnum):
    """What the coordinate pattern does with a candidate: take a computed result (``lookup``),
    accept the model's prediction (``ml``), or relax it with the relax Maker (``relax``: an
    ML potential, VASP or any atomate2 Maker)."""

    LOOKUP = "lookup"
    ML = "ml"
    RELAX = "relax"


@dataclass
class Decision:
    """What the coordinate pattern does with one candidate.

    Parameters
    ----------
    candidate_id
        Candidate id.
    action
        lookup, ml (the prediction is accepted) or dft (relax it).
    energy_per_atom
        The looked-up or predicted energy (eV/atom); None until relaxed.
    uncertainty
        The ensemble's spread (eV/atom).
    source
        The matched result, or the model.
    predicted
        The model's mean (eV/atom), kept for a relaxed candidate too."""

    candidate_id: str
    action: Action
    energy_per_atom: float | None
    uncertainty: float | None = None
    source: str | None = None
    predicted: float | None = None  # the model's mean, kept for a relaxed candidate too


def decide(
    structures: Mapping[str, Structure], lookup: ResultLookup, model, threshold: float
) -> list[Decision]:
    """Lookup first; else the model's prediction if its uncertainty is below ``threshold``
    (``CoordinateSettings.uncertainty_threshold``); else the expensive calculation.

    Parameters
    ----------
    structures
        Candidate id -> structure.
    lookup
        The computed results to look candidates up in.
    model
        An uncertainty model (``predict_with_uncertainty``).
    threshold
        Largest spread at which a prediction is accepted (eV/atom).

    Returns
    -------
    list of Decision
        One decision per candidate, in the input order.
    """
    decisions: dict[str, Decision] = {}
    unknown = []
    for cid, structure in structures.items():
        found = lookup.find(structure)
        if found is not None:
            decisions[cid] = Decision(
                cid, Action.LOOKUP, found.energy_per_atom, 0.0, found.candidate_id
            )
        else:
            unknown.append(cid)
    if unknown:
        means, spreads = model.predict_with_uncertainty([structures[c] for c in unknown])
        for cid, mean, spread in zip(unknown, means, spreads, strict=True):
            action = Action.ML if spread < threshold else Action.RELAX
            energy = float(mean) if action == Action.ML else None
            decisions[cid] = Decision(cid, action, energy, float(spread), model.name, float(mean))
    return [decisions[cid] for cid in structures]
