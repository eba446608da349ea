"""Which MOFs go on: the most stable to cell optimisation and GCMC, the best to retraining."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from pydantic import Field

from discoverflow.core.mof.generation import TrainingExample
from discoverflow.core.relax import RelaxSettings
from discoverflow.settings import PositiveInt, StageSettings


class OptimisationSettings(RelaxSettings):
    """Cell optimisation of the most stable MOFs of each round."""

    fmax: float = Field(0.1, gt=0, description="Force convergence criterion (eV/A)")
    steps: PositiveInt = Field(300, description="Maximum optimiser steps")
    per_round: PositiveInt = Field(4, description="Most stable MOFs optimised and adsorbed")


class RetrainingSettings(StageSettings):
    """MOFA's online learning: what the generator is retrained on, and when."""

    training_strain: float = Field(0.25, gt=0, description="Strain limit of training MOFs")
    min_examples: PositiveInt = Field(32, description="Retrain once this many exist (MOFA: 32)")
    max_examples: PositiveInt = Field(8192, description="Largest training set")
    adsorption_switch: PositiveInt = Field(
        64, description="Rank by CO2 uptake once this many adsorption results exist"
    )


class Validated(Protocol):
    """A MOF after the MD: its id, strain and verdict."""

    mof_id: str
    strain: float | None
    stable: bool | None


class Evaluated(Protocol):
    """A MOF with its linkers, edit histories, strain and uptake, as retraining ranks it."""

    linkers: list[str]
    pillar: str | None
    histories: list[list[str]]
    strain: float | None
    uptake_mol_per_kg: float | None


V = TypeVar("V", bound=Validated)
E = TypeVar("E", bound=Evaluated)


def most_stable(records: Sequence[V], limit: int) -> list[V]:
    """The stable MOFs, lowest strain first, at most ``limit``.

    Parameters
    ----------
    records
        The MOFs after the MD.
    limit
        The most to keep.

    Returns
    -------
    list
        The chosen MOFs.
    """
    return sorted((r for r in records if r.stable), key=lambda r: r.strain)[:limit]


def training_set(results: Sequence[E], settings: RetrainingSettings) -> tuple[list[E], str]:
    """The best MOFs so far and what they were ranked by: the least strained below
    ``training_strain`` until ``adsorption_switch`` uptakes exist, then the highest uptakes.

    Parameters
    ----------
    results
        Every MOF evaluated so far.
    settings
        The retraining settings.

    Returns
    -------
    tuple
        The chosen MOFs, and ``stability`` or ``uptake``.
    """
    adsorbed = [r for r in results if r.uptake_mol_per_kg is not None]
    if len(adsorbed) >= settings.adsorption_switch:
        ranked = sorted(adsorbed, key=lambda r: -r.uptake_mol_per_kg)
        return ranked[: settings.max_examples], "uptake"
    stable = [r for r in results if r.strain is not None and r.strain < settings.training_strain]
    return sorted(stable, key=lambda r: r.strain)[: settings.max_examples], "stability"


def training_examples(chosen: Sequence[Evaluated]) -> list[TrainingExample]:
    """Every linker (and pillar) of the ranked MOFs, scored by rank (best highest)."""
    examples = []
    for rank, result in enumerate(chosen):
        score = float(len(chosen) - rank)
        smiles = [*result.linkers, *([result.pillar] if result.pillar else [])]
        for index, linker in enumerate(smiles):
            history = result.histories[index] if index < len(result.histories) else []
            examples.append(TrainingExample(linker, history, score))
    return examples
