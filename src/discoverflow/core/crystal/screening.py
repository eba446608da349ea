"""Which candidates an ML screen keeps: a formation-energy threshold, a property window."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from pydantic import Field

from discoverflow.settings import PositiveInt, StageSettings


class ScreeningSettings(StageSettings):
    """The surrogate screen: an energy model and the formation energy a candidate must beat."""

    model: str = Field("chgnet", description="Energy model plugin (entry point name)")
    model_options: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the model plugin"
    )
    formation_energy_threshold: float = Field(
        -0.2, description="Keep candidates with predicted formation energy below this (eV/atom)"
    )
    max_candidates: PositiveInt | None = Field(
        None, description="Keep at most this many (lowest formation energy first)"
    )
    batch_size: PositiveInt = Field(512, description="Structures per screening job")
    audit_fraction: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Share of the rejected candidates relaxed as a control sample (at least "
        "one where any were rejected; 0: none), from which the scorecard estimates the "
        "screen's recall",
    )
    audit_seed: int = Field(0, description="Seed of the audit sample")
    audit_max: PositiveInt | None = Field(
        100,
        description="At most this many audited candidates (a 1e5 campaign's 2% would be 2,000 "
        "relaxations; 100 bound the recall to about +-0.1); None: no cap",
    )


class PropertyScreenSettings(StageSettings):
    """A window on a predicted property (the surrogate pattern's filter before relaxing)."""

    model: str = Field("chgnet-magmom", description="Property-model plugin (entry point name)")
    model_options: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the model plugin"
    )
    minimum: float | None = Field(None, description="Lowest value kept (the model's unit)")
    maximum: float | None = Field(None, description="Highest value kept (the model's unit)")

    def admits(self, value: float) -> bool:
        low = self.minimum is None or value >= self.minimum
        return low and (self.maximum is None or value <= self.maximum)


class Screened(Protocol):
    """A screened candidate: an id and its predicted formation energy (eV/atom)."""

    candidate_id: str
    formation_energy_per_atom: float


T = TypeVar("T", bound=Screened)


def below_threshold(records: Sequence[T], settings: ScreeningSettings) -> list[T]:
    """Records under the formation-energy threshold, lowest first (ties by id).

    Parameters
    ----------
    records
        Screened candidates with their predicted formation energies (eV/atom).
    settings
        The screening settings (``formation_energy_threshold``).

    Returns
    -------
    list
        The records below the threshold, sorted.
    """
    return sorted(
        (r for r in records if r.formation_energy_per_atom < settings.formation_energy_threshold),
        key=lambda r: (r.formation_energy_per_atom, r.candidate_id),
    )


def keep_best(below: Sequence[T], settings: ScreeningSettings) -> list[T]:
    """At most ``max_candidates`` of an ordered list.

    Parameters
    ----------
    below
        Records ordered best first.
    settings
        The screening settings (``max_candidates``, None for all).

    Returns
    -------
    list
        The first ``max_candidates`` records.
    """
    return list(below[: settings.max_candidates] if settings.max_candidates else below)
