"""What a stage Maker shares: a ``settings`` field holding its stage's settings model."""

from __future__ import annotations

from dataclasses import dataclass

from jobflow import Maker


@dataclass
class StageMaker(Maker):
    """A Maker whose ``settings`` field is its stage's ``StageSettings`` model, declared as
    ``settings: Model = field(default_factory=Model)``; a dict given instead is validated
    into that model (unknown keys are errors)."""

    def __post_init__(self) -> None:
        model = self.__dataclass_fields__["settings"].default_factory
        self.settings = model.model_validate(self.settings)
