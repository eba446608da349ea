"""Surrogate screening on a predicted property (any property-model plugin)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobflow import Maker, job

from discoverflow.models.registry import PROPERTIES, load_plugin
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.schemas.screen import DedupDocument, PropertyScreenDocument, ScreenDocument


@dataclass
class PropertyScreenMaker(Maker):
    """Keep selected candidates whose predicted property lies in [minimum, maximum]."""

    name: str = "property screen"
    model: str = "chgnet-magmom"
    model_options: dict[str, Any] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None

    @job(
        output_schema=PropertyScreenDocument,
        metadata={"stage": "property-screen", "runs_on": "gpu"},
    )
    def make(
        self, generation: GenerationDocument, selection: ScreenDocument | DedupDocument
    ) -> PropertyScreenDocument:
        model = load_plugin(PROPERTIES, self.model)(**self.model_options)
        ids = [r.candidate_id for r in selection.kept]
        predicted = model.predict([generation.structures[cid] for cid in ids]) if ids else []
        values = {cid: float(v) for cid, v in zip(ids, predicted, strict=True)}

        def inside(value: float) -> bool:
            low = self.minimum is None or value >= self.minimum
            return low and (self.maximum is None or value <= self.maximum)

        return PropertyScreenDocument(
            model=model.name,
            property_name=model.property_name,
            unit=model.unit,
            minimum=self.minimum,
            maximum=self.maximum,
            values=values,
            kept=[r for r in selection.kept if inside(values[r.candidate_id])],
        )
