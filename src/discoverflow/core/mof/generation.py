"""What a linker generator is: proposals with their edit histories, retraining on the best
MOFs' linkers, and the settings of the linker stage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import Field

from discoverflow.settings import PositiveInt, StageSettings


class LinkerSettings(StageSettings):
    """Which generator proposes linkers, how many per round, and which linkers to start from."""

    generator: str = Field("growth", description="Linker-generator plugin (growth, difflinker)")
    generator_options: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the generator plugin"
    )
    per_round: PositiveInt = Field(16, description="Linkers proposed per anchor type and round")
    seed_linkers: list[str] = Field(
        default_factory=list, description="SMILES evaluated in round 0 besides the proposals"
    )
    max_heavy_atoms: PositiveInt = Field(24, description="Larger linkers are rejected")


@dataclass
class LinkerProposal:
    """A linker a generator proposes.

    Parameters
    ----------
    smiles
        The linker's SMILES.
    history
        The generator's edits from a seed linker."""

    smiles: str
    history: list[str] = field(default_factory=list)


@dataclass
class TrainingExample:
    """A linker of a good MOF, its edit history, and how good (higher is better)."""

    smiles: str
    history: list[str]
    score: float


@runtime_checkable
class LinkerGenerator(Protocol):
    """A linker-generator plugin (entry-point group ``discoverflow.linker_generators``).

    Constructed as ``Generator(state=<JSON state or None>, **options)``; ``state`` is what a
    round stores so that the next one (on any worker) continues from the retrained model.
    """

    state: Any

    def propose(
        self, count: int, anchor: str = "COO", seed: int = 0, exclude: Iterable[str] = ()
    ) -> list[LinkerProposal]: ...

    def retrain(self, examples: list[TrainingExample]) -> Any: ...
